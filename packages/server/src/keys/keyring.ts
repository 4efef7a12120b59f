/**
 * The in-memory keyring: key rows with their versions' material, decrypted under the root key on
 * first use and kept while unsealed, so encrypt/decrypt touch no storage. Writes go through
 * KeyService, which invalidates the entry it changed.
 *
 * Invariant: sealing zeroes and forgets every handle this keyring ever handed out that is not yet
 * wiped — cached ones, ones invalidated by a write but still in their grace period, and snapshots of
 * loads that raced with a write — with everything derived from their material (prepared XAES keys)
 * and their cached headers. Nothing secret survives a seal.
 *
 * Asymmetric keys: a version's material is its private key (PKCS#8 DER). The keyring parses it once
 * into a KeyObject, zeroes the DER at once, and keeps the KeyObject (and the public key derived from
 * it) until the handle is wiped, which drops them (OpenSSL cleanses a KeyObject's key when freed).
 */
import { createSecretKey, type KeyObject } from "node:crypto";
import { TesseraError, algorithmId, encodeHeader, isUuid, type CiphertextAlgorithm } from "@tessera/protocol";
import { XaesKey, publicKeySpki, zero } from "../crypto/index.js";
import { keyVersionAad } from "../format/keyring-record.js";
import { keepMaterial } from "./key-material.js";
import type { Barrier } from "../seal/index.js";
import type { KeyRepo, KeyRow, VersionRepo, VersionRow } from "../store/index.js";

/** v4 algorithms keyed by the version material itself (a cached KeyObject speeds node:crypto up). */
export const WHOLE_MATERIAL_V4: ReadonlySet<CiphertextAlgorithm> = new Set(["AES_128_GCM", "CHACHA20_POLY1305"]);

/** What sealing one message under a version needs (see {@link KeyHandle.sealing}). */
export interface Sealing {
  material: Buffer;
  header: Uint8Array;
  prepared: XaesKey | undefined;
  secret: KeyObject | undefined;
}

/** A key as the hot path sees it: its row, its versions' states and their material. */
export class KeyHandle {
  private wiped = false;
  private readonly headers = new Map<number, Uint8Array>();
  /** Versions' material prepared as XAES-256-GCM keys (format v2's per-key precomputation); destroyed with the material. */
  private readonly prepared = new Map<number, XaesKey>();
  /** Versions' material as KeyObjects, for HMAC keys (node:crypto is slower with raw key buffers: crypto/secret-key.ts). */
  private readonly secretKeys = new Map<number, KeyObject>();
  /** Public halves of asymmetric versions (derived on first use). */
  private readonly publicKeys = new Map<number, { key: KeyObject; der: Buffer }>();
  /** The use counter of the version last used (keys/usage.ts keeps it here: no lookup per use). */
  usage: unknown = undefined;
  /** What sealing needed for the (version, algorithm) used last: see {@link sealing}. */
  private lastSealing: (Sealing & { version: number; algorithm: CiphertextAlgorithm }) | undefined;

  constructor(
    readonly row: KeyRow,
    readonly versions: ReadonlyMap<number, VersionRow>,
    /** Symmetric keys: each version's material. */
    private readonly materials: Map<number, Buffer>,
    /** Asymmetric keys: each version's private key. */
    private readonly privateKeys: Map<number, KeyObject> = new Map(),
  ) {}

  private assertUsable(): void {
    // A handle wiped by a seal (or a superseding write) must never hand out zeroed bytes or dropped keys.
    if (this.wiped) throw new TesseraError("Sealed", "the keyring was sealed or changed during the request; retry");
  }

  /** Material of a version (symmetric keys), or undefined when the version does not exist or is destroyed. */
  material(version: number): Buffer | undefined {
    this.assertUsable();
    return this.materials.get(version);
  }

  /** Private key of a version (asymmetric keys), or undefined when the version does not exist or is destroyed. */
  privateKey(version: number): KeyObject | undefined {
    this.assertUsable();
    return this.privateKeys.get(version);
  }

  /** Public key of a version (asymmetric keys) as a KeyObject and DER SubjectPublicKeyInfo, or undefined like {@link privateKey}. */
  publicKey(version: number): { key: KeyObject; der: Buffer } | undefined {
    const privateKey = this.privateKey(version);
    if (privateKey === undefined) return undefined;
    let pub = this.publicKeys.get(version);
    if (pub === undefined) {
      pub = publicKeySpki(privateKey);
      this.publicKeys.set(version, pub);
    }
    return pub;
  }

