/**
 * Authorisation, default deny. For now a principal holds grants (allow statements of actions and key
 * resources with `*` patterns); root holds everything. The policy engine (roles, conditions,
 * explicit deny) replaces the body of `authorize` without changing its callers.
 */
import { TesseraError, type Action } from "@tessera/protocol";
import { globMatch } from "../identity/token-service.js";
import type { Principal } from "../identity/principal.js";

/** What an action is applied to: a key (matched by id or name) or nothing key-specific. */
export interface Resource {
  keyId?: string;
  name?: string;
}

export function isAllowed(principal: Principal, action: Action, resource: Resource): boolean {
  if (principal.root) return true;
  const names = [resource.keyId, resource.name].filter((n): n is string => n !== undefined);
  return principal.grants.some(
    (g) =>
      g.actions.some((a) => globMatch(a, action)) &&
      // Actions that name no key (GenerateRandom, ListKeys, auth:*) need only the action.
      (names.length === 0 || g.resources.some((r) => names.some((n) => globMatch(r, n)))),
  );
}

export function authorize(principal: Principal, action: Action, resource: Resource): void {
  if (!isAllowed(principal, action, resource)) {
    const target = resource.name ?? resource.keyId;
    throw new TesseraError("AccessDenied", target === undefined ? `not allowed to ${action}` : `not allowed to ${action} on ${target}`);
  }
}
