/**
 * Policy evaluation. Default deny; an applicable deny statement wins over any allow; root may do
 * everything. A statement applies when one of its action patterns matches the action, one of its
 * resource patterns matches the (typed) resource — a pattern matches only resources of its own type
 * (resource.ts) — and every condition holds. The decision names the statement that decided, for the
 * simulator and the audit trail; asked to explain, a default deny also names the allow statements
 * that matched action and resource but failed conditions, and which conditions failed.
 */
import type { Action, EncryptionContext } from "@tessera/protocol";
import type { Principal } from "../principal/index.js";
import { addressIn } from "./cidr.js";
import { explicitOnlyActions } from "./action-resources.js";
import { globMatch } from "./glob.js";
import { contextSatisfies } from "./grant-policy.js";
import { inWindow, type CompiledPolicy, type CompiledStatement } from "./policy-document.js";
import { patternMatches, type Resource } from "./resource.js";

export interface RequestFacts {
  principal: Principal;
  action: Action;
  resource: Resource;
  /** Caller's address as the server saw it. */
  source: string;
  /** Request time, ms since the epoch. */
  time: number;
  /** The encryption context the request carries, for context conditions. */
  encryptionContext?: EncryptionContext | undefined;
  /** Wrapped export: hex SHA-256 of the recipient's DER SubjectPublicKeyInfo, for `wrapToOwnCertificate`. */
  wrapRecipient?: string | undefined;
  /** Grants named by the request's grant tokens: read from the store, not the cache (grant-policy.ts). */
  grantIds?: readonly string[] | undefined;
}

/**
 * The principal attribute naming the public key of the instance certificate a principal logged in
 * with (hex SHA-256 of its DER SubjectPublicKeyInfo); set by certificate authentication and by the
 * tokens it issues.
 */
export const CERT_SPKI_ATTRIBUTE = "cert_spki_sha256";

/** An allow statement that matched action and resource but not its conditions. */
export interface UnmetStatement {
  policy: string;
  statement: number;
  sid?: string;
  /** `sourceCidr`, `authMethod`, `withinHours`, `outsideHours`, `wrapToOwnCertificate`, `grantConstraint`, `encryptionContext` (none given) or `encryptionContext.<key>`. */
  failed: string[];
}

export interface Decision {
  allowed: boolean;
  reason: "root" | "allow" | "explicit-deny" | "default-deny";
  policy?: string;
  statement?: number;
  sid?: string;
  /** Only when explaining a default deny. */
  unmet?: UnmetStatement[];
}

/** The value of `${principal.<name>}`, or undefined when the principal has no such attribute. */
export function principalAttribute(p: Principal, name: string): string | undefined {
  switch (name) {
    case "id":
      return p.id;
    case "kind":
      return p.kind;
    case "role":
      return p.role ?? undefined;
    case "auth_method":
      return p.authMethod;
    default:
      return Object.hasOwn(p.attributes, name) ? p.attributes[name] : undefined;
  }
}

/** Expands `${principal.x}` placeholders; undefined when one of them has no value. */
function expand(template: string, p: Principal): string | undefined {
  let missing = false;
  const out = template.replace(/\$\{principal\.([^}]+)\}/g, (_m, name: string) => {
    const v = principalAttribute(p, name);
    if (v === undefined || v === "") missing = true;
    return v ?? "";
  });
  return missing ? undefined : out;
}

const NONE: readonly string[] = Object.freeze([]);

/** The conditions of `s` that do not hold: all of them with `all`, else at most the first. */
function failedConditions(s: CompiledStatement, f: RequestFacts, all: boolean): readonly string[] {
  if (!s.sourceCidr && !s.authMethod && !s.withinHours && !s.outsideHours && !s.encryptionContext && !s.wrapToOwnCertificate && !s.grantContext) return NONE;
  const failed: string[] = [];
  /** Records a failed condition; true when the caller should stop looking. */
  const fail = (name: string): boolean => {
    failed.push(name);
    return !all;
  };
  if (s.sourceCidr && !addressIn(s.sourceCidr, f.source) && fail("sourceCidr")) return failed;
  if (s.authMethod && !s.authMethod.includes(f.principal.authMethod) && fail("authMethod")) return failed;
  if (s.withinHours && !inWindow(s.withinHours, f.time) && fail("withinHours")) return failed;
  if (s.outsideHours && inWindow(s.outsideHours, f.time) && fail("outsideHours")) return failed;
  if (s.wrapToOwnCertificate && !wrapsToOwnCertificate(f) && fail("wrapToOwnCertificate")) return failed;
  if (s.grantContext && !contextSatisfies(s.grantContext, f.encryptionContext) && fail("grantConstraint")) return failed;
  if (s.encryptionContext) {
    const ctx = f.encryptionContext;
    if (ctx === undefined) {
      fail("encryptionContext");
      return failed;
    }
    for (const [key, expected] of Object.entries(s.encryptionContext)) {
      if (!Object.hasOwn(ctx, key)) {
        if (fail(`encryptionContext.${key}`)) return failed;
        continue;
      }
      if (expected === "*") continue;
      const want = expand(expected, f.principal);
      if ((want === undefined || ctx[key] !== want) && fail(`encryptionContext.${key}`)) return failed;
    }
  }
  return failed;
}

/**
 * Holds only for a request that wraps to a public key equal to the one in the instance certificate
 * the caller logged in with; a request without a recipient, or a caller without a certificate, fails it.
 */
function wrapsToOwnCertificate(f: RequestFacts): boolean {
  const own = principalAttribute(f.principal, CERT_SPKI_ATTRIBUTE);
  return f.wrapRecipient !== undefined && own !== undefined && own !== "" && own === f.wrapRecipient;
}

function matches(s: CompiledStatement, f: RequestFacts): boolean {
  // Actions granted only by name are matched by an allow statement that names them; denies match by pattern.
  const named = s.effect === "allow" && explicitOnlyActions.has(f.action);
  return s.actions.some((a) => (named ? a === f.action : globMatch(a, f.action))) && s.resources.some((r) => patternMatches(r, f.resource));
}

export function evaluate(f: RequestFacts, policies: readonly CompiledPolicy[], options: { explain?: boolean } = {}): Decision {
  if (f.principal.root) return { allowed: true, reason: "root" };
  let allow: Decision | undefined;
  const unmet: UnmetStatement[] = [];
  for (const p of policies) {
    for (const s of p.statements) {
      if (!matches(s, f)) continue;
      const failed = failedConditions(s, f, options.explain === true);
      const decided = { policy: p.name, statement: s.index, ...(s.sid !== undefined && { sid: s.sid }) };
      if (failed.length > 0) {
        if (options.explain === true && s.effect === "allow") unmet.push({ ...decided, failed: [...failed] });
        continue;
      }
      if (s.effect === "deny") return { allowed: false, reason: "explicit-deny", ...decided };
      allow ??= { allowed: true, reason: "allow", ...decided };
    }
  }
  return allow ?? { allowed: false, reason: "default-deny", ...(options.explain === true && { unmet }) };
}