  /** A version's material prepared for XAES-256-GCM (created on first use), or undefined like {@link material}. */
  xaesKey(version: number): XaesKey | undefined {
    const material = this.material(version);
    if (material === undefined) return undefined;
    let prepared = this.prepared.get(version);
    if (prepared === undefined) {
      prepared = new XaesKey(material);
      this.prepared.set(version, prepared);
    }
    return prepared;
  }

  /** A version's material as a KeyObject (created on first use, dropped on wipe), or undefined like {@link material}. */
  secretKey(version: number): KeyObject | undefined {
    const material = this.material(version);
    if (material === undefined) return undefined;
    let key = this.secretKeys.get(version);
    if (key === undefined) {
      key = createSecretKey(material);
      this.secretKeys.set(version, key);
    }
    return key;
  }

  /**
   * Everything sealing a message under `version` with `algorithm` needs — material, header, and the
   * prepared XAES key or KeyObject where the algorithm uses one — or undefined like {@link material}.
   * The last pair asked for is kept in one object, so a key in steady use costs one read instead of a
   * lookup in each per-version map (with 10,000 keys in use each lookup is a cache miss:
   * docs/performance.md, "Scale of state").
   */
  sealing(algorithm: CiphertextAlgorithm, version: number): Sealing | undefined {
    this.assertUsable();
    const last = this.lastSealing;
    if (last !== undefined && last.version === version && last.algorithm === algorithm) return last;
    const material = this.materials.get(version);
    if (material === undefined) return undefined;
    const made = {
      version,
      algorithm,
      material,
      header: this.header(algorithm, version),
      prepared: algorithm === "XAES_256_GCM" ? this.xaesKey(version) : undefined,
      secret: WHOLE_MATERIAL_V4.has(algorithm) ? this.secretKey(version) : undefined,
    };
    this.lastSealing = made;
    return made;
  }

  /** The ciphertext header for one of this key's versions (cached: it is the same for every message). */
  header(algorithm: CiphertextAlgorithm, version: number): Uint8Array {
    const slot = version * 256 + algorithmId(algorithm);
    let h = this.headers.get(slot);
    if (h === undefined) {
      h = encodeHeader(algorithm, this.row.id, version);
      this.headers.set(slot, h);
    }
    return h;
  }

  wipe(): void {
    this.wiped = true;
    this.lastSealing = undefined;
    for (const m of this.materials.values()) zero(m);
    for (const p of this.prepared.values()) p.destroy();
    this.materials.clear();
    this.privateKeys.clear();
    this.secretKeys.clear();
    this.publicKeys.clear();
    this.prepared.clear();
    this.headers.clear();
  }
}

/** Default number of keys the keyring keeps unwrapped (docs/performance.md, "Scale of state"). */
export const DEFAULT_KEY_CACHE_SIZE = 100_000;

export class Keyring {
  private readonly byId = new Map<string, KeyHandle>();
  /**
   * The cached keys again, by name: most callers name keys, and a name resolves in one lookup (with
   * 10,000 keys in use every lookup is a cache miss: docs/performance.md, "Scale of state"). Holds
   * exactly the handles in {@link byId}.
   */
  private readonly byName = new Map<string, KeyHandle>();
  private readonly loading = new Map<string, Promise<KeyHandle | undefined>>();
  /** Handles no longer cached but possibly still used by in-flight requests; wiped after a grace period, or at once on seal. */
  private readonly retiring = new Set<KeyHandle>();
  /** Bumped on every invalidation so a load that raced with a write is not cached. */
  private generation = 0;

  constructor(
    private readonly repos: { keys: Pick<KeyRepo, "get" | "getByName">; versions: Pick<VersionRepo, "list"> },
    private readonly barrier: Barrier,
    /**
     * Most keys kept unwrapped in memory (their material, prepared keys and public keys). Beyond it
     * the least recently used key is dropped (zeroed once in-flight requests are done) and reloaded
     * on its next use. Until the cache is full, a hit costs nothing extra.
     */
    private readonly capacity: number = DEFAULT_KEY_CACHE_SIZE,
  ) {
    barrier.onSeal(() => this.clear());
  }

  /** Resolves a key by UUID or name; `NotFound` when there is none. */
  async resolve(ref: string): Promise<KeyHandle> {
    this.barrier.assertUnsealed();
    // A key's name never looks like a UUID (KeyService refuses such names), so a name hit is the key.
    const named = this.byName.get(ref);
    if (named !== undefined) return this.used(named);
    let id = ref;
    if (!isUuid(ref)) {
      const row = await this.repos.keys.getByName(ref);
      if (row === undefined) throw new TesseraError("NotFound", `no key named "${ref}"`);
      id = row.id;
    }
    const handle = await this.byIdOrUndefined(id);
    if (handle === undefined) throw new TesseraError("NotFound", `no key with id ${ref}`);
    return handle;
  }

