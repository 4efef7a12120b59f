/**
 * Policy evaluation. Default deny; an applicable deny statement wins over any allow; root may do
 * everything. A statement applies when its action pattern matches, a resource pattern matches the
 * key's id or name (actions that name no key match any resource), and every condition holds.
 * The decision names the statement that decided, for the simulator and the audit trail.
 */
import type { Action, EncryptionContext } from "@tessera/protocol";
import type { Principal } from "../identity/principal.js";
import { addressIn } from "./cidr.js";
import { globMatch } from "./glob.js";
import { inWindow, type CompiledPolicy, type CompiledStatement } from "./policy-document.js";

/** What an action is applied to: a key (matched by id or name) or nothing key-specific. */
export interface Resource {
  keyId?: string;
  name?: string;
}

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
}

export interface Decision {
  allowed: boolean;
  reason: "root" | "allow" | "explicit-deny" | "default-deny";
  policy?: string;
  statement?: number;
  sid?: string;
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

function conditionsHold(s: CompiledStatement, f: RequestFacts): boolean {
  if (s.sourceCidr && !addressIn(s.sourceCidr, f.source)) return false;
  if (s.authMethod && !s.authMethod.includes(f.principal.authMethod)) return false;
  if (s.withinHours && !inWindow(s.withinHours, f.time)) return false;
  if (s.outsideHours && inWindow(s.outsideHours, f.time)) return false;
  if (s.encryptionContext) {
    const ctx = f.encryptionContext;
    if (ctx === undefined) return false;
    for (const [key, expected] of Object.entries(s.encryptionContext)) {
      if (!Object.hasOwn(ctx, key)) return false;
      if (expected === "*") continue;
      const want = expand(expected, f.principal);
      if (want === undefined || ctx[key] !== want) return false;
    }
  }
  return true;
}

function applies(s: CompiledStatement, f: RequestFacts): boolean {
  if (!s.actions.some((a) => globMatch(a, f.action))) return false;
  const names = [f.resource.keyId, f.resource.name].filter((n): n is string => n !== undefined);
  if (names.length > 0 && !s.resources.some((r) => names.some((n) => globMatch(r, n)))) return false;
  return conditionsHold(s, f);
}

export function evaluate(f: RequestFacts, policies: readonly CompiledPolicy[]): Decision {
  if (f.principal.root) return { allowed: true, reason: "root" };
  let allow: Decision | undefined;
  for (const p of policies) {
    for (const s of p.statements) {
      if (!applies(s, f)) continue;
      const decided = { policy: p.name, statement: s.index, ...(s.sid !== undefined && { sid: s.sid }) };
      if (s.effect === "deny") return { allowed: false, reason: "explicit-deny", ...decided };
      allow ??= { allowed: true, reason: "allow", ...decided };
    }
  }
  return allow ?? { allowed: false, reason: "default-deny" };
}
