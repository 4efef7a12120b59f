/**
 * Access keys (id + secret) bound to a role, for the SigV4-signed AWS-compatible API. SigV4 needs the
 * secret itself on the server, so secrets are stored sealed under the root key (never hashed, never
 * logged) and decrypted into a small cache while unsealed; sealing zeroes the cache.
 */
import { randomBytes } from "node:crypto";
import { TesseraError, type AccessKeyInfo, type CreateAccessKeyResponse } from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import { iso, type Clock } from "../clock.js";
import type { Barrier } from "../seal/index.js";
import type { AccessKeyRepo, AccessKeyRow } from "../store/index.js";
import type { Principal } from "../principal/index.js";

const ID_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const aad = (id: string) => Buffer.from(`tessera/access-key/v1|${id}`, "utf8");

/** 20 characters like AWS's (`TSRK` + 16 base32 characters, 80 bits). */
function newAccessKeyId(): string {
  const bytes = randomBytes(16);
  let id = "TSRK";
  for (const b of bytes) id += ID_ALPHABET[b & 31];
  return id;
}

/** 40 characters of base64 (240 bits), the shape AWS SDKs expect. */
function newSecret(): string {
  const bytes = secretBytes(30);
  try {
    return bytes.toString("base64");
  } finally {
    zero(bytes);
  }
}

const info = (row: AccessKeyRow): AccessKeyInfo => ({
  accessKeyId: row.id,
  role: row.role,
  state: row.state,
  description: row.description,
  createdAt: iso(row.createdAt),
});

export interface ResolvedAccessKey {
  /** The secret access key (UTF-8 bytes); owned by the cache, do not zero. */
  secret: Buffer;
  principal: Principal;
}

export class AccessKeyService {
  private readonly cache = new Map<string, ResolvedAccessKey>();
  /** Bumped by every eviction: a resolve that read its row before one does not cache what it read. */
  private generation = 0;

  constructor(
    private readonly repo: AccessKeyRepo,
    private readonly barrier: Barrier,
    private readonly clock: Clock,
    private readonly roleExists: (role: string) => Promise<boolean>,
  ) {
    barrier.onSeal(() => this.clear());
    barrier.registerSealedData({
      name: "access keys",
      count: async (tx) => (await tx.accessKeys.list()).length,
      async reseal(tx, ring) {
        let resealed = 0;
        const rows = await tx.accessKeys.list();
        for (const row of rows) {
          const next = ring.reseal(row.secret, aad(row.id));
          if (next !== undefined && (await tx.accessKeys.replaceSecret(row.id, row.secret, next))) resealed++;
        }
        return { cursor: null, scanned: rows.length, resealed };
      },
    });
  }

  async create(role: string, description = ""): Promise<CreateAccessKeyResponse> {
    if (!(await this.roleExists(role))) throw new TesseraError("InvalidInput", `no role named "${role}"`, { field: "/role" });
    this.barrier.assertUnsealed();
    const id = newAccessKeyId();
    const secret = newSecret();
    const secretBytes = Buffer.from(secret, "utf8");
    try {
      const row: AccessKeyRow = { id, secret: this.barrier.sealSecret(secretBytes, aad(id)), role, state: "Active", createdAt: this.clock.now(), description };
      await this.repo.insert(row);
      return { ...info(row), secretAccessKey: secret };
    } finally {
      zero(secretBytes);
    }
  }

  async list(): Promise<AccessKeyInfo[]> {
    return (await this.repo.list()).map(info);
  }

  async setState(id: string, state: AccessKeyRow["state"]): Promise<AccessKeyInfo> {
    if (!(await this.repo.setState(id, state))) throw new TesseraError("NotFound", `no access key ${id}`);
    this.evict(id);
    return info((await this.repo.get(id))!);
  }

  async delete(id: string): Promise<void> {
    if (!(await this.repo.delete(id))) throw new TesseraError("NotFound", `no access key ${id}`);
    this.evict(id);
  }

  /** Removes a role's keys (the role was deleted). */
  async deleteRole(role: string): Promise<number> {
    const n = await this.repo.deleteByRole(role);
    this.clear();
    return n;
  }

  /**
   * The secret and principal of an active access key, for signature verification. Unknown or
   * inactive keys are `Unauthenticated` (the AWS adapter maps it to its own exception names).
   */
  async resolve(id: string): Promise<ResolvedAccessKey> {
    const cached = this.cache.get(id);
    if (cached !== undefined) return cached;
    const generation = this.generation;
    const row = await this.repo.get(id);
    if (row === undefined) throw new TesseraError("Unauthenticated", "unknown access key", { cause: { reason: "unknown-access-key" } });
    if (row.state !== "Active") throw new TesseraError("Unauthenticated", "the access key is inactive", { cause: { reason: "inactive-access-key" } });
    // A concurrent resolve may have cached the key while this one read the row: keep one copy of the
    // secret, the cached one, so the copy that sealing zeroes is the only one there is.
    const raced = this.cache.get(id);
    if (raced !== undefined) return raced;
    const secret = this.barrier.openSecret(row.secret, aad(id));
    const resolved: ResolvedAccessKey = {
      secret,
      principal: {
        id: `access-key:${id}`,
        kind: "service",
        displayName: row.description || id,
        root: false,
        role: row.role,
        authMethod: "access-key",
        attributes: { access_key_id: id },
        grants: [],
        expiresAt: null,
        loginSource: "",
      },
    };
    // Disabled, deleted or sealed while the row was read: answer this request, remember nothing.
    if (generation === this.generation) this.cache.set(id, resolved);
    return resolved;
  }

  /** Drops (and zeroes) the cached secret of one access key: it changed, here or on another node. */
  evict(id: string): void {
    this.generation++;
    const c = this.cache.get(id);
    if (c !== undefined) zero(c.secret);
    this.cache.delete(id);
  }

  /** Drops (and zeroes) every cached secret. */
  forgetAll(): void {
    this.clear();
  }

  private clear(): void {
    this.generation++;
    for (const c of this.cache.values()) zero(c.secret);
    this.cache.clear();
  }
}
