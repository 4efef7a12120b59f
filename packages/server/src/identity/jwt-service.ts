/**
 * Signed workload tokens (JWT/OIDC) as a login method, verified with `jose` (panva): signature against
 * the issuer's JWKS (inline, file, or URL fetched and cached — an unknown `kid` refetches, which is how
 * signing-key rotation is picked up), `iss`, `aud`, `exp`/`nbf`/`iat` with a small clock skew, and an
 * algorithm allow-list that can never contain `none` or an HMAC algorithm (a public key must never
 * be usable as an HMAC secret). A role binds an issuer and the claims a token must carry.
 */
import { readFileSync } from "node:fs";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { TesseraError, type LoginResponse } from "@tessera/protocol";
import type { Clock } from "../clock.js";
import { globMatch } from "../policy/glob.js";
import { DEFAULT_TOKEN_TTL_SECONDS, type PolicyService, type RoleBody } from "../policy/policy-service.js";
import type { DocumentRepo } from "../store/index.js";
import type { TokenService } from "./token-service.js";

export const ALLOWED_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;

export const JwtIssuerConfig = Type.Object(
  {
    /** The exact `iss` value tokens must carry. */
    issuer: Type.String({ minLength: 1, maxLength: 512 }),
    jwksUrl: Type.Optional(Type.String({ pattern: "^https?://", maxLength: 2048 })),
    jwks: Type.Optional(Type.Object({ keys: Type.Array(Type.Object({}, { additionalProperties: true }), { minItems: 1, maxItems: 64 }) })),
    jwksFile: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
    audiences: Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { minItems: 1, maxItems: 16 }),
    algorithms: Type.Optional(Type.Array(Type.String(), { minItems: 1, maxItems: 10 })),
    clockSkewSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 300 })),
    /** Least time between two JWKS fetches triggered by an unknown `kid` (default 30 s). */
    jwksRefreshCooldownSeconds: Type.Optional(Type.Integer({ minimum: 0, maximum: 3600 })),
  },
  { additionalProperties: false },
);
export type JwtIssuerConfig = Static<typeof JwtIssuerConfig>;

function validateIssuer(doc: unknown): JwtIssuerConfig {
  const first = Value.Errors(JwtIssuerConfig, doc).First();
  if (first !== undefined) throw new TesseraError("InvalidInput", `${first.path || "/"}: ${first.message}`, { field: first.path || "/" });
  const c = doc as JwtIssuerConfig;
  const sources = [c.jwksUrl, c.jwks, c.jwksFile].filter((x) => x !== undefined).length;
  if (sources !== 1) throw new TesseraError("InvalidInput", "give exactly one of jwksUrl, jwks or jwksFile", { field: "/jwksUrl" });
  (c.algorithms ?? []).forEach((a, i) => {
    if (!(ALLOWED_ALGORITHMS as readonly string[]).includes(a)) {
      throw new TesseraError("InvalidInput", `algorithm "${a}" is not allowed (allowed: ${ALLOWED_ALGORITHMS.join(", ")}; never none or HS*)`, {
        field: `/algorithms/${i}`,
      });
    }
  });
  if (c.jwksFile !== undefined) {
    try {
      JSON.parse(readFileSync(c.jwksFile, "utf8"));
    } catch (err) {
      throw new TesseraError("InvalidInput", `cannot read a JWKS from ${c.jwksFile}: ${(err as Error).message}`, { field: "/jwksFile" });
    }
  }
  return c;
}

/** A dotted claim path (`google.compute_engine.instance_id`) read from the payload, as a string. */
function claim(payload: JWTPayload, path: string): string | undefined {
  let v: unknown = payload;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  return undefined;
}

export class JwtService {
  private readonly keySets = new Map<string, { config: JwtIssuerConfig; getKey: JWTVerifyGetKey }>();

  constructor(
    private readonly issuers: DocumentRepo,
    private readonly policy: PolicyService,
    private readonly tokens: TokenService,
    private readonly clock: Clock,
  ) {}

  async putIssuer(name: string, doc: unknown): Promise<JwtIssuerConfig & { name: string }> {
    if (!/^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$/.test(name)) throw new TesseraError("InvalidInput", "issuer names are 1–128 letters, digits and _ . @ -", { field: "/name" });
    const config = validateIssuer(doc);
    const now = this.clock.now();
    const existing = await this.issuers.get(name);
    await this.issuers.put({ name, body: config, createdAt: existing?.createdAt ?? now, updatedAt: now });
    this.keySets.delete(name);
    return { name, ...config };
  }

