/**
 * Policies and role administration: storage, validation, the compiled-policy cache and the
 * authorisation decision.
 *
 * A role names the policies that apply to every principal that logs in with it, and the lifetime of
 * the tokens it gets (principal/roles.ts reads roles; writes are here, because they check policies).
 * Policy and role writes invalidate the caches at once, so a change takes effect on the next request.
 * The built-in `operator` policy and role (full administration) can only be changed or removed with
 * `force`, so nobody locks themselves out by accident; the root token is never subject to policy.
 * Policies named `@…` belong to AWS key policies (key-policy.ts): callers never write, delete or
 * attach them; PutKeyPolicy replaces them in one transaction.
 */
import { randomUUID } from "node:crypto";
import { Value } from "@sinclair/typebox/value";
import { TesseraError, type Action, type Grant } from "@tessera/protocol";
import type { Clock } from "../clock.js";
import { NAME_PATTERN, OPERATOR, RoleBody, roleInfo, type Principal, type RoleDirectory, type RoleInfo } from "../principal/index.js";
import type { Repositories, Store } from "../store/index.js";
import { actionResourceTypes } from "./action-resources.js";
import { evaluate, type Decision, type RequestFacts } from "./evaluator.js";
import { compileGrant, grantPolicyName } from "./grant-policy.js";
import { belongsToKeyPolicy, isServerPolicyName, keyPolicyName, KEY_POLICY_PREFIX } from "./key-policy.js";
import { compilePolicy, type CompiledPolicy, type PolicyDocument, type Statement } from "./policy-document.js";
import { formatResource, type Resource } from "./resource.js";

const OPERATOR_POLICY: PolicyDocument = {
  statements: [{ sid: "operator-all", effect: "allow", actions: ["*"], resources: ["*"] }],
};

const reservedName = (field: string) =>
  new TesseraError("InvalidInput", `policies named ${KEY_POLICY_PREFIX}… belong to AWS key policies; change the key policy (PutKeyPolicy) instead`, { field });

function checkName(name: string, what: string): void {
  if (what === "policy" && isServerPolicyName(name)) throw reservedName("/name");
  if (!new RegExp(NAME_PATTERN).test(name)) throw new TesseraError("InvalidInput", `${what} names are 1–128 letters, digits and _ . @ -`, { field: "/name" });
}

export class PolicyService {
  private readonly compiled = new Map<string, CompiledPolicy | null>();
  /** Each role's grants, compiled (grant-policy.ts); dropped with the compiled policies. */
  private readonly grantsByRole = new Map<string, ReadonlyMap<string, readonly CompiledPolicy[]>>();

  constructor(
    private readonly store: Pick<Store, "policies" | "roles" | "transaction" | "grants">,
    private readonly roles: RoleDirectory,
    private readonly clock: Clock,
  ) {}

  /** Drops every compiled policy and cached role (all state was replaced: a restore). */
  forgetAll(): void {
    this.compiled.clear();
    this.grantsByRole.clear();
    this.roles.forgetAll();
  }

  /** Creates the built-in operator policy and role (at init, inside its transaction). */
  async createBuiltins(tx: Repositories): Promise<void> {
    const now = this.clock.now();
    await tx.policies.put({ name: OPERATOR, body: OPERATOR_POLICY, createdAt: now, updatedAt: now });
    await tx.roles.put({ name: OPERATOR, body: { description: "Full administration (built in)", policies: [OPERATOR] } satisfies RoleBody, createdAt: now, updatedAt: now });
  }

  /** Drops every compiled policy (policies changed on another node). */
  forgetCompiled(): void {
    this.compiled.clear();
    this.grantsByRole.clear();
  }

  // ── policies ─────────────────────────────────────────────────────────────────────────────────

