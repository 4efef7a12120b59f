/**
 * What each action is authorised on. The table is total over protocol's `actions`, so a new action
 * does not compile until someone decides its resource type — and with it whether a statement about
 * keys may grant it.
 *
 * Invariant (test/security/untyped-resources.test.ts and action-resources.test.ts): a statement whose
 * resources are all keys (`key/…` or bare patterns) grants only `keyScopedActions` — kms actions on
 * keys — never administration of policies, roles, credentials, the audit trail or the server.
 */
import { actions, type Action } from "@tessera/protocol";
import type { ResourceType } from "./resource.js";

export const actionResourceTypes: Readonly<Record<Action, readonly ResourceType[]>> = Object.freeze({
  "kms:CreateKey": ["key"],
  "kms:DescribeKey": ["key"],
  "kms:ListKeys": ["key"],
  "kms:UpdateKey": ["key"],
  "kms:RotateKey": ["key"],
  "kms:EnableKey": ["key"],
  "kms:DisableKey": ["key"],
  "kms:ScheduleKeyDeletion": ["key"],
  "kms:CancelKeyDeletion": ["key"],
  "kms:EnableKeyVersion": ["key"],
  "kms:DisableKeyVersion": ["key"],
  "kms:Encrypt": ["key"],
  "kms:Decrypt": ["key"],
  "kms:GenerateDataKey": ["key"],
  "kms:GenerateDataKeyWithoutPlaintext": ["key"],
  // The ReEncrypt operation is authorised as ReEncryptFrom on the source and ReEncryptTo on the
  // destination; in a policy, `kms:ReEncrypt` means both (policy-document.ts).
  "kms:ReEncrypt": [],
  "kms:ReEncryptFrom": ["key"],
  "kms:ReEncryptTo": ["key"],
  "kms:Derive": ["key"],
  "kms:GenerateMac": ["key"],
  "kms:VerifyMac": ["key"],
  "kms:Sign": ["key"],
  "kms:Verify": ["key"],
  "kms:GetPublicKey": ["key"],
  // Authorised on the symmetric key that encrypts the pair's private key.
  "kms:GenerateDataKeyPair": ["key"],
  "kms:GenerateDataKeyPairWithoutPlaintext": ["key"],
  "kms:DeriveSharedSecret": ["key"],
  "kms:ExportWrapped": ["key"],
  "kms:DerivePsk": ["key"],
  "kms:GetParametersForImport": ["key"],
  "kms:ImportKeyMaterial": ["key"],
  "kms:DeleteImportedKeyMaterial": ["key"],
  "kms:TrimKeyVersions": ["key"],
  "kms:BackupKey": ["key"],
  // On the key the backup holds (its id, and the name it is restored under).
  "kms:RestoreKey": ["key"],
  // One wrapping key for every import through the mount: authorised on `key/*`, like ListKeys.
  "kms:GetWrappingKey": ["key"],
  "kms:GenerateRandom": ["random"],
  // Keyless like GenerateRandom: authorised on the same unnamed resource.
  "kms:Hash": ["random"],
  // Alias writes need the action on the alias and on each key involved.
  "kms:CreateAlias": ["alias", "key"],
  "kms:UpdateAlias": ["alias", "key"],
  "kms:DeleteAlias": ["alias", "key"],
  // Listing one key's aliases is authorised on the key, listing all on alias/*.
  "kms:ListAliases": ["key", "alias"],
  "kms:GetKeyPolicy": ["key"],
  "kms:PutKeyPolicy": ["key"],
  // Grants live on one key, like AWS's: every grant action is authorised on that key.
  "kms:CreateGrant": ["key"],
  "kms:ListGrants": ["key"],
  "kms:RetireGrant": ["key"],
  "kms:RevokeGrant": ["key"],
  "auth:CreateToken": ["token"],
  "auth:LookupToken": ["token"],
  // Renewing is self-service only (every token may renew itself); it is never granted on others.
  "auth:RenewToken": ["token"],
  "auth:RevokeToken": ["token"],
  "auth:CreateJoinToken": ["role"],
  "auth:ListJoinTokens": ["join-token"],
  "auth:RevokeJoinToken": ["join-token"],
  "auth:ListCertificates": ["certificate"],
  "auth:RevokeCertificate": ["certificate"],
  "auth:ConfigureJwt": ["jwt-issuer"],
  "auth:ReadRoleId": ["role"],
  "auth:CreateSecretId": ["role"],
  "auth:RevokeSecretId": ["secret-id"],
  "auth:CreateAccessKey": ["role"],
  "auth:ListAccessKeys": ["access-key"],
  "auth:UpdateAccessKey": ["access-key"],
  "auth:DeleteAccessKey": ["access-key"],
  "policy:PutPolicy": ["policy"],
  "policy:GetPolicy": ["policy"],
  "policy:ListPolicies": ["policy"],
  "policy:DeletePolicy": ["policy"],
  "policy:PutRole": ["role"],
  "policy:GetRole": ["role"],
  "policy:ListRoles": ["role"],
  "policy:DeleteRole": ["role"],
  // The simulator answers for every principal, so it reads every policy.
  "policy:Simulate": ["policy"],
  // Secrets: `secret/MOUNT/PATH` (a path, or the prefix being listed); the mount itself is `secret/MOUNT`.
  "secrets:Read": ["secret"],
  "secrets:Write": ["secret"],
  "secrets:List": ["secret"],
  "secrets:Delete": ["secret"],
  "secrets:Destroy": ["secret"],
  "secrets:ReadMetadata": ["secret"],
  "secrets:ReadSubkeys": ["secret"],
  "secrets:WriteMetadata": ["secret"],
  "secrets:ConfigureMount": ["secret"],
  "audit:Read": ["audit"],
  "audit:AckAlert": ["audit"],
  "sys:Seal": ["sys"],
  "sys:Rekey": ["sys"],
  "sys:RotateRoot": ["sys"],
  "sys:Backup": ["sys"],
  "sys:Restore": ["sys"],
  "sys:ReadMounts": ["sys"],
});

