/**
 * Tokens: random 256-bit bearer secrets. Storage keeps only SHA-256(token) (tokens carry full entropy,
 * so an unsalted fast hash cannot be brute-forced) and an accessor that names the token without being
 * it. Every login method ends here: it proves an identity, then `issue` mints a short-lived token that
 * carries the principal (kind, role, auth method, attributes, source). A token obtained with an
 * instance certificate is bound to its serial, so revoking the certificate revokes the token. Lookups
 * hit a small cache that every revocation path clears.
 */
import { TOKEN_REFUSALS, TesseraError, type CreateTokenRequest, type Grant, type TokenInfo, type TokenSelector } from "@tessera/protocol";
import { randomId, sha256Hex } from "../crypto/index.js";
import { iso, isoOrNull, type Clock } from "../clock.js";
import { globMatch } from "../policy/glob.js";
import { validateGrants } from "../policy/policy-service.js";
import { parseResourcePattern, patternCovers } from "../policy/resource.js";
import type { Repositories, TokenRepo, TokenRow } from "../store/index.js";
import { DEFAULT_TOKEN_TTL_SECONDS, type AuthMethod, type Principal, type PrincipalKind } from "../principal/index.js";

export const TOKEN_PREFIX = "tsr_";
const CACHE_MS = 30_000;
const MAX_CACHE = 10_000;

export const hashSecret = (secret: string): string => sha256Hex(secret);

export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomId(32);
}

export function principalFromRow(row: TokenRow): Principal {
  return {
    id: row.accessor,
    kind: row.kind as PrincipalKind,
    displayName: row.displayName,
    root: row.root,
    role: row.role,
    authMethod: row.authMethod as AuthMethod,
    attributes: row.attributes,
    grants: row.grants,
    expiresAt: row.expiresAt,
    loginSource: row.source,
  };
}

export function tokenInfo(row: TokenRow): TokenInfo {
  return {
    accessor: row.accessor,
    displayName: row.displayName,
    root: row.root,
    grants: row.grants,
    createdAt: iso(row.createdAt),
    expiresAt: isoOrNull(row.expiresAt),
    kind: row.kind,
    role: row.role,
    authMethod: row.authMethod,
    attributes: row.attributes,
    source: row.source,
    renewable: row.ttlSeconds !== null,
  };
}

/** What a login proved, to be carried by the token it gets. */
export interface TokenSpec {
  kind: PrincipalKind;
  displayName: string;
  role: string | null;
  authMethod: AuthMethod;
  attributes: Record<string, string>;
  source: string;
  subject: string | null;
  /** The instance certificate the login presented (join, certificate login): its revocation revokes the token. */
  certificateSerial?: string;
  grants?: Grant[];
  ttlSeconds: number;
  /** Renewals may extend the token up to this lifetime from its creation; undefined = not renewable. */
  maxTtlSeconds?: number;
}

