/**
 * Where audit records go. A sink writes a batch durably or throws, and can roll a batch back when
 * another sink failed it, so every sink holds the same gapless chain.
 */
import { createHash } from "node:crypto";
import { closeSync, constants, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { AuditRepo, Store } from "../store/index.js";
import { checkLine, type RepairRecord } from "@tessera/audit";
import { tendRotated, type RotatedFileOptions } from "./rotated-files.js";

export interface SinkBatch {
  records: readonly { seq: number; time: string; line: string }[];
}

/** A repair a sink made at start (recorded in the trail as a `repair` record). */
export type SinkRepair = Pick<RepairRecord, "sink" | "repair" | "afterSeq" | "bytes" | "sha256" | "savedAs">;

export interface AuditSink {
  readonly name: string;
  /** Makes the batch durable (or throws, leaving nothing of it behind). Called with one batch at a time, in order. */
  write(batch: SinkBatch): Promise<void>;
  /** Undoes the last written batch (another sink failed it). */
  rollback(): Promise<void>;
  /** The last durable record's line, to continue the chain after a restart; undefined if empty. */
  lastLine(): Promise<string | undefined>;
  /** At start, before `lastLine` and any write: repairs what a crash left (a torn tail) and says what it did. */
  recover?(): Promise<SinkRepair[]>;
  /**
   * The next batch will be the first in a new file (rotation, or an empty file): the audit log then
   * writes that batch self-contained (explicit `prev`, contexts spelt out), see @tessera/audit compact.ts.
   */
  startsNewFile?(): boolean;
  /** Up to `limit` lines after `seq`, ascending: a sink that has them can fill another that missed them. */
  linesAfter?(seq: number, limit: number): Promise<string[]>;
  close(): Promise<void>;
}

/** The database sink: one transaction per batch. */
export class DatabaseSink implements AuditSink {
  readonly name = "database";
  private lastBatchFirstSeq: number | undefined;

  constructor(private readonly store: Pick<Store, "transaction"> & { audit: AuditRepo }) {}

  async write(batch: SinkBatch): Promise<void> {
    this.lastBatchFirstSeq = batch.records[0]?.seq;
    await this.store.transaction((tx) => tx.audit.append(batch.records));
  }

  async rollback(): Promise<void> {
    if (this.lastBatchFirstSeq !== undefined) await this.store.audit.truncateAfter(this.lastBatchFirstSeq - 1);
  }

  lastLine(): Promise<string | undefined> {
    return this.store.audit.last();
  }

  async linesAfter(seq: number, limit: number): Promise<string[]> {
    return (await this.store.audit.list(seq, limit)).map((r) => r.line);
  }

  async close(): Promise<void> {}
}

/** The slice of a file handle the file sink uses; `node:fs/promises` FileHandle is one. */
export interface TrailFile {
  write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }>;
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  stat(): Promise<{ size: number; ino: number; dev: number; nlink: number }>;
  close(): Promise<void>;
  /** Every write is durable when it returns (opened `O_DSYNC`): no `datasync` needed after one. */
  readonly durableWrites?: boolean;
}

/**
 * Opens (creating, 0600) the trail file for positional reads and writes. Not O_APPEND: with O_APPEND
 * Linux ignores the position, and the sink must write exactly at the end it knows to be durable.
 *
 * `durableWrites` opens it `O_DSYNC`: a write returns once its bytes, and the file size needed to read
 * them, are on stable storage — what a `write` then `datasync` give (POSIX synchronized I/O data
 * integrity), in one system call and one trip through Node's thread pool instead of two.
 */
export async function openTrailFile(path: string, durableWrites = false): Promise<TrailFile> {
  const fh = await open(path, constants.O_RDWR | constants.O_CREAT | (durableWrites ? constants.O_DSYNC : 0), 0o600);
  return durableWrites ? Object.assign(fh, { durableWrites: true as const }) : fh;
}

/**
 * `sync` (default): a batch is datasynced before the write returns, so before any of its requests is
 * answered. `batch`: the write returns once the bytes are handed to the OS; datasync follows within
 * `intervalMs` (or at once when `maxUnsynced` records wait), so a crash (power loss, kernel panic —
 * not a killed process, whose written bytes the OS still holds) can lose the records of that interval.
 */
