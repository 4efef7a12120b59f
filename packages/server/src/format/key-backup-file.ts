/**
 * A backup of one key (`kms:BackupKey`, Vault's `transit/backup/:name`):
 *
 * ```
 * "TKBK" ‖ 0x01 ‖ u32 header length ‖ header (UTF-8 JSON: format, keyId, name, createdAt)
 *   ‖ body sealed under the root key (keyring-record layout), AAD = "tessera/key-backup/v1" ‖ SHA-256(everything before it)
 * body (JSON): the key's settings and its versions, each version's material as the store holds it —
 *   already sealed under the root with AAD key id ‖ version (format/keyring-record.ts)
 * ```
 * Invariants: no byte of key material is ever in the clear in a backup, nor in memory while one is
 * made (the versions' sealed records are copied, not opened); the header is readable (which key) but
 * bound into the body's AAD, so an edited header, body or length fails as `InvalidCiphertext`; the
 * backup opens only where a root that sealed it is held (this cluster, or one sharing its root).
 */
import { TesseraError } from "@tessera/protocol";
import { sha256 } from "../crypto/index.js";

export const KEY_BACKUP_MAGIC = Buffer.from("TKBK", "ascii");
export const KEY_BACKUP_FORMAT_VERSION = 0x01;
const BODY_AAD_LABEL = Buffer.from("tessera/key-backup/v1", "utf8");
const MAX_HEADER = 4096;

export interface KeyBackupHeader {
  format: "tessera-key-backup";
  keyId: string;
  name: string;
  createdAt: string;
}

interface Sealer {
  seal(secret: Uint8Array, aad: Uint8Array): Buffer;
  open(record: Uint8Array, aad: Uint8Array): Buffer;
}

const invalid = () => new TesseraError("InvalidCiphertext", "the key backup is damaged, was altered, or was sealed under a root this cluster does not hold");

function lead(header: KeyBackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const prefix = Buffer.alloc(9);
  KEY_BACKUP_MAGIC.copy(prefix, 0);
  prefix[4] = KEY_BACKUP_FORMAT_VERSION;
  prefix.writeUInt32BE(json.length, 5);
  return Buffer.concat([prefix, json]);
}

const bodyAad = (leadBytes: Uint8Array) => Buffer.concat([BODY_AAD_LABEL, sha256(leadBytes)]);

export function sealKeyBackup(sealer: Pick<Sealer, "seal">, header: KeyBackupHeader, body: Buffer): Buffer {
  const l = lead(header);
  return Buffer.concat([l, sealer.seal(body, bodyAad(l))]);
}

/** The header and the opened body (the caller parses it); anything wrong is `InvalidCiphertext`. */
export function openKeyBackup(sealer: Pick<Sealer, "open">, blob: Uint8Array): { header: KeyBackupHeader; body: Buffer } {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.byteLength);
  if (b.length < 9 || !b.subarray(0, 4).equals(KEY_BACKUP_MAGIC)) throw new TesseraError("InvalidInput", "not a Tessera key backup", { field: "/backup" });
  if (b[4] !== KEY_BACKUP_FORMAT_VERSION) throw new TesseraError("InvalidInput", `key backup format ${b[4]} is not one this Tessera reads`, { field: "/backup" });
  const length = b.readUInt32BE(5);
  if (length > MAX_HEADER || b.length <= 9 + length) throw invalid();
  const l = b.subarray(0, 9 + length);
  let body: Buffer;
  try {
    body = sealer.open(b.subarray(9 + length), bodyAad(l));
  } catch {
    throw invalid();
  }
  const header = JSON.parse(l.subarray(9).toString("utf8")) as KeyBackupHeader;
  if (header.format !== "tessera-key-backup" || typeof header.keyId !== "string" || typeof header.name !== "string") throw invalid();
  return { header, body };
}
