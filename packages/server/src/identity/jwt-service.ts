/**
 * Signed workload tokens (JWT/OIDC) as a login method, verified with `jose` (panva): signature against
 * the issuer's JWKS (inline, file, or URL fetched and cached — an unknown `kid` refetches, which is how
 * signing-key rotation is picked up), `iss`, `aud`, `exp` (required), `nbf`, `iat` with a small clock
 * skew, and an algorithm allow-list that can never contain `none` or an HMAC algorithm (a public key
 * must never be usable as an HMAC secret). A role binds an issuer and the claims a token must carry.
 *
 * Invariants:
 * - Every login failure is `Unauthenticated`; the message names the check that failed, never the token.
 * - A login token never outlives the JWT that proved it (renewals included).
 * - One key set per issuer, rebuilt whenever the stored configuration (or the JWKS file) changes, so
 *   an edit made through any node applies to the next login.
 */
import { readFileSync, statSync } from "node:fs";
import { isIP } from "node:net";
import { Value } from "@sinclair/typebox/value";
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from "jose";
import { DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS, JwtIssuerConfig, TesseraError, type JwtIssuerInfo, type LoginResponse } from "@tessera/protocol";
import { iso, type Clock } from "../clock.js";
import { globMatch } from "../policy/glob.js";
import { DEFAULT_TOKEN_TTL_SECONDS, NAME_PATTERN, type RoleBody, type RoleDirectory } from "../principal/index.js";
import type { DocumentRepo } from "../store/index.js";
import type { TokenService } from "./token-service.js";
import { noChangeHook, type BeforeChange } from "./before-change.js";

export { JwtIssuerConfig };
export const DEFAULT_CLOCK_SKEW_SECONDS = 60;
export const JWKS_CACHE_MAX_AGE_MS = 10 * 60_000;
const DEFAULT_REFRESH_COOLDOWN_SECONDS = 30;
/** Parameters that only private (or symmetric) JWKs carry (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037 §2). */
const PRIVATE_PARAMS = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] as const;
const PUBLIC_KTY = ["RSA", "EC", "OKP"];
const MAX_ATTRIBUTE_LENGTH = 1024;

const invalid = (field: string, message: string) => new TesseraError("InvalidInput", message, { field });

const isLoopback = (hostname: string): boolean => {
  const host = hostname.replace(/^\[|\]$/g, "");
  if (host === "localhost" || host === "::1") return true;
  return isIP(host) === 4 && host.startsWith("127.");
};

/** Public keys only: a JWKS with a symmetric or private key is refused (`field` names the key). */
function checkJwks(jwks: unknown, field: string): JSONWebKeySet {
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw invalid(field, `${field} must be a JWKS: {"keys": [ … ]} with at least one key`);
  keys.forEach((k: unknown, i) => {
    const key = k as Record<string, unknown>;
    if (typeof k !== "object" || k === null || !PUBLIC_KTY.includes(key["kty"] as string)) {
      throw invalid(`${field}/keys/${i}/kty`, `key ${i}: kty must be RSA, EC or OKP (public keys; no symmetric keys)`);
    }
    const secret = PRIVATE_PARAMS.find((p) => p in key);
    if (secret !== undefined) throw invalid(`${field}/keys/${i}/${secret}`, `key ${i} is a private key (it has "${secret}"); give the public key only`);
  });
  try {
    createLocalJWKSet(jwks as JSONWebKeySet);
  } catch (err) {
    throw invalid(field, `${field} is not a valid JWKS: ${(err as Error).message}`);
  }
  return jwks as JSONWebKeySet;
}

function readJwksFile(path: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw invalid("/jwksFile", `cannot read a JWKS from ${path}: ${(err as Error).message}`);
  }
  return checkJwks(parsed, "/jwksFile");
}

/** Validates an issuer configuration, naming the exact field at fault. */
export function validateIssuer(doc: unknown): JwtIssuerConfig {
  const first = Value.Errors(JwtIssuerConfig, doc).First();
  if (first !== undefined) throw invalid(first.path || "/", `${first.path || "/"}: ${first.message}`);
  const c = doc as JwtIssuerConfig;
  const sources = (["jwksUrl", "jwks", "jwksFile"] as const).filter((k) => c[k] !== undefined);
  if (sources.length !== 1) throw invalid(sources.length === 0 ? "/jwksUrl" : `/${sources[1]}`, "give exactly one of jwksUrl, jwks or jwksFile");
  if (c.jwksUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(c.jwksUrl);
    } catch {
      throw invalid("/jwksUrl", "jwksUrl is not a URL");
    }
    if (url.username !== "" || url.password !== "") throw invalid("/jwksUrl", "jwksUrl must not carry credentials");
    if (url.protocol !== "https:" && !(url.protocol === "http:" && isLoopback(url.hostname))) {
      throw invalid("/jwksUrl", "jwksUrl must be https (plain http only on loopback)");
    }
  }
  if (c.jwks !== undefined) checkJwks(c.jwks, "/jwks");
  if (c.jwksFile !== undefined) readJwksFile(c.jwksFile);
  (c.algorithms ?? []).forEach((a, i) => {
    if (!(JWT_ALGORITHMS as readonly string[]).includes(a)) {
      throw invalid(`/algorithms/${i}`, `algorithm "${a}" is not allowed (allowed: ${JWT_ALGORITHMS.join(", ")}; never none or HS*)`);
    }
  });
  return c;
}

