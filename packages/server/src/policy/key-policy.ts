/**
 * AWS key policies mapped onto Tessera's role policies (docs/aws-compatibility.md).
 *
 * A key policy statement whose Principal names `arn:aws:iam::<account>:role/<ROLE>` becomes a statement
 * of the server-owned policy `@key-policy/<key id>/<ROLE>`, attached to role ROLE; the account root
 * principal (`…:root`, `*`) means "as the roles' own policies decide" and adds nothing. Supported
 * conditions: `StringEquals` on `kms:EncryptionContext:<key>` and `IpAddress` on `aws:SourceIp`.
 * Anything else is refused as malformed, so a policy never silently means less than it says.
 *
 * Invariants:
 * - A key policy grants only `keyPolicyActions` (kms actions on one existing key), and only on its
 *   own key: every translated statement's one resource is `key/<its key id>`. `*` and `kms:*` expand
 *   to exactly those actions; naming any other action (audit:Read, kms:CreateKey, kms:CreateAlias …)
 *   is MalformedPolicyDocumentException.
 * - The policies it generates are named under `KEY_POLICY_PREFIX`, which no caller-chosen name can
 *   have (names begin with a letter or digit), and policy-service.ts refuses callers who try to write,
 *   delete or attach one.
 */
import { TesseraError, type Action } from "@tessera/protocol";
import { keyPolicyActions } from "./action-resources.js";
import { globMatch } from "./glob.js";
import type { Statement } from "./policy-document.js";

/** Policies the server writes for key policies; a caller's policy name can never begin with `@`. */
export const KEY_POLICY_PREFIX = "@key-policy/";
/** What older releases named them: ordinary, caller-writable names, removed when the key's policy is next put. */
const LEGACY_PREFIX = "key.";

export const keyPolicyName = (keyId: string, role: string): string => `${KEY_POLICY_PREFIX}${keyId}/${role}`;
/** Is this policy name the server's own (never written, deleted or attached by a caller)? */
export const isServerPolicyName = (name: string): boolean => name.startsWith("@");
/** Does this policy belong to the key policy of `keyId` (as written now, or by an older release)? */
export const belongsToKeyPolicy = (name: string, keyId: string): boolean =>
  name.startsWith(`${KEY_POLICY_PREFIX}${keyId}/`) || name.startsWith(`${LEGACY_PREFIX}${keyId}.`);

export interface TranslatedKeyPolicy {
  /** Tessera statements per role name. */
  byRole: Map<string, Statement[]>;
}

const malformed = (message: string) => new TesseraError("InvalidInput", message, { cause: { awsType: "MalformedPolicyDocumentException" } });
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]).map(String) : [String(v)]);

/** The actions one `Action` entry grants on the key: a pattern expands to the key-policy actions it matches. */
function expandAction(a: string, i: number): Action[] {
  const granted = a.includes("*") ? keyPolicyActions.filter((k) => globMatch(a, k)) : keyPolicyActions.filter((k) => k === a);
  if (granted.length === 0) {
    throw malformed(
      a.includes("*")
        ? `Statement ${i}: ${a} matches no action a key policy can grant (only kms actions on this key: ${keyPolicyActions.join(", ")})`
        : `Statement ${i}: a key policy can grant only kms actions on its own key; ${a} is not one`,
    );
  }
  return granted;
}

export function translateKeyPolicy(json: string, keyId: string, accountId: string): TranslatedKeyPolicy {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(json) as { Statement?: unknown };
  } catch {
    throw malformed("the policy is not JSON");
  }
  if (typeof doc !== "object" || doc === null) throw malformed("the policy is not a JSON object");
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  const byRole = new Map<string, Statement[]>();
  const thisKey = (r: string) => {
    const m = /^arn:aws[a-z-]*:kms:[^:]*:([^:]*):key\/(.+)$/.exec(r);
    return m !== null && m[1] === accountId && m[2] === keyId;
  };
  statements.forEach((raw, i) => {
    const st = raw as { Sid?: unknown; Effect?: unknown; Principal?: unknown; Action?: unknown; Resource?: unknown; Condition?: unknown };
    if (st.Effect !== "Allow" && st.Effect !== "Deny") throw malformed(`Statement ${i}: Effect must be Allow or Deny`);
    const acts = list(st.Action);
    if (acts.length === 0) throw malformed(`Statement ${i}: Action is required`);
    const granted = [...new Set(acts.flatMap((a) => expandAction(a, i)))];
    for (const r of list(st.Resource)) if (r !== "*" && !thisKey(r)) throw malformed(`Statement ${i}: Resource must be "*" (this key) or this key's ARN`);
    const conditions: NonNullable<Statement["conditions"]> = {};
    for (const [op, body] of Object.entries((st.Condition ?? {}) as Record<string, Record<string, unknown>>)) {
      for (const [k, v] of Object.entries(body)) {
        if (op === "StringEquals" && k.startsWith("kms:EncryptionContext:")) {
          conditions.encryptionContext = { ...conditions.encryptionContext, [k.slice("kms:EncryptionContext:".length)]: String(v) };
        } else if (op === "IpAddress" && k === "aws:SourceIp") {
          conditions.sourceCidr = list(v);
        } else throw malformed(`Statement ${i}: condition ${op} ${k} is not supported`);
      }
    }
    const p = st.Principal;
    const principals = p === "*" ? ["*"] : list((p as { AWS?: unknown } | undefined)?.AWS);
    if (principals.length === 0) throw malformed(`Statement ${i}: Principal is required`);
    for (const pr of principals) {
      // The account root — also spelled without an account id, as the Terraform AWS provider writes
      // it when it restores the default policy without knowing the account — adds nothing.
      if (pr === "*" || pr === `arn:aws:iam::${accountId}:root` || pr === "arn:aws:iam:::root" || pr === accountId) continue;
      const m = /^arn:aws:iam::(\d{12}):role\/([A-Za-z0-9][A-Za-z0-9_.@-]{0,127})$/.exec(pr);
      if (m === null || m[1] !== accountId) throw malformed(`Statement ${i}: principal ${pr} is not a role of account ${accountId}`);
      const s: Statement = {
        ...(typeof st.Sid === "string" && { sid: st.Sid }),
        effect: st.Effect === "Allow" ? "allow" : "deny",
        actions: granted,
        resources: [`key/${keyId}`],
        ...(Object.keys(conditions).length > 0 && { conditions }),
      };
      byRole.set(m[2]!, [...(byRole.get(m[2]!) ?? []), s]);
    }
  });
  return { byRole };
}

/**
 * The Tessera role an AWS principal ARN names — `arn:aws:iam::<this account>:role/<ROLE>`, as key
 * policies map them — or undefined for anything else (grants: grantee and retiring principals).
 */
export function roleOfPrincipal(arn: string, accountId: string): string | undefined {
  const m = /^arn:aws:iam::(\d{12}):role\/([A-Za-z0-9][A-Za-z0-9_.@-]{0,127})$/.exec(arn);
  return m !== null && m[1] === accountId ? m[2]! : undefined;
}

export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "tessera-default",
    Statement: [{ Sid: "Tessera role policies decide", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }],
  });
}
