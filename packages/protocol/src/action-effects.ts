/**
 * Which actions change state. For every one of them the door makes an *intent* audit record durable
 * after the request is authorised and before anything is changed (then the outcome record), so no
 * change escapes the trail: if the intent cannot be written, the request fails and nothing changes.
 *
 * The table is exhaustive over `Action`: a new action cannot compile until someone decides.
 */
import type { Action, LoginAction, SystemAction } from "./actions.js";

export type ActionEffect = "read" | "write";

export const actionEffects: Readonly<Record<Action | LoginAction | SystemAction, ActionEffect>> = Object.freeze({
  "kms:CreateKey": "write",
  "kms:DescribeKey": "read",
  "kms:ListKeys": "read",
  "kms:UpdateKey": "write",
  "kms:RotateKey": "write",
  "kms:EnableKey": "write",
  "kms:DisableKey": "write",
  "kms:ScheduleKeyDeletion": "write",
  "kms:CancelKeyDeletion": "write",
  "kms:EnableKeyVersion": "write",
  "kms:DisableKeyVersion": "write",
  // Cryptography changes no security state (usage counters are telemetry, not state: docs/security.md).
  "kms:Encrypt": "read",
  "kms:Decrypt": "read",
  "kms:GenerateDataKey": "read",
  "kms:GenerateDataKeyWithoutPlaintext": "read",
  "kms:ReEncrypt": "read",
  "kms:ReEncryptFrom": "read",
  "kms:ReEncryptTo": "read",
  "kms:Derive": "read",
  "kms:GenerateMac": "read",
  "kms:VerifyMac": "read",
  "kms:Sign": "read",
  "kms:Verify": "read",
  "kms:GetPublicKey": "read",
  "kms:GenerateDataKeyPair": "read",
  "kms:GenerateDataKeyPairWithoutPlaintext": "read",
  "kms:DeriveSharedSecret": "read",
  "kms:GenerateRandom": "read",
  "kms:Hash": "read",
  // Export changes nothing stored, like Decrypt: what makes it safe is that its answer — material
  // wrapped to a public key — is withheld until its outcome record is durable (the door fails closed),
  // so no export leaves unaudited. An intent record would add nothing but a second write.
  "kms:ExportWrapped": "read",
  "kms:DerivePsk": "read",
  // Import parameters change nothing stored: a one-time wrapping key and token held in memory,
  // useless unless the answer — withheld until its outcome record is durable — reaches the caller.
  // Importing material and deleting it are changes.
  "kms:GetParametersForImport": "read",
  "kms:ImportKeyMaterial": "write",
  "kms:DeleteImportedKeyMaterial": "write",
  "kms:TrimKeyVersions": "write",
  // A backup changes nothing stored; what it releases is sealed under the root key, and its answer is
  // withheld until its outcome record is durable, as an export's.
  "kms:BackupKey": "read",
  "kms:RestoreKey": "write",
  // The first read makes the mount's wrapping key (a stored, sealed key pair): a change, so every read
  // writes its intent first (rare: clients read it once per import session).
  "kms:GetWrappingKey": "write",
  "kms:CreateAlias": "write",
  "kms:UpdateAlias": "write",
  "kms:DeleteAlias": "write",
  "kms:ListAliases": "read",
  "kms:GetKeyPolicy": "read",
  "kms:PutKeyPolicy": "write",
  "kms:CreateGrant": "write",
  "kms:ListGrants": "read",
  "kms:RetireGrant": "write",
  "kms:RevokeGrant": "write",
  "auth:CreateToken": "write",
  "auth:LookupToken": "read",
  "auth:RenewToken": "write",
  "auth:RevokeToken": "write",
  "auth:CreateJoinToken": "write",
  "auth:ListJoinTokens": "read",
  "auth:RevokeJoinToken": "write",
  "auth:ListCertificates": "read",
  "auth:RevokeCertificate": "write",
  // Reads of issuer configuration pass `readOnly` to the door.
  "auth:ConfigureJwt": "write",
  "auth:ReadRoleId": "read",
  "auth:CreateSecretId": "write",
  "auth:RevokeSecretId": "write",
  "auth:CreateAccessKey": "write",
  "auth:ListAccessKeys": "read",
  "auth:UpdateAccessKey": "write",
  "auth:DeleteAccessKey": "write",
  "policy:PutPolicy": "write",
  "policy:GetPolicy": "read",
  "policy:ListPolicies": "read",
  "policy:DeletePolicy": "write",
  "policy:PutRole": "write",
  "policy:GetRole": "read",
  "policy:ListRoles": "read",
  "policy:DeleteRole": "write",
  "policy:Simulate": "read",
  // A read records the version's read count and last reader: telemetry like key use counts.
  "secrets:Read": "read",
  "secrets:Write": "write",
  "secrets:List": "read",
  "secrets:Delete": "write",
  "secrets:Destroy": "write",
  "secrets:ReadMetadata": "read",
  // Opens the version to read its structure; records no read of its values.
  "secrets:ReadSubkeys": "read",
  "secrets:WriteMetadata": "write",
  // Reading a mount's configuration passes the door with `readOnly`.
  "secrets:ConfigureMount": "write",
  "audit:Read": "read",
  "audit:AckAlert": "write",
  "sys:Seal": "write",
  "sys:Rekey": "write",
  "sys:RotateRoot": "write",
  // A backup changes nothing; what it reads (all state, sealed) is audited like any read.
  "sys:Backup": "read",
  "sys:Restore": "write",
  "sys:ReadMounts": "read",
  "sys:GenerateRoot": "write",
  "sys:MigrateSeal": "write",
  "sys:RestoreEmpty": "write",
  "sys:AutoUnseal": "write",
  // Logins issue tokens (and spend join tokens and secret ids); init and unseal change the seal.
  "auth:Login": "write",
  "sys:Init": "write",
  "sys:Unseal": "write",
  "api:Rejected": "read",
  "audit:Alert": "write",
  "kms:DestroyKey": "write",
  "kms:DestroyKeyVersion": "write",
  "auth:PurgeExpired": "write",
  // A notice of what already happened (a worker replaced a dead one): nothing is changed by recording it.
  "sys:WorkerRestarted": "read",
});

/** True when the action can change stored or in-memory security state. */
export const changesState = (action: Action | LoginAction | SystemAction): boolean => actionEffects[action] === "write";