  /** The key with this id, or undefined. */
  async byIdOrUndefined(id: string): Promise<KeyHandle | undefined> {
    this.barrier.assertUnsealed();
    const cached = this.byId.get(id);
    if (cached !== undefined) return this.used(cached);
    let pending = this.loading.get(id);
    if (pending === undefined) {
      const loading: Promise<KeyHandle | undefined> = this.load(id).finally(() => {
        if (this.loading.get(id) === loading) this.loading.delete(id);
      });
      pending = loading;
      this.loading.set(id, pending);
    }
    return pending;
  }

  /** A cached handle, moved to the most recently used end once the cache is full (only then does the order matter). */
  private used(handle: KeyHandle): KeyHandle {
    if (this.byId.size >= this.capacity) {
      this.byId.delete(handle.row.id);
      this.byId.set(handle.row.id, handle);
    }
    return handle;
  }

  private async load(id: string): Promise<KeyHandle | undefined> {
    const generation = this.generation;
    const row = await this.repos.keys.get(id);
    if (row === undefined) return undefined;
    const versions = await this.repos.versions.list(id);
    const ring = this.barrier.ring();
    const materials = new Map<number, Buffer>();
    const privateKeys = new Map<number, KeyObject>();
    try {
      for (const v of versions) {
        if (v.material === null) continue;
        const kept = keepMaterial(row.keySpec, ring.open(v.material, keyVersionAad(id, v.version)));
        if (kept.kind === "symmetric") materials.set(v.version, kept.bytes);
        else privateKeys.set(v.version, kept.privateKey);
      }
    } catch (err) {
      for (const m of materials.values()) zero(m);
      throw err;
    }
    const handle = new KeyHandle(row, new Map(versions.map((v) => [v.version, { ...v, material: null }])), materials, privateKeys);
    if (generation !== this.generation || this.barrier.sealed) {
      // A write or a seal happened while loading: hand out this snapshot once, cache nothing.
      this.retire(handle);
      return handle;
    }
    while (this.byId.size >= this.capacity) this.evictOldest();
    this.byId.set(id, handle);
    this.byName.set(row.name, handle);
    return handle;
  }

  /** Drops the least recently used key; requests holding it finish with it (retire waits). */
  private evictOldest(): void {
    const oldest = this.byId.entries().next();
    if (oldest.done === true) return;
    const [id, handle] = oldest.value;
    this.byId.delete(id);
    if (this.byName.get(handle.row.name) === handle) this.byName.delete(handle.row.name);
    this.evictions++;
    this.retire(handle);
  }

  /** Keys dropped to stay within the capacity since start (metrics). */
  evictions = 0;

  /** Keys cached now. */
  get size(): number {
    return this.byId.size;
  }

  /**
   * Drops a key so the next use reloads it (after any write to it, here or on another node). A load
   * under way keeps its snapshot for the callers that were waiting for it, but no caller from now on
   * joins it: it may have read the row before the change committed.
   */
  invalidate(id: string): void {
    this.generation++;
    this.loading.delete(id);
    const handle = this.byId.get(id);
    if (handle !== undefined) {
      this.byId.delete(id);
      if (this.byName.get(handle.row.name) === handle) this.byName.delete(handle.row.name);
      this.retire(handle);
    }
  }

  /** In-flight requests may still hold the handle; let them finish before zeroing (a seal does not wait). */
  private retire(handle: KeyHandle): void {
    if (this.barrier.sealed) {
      handle.wipe();
      return;
    }
    this.retiring.add(handle);
    setTimeout(() => {
      this.retiring.delete(handle);
      handle.wipe();
    }, 1000).unref();
  }

  /** Drops every key so each is reloaded on next use (changes this process cannot place); in-flight requests keep their handles. */
  invalidateAll(): void {
    for (const id of [...this.byId.keys()]) this.invalidate(id);
    this.loading.clear();
    this.generation++;
  }

  /** The primary version of a cached key, without loading anything (for the audit detectors). */
  cachedPrimary(id: string): number | undefined {
    return this.byId.get(id)?.row.primaryVersion;
  }

  /** Zeroes and forgets every handle, cached or retiring (on seal). */
  clear(): void {
    this.generation++;
    for (const h of this.byId.values()) h.wipe();
    for (const h of this.retiring) h.wipe();
    this.byId.clear();
    this.byName.clear();
    this.retiring.clear();
  }
}