  async putPolicy(name: string, document: unknown, force = false): Promise<{ name: string; document: PolicyDocument; createdAt: string; updatedAt: string }> {
    checkName(name, "policy");
    if (name === OPERATOR && !force) {
      throw new TesseraError("InvalidState", `"${OPERATOR}" is the built-in administration policy; changing it needs force (it can lock operators out)`);
    }
    compilePolicy(name, document, { strict: true });
    const now = this.clock.now();
    const existing = await this.store.policies.get(name);
    await this.store.policies.put({ name, body: document, createdAt: existing?.createdAt ?? now, updatedAt: now });
    this.compiled.delete(name);
    return { name, document: document as PolicyDocument, createdAt: new Date(existing?.createdAt ?? now).toISOString(), updatedAt: new Date(now).toISOString() };
  }

  async getPolicy(name: string) {
    const row = await this.store.policies.get(name);
    if (row === undefined) throw new TesseraError("NotFound", `no policy named "${name}"`);
    return { name, document: row.body as PolicyDocument, createdAt: new Date(row.createdAt).toISOString(), updatedAt: new Date(row.updatedAt).toISOString() };
  }

  async listPolicies(): Promise<string[]> {
    return (await this.store.policies.list()).map((p) => p.name);
  }

  async deletePolicy(name: string, force = false): Promise<void> {
    if (isServerPolicyName(name)) throw reservedName("/name");
    if (name === OPERATOR && !force) throw new TesseraError("InvalidState", `"${OPERATOR}" is built in; deleting it needs force`);
    const users = (await this.store.roles.list()).filter((r) => (r.body as RoleBody).policies.includes(name)).map((r) => r.name);
    if (users.length > 0 && !force) {
      throw new TesseraError("InvalidState", `policy "${name}" is used by role(s) ${users.join(", ")}; remove it from them first or use force`);
    }
    if (!(await this.store.policies.delete(name))) throw new TesseraError("NotFound", `no policy named "${name}"`);
    this.compiled.delete(name);
  }

  // ── roles ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Creates or replaces a role. Key-policy attachments (`@…` policies) are the key policy's to change:
   * they are kept whether or not the body repeats them, and a body may not name one the role lacks.
   */
  async putRole(name: string, body: unknown, force = false): Promise<RoleInfo> {
    checkName(name, "role");
    const first = Value.Errors(RoleBody, body).First();
    if (first !== undefined) throw new TesseraError("InvalidInput", `${first.path || "/"}: ${first.message}`, { field: first.path || "/" });
    const role = structuredClone(body) as RoleBody;
    if (name === OPERATOR && !force && !role.policies.includes(OPERATOR)) {
      throw new TesseraError("InvalidState", `removing the "${OPERATOR}" policy from the "${OPERATOR}" role needs force (it can lock operators out)`);
    }
    const existing = await this.store.roles.get(name);
    const attached = ((existing?.body as RoleBody | undefined)?.policies ?? []).filter(isServerPolicyName);
    for (const [i, p] of role.policies.entries()) {
      if (isServerPolicyName(p)) {
        if (!attached.includes(p)) throw reservedName(`/policies/${i}`);
      } else if (!new RegExp(NAME_PATTERN).test(p) || (await this.store.policies.get(p)) === undefined) {
        throw new TesseraError("InvalidInput", `no policy named "${p}"`, { field: `/policies/${i}` });
      }
    }
    role.policies = [...role.policies.filter((p) => !isServerPolicyName(p)), ...attached];
    if (role.tokenMaxTtlSeconds !== undefined && role.tokenTtlSeconds !== undefined && role.tokenMaxTtlSeconds < role.tokenTtlSeconds) {
      throw new TesseraError("InvalidInput", "tokenMaxTtlSeconds must be at least tokenTtlSeconds", { field: "/tokenMaxTtlSeconds" });
    }
    const now = this.clock.now();
    if (role.approle !== undefined) {
      // The role id is public but stable: keep the existing one unless the caller sets it.
      const previous = (existing?.body as RoleBody | undefined)?.approle?.roleId;
      role.approle.roleId ??= previous ?? randomUUID();
    }
    await this.store.roles.put({ name, body: role, createdAt: existing?.createdAt ?? now, updatedAt: now });
    this.roles.forget(name);
    return roleInfo(name, role, existing?.createdAt ?? now, now);
  }

  async getRole(name: string): Promise<RoleInfo> {
    const info = await this.roles.get(name);
    if (info === undefined) throw new TesseraError("NotFound", `no role named "${name}"`);
    return info;
  }

