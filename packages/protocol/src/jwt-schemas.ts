/**
 * Wire schemas for the JWT/OIDC login method (docs/machine-identity.md): trusted issuers and login.
 *
 * @example
 * ```json
 * PUT /v1/auth/jwt/issuers/gce
 * { "issuer": "https://accounts.google.com", "jwksUrl": "https://www.googleapis.com/oauth2/v3/certs",
 *   "audiences": ["https://kms.internal"] }
 * ```
 */
import { Type, type Static } from "@sinclair/typebox";
import { Name } from "./identity-schemas.js";

const strict = { additionalProperties: false } as const;
const Timestamp = Type.String({ format: "date-time" });


/** A JSON Web Key Set (RFC 7517 §5); the server accepts public RSA, EC and OKP keys only. */
export const Jwks = Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String() }, { additionalProperties: true }), { minItems: 1, maxItems: 64 }) }, { additionalProperties: true });
export type Jwks = Static<typeof Jwks>;

/**
 * A trusted issuer. Exactly one of `jwksUrl` (https, or http on loopback), `jwks` (inline) or
 * `jwksFile` (a path on the server) supplies its public keys; the server names the field at fault.
 */
export const JwtIssuerConfig = Type.Object(
  {
    /** The exact `iss` value tokens must carry. */
    issuer: Type.String({ minLength: 1, maxLength: 512 }),
    jwksUrl: Type.Optional(Type.String({ minLength: 1, maxLength: 2048 })),
    jwks: Type.Optional(Jwks),
    jwksFile: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    /** A token must name at least one of these in `aud`. */
    audiences: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 16 }),
    /** Default RS256, ES256, EdDSA, PS256; never `none` or HS*. */
    algorithms: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 16 }), { minItems: 1, maxItems: 10 })),
    /** Tolerance for `exp`, `nbf` and `iat` (default 60, at most 300). */
    clockSkewSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    /** Least time between two JWKS fetches triggered by an unknown `kid` (default 30). */
    jwksRefreshCooldownSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  },
  strict,
);
export type JwtIssuerConfig = Static<typeof JwtIssuerConfig>;

export const JwtIssuerInfo = Type.Object({ name: Type.String(), ...JwtIssuerConfig.properties, createdAt: Timestamp, updatedAt: Timestamp });
export type JwtIssuerInfo = Static<typeof JwtIssuerInfo>;

/** `POST /v1/auth/jwt/login`: the role to log in as and the workload's JWT (compact form). */
export const JwtLoginRequest = Type.Object({ role: Name, jwt: Type.String({ minLength: 1, maxLength: 16384 }) }, strict);
export type JwtLoginRequest = Static<typeof JwtLoginRequest>;