export interface FileDurability {
  mode: "sync" | "batch";
  intervalMs?: number;
  maxUnsynced?: number;
}

export interface FileSinkOptions extends RotatedFileOptions {
  durability?: FileDurability;
  /** Clock for retention's ages (ms). */
  now?: () => number;
}

/**
 * JSON-lines file, `datasync`ed per batch (or on an interval, `durability: batch`). Rotates by size: the full file is renamed to
 * `<path>.<first seq of the next file, 12 digits>` and the chain continues in the new file. Notices
 * when its file was deleted or replaced (Vault's silent failure) and starts a new one at the path,
 * reporting it.
 *
 * Invariants:
 * - `size` is the end of the last durable batch. A batch is written at `size` with positional
 *   writes, looping on short writes, then datasynced; only then does `size` move. A write or sync
 *   that fails leaves the batch refused, and the file is cut back to `size` (truncate + datasync)
 *   before anything else is written (`dirty` until that succeeded), so no torn record ever stays
 *   between two batches.
 * - The file is never truncated to more than its length, so a stale size cannot pad it with NULs.
 * - `batch` durability: a background datasync failure is reported and makes the next write sync first
 *   and fail if that fails (fail closed); rotation and close sync first.
 * - Rotated files are compressed and retention applied in the background after each rotation and at
 *   start (rotated-files.ts); never the current file.
 * - At start (`recover`) a torn tail a crash left — a final line without newline, or lines that do
 *   not parse or do not chain — is cut back to the last complete record; the cut bytes are kept in
 *   `torn-<name>.<seq>` beside the trail and the repair is reported for the trail.
 */
