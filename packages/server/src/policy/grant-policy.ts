/**
 * AWS grants as policies (docs/aws-compatibility.md, "Grants"): each grant is compiled into the
 * server-owned policy `@grant/<grant id>` that applies to its grantee role — allow statements on
 * exactly one resource, `key/<its key id>`, evaluated by the same engine as every other policy.
 *
 * Invariants:
 * - A grant allows only the AWS grant operations (`grantOperations`), each valid for its key's type
 *   as AWS restricts them (`operationsForKey`); it never allows administration or another key.
 * - Its encryption-context constraint applies to the operations that take a context (all of them
 *   symmetric-key cryptography: constraints are refused on other keys), compared literally — no
 *   `*`, no `${principal…}` — with keys case-insensitive and values case-sensitive, as AWS does.
 * - `RetireGrant` is not a policy action of the grant: it lets the grantee retire this grant only,
 *   which service/grant-service.ts decides; a grant never lets anyone retire another grant.
 */
import type { Action, KeyUsage } from "@tessera/protocol";
import type { GrantConstraints, GrantRow } from "../store/index.js";
import type { CompiledPolicy, CompiledStatement } from "./policy-document.js";
import { parseResourcePattern } from "./resource.js";

/** Policies the server writes for grants; no caller-chosen policy name begins with `@`. */
export const GRANT_POLICY_PREFIX = "@grant/";
export const grantPolicyName = (grantId: string): string => `${GRANT_POLICY_PREFIX}${grantId}`;
/** The grant id of a policy name, when it is a grant's. */
export const grantIdOfPolicy = (name: string | undefined): string | undefined =>
  name?.startsWith(GRANT_POLICY_PREFIX) === true ? name.slice(GRANT_POLICY_PREFIX.length) : undefined;

/** Every AWS grant operation and the Tessera action it allows (RetireGrant: decided by the grant service). */
export const grantOperations = Object.freeze({
  Decrypt: "kms:Decrypt",
  Encrypt: "kms:Encrypt",
  GenerateDataKey: "kms:GenerateDataKey",
  GenerateDataKeyWithoutPlaintext: "kms:GenerateDataKeyWithoutPlaintext",
  ReEncryptFrom: "kms:ReEncryptFrom",
  ReEncryptTo: "kms:ReEncryptTo",
  Sign: "kms:Sign",
  Verify: "kms:Verify",
  GetPublicKey: "kms:GetPublicKey",
  CreateGrant: "kms:CreateGrant",
  RetireGrant: null,
  DescribeKey: "kms:DescribeKey",
  GenerateDataKeyPair: "kms:GenerateDataKeyPair",
  GenerateDataKeyPairWithoutPlaintext: "kms:GenerateDataKeyPairWithoutPlaintext",
  GenerateMac: "kms:GenerateMac",
  VerifyMac: "kms:VerifyMac",
  DeriveSharedSecret: "kms:DeriveSharedSecret",
} as const satisfies Record<string, Action | null>);
export type GrantOperation = keyof typeof grantOperations;

export const isGrantOperation = (op: string): op is GrantOperation => Object.hasOwn(grantOperations, op);

/** Operations a grant on any key may allow. */
const ANY_KEY: readonly GrantOperation[] = ["CreateGrant", "DescribeKey", "RetireGrant"];

/** The operations that take an encryption context: where a constraint applies. */
const CONTEXT_OPERATIONS: ReadonlySet<GrantOperation> = new Set<GrantOperation>([
  "Decrypt",
  "Encrypt",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
  "ReEncryptFrom",
  "ReEncryptTo",
  "GenerateDataKeyPair",
  "GenerateDataKeyPairWithoutPlaintext",
]);

/**
 * The grant operations valid for a key, as AWS KMS lists them per key type (Developer Guide,
 * "Grant operations"): symmetric encryption keys their cryptography, asymmetric ones theirs (with
 * GetPublicKey), HMAC keys GenerateMac/VerifyMac; every key CreateGrant, DescribeKey and RetireGrant.
 */
