/**
 * Every action a caller can be granted. Values go on the wire (grants, policies, audit) and never change.
 */
export const actions = Object.freeze([
  "kms:CreateKey",
  "kms:DescribeKey",
  "kms:ListKeys",
  "kms:UpdateKey",
  "kms:RotateKey",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:EnableKeyVersion",
  "kms:DisableKeyVersion",
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  /** The ReEncrypt operation; in a policy it means both ReEncryptFrom and ReEncryptTo. */
  "kms:ReEncrypt",
  /** ReEncrypt: decrypting under the source key. */
  "kms:ReEncryptFrom",
  /** ReEncrypt: encrypting under the destination key. */
  "kms:ReEncryptTo",
  "kms:Derive",
  /** GenerateMac with an HMAC key. */
  "kms:GenerateMac",
  /** VerifyMac with an HMAC key. */
  "kms:VerifyMac",
  "kms:Sign",
  "kms:Verify",
  "kms:GetPublicKey",
  "kms:GenerateDataKeyPair",
  "kms:GenerateDataKeyPairWithoutPlaintext",
  "kms:DeriveSharedSecret",
  /** Key material, a data key or a derived key, encrypted to a caller-given public key (docs/distribution.md). */
  "kms:ExportWrapped",
  /** A pre-shared key for two VMs, derived from a key and both their ids (docs/distribution.md). */
  "kms:DerivePsk",
  /** BYOK: a one-time wrapping key and import token for a key of origin EXTERNAL. */
  "kms:GetParametersForImport",
  "kms:ImportKeyMaterial",
  "kms:DeleteImportedKeyMaterial",
  /** Destroying every version below a minimum for good (Vault's trim); the rows stay, Destroyed. */
  "kms:TrimKeyVersions",
  /** A backup of one key, its versions' material sealed under the root key (restores only where that root is held). */
  "kms:BackupKey",
  /** Restoring a key backup: a new key, a destroyed or deleted one brought back, or (with force) a key replaced. */
  "kms:RestoreKey",
  /** The Vault API's transit wrapping key (its public half), made on first use: a long-lived BYOK import key. */
  "kms:GetWrappingKey",
  "kms:GenerateRandom",
  /** A digest of caller-given bytes (the Vault API's transit/hash): keyless, like GenerateRandom. */
  "kms:Hash",
  "kms:CreateAlias",
  "kms:UpdateAlias",
  "kms:DeleteAlias",
  "kms:ListAliases",
  "kms:GetKeyPolicy",
  "kms:PutKeyPolicy",
  /** Creating an AWS-style grant on a key (docs/aws-compatibility.md, "Grants"). */
  "kms:CreateGrant",
  /** Listing a key's grants, or the grants a role may retire. */
  "kms:ListGrants",
  /** Retiring a grant: its retiring role, its grantee when it allows RetireGrant, or whoever a policy lets. */
  "kms:RetireGrant",
  /** Revoking any grant on a key. */
  "kms:RevokeGrant",
  "auth:CreateToken",
  "auth:LookupToken",
  "auth:RenewToken",
  "auth:RevokeToken",
  "auth:CreateJoinToken",
  "auth:ListJoinTokens",
  "auth:RevokeJoinToken",
  /** Listing enrolled VMs' instance certificates (serials, VM ids, roles, validity; never keys). */
  "auth:ListCertificates",
  "auth:RevokeCertificate",
  "auth:ConfigureJwt",
  "auth:ReadRoleId",
  "auth:CreateSecretId",
  "auth:RevokeSecretId",
  "auth:CreateAccessKey",
  "auth:ListAccessKeys",
  "auth:UpdateAccessKey",
  "auth:DeleteAccessKey",
  "policy:PutPolicy",
  "policy:GetPolicy",
  "policy:ListPolicies",
  "policy:DeletePolicy",
  "policy:PutRole",
  "policy:GetRole",
  "policy:ListRoles",
  "policy:DeleteRole",
  "policy:Simulate",
  /** Reading a version of a stored secret (docs/secrets.md); resources `secret/MOUNT/PATH`. */
  "secrets:Read",
  /** Writing a new version of a secret (creates the path, and the mount with its own key, if new). */
  "secrets:Write",
  /** Listing the names under a prefix (`secret/MOUNT/PREFIX`). */
  "secrets:List",
  /** Soft-deleting or undeleting versions (the data stays, unreadable until undeleted). */
  "secrets:Delete",
  /** Destroying versions' data for good, or a path with all its versions and metadata. */
  "secrets:Destroy",
  /** Reading a path's metadata: versions, their read counts and last readers, settings. */
  "secrets:ReadMetadata",
  /**
   * Reading a version's structure without its values (Vault KV v2's `subkeys`): the key names, every
   * leaf value replaced by null. Its own action, so a principal can be given it without secrets:Read.
   */
  "secrets:ReadSubkeys",
  /** Changing a path's settings (max versions, check-and-set, delete-after, custom metadata). */
  "secrets:WriteMetadata",
  /** Choosing a mount's key and defaults (`secret/MOUNT`); needs kms:GenerateDataKey on the key too. */
  "secrets:ConfigureMount",
  "audit:Read",
  "audit:AckAlert",
  "sys:Seal",
  /** Starting, continuing or cancelling a rekey (new unseal or recovery shares); also needs a quorum of shares. */
  "sys:Rekey",
  /** A new root key, with everything sealed under the old one re-sealed. */
  "sys:RotateRoot",
  /** Reading an encrypted backup of all state. */
  "sys:Backup",
  /** Replacing all state with a backup's (an initialised node, with `force`). */
  "sys:Restore",
  /**
   * Reading the Vault API's mount table (`sys/mounts`: each configured transit and KV mount and its
   * type). Any caller may look up the one mount a path lies under (`sys/internal/ui/mounts/PATH`).
   */
  "sys:ReadMounts",
] as const);

export type Action = (typeof actions)[number];

/**
 * Actions recorded in the audit trail but never granted: logins prove identity themselves, and
 * `api:Rejected` is a request an adapter refused before it reached the door (malformed input).
 */
export type LoginAction =
  | "auth:Login"
  | "sys:Init"
  | "sys:Unseal"
  | "api:Rejected"
  | "audit:Alert"
  /** A new root token from a quorum of shares: the shares are the credential. */
  | "sys:GenerateRoot"
  /** Moving the root to the configured seal type with a quorum of the stored seal's shares. */
  | "sys:MigrateSeal"
  /** A restore into an uninitialised node: the backup and its root of trust are the credential. */
  | "sys:RestoreEmpty";

/**
 * Changes the server makes by itself (the scheduler), audited under the system principal and never
 * granted: automatic rotation is audited as `kms:RotateKey`; these name what no caller can request.
 */
export type SystemAction = "kms:DestroyKey" | "kms:DestroyKeyVersion" | "auth:PurgeExpired" | "sys:AutoUnseal" | NoticeAction;

/**
 * What the server records about itself that changes no state, under the system principal and never
 * granted: `sys:WorkerRestarted`, written by a worker that replaced one that died (detail: `worker`,
 * `previousExit`), before it serves.
 */
export type NoticeAction = "sys:WorkerRestarted";