export class TokenService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  /** Bumped by every revocation, so a lookup that read a row before the revocation does not cache it. */
  private generation = 0;

  constructor(
    private readonly tokens: TokenRepo,
    private readonly clock: Clock,
  ) {}

  /** Resolves a bearer token to its principal, or throws `Unauthenticated`. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (token === undefined || token.length === 0) throw new TesseraError("Unauthenticated", TOKEN_REFUSALS.missing);
    if (token.length > 256) throw new TesseraError("Unauthenticated", TOKEN_REFUSALS.unknown);
    const hash = hashSecret(token);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    let principal: Principal | undefined;
    if (cached !== undefined && cached.until > now) {
      principal = cached.principal;
    } else {
      const generation = this.generation;
      const row = await this.tokens.getByHash(hash);
      if (row === undefined) {
        this.cache.delete(hash);
        throw new TesseraError("Unauthenticated", TOKEN_REFUSALS.unknown);
      }
      principal = principalFromRow(row);
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      if (generation === this.generation) this.cache.set(hash, { principal, until: now + CACHE_MS });
    }
    if (principal.expiresAt !== null && principal.expiresAt <= now) {
      this.cache.delete(hash);
      // Only the holder of the secret can get here (rows are found by its hash): no existence leak.
      throw new TesseraError("Unauthenticated", TOKEN_REFUSALS.expired);
    }
    return principal;
  }

  /** Stores a root token inside an open transaction (initialisation). */
  async createRoot(tx: Pick<Repositories, "tokens">, secret: string = newTokenSecret()): Promise<string> {
    await tx.tokens.insert({
      hash: hashSecret(secret),
      accessor: "acc_" + randomId(16),
      displayName: "root",
      root: true,
      grants: [],
      createdAt: this.clock.now(),
      expiresAt: null,
      kind: "root",
      role: null,
      authMethod: "root",
      attributes: {},
      source: "",
      subject: null,
      certificateSerial: null,
      ttlSeconds: null,
      maxExpiresAt: null,
    });
    return secret;
  }

  /** Mints a token for a principal a login method has established. */
  async issue(spec: TokenSpec, tx: Pick<Repositories, "tokens"> = { tokens: this.tokens }): Promise<TokenInfo & { token: string }> {
    const now = this.clock.now();
    const token = newTokenSecret();
    const row: TokenRow = {
      hash: hashSecret(token),
      accessor: "acc_" + randomId(16),
      displayName: spec.displayName,
      root: false,
      grants: spec.grants ?? [],
      createdAt: now,
      expiresAt: now + spec.ttlSeconds * 1000,
      kind: spec.kind,
      role: spec.role,
      authMethod: spec.authMethod,
      attributes: spec.attributes,
      source: spec.source,
      subject: spec.subject,
      certificateSerial: spec.certificateSerial ?? null,
      ttlSeconds: spec.maxTtlSeconds === undefined ? null : spec.ttlSeconds,
      maxExpiresAt: spec.maxTtlSeconds === undefined ? null : now + spec.maxTtlSeconds * 1000,
    };
    await tx.tokens.insert(row);
    return { ...tokenInfo(row), token };
  }

  /**
   * Creates a token for `parent`. A non-root parent may only pass on what it holds itself: each
   * requested grant must be covered by one of its own grants, and the child keeps the parent's role.
   */
  async create(parent: Principal, req: CreateTokenRequest, source: string): Promise<TokenInfo & { token: string }> {
    validateGrants(req.grants);
    if (!parent.root) {
      for (const g of req.grants) {
        if (!parent.grants.some((own) => covers(own, g))) {
          throw new TesseraError("AccessDenied", "a token can only be granted actions and keys its creator holds");
        }
      }
    }
    const now = this.clock.now();
    let ttl = req.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    // A child never outlives its parent.
    if (parent.expiresAt !== null) ttl = Math.max(1, Math.min(ttl, Math.floor((parent.expiresAt - now) / 1000)));
    return this.issue({
      kind: "token",
      displayName: req.displayName ?? "token",
      role: null,
      authMethod: "token",
      attributes: {},
      source,
      subject: null,
      grants: req.grants.map((g) => ({ actions: [...g.actions], resources: [...g.resources] })),
      ttlSeconds: ttl,
    });
  }

  /** Extends a renewable token by its TTL, never past its maximum lifetime. */
  async renew(accessor: string): Promise<TokenInfo> {
    const row = await this.find({ accessor });
    if (row.ttlSeconds === null || row.maxExpiresAt === null) throw new TesseraError("InvalidState", "this token is not renewable; log in again");
    const expiresAt = Math.min(this.clock.now() + row.ttlSeconds * 1000, row.maxExpiresAt);
    await this.tokens.setExpiry(row.accessor, expiresAt);
    this.forget();
    return tokenInfo({ ...row, expiresAt });
  }

  async lookup(selector: TokenSelector): Promise<TokenInfo> {
    return tokenInfo(await this.find(selector));
  }

  async revoke(selector: TokenSelector): Promise<void> {
    const row = await this.find(selector);
    await this.tokens.deleteByAccessor(row.accessor);
    this.forget();
  }

  /** Revokes every live token of a role (role deleted or its access withdrawn). */
  async revokeRole(role: string, tx: Pick<Repositories, "tokens"> = { tokens: this.tokens }): Promise<number> {
    const n = await tx.tokens.deleteByRole(role);
    this.forget();
    return n;
  }

  /** Revokes every live token issued to one VM or entity. */
  async revokeSubject(subject: string, tx: Pick<Repositories, "tokens"> = { tokens: this.tokens }): Promise<number> {
    const n = await tx.tokens.deleteBySubject(subject);
    this.forget();
    return n;
  }

  /** Revokes every token obtained with one instance certificate (the certificate was revoked). */
  async revokeCertificate(serial: string): Promise<number> {
    const n = await this.tokens.deleteByCertificate(serial);
    this.forget();
    return n;
  }

  /** Drops every cached lookup, and any lookup still in flight from before this call (a revocation or renewal committed here or on another node; all state restored). */
  forget(): void {
    this.generation++;
    this.cache.clear();
  }

  /** The accessor a selector names, for authorisation of self-revocation. */
  async accessorOf(selector: TokenSelector): Promise<string> {
    return (await this.find(selector)).accessor;
  }

  async purgeExpired(): Promise<number> {
    return this.tokens.deleteExpired(this.clock.now());
  }

  private async find(selector: TokenSelector): Promise<TokenRow> {
    const row =
      selector.token !== undefined
        ? await this.tokens.getByHash(hashSecret(selector.token))
        : selector.accessor !== undefined
          ? await this.tokens.getByAccessor(selector.accessor)
          : undefined;
    if (row === undefined || (row.expiresAt !== null && row.expiresAt <= this.clock.now())) {
      throw new TesseraError("NotFound", "no such token");
    }
    return row;
  }
}

/**
 * `own` covers `wanted` when every action of `wanted` is matched by `own`'s action patterns literally
 * and every resource pattern of `wanted` is covered by one of `own`'s, type by type (policy/resource.ts).
 */
function covers(own: Grant, wanted: Grant): boolean {
  const within = (patterns: readonly string[], value: string) =>
    patterns.some((p) => p === "*" || p === value || (!value.includes("*") && globMatch(p, value)));
  const pattern = (text: string) => parseResourcePattern(text, "/grants", false);
  return (
    wanted.actions.every((a) => within(own.actions, a)) &&
    wanted.resources.every((r) => own.resources.some((o) => patternCovers(pattern(o), pattern(r))))
  );
}
