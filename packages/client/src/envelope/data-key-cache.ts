/**
 * A cache of data keys, so a process encrypting many small records does not call the KMS for each
 * (the AWS Encryption SDK's caching cryptographic materials manager is the model). Off unless a
 * `DataKeyCache` is passed to `encrypt`/`decrypt`.
 *
 * Invariants:
 * - An entry made from GenerateDataKey serves only encryption, one made from Decrypt only decryption:
 *   they live under different cache keys (`e:` and `d:`), so one never stands in for the other.
 * - Encryption entries are keyed by the key id as the caller named it and the canonical encoding of
 *   the encryption context; an entry serves a message only while it is younger than `maxAgeMs`, has
 *   encrypted fewer than `maxMessages` messages and `bytes` more keep it within `maxBytes` — the use
 *   is counted before the key is handed out, so the limits hold exactly. A message larger than
 *   `maxBytes` on its own never uses or fills the cache.
 * - Decryption entries are keyed by the wrapped data key and the context, and serve while younger
 *   than `maxAgeMs` and for at most `maxMessages` messages (bytes are not counted: decrypting wears no
 *   key, and a stream's length is known only at its end).
 * - At most `capacity` entries; the least recently used goes first.
 * - The cache holds its own copy of each data key and hands out copies (the caller zeroes its copy);
 *   a key is zeroed when its entry is evicted, exhausted, expired, replaced or cleared.
 */
import { createHash } from "node:crypto";
import { TesseraError, encodeContext } from "@tessera/protocol/core";
import type { EncryptionContext } from "@tessera/protocol";

export interface DataKeyCacheOptions {
  /** Entries kept at most; the least recently used is evicted first. */
  capacity: number;
  /** An entry is used only while younger than this (milliseconds since the KMS answered). */
  maxAgeMs: number;
  /** Messages one cached data key encrypts (or one cached Decrypt answer decrypts) at most. Default 2³². */
  maxMessages?: number;
  /** Plaintext bytes one cached data key encrypts at most. Default `Number.MAX_SAFE_INTEGER`. */
  maxBytes?: number;
  /** The clock, in milliseconds. Default `Date.now`. */
  now?: () => number;
}

/** A data key as the cache hands it out: `dataKey` is the caller's copy to zero. */
export interface CachedDataKey {
  dataKey: Buffer;
  wrappedDataKey: Buffer;
  keyId: string;
}

interface Entry {
  dataKey: Buffer;
  wrappedDataKey: Buffer;
  keyId: string;
  createdAt: number;
  messages: number;
  bytes: number;
}

function positiveInteger(name: string, value: number, max: number): number {
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new TesseraError("InvalidInput", `${name} must be an integer in 1 … ${max}`, { field: `/${name}` });
  }
  return value;
}

function digest(...parts: Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const part of parts) {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(part.length);
    hash.update(length).update(part);
  }
  return hash.digest("base64");
}

/**
 * @example
 * ```ts
 * const cache = new DataKeyCache({ capacity: 100, maxAgeMs: 5 * 60_000, maxMessages: 1000 });
 * for (const record of records) {
 *   stored.push(await encrypt(tessera, { keyId: "orders", plaintext: record, encryptionContext: { table: "orders" }, cache }));
 * }
 * ```
 */
export class DataKeyCache {
  readonly capacity: number;
  readonly maxAgeMs: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly #now: () => number;
  /** Insertion order is recency order: a used entry is moved to the end. */
  readonly #entries = new Map<string, Entry>();