  listRoles(): Promise<string[]> {
    return this.roles.names();
  }

  /**
   * Deletes a role and the key-policy policies made for it. The caller revokes the role's tokens,
   * secret ids, access keys and certificates.
   */
  async deleteRole(name: string, force = false): Promise<void> {
    if (name === OPERATOR && !force) throw new TesseraError("InvalidState", `"${OPERATOR}" is built in; deleting it needs force`);
    await this.store.transaction(async (tx) => {
      const row = await tx.roles.get(name);
      if (row === undefined || !(await tx.roles.delete(name))) throw new TesseraError("NotFound", `no role named "${name}"`);
      for (const p of (row.body as RoleBody).policies.filter(isServerPolicyName)) await tx.policies.delete(p);
      // A role made again later under the same name does not inherit the old one's grants.
      await tx.grants.deleteForGrantee(name);
    });
    this.roles.forget(name);
    this.forgetCompiled();
  }

  // ── AWS key policies (key-policy.ts) ─────────────────────────────────────────────────────────

  /**
   * Replaces the translation of key `keyId`'s key policy, in one transaction: every role loses the
   * key's previous policies, each role in `byRole` gets its new one, and the document is stored.
   * Unknown roles are refused before anything is written.
   */
  async replaceKeyPolicy(keyId: string, byRole: ReadonlyMap<string, Statement[]>, document: string): Promise<void> {
    const fresh = new Map([...byRole].map(([role, statements]) => [role, { name: keyPolicyName(keyId, role), body: { statements } }]));
    for (const { name, body } of fresh.values()) compilePolicy(name, body, { strict: true });
    const touched: string[] = [];
    await this.store.transaction(async (tx) => {
      for (const role of fresh.keys()) {
        if ((await tx.roles.get(role)) === undefined) {
          throw new TesseraError("InvalidInput", `no role named "${role}"`, { cause: { awsType: "MalformedPolicyDocumentException" } });
        }
      }
      const now = this.clock.now();
      for (const p of await tx.policies.list()) if (belongsToKeyPolicy(p.name, keyId)) await tx.policies.delete(p.name);
      for (const { name, body } of fresh.values()) await tx.policies.put({ name, body, createdAt: now, updatedAt: now });
      for (const row of await tx.roles.list()) {
        const role = row.body as RoleBody;
        const kept = role.policies.filter((p) => !belongsToKeyPolicy(p, keyId));
        const mine = fresh.get(row.name);
        const policies = mine === undefined ? kept : [...kept, mine.name];
        if (policies.length === role.policies.length && policies.every((p, i) => p === role.policies[i])) continue;
        await tx.roles.put({ ...row, body: { ...role, policies }, updatedAt: now });
        touched.push(row.name);
      }
      await tx.meta.put(`key-policy:${keyId}`, document);
    });
    for (const name of touched) this.roles.forget(name);
    this.compiled.clear();
  }

  // ── decisions ────────────────────────────────────────────────────────────────────────────────

  private async compiledPolicy(name: string): Promise<CompiledPolicy | undefined> {
    if (this.compiled.has(name)) return this.compiled.get(name) ?? undefined;
    const row = await this.store.policies.get(name);
    const compiled = row === undefined ? null : compilePolicy(name, row.body);
    this.compiled.set(name, compiled);
    return compiled ?? undefined;
  }

