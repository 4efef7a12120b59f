/**
 * A trail file that writes less than asked, runs out of space, or cannot be truncated, on demand:
 * wraps the real file handle and is typed against the file sink's `TrailFile`.
 */
import { openTrailFile, type TrailFile } from "@tessera/server";

const fsError = (code: string, message: string) => Object.assign(new Error(`${code}: ${message} (simulated)`), { code });

export class ShortWriteFile implements TrailFile {
  /** Each write call writes at most this many bytes (a short write). */
  maxWrite = Number.POSITIVE_INFINITY;
  /** Bytes that may still be written; a write beyond writes what fits, the next one fails ENOSPC. */
  spaceLeft = Number.POSITIVE_INFINITY;
  truncateFails = false;
  writes = 0;

  constructor(private readonly inner: TrailFile) {}

  async write(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesWritten: number }> {
    this.writes++;
    if (this.spaceLeft <= 0) throw fsError("ENOSPC", "no space left on device");
    const n = Math.min(length, this.maxWrite, this.spaceLeft);
    const r = await this.inner.write(buffer, offset, n, position);
    this.spaceLeft -= r.bytesWritten;
    return r;
  }

  read(buffer: Uint8Array, offset: number, length: number, position: number): Promise<{ bytesRead: number }> {
    return this.inner.read(buffer, offset, length, position);
  }

  datasync(): Promise<void> {
    return this.inner.datasync();
  }

  async truncate(length: number): Promise<void> {
    if (this.truncateFails) throw fsError("EIO", "input/output error");
    await this.inner.truncate(length);
  }

  stat(): Promise<{ size: number; ino: number; dev: number; nlink: number }> {
    return this.inner.stat();
  }

  close(): Promise<void> {
    return this.inner.close();
  }
}

/** An opener for `FileSink` whose files are `ShortWriteFile`s (a reopened file keeps the settings of the one before). */
export function shortWriteOpener(): { open: (path: string) => Promise<TrailFile>; current: () => ShortWriteFile } {
  let last: ShortWriteFile | undefined;
  return {
    async open(path) {
      const next = new ShortWriteFile(await openTrailFile(path));
      if (last !== undefined) Object.assign(next, { maxWrite: last.maxWrite, spaceLeft: last.spaceLeft, truncateFails: last.truncateFails });
      last = next;
      return next;
    },
    current() {
      if (last === undefined) throw new Error("no file opened yet");
      return last;
    },
  };
}
