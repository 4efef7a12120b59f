/**
 * Policies and roles: storage, validation, the compiled-policy cache and the authorisation decision.
 *
 * A role names the policies that apply to every principal that logs in with it, and the lifetime of
 * the tokens it gets. Policy and role writes invalidate the cache at once, so a change takes effect on
 * the next request. The built-in `operator` policy and role (full administration) can only be changed
 * or removed with `force`, so nobody locks themselves out by accident; the root token is never
 * subject to policy.
 */
import { randomUUID } from "node:crypto";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { TesseraError, type Action, type Grant } from "@tessera/protocol";
import type { Clock } from "../clock.js";
import type { Principal } from "../identity/principal.js";
import type { Repositories, Store } from "../store/index.js";
import { evaluate, type Decision, type RequestFacts } from "./evaluator.js";
import { compilePolicy, type CompiledPolicy, type PolicyDocument } from "./policy-document.js";

export const OPERATOR = "operator";
export const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$";

const OPERATOR_POLICY: PolicyDocument = {
  statements: [{ sid: "operator-all", effect: "allow", actions: ["*"], resources: ["*"] }],
};

export const RoleBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    policies: Type.Array(Type.String({ pattern: NAME_PATTERN }), { maxItems: 64 }),
    /** Lifetime of tokens issued at login, and the ceiling renewals may reach. */
    tokenTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 32 * 86400 })),
    tokenMaxTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86400 })),
    /** Lifetime of instance certificates issued to VMs that join with this role. */
    certTtlSeconds: Type.Optional(Type.Integer({ minimum: 300, maximum: 90 * 86400 })),
    /** JWT login binding: which issuer, which claims must match, which claims become attributes. */
    jwt: Type.Optional(
      Type.Object(
        {
          issuer: Type.String({ pattern: NAME_PATTERN }),
          boundAudiences: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 16 })),
          boundClaims: Type.Optional(
            Type.Record(Type.String(), Type.Union([Type.String(), Type.Array(Type.String(), { minItems: 1, maxItems: 64 })]), {
              propertyNames: { minLength: 1, maxLength: 256 },
              maxProperties: 32,
            }),
          ),
          claimsToAttributes: Type.Optional(
            Type.Record(Type.String(), Type.String({ pattern: "^[A-Za-z0-9_]{1,64}$" }), { propertyNames: { minLength: 1, maxLength: 256 }, maxProperties: 32 }),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    /** AppRole: the role id (public) is generated; secret ids are created separately. */
    approle: Type.Optional(
      Type.Object(
        {
          roleId: Type.Optional(Type.String({ minLength: 8, maxLength: 128 })),
          secretIdTtlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86400 })),
          secretIdUses: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          boundCidrs: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type RoleBody = Static<typeof RoleBody>;

export const DEFAULT_TOKEN_TTL_SECONDS = 3600;

export interface RoleInfo extends RoleBody {
  name: string;
  createdAt: string;
  updatedAt: string;
}

function checkName(name: string, what: string): void {
  if (!new RegExp(NAME_PATTERN).test(name)) throw new TesseraError("InvalidInput", `${what} names are 1–128 letters, digits and _ . @ -`, { field: "/name" });
}

export class PolicyService {
  private readonly compiled = new Map<string, CompiledPolicy | null>();
  private readonly roles = new Map<string, RoleBody | null>();

  constructor(
    private readonly store: Pick<Store, "policies" | "roles" | "transaction">,
    private readonly clock: Clock,
  ) {}

  /** Creates the built-in operator policy and role (at init, inside its transaction). */
  async createBuiltins(tx: Repositories): Promise<void> {
    const now = this.clock.now();
    await tx.policies.put({ name: OPERATOR, body: OPERATOR_POLICY, createdAt: now, updatedAt: now });
    await tx.roles.put({ name: OPERATOR, body: { description: "Full administration (built in)", policies: [OPERATOR] } satisfies RoleBody, createdAt: now, updatedAt: now });
  }

  // ── policies ─────────────────────────────────────────────────────────────────────────────────

  async putPolicy(name: string, document: unknown, force = false): Promise<{ name: string; document: PolicyDocument; createdAt: string; updatedAt: string }> {
    checkName(name, "policy");
    if (name === OPERATOR && !force) {
      throw new TesseraError("InvalidState", `"${OPERATOR}" is the built-in administration policy; changing it needs force (it can lock operators out)`);
    }
    compilePolicy(name, document);
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
    if (name === OPERATOR && !force) throw new TesseraError("InvalidState", `"${OPERATOR}" is built in; deleting it needs force`);
    const users = (await this.store.roles.list()).filter((r) => (r.body as RoleBody).policies.includes(name)).map((r) => r.name);
    if (users.length > 0 && !force) {
      throw new TesseraError("InvalidState", `policy "${name}" is used by role(s) ${users.join(", ")}; remove it from them first or use force`);
    }
    if (!(await this.store.policies.delete(name))) throw new TesseraError("NotFound", `no policy named "${name}"`);
    this.compiled.delete(name);
  }

  // ── roles ────────────────────────────────────────────────────────────────────────────────────

  async putRole(name: string, body: unknown, force = false): Promise<RoleInfo> {
    checkName(name, "role");
    const first = Value.Errors(RoleBody, body).First();
    if (first !== undefined) throw new TesseraError("InvalidInput", `${first.path || "/"}: ${first.message}`, { field: first.path || "/" });
    const role = structuredClone(body) as RoleBody;
    if (name === OPERATOR && !force && !role.policies.includes(OPERATOR)) {
      throw new TesseraError("InvalidState", `removing the "${OPERATOR}" policy from the "${OPERATOR}" role needs force (it can lock operators out)`);
    }
    for (const [i, p] of role.policies.entries()) {
      if ((await this.store.policies.get(p)) === undefined) throw new TesseraError("InvalidInput", `no policy named "${p}"`, { field: `/policies/${i}` });
    }
    if (role.tokenMaxTtlSeconds !== undefined && role.tokenTtlSeconds !== undefined && role.tokenMaxTtlSeconds < role.tokenTtlSeconds) {
      throw new TesseraError("InvalidInput", "tokenMaxTtlSeconds must be at least tokenTtlSeconds", { field: "/tokenMaxTtlSeconds" });
    }
    const now = this.clock.now();
    const existing = await this.store.roles.get(name);
    if (role.approle !== undefined) {
      // The role id is public but stable: keep the existing one unless the caller sets it.
      const previous = (existing?.body as RoleBody | undefined)?.approle?.roleId;
      role.approle.roleId ??= previous ?? randomUUID();
    }
    await this.store.roles.put({ name, body: role, createdAt: existing?.createdAt ?? now, updatedAt: now });
    this.roles.delete(name);
    return this.roleInfo(name, role, existing?.createdAt ?? now, now);
  }

  async getRole(name: string): Promise<RoleInfo> {
    const row = await this.store.roles.get(name);
    if (row === undefined) throw new TesseraError("NotFound", `no role named "${name}"`);
    return this.roleInfo(name, row.body as RoleBody, row.createdAt, row.updatedAt);
  }

  /** The role's settings, cached; undefined when it does not exist. */
  async role(name: string): Promise<RoleBody | undefined> {
    if (this.roles.has(name)) return this.roles.get(name) ?? undefined;
    const row = await this.store.roles.get(name);
    const body = (row?.body as RoleBody | undefined) ?? null;
    this.roles.set(name, body);
    return body ?? undefined;
  }

  async roleByApproleId(roleId: string): Promise<{ name: string; role: RoleBody } | undefined> {
    for (const r of await this.store.roles.list()) {
      const body = r.body as RoleBody;
      if (body.approle?.roleId === roleId) return { name: r.name, role: body };
    }
    return undefined;
  }

  async listRoles(): Promise<string[]> {
    return (await this.store.roles.list()).map((r) => r.name);
  }

  /** Deletes a role. The caller revokes the role's tokens, secret ids, access keys and certificates. */
  async deleteRole(name: string, force = false): Promise<void> {
    if (name === OPERATOR && !force) throw new TesseraError("InvalidState", `"${OPERATOR}" is built in; deleting it needs force`);
    if (!(await this.store.roles.delete(name))) throw new TesseraError("NotFound", `no role named "${name}"`);
    this.roles.delete(name);
  }

  private roleInfo(name: string, role: RoleBody, createdAt: number, updatedAt: number): RoleInfo {
    return { name, ...role, createdAt: new Date(createdAt).toISOString(), updatedAt: new Date(updatedAt).toISOString() };
  }

  // ── decisions ────────────────────────────────────────────────────────────────────────────────

  private async compiledPolicy(name: string): Promise<CompiledPolicy | undefined> {
    if (this.compiled.has(name)) return this.compiled.get(name) ?? undefined;
    const row = await this.store.policies.get(name);
    const compiled = row === undefined ? null : compilePolicy(name, row.body);
    this.compiled.set(name, compiled);
    return compiled ?? undefined;
  }

  /** Every policy that applies to a principal: its role's policies, then its token's own grants. */
  async policiesFor(principal: Principal): Promise<CompiledPolicy[]> {
    const out: CompiledPolicy[] = [];
    if (principal.role !== null) {
      const role = await this.role(principal.role);
      for (const name of role?.policies ?? []) {
        const p = await this.compiledPolicy(name);
        if (p !== undefined) out.push(p);
      }
    }
    if (principal.grants.length > 0) out.push(grantsPolicy(principal.grants));
    return out;
  }

  async decide(facts: RequestFacts): Promise<Decision> {
    if (facts.principal.root) return { allowed: true, reason: "root" };
    return evaluate(facts, await this.policiesFor(facts.principal));
  }

  /** Throws `AccessDenied` unless allowed. */
  async authorize(facts: RequestFacts): Promise<Decision> {
    const d = await this.decide(facts);
    if (!d.allowed) {
      const target = facts.resource.name ?? facts.resource.keyId;
      throw new TesseraError("AccessDenied", target === undefined ? `not allowed to ${facts.action}` : `not allowed to ${facts.action} on ${target}`);
    }
    return d;
  }

  /** Is `action` allowed on `resource` at all (ignoring conditions that need request facts)? Used for listing. */
  async allows(principal: Principal, action: Action, resource: RequestFacts["resource"], source: string): Promise<boolean> {
    return (await this.decide({ principal, action, resource, source, time: this.clock.now() })).allowed;
  }
}

const grantCache = new WeakMap<readonly Grant[], CompiledPolicy>();

/** A token's inline grants as an allow-only policy named `token`. */
function grantsPolicy(grants: readonly Grant[]): CompiledPolicy {
  let p = grantCache.get(grants);
  if (p === undefined) {
    p = compilePolicy("token", { statements: grants.map((g) => ({ effect: "allow", actions: [...g.actions], resources: [...g.resources] })) });
    grantCache.set(grants, p);
  }
  return p;
}