export class FileSink implements AuditSink {
  readonly name = "file";
  private handle: TrailFile | undefined;
  /** The open file's identity (device and inode), to notice the path naming another file. */
  private ino = -1;
  private dev = -1;
  private size = 0;
  private batchStart = 0;
  /** Bytes past `size` may be on disk (a failed write or a rollback that could not finish). */
  private dirty = false;
  /** `batch` durability: records written but not yet synced, the pending sync timer, its failure. */
  private unsynced = 0;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private syncFailed: unknown;
  private tending: Promise<void> = Promise.resolve();
  private readonly durability: Required<FileDurability>;
  private readonly openFile: (path: string) => Promise<TrailFile>;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly report: (message: string) => void,
    openFile?: (path: string) => Promise<TrailFile>,
    private readonly options: FileSinkOptions = {},
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "a", 0o600));
    this.durability = { mode: "sync", intervalMs: 10, maxUnsynced: 10_000, ...options.durability };
    // `sync`: every batch write must be durable before it returns, so let the write itself be (O_DSYNC).
    const durableWrites = this.durability.mode === "sync";
    this.openFile = openFile ?? ((p) => openTrailFile(p, durableWrites));
  }

  startsNewFile(): boolean {
    return this.size === 0 || this.size >= this.maxBytes;
  }

  /** Compresses rotated files and applies retention in the background (one pass at a time). */
  private tend(): void {
    this.tending = this.tending.then(() =>
      tendRotated(this.path, this.options, (this.options.now ?? Date.now)()).then(
        ({ deleted }) => {
          if (deleted.length > 0) this.report(`audit retention deleted rotated trail files ${deleted.join(", ")}; the kept files verify from their first record (docs/audit.md)`);
        },
        (err: unknown) => this.report(`could not compress or apply retention to the rotated files of ${this.path}: ${(err as Error).message}`),
      ),
    );
  }

  /** `batch` durability: syncs what was written (one sync at a time); a failure is kept for the next write. */
  private syncNow(): Promise<void> {
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    this.syncing ??= (async () => {
      const fh = this.handle;
      const n = this.unsynced;
      try {
        if (fh !== undefined && n > 0) await fh.datasync();
        this.unsynced -= n;
      } catch (err) {
        this.syncFailed = err;
        this.report(`audit file ${this.path} could not be synced: ${(err as Error).message}`);
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  /** Before a rotation, close or after a failed background sync: everything written is synced, or this throws. */
  private async syncAll(): Promise<void> {
    await this.syncing;
    if (this.unsynced === 0 && this.syncFailed === undefined) return;
    clearTimeout(this.syncTimer);
    this.syncTimer = undefined;
    await this.handle?.datasync();
    this.unsynced = 0;
    this.syncFailed = undefined;
  }

  private async ensureOpen(): Promise<TrailFile> {
    if (this.handle !== undefined) {
      // One stat of the path per batch: while the file is open its inode cannot be reused, so the path
      // still naming that device and inode means the file was neither deleted nor replaced (an fstat of
      // the open file for its link count, as before, answered nothing more and cost a thread-pool round trip).
      const current = statSync(this.path, { throwIfNoEntry: false });
      if (current === undefined || current.ino !== this.ino || current.dev !== this.dev) {
        this.report(`audit file ${this.path} was deleted or replaced; writing to a new file at that path`);
        await this.handle.close().catch(() => undefined);
        this.handle = undefined;
      }
    }
    if (this.handle === undefined) {
      const fh = await this.openFile(this.path);
      const st = await fh.stat();
      this.handle = fh;
      this.ino = st.ino;
      this.dev = st.dev;
      this.size = st.size;
      this.dirty = false;
    }
    return this.handle;
  }

  /** Cuts the file back to `size` (the end of the last durable batch) and syncs that. */
  private async restore(fh: TrailFile): Promise<void> {
    const { size } = await fh.stat();
    if (size > this.size) await fh.truncate(this.size);
    else if (size < this.size) {
      // Shorter than what was durable: someone cut it. Continue at its real end, never pad with NULs.
      this.report(`audit file ${this.path} is shorter than its last durable batch (${size} < ${this.size} bytes): it was cut outside Tessera`);
      this.size = size;
    }
    await fh.datasync();
    this.dirty = false;
  }

  async write(batch: SinkBatch): Promise<void> {
    let fh = await this.ensureOpen();
    if (this.syncFailed !== undefined) await this.syncAll();
    if (this.dirty) await this.restore(fh);
    if (this.size >= this.maxBytes) {
      await this.syncAll();
      await fh.close();
      this.handle = undefined;
      renameSync(this.path, `${this.path}.${String(batch.records[0]?.seq ?? 0).padStart(12, "0")}`);
      fh = await this.ensureOpen();
      this.tend();
    }
    const bytes = Buffer.from(batch.records.map((r) => r.line).join("\n") + "\n", "utf8");
    this.batchStart = this.size;
    this.dirty = true;
    const batchMode = this.durability.mode === "batch";
    try {
      await writeFully(fh, bytes, this.size);
      if (!batchMode && fh.durableWrites !== true) await fh.datasync();
    } catch (err) {
      // Leave no partial record behind; if even that fails, the next write tries again first.
      await this.restore(fh).catch(() => undefined);
      throw err;
    }
    this.size += bytes.length;
    this.dirty = false;
    if (batchMode) {
      this.unsynced += batch.records.length;
      if (this.unsynced >= this.durability.maxUnsynced) await this.syncNow();
      else this.syncTimer ??= setTimeout(() => void this.syncNow(), this.durability.intervalMs);
    }
  }

  async rollback(): Promise<void> {
    if (this.handle === undefined) return;
    this.size = this.batchStart;
    this.dirty = true;
    await this.restore(this.handle);
  }

  async recover(): Promise<SinkRepair[]> {
    this.tend();
    const fh = await this.ensureOpen();
    const { end, lastSeq } = await completeRecords(fh, this.size);
    if (end === this.size) return [];
    const torn = Buffer.alloc(this.size - end);
    await readFully(fh, torn, end);
    const savedAs = await this.keepAside(torn, lastSeq);
    this.batchStart = end;
    this.size = end;
    this.dirty = true;
    await this.restore(fh);
    this.report(`audit file ${this.path} had a torn tail after seq ${lastSeq} (${torn.length} bytes, a crash during a write): cut back to the last complete record${savedAs === null ? "" : `, the cut bytes kept in ${savedAs}`}`);
    return [{ sink: this.name, repair: "cut-torn-tail", afterSeq: lastSeq, bytes: torn.length, sha256: createHash("sha256").update(torn).digest("hex"), savedAs }];
  }

  /** Keeps a cut tail for investigation; a name that rotation, queries and `audit.jsonl*` globs never pick up. */
  private async keepAside(torn: Buffer, afterSeq: number): Promise<string | null> {
    for (let n = 0; n < 100; n++) {
      const name = `torn-${basename(this.path)}.${String(afterSeq).padStart(12, "0")}${n === 0 ? "" : `-${n}`}`;
      let fh: TrailFile | undefined;
      try {
        fh = await open(join(dirname(this.path), name), "wx", 0o600);
        await writeFully(fh, torn, 0);
        await fh.datasync();
        return name;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") continue;
        this.report(`could not keep the torn tail of ${this.path}: ${(err as Error).message}`);
        return null;
      } finally {
        await fh?.close().catch(() => undefined);
      }
    }
    return null;
  }

  async lastLine(): Promise<string | undefined> {
    const fh = await this.ensureOpen();
    if (this.size === 0) return undefined;
    const length = Math.min(this.size, 1 << 16);
    const buf = Buffer.alloc(length);
    await readFully(fh, buf, this.size - length);
    const lines = buf.toString("utf8").trimEnd().split("\n");
    return lines[lines.length - 1];
  }

  async close(): Promise<void> {
    await this.syncAll().catch((err: unknown) => this.report(`audit file ${this.path} could not be synced at close: ${(err as Error).message}`));
    await this.handle?.close();
    this.handle = undefined;
    await this.tending;
  }
}

/** Writes every byte at `position`, looping on short writes; a write that makes no progress fails. */
async function writeFully(fh: Pick<TrailFile, "write">, bytes: Buffer, position: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await fh.write(bytes, done, bytes.length - done, position + done);
    if (bytesWritten <= 0) throw Object.assign(new Error("audit file write made no progress"), { code: "EIO" });
    done += bytesWritten;
  }
}

async function readFully(fh: Pick<TrailFile, "read">, buf: Buffer, position: number): Promise<void> {
  for (let done = 0; done < buf.length; ) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead <= 0) throw new Error("audit file is shorter than expected while reading it");
    done += bytesRead;
  }
}

