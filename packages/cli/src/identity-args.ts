/**
 * Request bodies built from the identity commands' options: roles (`role create|update`) and JWT
 * issuers (`auth jwt issuer put`). Pure, so the rules are unit-tested apart from the command tree.
 */
import { InvalidArgumentError } from "commander";
import { parsePair } from "./args.js";
import { UsageError } from "./usage-error.js";

/**
 * How a principal can have logged in, for `policy simulate --auth-method` — the server's own list
 * (`authMethods` in packages/server/src/principal/principal.ts; a test keeps the two equal).
 */
export const AUTH_METHODS = Object.freeze(["token", "cert", "jwt", "approle", "access-key", "root"] as const);

/** `--bound-claim claim=pattern`, repeatable; the same claim twice accepts any of its patterns. */
export function collectClaim(value: string, previous: Record<string, string | string[]> | undefined): Record<string, string | string[]> {
  const [claim, pattern] = parsePair(value);
  if (pattern === "") throw new InvalidArgumentError(`Empty pattern for claim "${claim}" (use * for "present").`);
  const before = previous !== undefined && Object.hasOwn(previous, claim) ? previous[claim] : undefined;
  const next = before === undefined ? pattern : [...(Array.isArray(before) ? before : [before]), pattern];
  return Object.fromEntries([...Object.entries(previous ?? {}).filter(([k]) => k !== claim), [claim, next]]);
}

export interface RoleOptions {
  policy?: string[];
  description?: string;
  tokenTtl?: number;
  tokenMaxTtl?: number;
  certTtl?: number;
  approle?: boolean;
  secretIdTtl?: number;
  secretIdUses?: number;
  boundCidr?: string[];
  jwtIssuer?: string;
  boundClaim?: Record<string, string | string[]>;
  claimAttr?: Record<string, string>;
  boundAudience?: string[];
}

type Body = Record<string, unknown>;
const defined = (o: Body): Body => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
const isObject = (v: unknown): v is Body => typeof v === "object" && v !== null && !Array.isArray(v);

/**
 * The role body for `PUT /v1/roles/NAME`. With `current` (role update) every setting not given is
 * kept, and the AppRole and JWT bindings are merged field by field; a given list or map replaces the
 * old one. AppRole options imply `--approle`; JWT options need an issuer (given, or already bound).
 */
export function roleBody(o: RoleOptions, current?: Body): Body {
  const base: Body = current === undefined ? {} : Object.fromEntries(Object.entries(current).filter(([k]) => !["name", "createdAt", "updatedAt"].includes(k)));
  const body: Body = {
    ...base,
    ...defined({
      policies: o.policy ?? (base["policies"] === undefined ? [] : undefined),
      description: o.description,
      tokenTtlSeconds: o.tokenTtl,
      tokenMaxTtlSeconds: o.tokenMaxTtl,
      certTtlSeconds: o.certTtl,
    }),
  };
  const approle = defined({ secretIdTtlSeconds: o.secretIdTtl, secretIdUses: o.secretIdUses, boundCidrs: o.boundCidr });
  if (o.approle === true || Object.keys(approle).length > 0) body["approle"] = { ...(isObject(base["approle"]) ? base["approle"] : {}), ...approle };
  const jwt = defined({ issuer: o.jwtIssuer, boundClaims: o.boundClaim, claimsToAttributes: o.claimAttr, boundAudiences: o.boundAudience });
  if (Object.keys(jwt).length > 0) {
    const merged = { ...(isObject(base["jwt"]) ? base["jwt"] : {}), ...jwt };
    if (merged["issuer"] === undefined) throw new UsageError("--bound-claim, --claim-attr and --bound-audience need --jwt-issuer");
    body["jwt"] = merged;
  }
  return body;
}

/** True when a role lets any token of its issuer in (no bound claims): worth a warning. */
export const jwtUnbound = (body: Body): boolean => isObject(body["jwt"]) && Object.keys((body["jwt"]["boundClaims"] as Body | undefined) ?? {}).length === 0;

export interface IssuerOptions {
  issuer: string;
  jwksUrl?: string;
  jwksFile?: string;
  /** The JWKS itself (read by the CLI from `--jwks FILE|-`), sent inline. */
  jwks?: unknown;
  audience?: string[];
  algorithm?: string[];
  clockSkew?: number;
  refreshCooldown?: number;
}

/** The body for `PUT /v1/auth/jwt/issuers/NAME`: exactly one key source and at least one audience. */
export function issuerBody(o: IssuerOptions): Body {
  const sources = [o.jwksUrl, o.jwksFile, o.jwks].filter((s) => s !== undefined).length;
  if (sources !== 1) throw new UsageError("give exactly one of --jwks-url, --jwks-file or --jwks");
  if (o.audience === undefined || o.audience.length === 0) throw new UsageError("give at least one --audience");
  return defined({
    issuer: o.issuer,
    jwksUrl: o.jwksUrl,
    jwksFile: o.jwksFile,
    jwks: o.jwks,
    audiences: o.audience,
    algorithms: o.algorithm,
    clockSkewSeconds: o.clockSkew,
    jwksRefreshCooldownSeconds: o.refreshCooldown,
  });
}