/** kms actions authorised on keys only. */
export const keyScopedActions: readonly Action[] = Object.freeze(
  actions.filter((a) => actionResourceTypes[a].length === 1 && actionResourceTypes[a][0] === "key"),
);

/**
 * What an AWS key policy may grant on its own key: the key-scoped actions that act on one existing key
 * (not CreateKey or ListKeys), plus `kms:ReEncrypt`, which a policy reads as ReEncryptFrom and ReEncryptTo.
 */
export const keyPolicyActions: readonly Action[] = Object.freeze([
  ...keyScopedActions.filter((a) => a !== "kms:CreateKey" && a !== "kms:ListKeys" && a !== "kms:GetWrappingKey" && a !== "kms:RestoreKey"),
  "kms:ReEncrypt" as const,
]);

/**
 * Actions an allow statement grants only by naming them: `kms:*` and `*` do not reach them (a deny
 * pattern does — denies are never narrowed). Exporting material is a decision to write down, not a
 * side effect of a wildcard written for something else (docs/policy.md, "Actions granted only by name").
 */
export const explicitOnlyActions: ReadonlySet<Action> = new Set<Action>([
  "kms:ExportWrapped",
  // A restore can bring a destroyed key back from a backup: undoing a destruction (crypto-shredding)
  // is a decision to write down, not a side effect of `kms:*` on a key pattern.
  "kms:RestoreKey",
]);

export type EscalationWarning = "administrator-equivalent" | "role-equivalent" | "key-owner-equivalent" | "key-disclosure";

/**
 * Actions whose grant is worth more than it reads, with what it amounts to. The simulator reports
 * these when it allows one (docs/policy.md, "Administrator-equivalent actions").
 */
export const escalations: Readonly<Partial<Record<Action, { code: EscalationWarning; message: string }>>> = Object.freeze({
  "policy:PutPolicy": {
    code: "administrator-equivalent",
    message: "writing a policy that a role names changes what that role may do; whoever may write policies may grant anything",
  },
  "policy:PutRole": {
    code: "administrator-equivalent",
    message: "a role may be given any existing policy, operator included; whoever may write roles may grant anything",
  },
  "policy:DeletePolicy": {
    code: "administrator-equivalent",
    message: "deleting a policy a role names (with force) lifts its deny statements",
  },
  "auth:ConfigureJwt": {
    code: "administrator-equivalent",
    message: "an issuer whose signing keys the caller chooses logs in to every role bound to that issuer",
  },
  "auth:CreateSecretId": { code: "role-equivalent", message: "a secret id logs in as the role: as powerful as the role it names" },
  "auth:CreateAccessKey": { code: "role-equivalent", message: "an access key signs as the role: as powerful as the role it names" },
  "auth:CreateJoinToken": { code: "role-equivalent", message: "a join token enrols a VM in the role: as powerful as the role it names" },
  "kms:PutKeyPolicy": { code: "key-owner-equivalent", message: "a key policy may grant any role every action on this key" },
  "kms:CreateGrant": { code: "key-owner-equivalent", message: "a grant may give any role the grantable operations on this key" },
  "kms:RestoreKey": { code: "key-owner-equivalent", message: "with force, a restore replaces the key's material and settings with a backup's (ciphertexts of newer material would no longer decrypt)" },
  "kms:ExportWrapped": {
    code: "key-disclosure",
    message: "the caller receives key material (of exportable keys), data keys or derived keys, encrypted to a public key it chooses unless a wrapToOwnCertificate condition binds it",
  },
});
