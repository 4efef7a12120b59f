/**
 * Roles as every layer above reads them: the schema of a role's settings and a cached directory of
 * stored roles. Role *administration* (checking the policies a role names exist, the built-in
 * `operator`) is policy/policy-service.ts; logins (identity/) only read roles, through here, so
 * neither policy/ nor identity/ needs the other to know what a role is.
 */
import { Type, type Static } from "@sinclair/typebox";
import type { DocumentRepo } from "../store/index.js";

/** Names of policies, roles and JWT issuers. Names that do not fit are reserved for the server itself. */
export const NAME_PATTERN = "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$";
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
/** The built-in administration policy and role. */
export const OPERATOR = "operator";

export const RoleBody = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 1024 })),
    /** Policy names; the server's own (key-policy) names are kept by the server, never written by callers. */
    policies: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 64 }),
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

export interface RoleInfo extends RoleBody {
  name: string;
  createdAt: string;
  updatedAt: string;
}

export function roleInfo(name: string, role: RoleBody, createdAt: number, updatedAt: number): RoleInfo {
  return { name, ...role, createdAt: new Date(createdAt).toISOString(), updatedAt: new Date(updatedAt).toISOString() };
}

/** Stored roles, read through a cache that every role write clears (`forget`). */
export class RoleDirectory {
  private readonly cache = new Map<string, RoleBody | null>();

  constructor(private readonly roles: Pick<DocumentRepo, "get" | "list">) {}

  /** The role's settings; undefined when it does not exist. */
  async role(name: string): Promise<RoleBody | undefined> {
    if (this.cache.has(name)) return this.cache.get(name) ?? undefined;
    const row = await this.roles.get(name);
    const body = (row?.body as RoleBody | undefined) ?? null;
    this.cache.set(name, body);
    return body ?? undefined;
  }

  async get(name: string): Promise<RoleInfo | undefined> {
    const row = await this.roles.get(name);
    return row === undefined ? undefined : roleInfo(name, row.body as RoleBody, row.createdAt, row.updatedAt);
  }

  async byApproleId(roleId: string): Promise<{ name: string; role: RoleBody } | undefined> {
    for (const r of await this.roles.list()) {
      const body = r.body as RoleBody;
      if (body.approle?.roleId === roleId) return { name: r.name, role: body };
    }
    return undefined;
  }

  async names(): Promise<string[]> {
    return (await this.roles.list()).map((r) => r.name);
  }

  /** Called after every write of role `name`. */
  forget(name: string): void {
    this.cache.delete(name);
  }

  /** Drops every cached role (roles changed on another node, or all state was replaced by a restore). */
  forgetAll(): void {
    this.cache.clear();
  }
}