  /**
   * Every policy that applies to a principal: its role's policies, its role's AWS grants, then its
   * token's own grants. `grantIds` (from grant tokens) are read from the store now, so a grant is
   * usable with its token before any cache has heard of it; only the caller's own role's grants count.
   *
   * With `resource`, only the grants on that key are included: a grant's one resource is the literal
   * `key/<its key id>`, which matches a key resource only by that id or name, so leaving out grants on
   * other keys changes no decision — and a role with many grants costs one map lookup, not a scan.
   */
  async policiesFor(principal: Principal, grantIds: readonly string[] = [], resource?: Resource): Promise<CompiledPolicy[]> {
    const out: CompiledPolicy[] = [];
    if (principal.role !== null) {
      const role = await this.roles.role(principal.role);
      for (const name of role?.policies ?? []) {
        const p = await this.compiledPolicy(name);
        if (p !== undefined) out.push(p);
      }
      const byKey = await this.roleGrants(principal.role);
      const grants =
        resource === undefined
          ? [...byKey.values()].flat()
          : resource.type !== "key"
            ? []
            : [...new Set([resource.id, resource.name])].flatMap((k) => (k === null ? [] : (byKey.get(k) ?? [])));
      out.push(...grants);
      for (const id of grantIds) {
        if (grants.some((g) => g.name === grantPolicyName(id))) continue;
        const g = await this.store.grants.get(id);
        if (g !== undefined && g.granteeRole === principal.role) out.push(compileGrant(g));
      }
    }
    if (principal.grants.length > 0) out.push(grantsPolicy(principal.grants));
    return out;
  }

  /** The role's grants, compiled, by key id. */
  private async roleGrants(role: string): Promise<ReadonlyMap<string, readonly CompiledPolicy[]>> {
    let grants = this.grantsByRole.get(role);
    if (grants === undefined) {
      const byKey = new Map<string, CompiledPolicy[]>();
      for (const g of await this.store.grants.listForGrantee(role)) byKey.set(g.keyId, [...(byKey.get(g.keyId) ?? []), compileGrant(g)]);
      grants = byKey;
      this.grantsByRole.set(role, grants);
    }
    return grants;
  }

  /** Drops the cached grants of a role (a grant to it was created, retired or revoked here). */
  forgetGrants(role: string): void {
    this.grantsByRole.delete(role);
  }

  async decide(facts: RequestFacts, options: { explain?: boolean } = {}): Promise<Decision> {
    if (facts.principal.root) return { allowed: true, reason: "root" };
    return evaluate(facts, await this.policiesFor(facts.principal, facts.grantIds, facts.resource), options);
  }

  /**
   * Throws `AccessDenied` unless allowed. An action asked about a resource of a type it is never
   * authorised on is a programming error (`Internal`), never a decision.
   */
  async authorize(facts: RequestFacts): Promise<Decision> {
    assertResourceType(facts);
    const d = await this.decide(facts);
    if (!d.allowed) throw new TesseraError("AccessDenied", `not allowed to ${facts.action} on ${formatResource(facts.resource)}`);
    return d;
  }

  /** Is `action` allowed on `resource` at all (ignoring conditions that need request facts)? Used for listing. */
  async allows(principal: Principal, action: Action, resource: RequestFacts["resource"], source: string): Promise<boolean> {
    const facts = { principal, action, resource, source, time: this.clock.now() };
    assertResourceType(facts);
    return (await this.decide(facts)).allowed;
  }
}

function assertResourceType(facts: Pick<RequestFacts, "action" | "resource">): void {
  if (!actionResourceTypes[facts.action].includes(facts.resource.type)) {
    throw new TesseraError("Internal", `${facts.action} is not authorised on ${facts.resource.type} resources`);
  }
}

const grantCache = new WeakMap<readonly Grant[], CompiledPolicy>();

/** A token's inline grants as an allow-only policy named `token`. */
function grantsPolicy(grants: readonly Grant[]): CompiledPolicy {
  let p = grantCache.get(grants);
  if (p === undefined) {
    p = compilePolicy("token", grantsDocument(grants));
    grantCache.set(grants, p);
  }
  return p;
}

const grantsDocument = (grants: readonly Grant[]): PolicyDocument => ({
  statements: grants.map((g) => ({ effect: "allow", actions: [...g.actions], resources: [...g.resources] })),
});

/** Validates a new token's grants as policy writes are validated; the field names the grant at fault. */
export function validateGrants(grants: readonly Grant[]): void {
  try {
    compilePolicy("token", grantsDocument(grants), { strict: true });
  } catch (err) {
    if (err instanceof TesseraError && err.field !== undefined) {
      const field = err.field.replace(/^\/statements\//, "/grants/");
      throw new TesseraError("InvalidInput", err.message.replace(/^\/statements\//, "/grants/"), { field });
    }
    throw err;
  }
}
