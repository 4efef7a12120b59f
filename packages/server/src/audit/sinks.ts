/**
 * Where audit records go. A sink writes a batch durably or throws, and can roll a batch back when
 * another sink failed it, so every sink holds the same gapless chain.
 */
import { closeSync, mkdirSync, openSync, renameSync, statSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import type { AuditRepo, Store } from "../store/index.js";

export interface SinkBatch {
  records: readonly { seq: number; time: string; line: string }[];
}

export interface AuditSink {
  readonly name: string;
  /** Makes the batch durable (or throws). Called with one batch at a time, in order. */
  write(batch: SinkBatch): Promise<void>;
  /** Undoes the last written batch (another sink failed it). */
  rollback(): Promise<void>;
  /** The last durable record's line, to continue the chain after a restart; undefined if empty. */
  lastLine(): Promise<string | undefined>;
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

  async close(): Promise<void> {}
}

/**
 * Append-only JSON-lines file, `datasync`ed per batch. Rotates by size: the full file is renamed to
 * `<path>.<first seq of the next file>` … in practice `<path>.<n>` with n increasing, and the chain
 * continues in the new file. Notices when its file was deleted or replaced (Vault's silent failure)
 * and starts a new one at the path, reporting it.
 */
export class FileSink implements AuditSink {
  readonly name = "file";
  private handle: FileHandle | undefined;
  private size = 0;
  private batchStart = 0;

  constructor(
    private readonly path: string,
    private readonly maxBytes: number,
    private readonly report: (message: string) => void,
  ) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    closeSync(openSync(path, "a", 0o600));
  }

  private async ensureOpen(): Promise<FileHandle> {
    if (this.handle !== undefined) {
      const st = await this.handle.stat();
      let current: { ino: number } | undefined;
      try {
        current = statSync(this.path);
      } catch {
        current = undefined;
      }
      if (st.nlink === 0 || current === undefined || current.ino !== st.ino) {
        this.report(`audit file ${this.path} was deleted or replaced; writing to a new file at that path`);
        await this.handle.close().catch(() => undefined);
        this.handle = undefined;
      }
    }
    if (this.handle === undefined) {
      // a+: appends always go to the end; reads are needed to find the chain head after a restart.
      this.handle = await open(this.path, "a+", 0o600);
      this.size = (await this.handle.stat()).size;
    }
    return this.handle;
  }

  async write(batch: SinkBatch): Promise<void> {
    let fh = await this.ensureOpen();
    if (this.size >= this.maxBytes) {
      await fh.close();
      this.handle = undefined;
      renameSync(this.path, `${this.path}.${String(batch.records[0]?.seq ?? 0).padStart(12, "0")}`);
      fh = await this.ensureOpen();
    }
    const text = batch.records.map((r) => r.line).join("\n") + "\n";
    this.batchStart = this.size;
    try {
      await fh.write(text, null, "utf8");
      await fh.datasync();
      this.size += Buffer.byteLength(text);
    } catch (err) {
      // Leave no partial line behind.
      await fh.truncate(this.batchStart).catch(() => undefined);
      throw err;
    }
  }

  async rollback(): Promise<void> {
    if (this.handle === undefined) return;
    await this.handle.truncate(this.batchStart);
    await this.handle.datasync();
    this.size = this.batchStart;
  }

  async lastLine(): Promise<string | undefined> {
    const fh = await this.ensureOpen();
    if (this.size === 0) return undefined;
    const length = Math.min(this.size, 1 << 16);
    const buf = Buffer.alloc(length);
    await fh.read(buf, 0, length, this.size - length);
    const lines = buf.toString("utf8").trimEnd().split("\n");
    return lines[lines.length - 1];
  }

  async close(): Promise<void> {
    await this.handle?.close();
    this.handle = undefined;
  }
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

