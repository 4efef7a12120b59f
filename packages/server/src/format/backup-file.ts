/**
 * The backup file: a readable header, then the state as authenticated, encrypted frames.
 *
 * ```
 * "TSBK" ‖ 0x01 ‖ u32 header length ‖ header (UTF-8 JSON)
 * frame*: u32 ciphertext length ‖ u32 rows so far ‖ u8 final ‖ AES-256-GCM(backup key, body)
 *   nonce = 0x00000000 ‖ u64 frame index (the key is fresh per backup: a counter never repeats)
 *   AAD   = "tessera/backup/v1" ‖ SHA-256(header) ‖ u64 index ‖ u32 rows so far ‖ u8 final
 * ```
 * The backup key is random per backup and stored in the header only sealed under the root key
 * (keyring-record layout, AAD `tessera/backup-key/v1|<backup id>`); the header also carries the seal
 * record the root opens from, so the backup restores with its root of trust (shares or HSM) alone.
 * Every frame authenticates the whole header and its own position, so an edited header, a frame
 * altered, dropped, reordered or added, and a file cut short (no final frame) or extended all fail.
 * Bodies are NDJSON: one `{"t": table, "r": row}` per stored row, after one `{"audit": …}` line.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { secretKey, sha256 } from "../crypto/index.js";

export const BACKUP_MAGIC = Buffer.from("TSBK", "ascii");
export const BACKUP_FORMAT_VERSION = 0x01;
const FRAME_AAD_LABEL = Buffer.from("tessera/backup/v1", "utf8");
const FRAME_PREFIX = 9;
const TAG = 16;
/** Larger frames are refused on read (a writer never makes one). */
const MAX_FRAME = 16 * 1024 * 1024;
const MAX_HEADER = 1024 * 1024;

export const backupKeyAad = (backupId: string): Buffer => Buffer.from(`tessera/backup-key/v1|${backupId}`, "utf8");

export interface BackupHeader {
  format: "tessera-backup";
  backupId: string;
  createdAt: string;
  tesseraVersion: string;
  /** The database schema version of the rows. */
  schema: number;
  /** The seal record the roots open from (as stored when the backup was made). */
  seal: { type: string; [field: string]: unknown };
  /** The root the backup key is sealed under. */
  rootId: string;
  /** The backup key sealed under that root, base64. */
  wrappedKey: string;
  rows: number;
  tables: Record<string, number>;
}

const invalid = () => new TesseraError("InvalidCiphertext", "the backup is damaged or was altered");

function nonce(index: number): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 4);
  return n;
}

function frameAad(headerHash: Buffer, index: number, rows: number, final: boolean): Buffer {
  const tail = Buffer.alloc(13);
  tail.writeBigUInt64BE(BigInt(index), 0);
  tail.writeUInt32BE(rows, 8);
  tail[12] = final ? 1 : 0;
  return Buffer.concat([FRAME_AAD_LABEL, headerHash, tail]);
}

export function encodeHeader(header: BackupHeader): Buffer {
  const json = Buffer.from(JSON.stringify(header), "utf8");
  const lead = Buffer.alloc(9);
  BACKUP_MAGIC.copy(lead, 0);
  lead[4] = BACKUP_FORMAT_VERSION;
  lead.writeUInt32BE(json.length, 5);
  return Buffer.concat([lead, json]);
}

/** Seals frames in order; the header's bytes are bound into every frame. */
export class FrameWriter {
  private index = 0;
  private readonly headerHash: Buffer;

  constructor(
    private readonly key: Uint8Array,
    header: Buffer,
  ) {
    this.headerHash = sha256(header);
  }

  frame(body: Buffer, rowsSoFar: number, final: boolean): Buffer {
    const i = this.index++;
    const cipher = createCipheriv("aes-256-gcm", secretKey(this.key), nonce(i), { authTagLength: TAG });
    cipher.setAAD(frameAad(this.headerHash, i, rowsSoFar, final));
    const ct = Buffer.concat([cipher.update(body), cipher.final(), cipher.getAuthTag()]);
    const prefix = Buffer.alloc(FRAME_PREFIX);
    prefix.writeUInt32BE(ct.length, 0);
    prefix.writeUInt32BE(rowsSoFar, 4);
    prefix[8] = final ? 1 : 0;
    return Buffer.concat([prefix, ct]);
  }
}

/** Reads a backup from a byte stream: the header first (readable without any key), then the frames. */
export class BackupReader {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly source: AsyncIterator<Uint8Array>;
  private ended = false;
  private headerBytes: Buffer | undefined;

  constructor(source: AsyncIterable<Uint8Array>) {
    this.source = source[Symbol.asyncIterator]();
  }

  private async fill(n: number): Promise<boolean> {
    while (this.buffered.length < n && !this.ended) {
      const next = await this.source.next();
      if (next.done === true) this.ended = true;
      else this.buffered = Buffer.concat([this.buffered, Buffer.from(next.value)]);
    }
    return this.buffered.length >= n;
  }

  private take(n: number): Buffer {
    const out = this.buffered.subarray(0, n);
    this.buffered = this.buffered.subarray(n);
    return out;
  }

  async header(): Promise<BackupHeader> {
    if (!(await this.fill(9))) throw new TesseraError("InvalidInput", "not a Tessera backup (too short)");
    const lead = this.buffered.subarray(0, 9);
    if (!lead.subarray(0, 4).equals(BACKUP_MAGIC)) throw new TesseraError("InvalidInput", "not a Tessera backup");
    if (lead[4] !== BACKUP_FORMAT_VERSION) throw new TesseraError("InvalidInput", `backup format ${lead[4]} is not one this Tessera reads`);
    const length = lead.readUInt32BE(5);
    if (length > MAX_HEADER || !(await this.fill(9 + length))) throw invalid();
    this.headerBytes = Buffer.from(this.take(9 + length));
    try {
      const h = JSON.parse(this.headerBytes.subarray(9).toString("utf8")) as BackupHeader;
      if (h.format !== "tessera-backup" || typeof h.backupId !== "string" || typeof h.wrappedKey !== "string" || typeof h.seal?.type !== "string") throw invalid();
      return h;
    } catch {
      throw invalid();
    }
  }

  /**
   * The decrypted bodies in order, each with the row count so far. Throws `InvalidCiphertext` on any
   * alteration, on a missing final frame and on bytes after it.
   */
  async *frames(key: Uint8Array): AsyncGenerator<{ body: Buffer; rows: number }> {
    if (this.headerBytes === undefined) await this.header();
    const headerHash = sha256(this.headerBytes!);
    for (let i = 0; ; i++) {
      if (!(await this.fill(FRAME_PREFIX))) throw invalid();
      const prefix = this.take(FRAME_PREFIX);
      const length = prefix.readUInt32BE(0);
      const rows = prefix.readUInt32BE(4);
      const final = prefix[8] === 1;
      if (prefix[8]! > 1 || length < TAG || length > MAX_FRAME || !(await this.fill(length))) throw invalid();
      const ct = this.take(length);
      let body: Buffer;
      try {
        const d = createDecipheriv("aes-256-gcm", secretKey(key), nonce(i), { authTagLength: TAG });
        d.setAAD(frameAad(headerHash, i, rows, final));
        d.setAuthTag(ct.subarray(length - TAG));
        body = Buffer.concat([d.update(ct.subarray(0, length - TAG)), d.final()]);
      } catch {
        throw invalid();
      }
      yield { body, rows };
      if (final) {
        if (await this.fill(1)) throw invalid();
        return;
      }
    }
  }
}