export function operationsForKey(usage: KeyUsage, symmetric: boolean): readonly GrantOperation[] {
  switch (usage) {
    case "ENCRYPT_DECRYPT":
      return symmetric
        ? [...ANY_KEY, "Decrypt", "Encrypt", "GenerateDataKey", "GenerateDataKeyWithoutPlaintext", "ReEncryptFrom", "ReEncryptTo", "GenerateDataKeyPair", "GenerateDataKeyPairWithoutPlaintext"]
        : [...ANY_KEY, "Decrypt", "Encrypt", "ReEncryptFrom", "ReEncryptTo", "GetPublicKey"];
    case "SIGN_VERIFY":
      return [...ANY_KEY, "Sign", "Verify", "GetPublicKey"];
    case "GENERATE_VERIFY_MAC":
      return [...ANY_KEY, "GenerateMac", "VerifyMac"];
    case "KEY_AGREEMENT":
      return [...ANY_KEY, "DeriveSharedSecret", "GetPublicKey"];
  }
}

/** Keys lower-cased (a constraint's keys are case-insensitive, its values are not). */
export function foldKeys(context: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(context)) out[k.toLowerCase()] = v;
  return out;
}

/** Does a request's encryption context satisfy a grant constraint? */
export function contextSatisfies(constraint: NonNullable<CompiledStatement["grantContext"]>, context: Readonly<Record<string, string>> | undefined): boolean {
  const given = foldKeys(context ?? {});
  const wanted = Object.entries(constraint.pairs);
  if (constraint.equals && Object.keys(given).length !== wanted.length) return false;
  return wanted.every(([k, v]) => Object.hasOwn(given, k) && given[k] === v);
}

/** The constraint as the evaluator checks it (at most one kind per grant: the service refuses both). */
export function compiledConstraint(c: GrantConstraints | null): CompiledStatement["grantContext"] {
  if (c === null) return undefined;
  if (c.encryptionContextEquals !== undefined) return { equals: true, pairs: foldKeys(c.encryptionContextEquals) };
  if (c.encryptionContextSubset !== undefined) return { equals: false, pairs: foldKeys(c.encryptionContextSubset) };
  return undefined;
}

/**
 * Is `child` at least as strict as `parent`? (A grant that allows CreateGrant lets its grantee create
 * grants only with the same or fewer operations and an equally strict or stricter constraint.)
 */
export function atLeastAsStrict(child: GrantConstraints | null, parent: GrantConstraints | null): boolean {
  const p = compiledConstraint(parent);
  if (p === undefined) return true;
  const c = compiledConstraint(child);
  if (c === undefined) return false;
  // Every context the child allows must satisfy the parent: checked on the child's own pairs.
  if (c.equals) return contextSatisfies(p, c.pairs);
  return !p.equals && Object.entries(p.pairs).every(([k, v]) => c.pairs[k] === v);
}

/** A grant as the policy its grantee role gets. */
export function compileGrant(g: GrantRow): CompiledPolicy {
  const resources = [parseResourcePattern(`key/${g.keyId}`, "/resources/0", false)];
  const statement = (index: number, ops: GrantOperation[], constrained: boolean): CompiledStatement => ({
    sid: `grant ${g.grantId}`,
    index,
    effect: "allow",
    actions: ops.flatMap((op): Action[] => (grantOperations[op] === null ? [] : [grantOperations[op]])),
    resources,
    sourceCidr: undefined,
    withinHours: undefined,
    outsideHours: undefined,
    authMethod: undefined,
    wrapToOwnCertificate: false,
    encryptionContext: undefined,
    grantContext: constrained ? compiledConstraint(g.constraints) : undefined,
  });
  const ops = g.operations.filter(isGrantOperation);
  const withContext = ops.filter((op) => CONTEXT_OPERATIONS.has(op));
  const without = ops.filter((op) => !CONTEXT_OPERATIONS.has(op) && grantOperations[op] !== null);
  const statements: CompiledStatement[] = [];
  if (withContext.length > 0) statements.push(statement(statements.length, withContext, true));
  if (without.length > 0) statements.push(statement(statements.length, without, false));
  return { name: grantPolicyName(g.grantId), statements };
}
