/**
 * Key version material as sealed data (seal/sealed-data.ts): root rotation re-seals it in batches
 * ordered by key id and version; a version changed or destroyed meanwhile is left alone (the
 * compare-and-set on the old material fails) — a destroyed one must stay destroyed.
 */
import { keyVersionAad } from "../format/keyring-record.js";
import type { SealedData } from "../seal/index.js";

const cursorOf = (keyId: string, version: number) => `${keyId}\u0000${version}`;

export const versionMaterial: SealedData = {
  name: "key versions",
  async count(tx) {
    return tx.versions.countSealed();
  },
  async reseal(tx, ring, cursor, limit) {
    const [afterKey, afterVersion] = cursor === null ? ["", 0] : [cursor.split("\u0000")[0]!, Number(cursor.split("\u0000")[1])];
    const rows = await tx.versions.listSealed(afterKey, afterVersion, limit);
    let resealed = 0;
    for (const r of rows) {
      const next = ring.reseal(r.material, keyVersionAad(r.keyId, r.version));
      if (next !== undefined && (await tx.versions.replaceMaterial(r.keyId, r.version, r.material, next))) resealed++;
    }
    const last = rows.at(-1);
    return { cursor: rows.length < limit || last === undefined ? null : cursorOf(last.keyId, last.version), scanned: rows.length, resealed };
  },
};
