/**
 * AWS key policies mapped onto Tessera's role policies (docs/aws-compatibility.md).
 *
 * A key policy statement whose Principal names `arn:aws:iam::<account>:role/<ROLE>` becomes a statement
 * of the Tessera policy `key.<key id>.<ROLE>`, scoped to that key and attached to role ROLE; the account
 * root principal (`…:root`, `*`) means "as the roles' own policies decide" and adds nothing. Supported
 * conditions: `StringEquals` on `kms:EncryptionContext:<key>` and `IpAddress` on `aws:SourceIp`.
 * Anything else is refused as malformed, so a policy never silently means less than it says.
 */
import { TesseraError, actions } from "@tessera/protocol";
import type { Statement } from "./policy-document.js";

export interface TranslatedKeyPolicy {
  /** Tessera statements per role name. */
  byRole: Map<string, Statement[]>;
}

const malformed = (message: string) => new TesseraError("InvalidInput", message, { cause: { awsType: "MalformedPolicyDocumentException" } });
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? (v as unknown[]).map(String) : [String(v)]);

export function translateKeyPolicy(json: string, keyId: string, accountId: string): TranslatedKeyPolicy {
  let doc: { Statement?: unknown };
  try {
    doc = JSON.parse(json) as { Statement?: unknown };
  } catch {
    throw malformed("the policy is not JSON");
  }
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement === undefined ? [] : [doc.Statement];
  const byRole = new Map<string, Statement[]>();
  const known = new Set<string>(actions);
  statements.forEach((raw, i) => {
    const st = raw as { Sid?: unknown; Effect?: unknown; Principal?: unknown; Action?: unknown; Resource?: unknown; Condition?: unknown };
    if (st.Effect !== "Allow" && st.Effect !== "Deny") throw malformed(`Statement ${i}: Effect must be Allow or Deny`);
    const acts = list(st.Action);
    if (acts.length === 0) throw malformed(`Statement ${i}: Action is required`);
    for (const a of acts) if (!a.includes("*") && !known.has(a)) throw malformed(`Statement ${i}: action ${a} is not supported by Tessera`);
    for (const r of list(st.Resource)) if (r !== "*" && !r.endsWith(`key/${keyId}`)) throw malformed(`Statement ${i}: Resource must be "*" (this key)`);
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
      if (pr === "*" || pr === `arn:aws:iam::${accountId}:root` || pr === accountId) continue;
      const m = /^arn:aws:iam::(\d{12}):role\/([A-Za-z0-9][A-Za-z0-9_.@-]{0,127})$/.exec(pr);
      if (m === null || m[1] !== accountId) throw malformed(`Statement ${i}: principal ${pr} is not a role of account ${accountId}`);
      const s: Statement = {
        ...(typeof st.Sid === "string" && { sid: st.Sid }),
        effect: st.Effect === "Allow" ? "allow" : "deny",
        actions: acts,
        resources: [keyId],
        ...(Object.keys(conditions).length > 0 && { conditions }),
      };
      byRole.set(m[2]!, [...(byRole.get(m[2]!) ?? []), s]);
    }
  });
  return { byRole };
}

export function defaultKeyPolicy(accountId: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Id: "tessera-default",
    Statement: [{ Sid: "Tessera role policies decide", Effect: "Allow", Principal: { AWS: `arn:aws:iam::${accountId}:root` }, Action: "kms:*", Resource: "*" }],
  });
}
