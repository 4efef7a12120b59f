/**
 * Tokens: random 256-bit bearer secrets. Storage keeps only SHA-256(token) (tokens carry full entropy,
 * so an unsalted fast hash cannot be brute-forced) and an accessor that names the token without being
 * it. Lookups hit a small in-process cache; revocation through this service evicts at once.
 */
import { TesseraError, type CreateTokenRequest, type Grant, type TokenInfo, type TokenSelector } from "@tessera/protocol";
import { randomId, sha256 } from "../crypto/index.js";
import { iso, isoOrNull, type Clock } from "../clock.js";
import type { Repositories, TokenRepo, TokenRow } from "../store/index.js";
import type { Principal } from "./principal.js";

export const TOKEN_PREFIX = "tsr_";
export const DEFAULT_TOKEN_TTL_SECONDS = 3600;
const CACHE_MS = 30_000;
const MAX_CACHE = 10_000;

const hashToken = (token: string): string => sha256(token).toString("hex");

export function newTokenSecret(): string {
  return TOKEN_PREFIX + randomId(32);
}

export function principalFromRow(row: TokenRow): Principal {
  return {
    id: row.accessor,
    kind: row.root ? "root" : "token",
    displayName: row.displayName,
    root: row.root,
    grants: row.grants,
    expiresAt: row.expiresAt,
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
  };
}

export class TokenService {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly tokens: TokenRepo,
    private readonly clock: Clock,
  ) {}

  /** Resolves a bearer token to its principal, or throws `Unauthenticated`. */
  async authenticate(token: string | undefined): Promise<Principal> {
    if (token === undefined || token.length === 0 || token.length > 256) throw new TesseraError("Unauthenticated");
    const hash = hashToken(token);
    const now = this.clock.now();
    const cached = this.cache.get(hash);
    let principal: Principal | undefined;
    if (cached !== undefined && cached.until > now) {
      principal = cached.principal;
    } else {
      const row = await this.tokens.getByHash(hash);
      if (row === undefined) {
        this.cache.delete(hash);
        throw new TesseraError("Unauthenticated");
      }
      principal = principalFromRow(row);
      if (this.cache.size >= MAX_CACHE) this.cache.clear();
      this.cache.set(hash, { principal, until: now + CACHE_MS });
    }
    if (principal.expiresAt !== null && principal.expiresAt <= now) {
      this.cache.delete(hash);
      throw new TesseraError("Unauthenticated", "the token has expired");
    }
    return principal;
  }

  /** Stores a root token inside an open transaction (initialisation). */
  async createRoot(tx: Repositories, secret: string = newTokenSecret()): Promise<string> {
    await tx.tokens.insert({
      hash: hashToken(secret),
      accessor: "acc_" + randomId(16),
      displayName: "root",
      root: true,
      grants: [],
      createdAt: this.clock.now(),
      expiresAt: null,
    });
    return secret;
  }

  /** True when `secret` is a stored token (dev mode re-uses a fixed root token across restarts). */
  async exists(secret: string): Promise<boolean> {
    return (await this.tokens.getByHash(hashToken(secret))) !== undefined;
  }

  /**
   * Creates a token for `parent`. A non-root parent may only pass on what it holds itself: each
   * requested grant must be covered by one of its own grants.
   */
  async create(parent: Principal, req: CreateTokenRequest): Promise<TokenInfo & { token: string }> {
    if (!parent.root) {
      for (const g of req.grants) {
        if (!parent.grants.some((own) => covers(own, g))) {
          throw new TesseraError("AccessDenied", "a token can only be granted actions and keys its creator holds");
        }
      }
    }
    const now = this.clock.now();
    let expiresAt = now + (req.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS) * 1000;
    // A child never outlives its parent.
    if (parent.expiresAt !== null) expiresAt = Math.min(expiresAt, parent.expiresAt);
    const token = newTokenSecret();
    const row: TokenRow = {
      hash: hashToken(token),
      accessor: "acc_" + randomId(16),
      displayName: req.displayName ?? "token",
      root: false,
      grants: req.grants.map((g) => ({ actions: [...g.actions], resources: [...g.resources] })),
      createdAt: now,
      expiresAt,
    };
    await this.tokens.insert(row);
    return { ...tokenInfo(row), token };
  }

  async lookup(selector: TokenSelector): Promise<TokenInfo> {
    return tokenInfo(await this.find(selector));
  }

  async revoke(selector: TokenSelector): Promise<void> {
    const row = await this.find(selector);
    await this.tokens.deleteByAccessor(row.accessor);
    this.cache.delete(row.hash);
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
        ? await this.tokens.getByHash(hashToken(selector.token))
        : selector.accessor !== undefined
          ? await this.tokens.getByAccessor(selector.accessor)
          : undefined;
    if (row === undefined || (row.expiresAt !== null && row.expiresAt <= this.clock.now())) {
      throw new TesseraError("NotFound", "no such token");
    }
    return row;
  }
}

/** `own` covers `wanted` when every action and resource of `wanted` is matched by `own`'s patterns literally. */
function covers(own: Grant, wanted: Grant): boolean {
  const within = (patterns: readonly string[], value: string) =>
    patterns.some((p) => p === "*" || p === value || (!value.includes("*") && globMatch(p, value)));
  return wanted.actions.every((a) => within(own.actions, a)) && wanted.resources.every((r) => within(own.resources, r));
}

/** Glob with `*` matching any run of characters (no other metacharacters). */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const parts = pattern.split("*");
  if (!value.startsWith(parts[0]!) || !value.endsWith(parts[parts.length - 1]!)) return false;
  let at = parts[0]!.length;
  const end = value.length - parts[parts.length - 1]!.length;
  if (at > end) return false;
  for (let i = 1; i < parts.length - 1; i++) {
    const idx = value.indexOf(parts[i]!, at);
    if (idx === -1 || idx + parts[i]!.length > end) return false;
    at = idx + parts[i]!.length;
  }
  return true;
}
