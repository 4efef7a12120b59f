/**
 * Wire schemas of moving a key's versions out and back (docs/api.md, "Key backup and trim"): trimming
 * old versions for good, and a backup of one key sealed under the root key that restores into any
 * cluster holding that root.
 */
import { Type, type Static } from "@sinclair/typebox";
import { BASE64_FORMAT, Base64, KeyName } from "./schemas.js";

const strict = { additionalProperties: false } as const;

/** Versions below `minAvailableVersion` are destroyed; it must be ≤ the key's min decryption version. */
export const TrimKeyVersionsRequest = Type.Object({ minAvailableVersion: Type.Integer({ minimum: 1, maximum: 2_147_483_647 }) }, strict);
export type TrimKeyVersionsRequest = Static<typeof TrimKeyVersionsRequest>;

/** A key backup is at most this many bytes (base64 text a little more). */
export const MAX_KEY_BACKUP_BYTES = 4 * 1024 * 1024;

export const KeyBackupResponse = Type.Object({
  keyId: Type.String(),
  name: Type.String(),
  /** The sealed backup (docs/formats.md, "Key backups"), base64. */
  backup: Base64,
});
export type KeyBackupResponse = Static<typeof KeyBackupResponse>;

export const RestoreKeyRequest = Type.Object(
  {
    backup: Type.String({ minLength: 1, maxLength: Math.ceil(MAX_KEY_BACKUP_BYTES / 3) * 4, format: BASE64_FORMAT }),
    /** The name to restore under (default: the backup's); a key keeps its id, so it must be free or the key's own. */
    name: Type.Optional(KeyName),
    /** Replace the key when it exists and is neither destroyed nor pending deletion. */
    force: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type RestoreKeyRequest = Static<typeof RestoreKeyRequest>;

/**
 * Vault's `min_available_version`: the lowest version whose material is kept, when every version
 * below it is destroyed (trimmed, or destroyed by retention from the oldest up); 0 when version 1 is kept.
 */
export function minAvailableVersion(versions: readonly { version: number; state: string }[]): number {
  const sorted = [...versions].sort((a, b) => a.version - b.version);
  let lowest = 1;
  for (const v of sorted) {
    if (v.version !== lowest || v.state !== "Destroyed") break;
    lowest++;
  }
  return lowest === 1 ? 0 : lowest;
}