/**
 * The end (byte offset) of the file's complete, chained records and the last one's seq: where a
 * torn tail starts. The first line anchors the chain (its predecessor is in a rotated file).
 */
async function completeRecords(fh: Pick<TrailFile, "read">, size: number): Promise<{ end: number; lastSeq: number }> {
  let prev: { seq: number; hash: string } | undefined;
  let end = 0;
  let carry = Buffer.alloc(0);
  for (let pos = 0; pos < size; ) {
    const chunk = Buffer.alloc(Math.min(1 << 20, size - pos));
    await readFully(fh, chunk, pos);
    pos += chunk.length;
    const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const dataStart = pos - data.length;
    let start = 0;
    for (let nl = data.indexOf(0x0a, start); nl !== -1; nl = data.indexOf(0x0a, start)) {
      const c = checkLine(data.toString("utf8", start, nl), prev);
      if (!c.ok) return { end, lastSeq: prev?.seq ?? 0 };
      prev = { seq: c.seq, hash: c.hash };
      start = nl + 1;
      end = dataStart + start;
    }
    carry = Buffer.from(data.subarray(start));
  }
  return { end, lastSeq: prev?.seq ?? 0 };
}

/** Standard output, one JSON line per record (for log collectors; not durable by itself). */
export class StdoutSink implements AuditSink {
  readonly name = "stdout";
  async write(batch: SinkBatch): Promise<void> {
    process.stdout.write(batch.records.map((r) => r.line).join("\n") + "\n");
  }
  async rollback(): Promise<void> {}
  async lastLine(): Promise<string | undefined> {
    return undefined;
  }
  async close(): Promise<void> {}
}