  constructor(options: DataKeyCacheOptions) {
    this.capacity = positiveInteger("capacity", options.capacity, 1_000_000);
    if (typeof options.maxAgeMs !== "number" || !(options.maxAgeMs > 0) || !Number.isFinite(options.maxAgeMs)) {
      throw new TesseraError("InvalidInput", "maxAgeMs must be a positive, finite number of milliseconds", { field: "/maxAgeMs" });
    }
    this.maxAgeMs = options.maxAgeMs;
    this.maxMessages = positiveInteger("maxMessages", options.maxMessages ?? 2 ** 32, 2 ** 32);
    this.maxBytes = positiveInteger("maxBytes", options.maxBytes ?? Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    this.#now = options.now ?? Date.now;
  }

  /** Entries held now (exhausted or expired ones may linger until next looked up). */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * A data key to encrypt one message of `bytes` plaintext bytes under `keyId` and `context`, with
   * this use counted; `undefined` when no entry may serve it (the caller asks the KMS and `putEncrypt`s).
   */
  takeForEncrypt(keyId: string, context: EncryptionContext, bytes: number): CachedDataKey | undefined {
    if (bytes > this.maxBytes) return undefined;
    return this.#take(encryptKey(keyId, context), bytes, true);
  }

  /** Keeps a data key GenerateDataKey answered, counting the message it was fetched for. */
  putEncrypt(keyId: string, context: EncryptionContext, bytes: number, key: CachedDataKey): void {
    if (bytes > this.maxBytes) return;
    this.#put(encryptKey(keyId, context), key, bytes);
  }

  /** A data key Decrypt answered for this wrapped key and context, with this use counted. */
  takeForDecrypt(wrappedDataKey: Uint8Array, context: EncryptionContext): CachedDataKey | undefined {
    return this.#take(decryptKey(wrappedDataKey, context), 0, false);
  }

  putDecrypt(wrappedDataKey: Uint8Array, context: EncryptionContext, key: CachedDataKey): void {
    this.#put(decryptKey(wrappedDataKey, context), key, 0);
  }

  /** Zeroes and drops every entry. */
  clear(): void {
    for (const cacheKey of [...this.#entries.keys()]) this.#evict(cacheKey);
  }

  #take(cacheKey: string, bytes: number, countBytes: boolean): CachedDataKey | undefined {
    const entry = this.#entries.get(cacheKey);
    if (entry === undefined) return undefined;
    const fresh = this.#now() - entry.createdAt < this.maxAgeMs;
    if (!fresh || entry.messages >= this.maxMessages || (countBytes && entry.bytes + bytes > this.maxBytes)) {
      this.#evict(cacheKey);
      return undefined;
    }
    entry.messages += 1;
    entry.bytes += bytes;
    const copy = { dataKey: Buffer.from(entry.dataKey), wrappedDataKey: entry.wrappedDataKey, keyId: entry.keyId };
    if (entry.messages >= this.maxMessages) this.#evict(cacheKey);
    else {
      this.#entries.delete(cacheKey);
      this.#entries.set(cacheKey, entry);
    }
    return copy;
  }

  #put(cacheKey: string, key: CachedDataKey, bytes: number): void {
    // The fetch itself is the entry's first use: an entry allowed one message is spent already.
    if (this.maxMessages <= 1) return;
    this.#evict(cacheKey);
    this.#entries.set(cacheKey, {
      dataKey: Buffer.from(key.dataKey),
      wrappedDataKey: Buffer.from(key.wrappedDataKey),
      keyId: key.keyId,
      createdAt: this.#now(),
      messages: 1,
      bytes,
    });
    while (this.#entries.size > this.capacity) this.#evict(this.#entries.keys().next().value!);
  }

  #evict(cacheKey: string): void {
    const entry = this.#entries.get(cacheKey);
    if (entry === undefined) return;
    entry.dataKey.fill(0);
    this.#entries.delete(cacheKey);
  }
}

function encryptKey(keyId: string, context: EncryptionContext): string {
  return `e:${digest(Buffer.from(keyId, "utf8"), encodeContext(context))}`;
}

function decryptKey(wrappedDataKey: Uint8Array, context: EncryptionContext): string {
  return `d:${digest(wrappedDataKey, encodeContext(context))}`;
}
