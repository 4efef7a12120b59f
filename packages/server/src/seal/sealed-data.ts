/**
 * Stored data sealed under the root key, as root rotation sees it. Each owner (key versions, access
 * keys, the CA key, the audit keys …) registers one with the barrier, so rotation re-seals everything
 * without knowing any of it — and a new kind of sealed data is rotated as soon as it is registered.
 */
import type { Repositories } from "../store/index.js";
import type { RootRing } from "./root-ring.js";

export interface ResealBatch {
  /** Where the next batch starts; null when this pass is complete. */
  cursor: string | null;
  /** Records looked at, and how many of them were re-sealed (were under an older root). */
  scanned: number;
  resealed: number;
}

export interface SealedData {
  /** Names it in progress reports ("key versions", "access keys" …). */
  readonly name: string;
  /** How many records there are (for progress). */
  count(tx: Repositories): Promise<number>;
  /**
   * Re-seals under the ring's current root up to `limit` records after `cursor` (null: from the
   * start) that an older root sealed (`ring.reseal`), inside the caller's transaction. A record
   * changed concurrently must not be overwritten with stale content (compare-and-set on the old value).
   */
  reseal(tx: Repositories, ring: RootRing, cursor: string | null, limit: number): Promise<ResealBatch>;
}

/**
 * Sealed fields (base64 keyring records) of one metadata document, re-sealed together in one go:
 * the CA key, the audit keys.
 */
export function sealedMetaFields(name: string, metaName: string, fields: readonly { field: string; aad: Uint8Array }[]): SealedData {
  return {
    name,
    async count(tx) {
      return (await tx.meta.get(metaName)) === undefined ? 0 : 1;
    },
    async reseal(tx, ring) {
      const doc = await tx.meta.get<Record<string, unknown>>(metaName);
      if (doc === undefined) return { cursor: null, scanned: 0, resealed: 0 };
      const next = { ...doc };
      let changed = false;
      for (const { field, aad } of fields) {
        const value = doc[field];
        if (typeof value !== "string") continue;
        const resealed = ring.reseal(Buffer.from(value, "base64"), aad);
        if (resealed !== undefined) {
          next[field] = resealed.toString("base64");
          changed = true;
        }
      }
      if (changed) await tx.meta.put(metaName, next);
      return { cursor: null, scanned: 1, resealed: changed ? 1 : 0 };
    },
  };
}
