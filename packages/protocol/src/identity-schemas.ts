/**
 * Wire schemas for identity and policy administration: policies, roles, the simulator, logins
 * (JWT, AppRole; join tokens and instance certificates are in machine-schemas.ts), access keys.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Context, TokenInfo } from "./schemas.js";

const strict = { additionalProperties: false } as const;
export const Name = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$", description: "1–128 letters, digits and _ . @ -" });
const Timestamp = Type.String({ format: "date-time" });

/** A policy document; the server validates statements and conditions and names the field at fault. */
export const PolicyDocumentBody = Type.Object({ statements: Type.Array(Type.Unknown(), { maxItems: 256 }) }, { additionalProperties: true });
export const PolicyInfo = Type.Object({ name: Type.String(), document: Type.Unknown(), createdAt: Timestamp, updatedAt: Timestamp });
export type PolicyInfo = Static<typeof PolicyInfo>;
export const NameList = Type.Object({ names: Type.Array(Type.String()) });
export type NameList = Static<typeof NameList>;
export const ForceQuery = Type.Object({ force: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")])) }, strict);

/** Role settings (validated in full by the server). */
export const RoleBodyWire = Type.Object({ policies: Type.Array(Type.String()) }, { additionalProperties: true });
export const RoleInfoWire = Type.Object({ name: Type.String(), policies: Type.Array(Type.String()), createdAt: Timestamp, updatedAt: Timestamp }, { additionalProperties: true });
export type RoleInfoWire = Static<typeof RoleInfoWire> & Record<string, unknown>;

export const SimulateRequest = Type.Object(
  {
    /** Simulate a principal of this role (with these attributes), or the principal of an existing token. */
    role: Type.Optional(Name),
    accessor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    attributes: Type.Optional(Type.Record(Type.String(), Type.String(), { maxProperties: 64 })),
    authMethod: Type.Optional(Type.String({ maxLength: 32 })),
    action: Type.String({ minLength: 1, maxLength: 128 }),
    /**
     * Typed as in policies: `key/payment-db` (or a bare key name or id), `policy/orders-app`,
     * `role/ci`, `TYPE/*` for a whole collection, or an unnamed resource such as `audit`; may be
     * omitted for actions authorised on an unnamed resource only.
     */
    resource: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
    context: Type.Optional(Context),
    source: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    time: Type.Optional(Timestamp),
  },
  strict,
);
export type SimulateRequest = Static<typeof SimulateRequest>;
export const SimulateResponse = Type.Object({
  allowed: Type.Boolean(),
  /** root | allow | explicit-deny | default-deny */
  reason: Type.String(),
  policy: Type.Optional(Type.String()),
  statement: Type.Optional(Type.Integer()),
  sid: Type.Optional(Type.String()),
  /** The resource evaluated, typed: `key/payment-db`, `policy/*`, `audit`. */
  resource: Type.Optional(Type.String()),
  /**
   * On a default deny: the allow statements that matched action and resource but whose conditions
   * failed, and which (`sourceCidr`, `authMethod`, `withinHours`, `outsideHours`, `encryptionContext`,
   * `encryptionContext.<key>`, `wrapToOwnCertificate`).
   */
  unmet: Type.Optional(
    Type.Array(Type.Object({ policy: Type.String(), statement: Type.Integer(), sid: Type.Optional(Type.String()), failed: Type.Array(Type.String()) })),
  ),
  /** When allowed: what the action amounts to if it is more than it reads (e.g. `administrator-equivalent`). */
  warnings: Type.Optional(Type.Array(Type.Object({ code: Type.String(), message: Type.String() }))),
});
export type SimulateResponse = Static<typeof SimulateResponse>;

/**
 * What the caller's own token may do: each check is evaluated as the simulator would for the caller
 * itself (`POST /v1/auth/tokens/self/capabilities`), so a user interface shows only the actions that
 * would succeed. It tells a caller nothing it could not learn by trying.
 */
export const CapabilitiesRequest = Type.Object(
  {
    checks: Type.Array(
      Type.Object(
        {
          action: Type.String({ minLength: 1, maxLength: 128 }),
          /** Typed as in the simulator; omitted for actions authorised on an unnamed resource only. */
          resource: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })),
        },
        strict,
      ),
      { minItems: 1, maxItems: 64 },
    ),
  },
  strict,
);
export type CapabilitiesRequest = Static<typeof CapabilitiesRequest>;
export const CapabilitiesResponse = Type.Object({
  results: Type.Array(Type.Object({ action: Type.String(), resource: Type.String(), allowed: Type.Boolean() })),
});
export type CapabilitiesResponse = Static<typeof CapabilitiesResponse>;

export const LoginResponse = Type.Intersect([TokenInfo, Type.Object({ token: Type.String() })]);
export type LoginResponse = Static<typeof LoginResponse>;

export const RenewRequest = Type.Object({ accessor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })) }, strict);

// ── AppRole ──────────────────────────────────────────────────────────────────────────────────────
export const RoleIdResponse = Type.Object({ role: Type.String(), roleId: Type.String() });
export const CreateSecretIdRequest = Type.Object(
  {
    cidrs: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 64 })),
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 366 * 86400 })),
    uses: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000, description: "0 = unlimited" })),
  },
  strict,
);
export type CreateSecretIdRequest = Static<typeof CreateSecretIdRequest>;
export const SecretIdResponse = Type.Object({
  secretId: Type.String(),
  accessor: Type.String(),
  role: Type.String(),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  uses: Type.Union([Type.Integer(), Type.Null()]),
  cidrs: Type.Array(Type.String()),
});
export type SecretIdResponse = Static<typeof SecretIdResponse>;
export const AppRoleLoginRequest = Type.Object({ roleId: Type.String({ minLength: 1, maxLength: 128 }), secretId: Type.String({ minLength: 1, maxLength: 256 }) }, strict);
export type AppRoleLoginRequest = Static<typeof AppRoleLoginRequest>;

// ── access keys (SigV4, AWS-compatible API) ──────────────────────────────────────────────────────
export const CreateAccessKeyRequest = Type.Object({ role: Name, description: Type.Optional(Type.String({ maxLength: 256 })) }, strict);
export type CreateAccessKeyRequest = Static<typeof CreateAccessKeyRequest>;
export const AccessKeyInfo = Type.Object({
  accessKeyId: Type.String(),
  role: Type.String(),
  state: Type.Union([Type.Literal("Active"), Type.Literal("Inactive")]),
  description: Type.String(),
  createdAt: Timestamp,
});
export type AccessKeyInfo = Static<typeof AccessKeyInfo>;
export const CreateAccessKeyResponse = Type.Intersect([AccessKeyInfo, Type.Object({ secretAccessKey: Type.String() })]);
export type CreateAccessKeyResponse = Static<typeof CreateAccessKeyResponse>;
export const ListAccessKeysResponse = Type.Object({ accessKeys: Type.Array(AccessKeyInfo) });
export type ListAccessKeysResponse = Static<typeof ListAccessKeysResponse>;