/** The value at a dotted claim path (`google.compute_engine.instance_id`), or undefined. */
function claimAt(payload: JWTPayload, path: string): unknown {
  let v: unknown = payload;
  for (const part of path.split(".")) {
    if (typeof v !== "object" || v === null || Array.isArray(v) || !Object.hasOwn(v, part)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v === null ? undefined : v;
}

const scalar = (v: unknown): string | undefined => (typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : undefined);

/**
 * A bound claim holds when one pattern matches: `*` alone means the claim is present (any value);
 * otherwise `*` globs match a scalar value, or any element of an array value.
 */
export function claimMatches(value: unknown, patterns: readonly string[]): boolean {
  if (value === undefined) return false;
  if (patterns.includes("*")) return true;
  const values = (Array.isArray(value) ? value : [value]).map(scalar).filter((v): v is string => v !== undefined);
  return patterns.some((p) => values.some((v) => globMatch(p, v)));
}

/** What an operator may learn from a failed verification (jose error codes); never the token itself. */
function why(err: unknown): string {
  const e = err as { code?: string; claim?: string; reason?: string };
  switch (e.code) {
    case "ERR_JWT_EXPIRED":
      return "the JWT has expired (exp)";
    case "ERR_JWT_CLAIM_VALIDATION_FAILED":
      if (e.reason === "missing") return `the JWT lacks the required claim "${e.claim}"`;
      if (e.claim === "nbf") return "the JWT is not valid yet (nbf)";
      if (e.claim === "aud") return "the JWT's audience (aud) is not one this issuer accepts";
      if (e.claim === "iss") return "the JWT's issuer (iss) is not the configured one";
      return `the JWT's claim "${e.claim}" is invalid`;
    case "ERR_JOSE_ALG_NOT_ALLOWED":
      return "the JWT's algorithm (alg) is not allowed for this issuer";
    case "ERR_JWS_SIGNATURE_VERIFICATION_FAILED":
      return "the JWT's signature does not verify";
    case "ERR_JWKS_NO_MATCHING_KEY":
      return "no key in the issuer's JWKS matches the JWT (kid, alg)";
    case "ERR_JWKS_MULTIPLE_MATCHING_KEYS":
      return "several keys in the issuer's JWKS match; the JWT needs a kid";
    case "ERR_JWKS_TIMEOUT":
    case "ERR_JWKS_INVALID":
      return "the issuer's JWKS could not be fetched";
    case "ERR_JWS_INVALID":
    case "ERR_JWT_INVALID":
    case "ERR_JOSE_NOT_SUPPORTED":
      return "the JWT is malformed or uses an unsupported form";
    default:
      return e.code === undefined ? "the issuer's JWKS could not be fetched" : "the JWT did not verify";
  }
}

interface KeySet {
  /** The stored configuration this set was built from (JSON), and the JWKS file's mtime. */
  stamp: string;
  config: JwtIssuerConfig;
  getKey: JWTVerifyGetKey;
}

export class JwtService {
  private readonly keySets = new Map<string, KeySet>();

  constructor(
    private readonly issuers: DocumentRepo,
    private readonly roles: Pick<RoleDirectory, "role">,
    private readonly tokens: Pick<TokenService, "issue">,
    private readonly clock: Clock,
  ) {}

  async putIssuer(name: string, doc: unknown): Promise<JwtIssuerInfo> {
    if (!new RegExp(NAME_PATTERN).test(name)) throw invalid("/name", "issuer names are 1–128 letters, digits and _ . @ -");
    const config = validateIssuer(doc);
    const now = this.clock.now();
    const existing = await this.issuers.get(name);
    const createdAt = existing?.createdAt ?? now;
    await this.issuers.put({ name, body: config, createdAt, updatedAt: now });
    this.keySets.delete(name);
    return this.info(name, config, createdAt, now);
  }

  async getIssuer(name: string): Promise<JwtIssuerInfo> {
    const row = await this.issuers.get(name);
    if (row === undefined) throw new TesseraError("NotFound", `no JWT issuer named "${name}"`);
    return this.info(name, row.body as JwtIssuerConfig, row.createdAt, row.updatedAt);
  }

  async listIssuers(): Promise<string[]> {
    return (await this.issuers.list()).map((r) => r.name);
  }

  async deleteIssuer(name: string): Promise<void> {
    if (!(await this.issuers.delete(name))) throw new TesseraError("NotFound", `no JWT issuer named "${name}"`);
    this.keySets.delete(name);
  }

  private info(name: string, config: JwtIssuerConfig, createdAt: number, updatedAt: number): JwtIssuerInfo {
    return { name, ...config, createdAt: iso(createdAt), updatedAt: iso(updatedAt) };
  }

  /** The issuer's key set: reused while its configuration is unchanged (a remote set keeps its cache). */
  private async keySet(name: string): Promise<KeySet | undefined> {
    const row = await this.issuers.get(name);
    if (row === undefined) {
      this.keySets.delete(name);
      return undefined;
    }
    const config = row.body as JwtIssuerConfig;
    let stamp = JSON.stringify(config);
    if (config.jwksFile !== undefined) stamp += `|${statSync(config.jwksFile, { throwIfNoEntry: false })?.mtimeMs ?? "missing"}`;
    const cached = this.keySets.get(name);
    if (cached?.stamp === stamp) return cached;
    const getKey =
      config.jwksUrl !== undefined
        ? createRemoteJWKSet(new URL(config.jwksUrl), {
            cacheMaxAge: JWKS_CACHE_MAX_AGE_MS,
            cooldownDuration: (config.jwksRefreshCooldownSeconds ?? DEFAULT_REFRESH_COOLDOWN_SECONDS) * 1000,
            timeoutDuration: 5_000,
          })
        : createLocalJWKSet(config.jwks !== undefined ? (config.jwks as JSONWebKeySet) : readJwksFile(config.jwksFile!));
    const set = { stamp, config, getKey };
    this.keySets.set(name, set);
    return set;
  }

  /**
   * Verifies `jwt` for `roleName` and issues a token. Every failure is `Unauthenticated`; the message
   * says which check failed (useful to the operator) but never echoes the token.
   */
  async login(roleName: string, jwt: string, source: string, beforeChange: BeforeChange = noChangeHook): Promise<LoginResponse> {
    const denied = (reason: string) => new TesseraError("Unauthenticated", `JWT login refused: ${reason}`);
    const role: RoleBody | undefined = await this.roles.role(roleName);
    if (role?.jwt === undefined) throw denied(`role "${roleName}" does not exist or has no jwt binding`);
    let set: KeySet | undefined;
    try {
      set = await this.keySet(role.jwt.issuer);
    } catch {
      throw denied(`the JWKS of issuer "${role.jwt.issuer}" cannot be loaded`);
    }
    if (set === undefined) throw denied(`issuer "${role.jwt.issuer}" is not configured`);
    const { config } = set;
    const skew = config.clockSkewSeconds ?? DEFAULT_CLOCK_SKEW_SECONDS;
    const now = this.clock.now();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(jwt, set.getKey, {
        issuer: config.issuer,
        audience: config.audiences,
        algorithms: [...(config.algorithms ?? DEFAULT_JWT_ALGORITHMS)],
        clockTolerance: skew,
        currentDate: new Date(now),
        requiredClaims: ["exp", "sub"],
      }));
    } catch (err) {
      throw denied(why(err));
    }
    if (payload.iat !== undefined && payload.iat * 1000 > now + skew * 1000) throw denied("the JWT was issued in the future (iat)");
    const bound = role.jwt.boundAudiences;
    if (bound !== undefined) {
      const aud = Array.isArray(payload.aud) ? payload.aud : payload.aud === undefined ? [] : [payload.aud];
      if (!aud.some((a) => bound.includes(a))) throw denied(`the JWT's audience (aud) is not one role "${roleName}" accepts`);
    }
    for (const [path, expected] of Object.entries(role.jwt.boundClaims ?? {})) {
      if (!claimMatches(claimAt(payload, path), Array.isArray(expected) ? expected : [expected])) {
        throw denied(`claim "${path}" is missing or does not match role "${roleName}"`);
      }
    }
    const sub = payload.sub!;
    const attributes: Record<string, string> = { sub };
    for (const [path, attribute] of Object.entries(role.jwt.claimsToAttributes ?? {})) {
      const value = scalar(claimAt(payload, path));
      if (value !== undefined && value.length <= MAX_ATTRIBUTE_LENGTH) attributes[attribute] = value;
    }
    // A login never outlives the JWT that proved it: neither its first lifetime nor its renewals.
    const jwtLeft = Math.max(1, Math.floor((payload.exp! * 1000 - now) / 1000));
    const ttl = Math.min(role.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS, jwtLeft);
    const maxTtl = Math.max(ttl, Math.min(role.tokenMaxTtlSeconds ?? ttl, jwtLeft));
    await beforeChange();
    return this.tokens.issue({
      kind: "workload",
      displayName: `jwt:${sub}`.slice(0, 256),
      role: roleName,
      authMethod: "jwt",
      attributes,
      source,
      subject: `jwt:${config.issuer}:${sub}`,
      ttlSeconds: ttl,
      maxTtlSeconds: maxTtl,
    });
  }
}