  async getIssuer(name: string): Promise<JwtIssuerConfig & { name: string }> {
    const row = await this.issuers.get(name);
    if (row === undefined) throw new TesseraError("NotFound", `no JWT issuer named "${name}"`);
    return { name, ...(row.body as JwtIssuerConfig) };
  }

  async listIssuers(): Promise<string[]> {
    return (await this.issuers.list()).map((r) => r.name);
  }

  async deleteIssuer(name: string): Promise<void> {
    if (!(await this.issuers.delete(name))) throw new TesseraError("NotFound", `no JWT issuer named "${name}"`);
    this.keySets.delete(name);
  }

  private async keySet(name: string) {
    const cached = this.keySets.get(name);
    if (cached !== undefined) return cached;
    const row = await this.issuers.get(name);
    if (row === undefined) return undefined;
    const config = row.body as JwtIssuerConfig;
    const getKey =
      config.jwksUrl !== undefined
        ? createRemoteJWKSet(new URL(config.jwksUrl), {
            cacheMaxAge: 10 * 60_000,
            cooldownDuration: (config.jwksRefreshCooldownSeconds ?? 30) * 1000,
            timeoutDuration: 5_000,
          })
        : createLocalJWKSet((config.jwks ?? JSON.parse(readFileSync(config.jwksFile!, "utf8"))) as Parameters<typeof createLocalJWKSet>[0]);
    const entry = { config, getKey };
    this.keySets.set(name, entry);
    return entry;
  }

  /**
   * Verifies `jwt` for `roleName` and issues a token. Every failure is `Unauthenticated`; the message
   * says which check failed (useful to the operator) but never echoes the token.
   */
  async login(roleName: string, jwt: string, source: string): Promise<LoginResponse> {
    const denied = (why: string) => new TesseraError("Unauthenticated", `JWT login refused: ${why}`);
    const role: RoleBody | undefined = await this.policy.role(roleName);
    if (role?.jwt === undefined) throw denied(`role "${roleName}" does not exist or has no jwt binding`);
    const set = await this.keySet(role.jwt.issuer);
    if (set === undefined) throw denied(`issuer "${role.jwt.issuer}" is not configured`);
    const audiences = role.jwt.boundAudiences ?? set.config.audiences;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, set.getKey, {
        issuer: set.config.issuer,
        audience: audiences,
        algorithms: set.config.algorithms ?? ["RS256", "ES256", "EdDSA", "PS256"],
        clockTolerance: set.config.clockSkewSeconds ?? 60,
        currentDate: new Date(this.clock.now()),
        requiredClaims: ["exp"],
      }));
    } catch (err) {
      const code = (err as { code?: string }).code ?? "ERR_JWT_INVALID";
      throw denied(code.replace(/^ERR_/, "").toLowerCase().replaceAll("_", " "));
    }
    if (payload.iat !== undefined && payload.iat * 1000 > this.clock.now() + (set.config.clockSkewSeconds ?? 60) * 1000) {
      throw denied("token issued in the future");
    }
    for (const [path, expected] of Object.entries(role.jwt.boundClaims ?? {})) {
      const value = claim(payload, path);
      const patterns = Array.isArray(expected) ? expected : [expected];
      if (value === undefined || !patterns.some((p) => p === "*" || globMatch(p, value))) throw denied(`claim ${path} does not match the role`);
    }
    const attributes: Record<string, string> = {};
    if (payload.sub !== undefined) attributes["sub"] = payload.sub;
    for (const [path, attribute] of Object.entries(role.jwt.claimsToAttributes ?? {})) {
      const value = claim(payload, path);
      if (value !== undefined) attributes[attribute] = value;
    }
    const ttl = role.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    // A login never outlives the JWT that proved it.
    const jwtLeft = Math.floor(((payload.exp ?? 0) * 1000 - this.clock.now()) / 1000);
    return this.tokens.issue({
      kind: "workload",
      displayName: `jwt:${payload.sub ?? "unknown"}`,
      role: roleName,
      authMethod: "jwt",
      attributes,
      source,
      subject: `jwt:${set.config.issuer}:${payload.sub ?? ""}`,
      ttlSeconds: Math.max(1, Math.min(ttl, jwtLeft > 0 ? jwtLeft : ttl)),
    });
  }
}
