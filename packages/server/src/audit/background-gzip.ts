/**
 * gzip of one file on a thread of its own at the lowest CPU priority, so compressing a rotated 64 MiB
 * trail file (about 1.5 s of CPU) takes only what requests leave idle — in the request thread's
 * event loop and in libuv's thread pool (which the trail's `datasync`s use) it slowed requests while it
 * ran (docs/performance.md, "Round of 2026-11-30 (day)").
 *
 * Invariants:
 * - The output is a valid gzip file: one gzip member per {@link CHUNK_BYTES} of input (RFC 1952 §2.2: a
 *   gzip file is a series of members; `zcat`, `gzip -d` and node:zlib's gunzip read them all).
 * - `dest` is created new (`wx`, mode 0600) and holds the whole compressed copy, synced, when the
 *   promise resolves; on any failure the promise rejects and `dest` may hold a partial copy (the
 *   caller writes to a temporary name and removes it).
 * - The thread lowers only its own priority (Linux's nice is per thread); where it cannot, it still
 *   compresses, at normal priority.
 */
import { Worker } from "node:worker_threads";

/** Input per gzip member: large enough that a member's header and its fresh dictionary cost nothing measurable. */
const CHUNK_BYTES = 4 << 20;

/** The thread's program: node builtins only, so it runs the same from src (tests) and dist. */
const PROGRAM = `
const { workerData, parentPort } = require("node:worker_threads");
const { openSync, readSync, writeSync, fdatasyncSync, closeSync } = require("node:fs");
const { gzipSync } = require("node:zlib");
const { setPriority } = require("node:os");
try { setPriority(19); } catch {}
const { src, dest, chunkBytes } = workerData;
const input = openSync(src, "r");
try {
  const output = openSync(dest, "wx", 0o600);
  try {
    const buf = Buffer.allocUnsafe(chunkBytes);
    for (let first = true; ; first = false) {
      let n = 0;
      while (n < buf.length) {
        const got = readSync(input, buf, n, buf.length - n, null);
        if (got === 0) break;
        n += got;
      }
      // An empty file still gets one (empty) member: zero bytes are not a gzip file.
      if (n === 0 && !first) break;
      const member = gzipSync(buf.subarray(0, n), { level: 6 });
      for (let off = 0; off < member.length; ) off += writeSync(output, member, off, member.length - off);
      if (n < buf.length) break;
    }
    fdatasyncSync(output);
  } finally {
    closeSync(output);
  }
} finally {
  closeSync(input);
}
parentPort.postMessage("done");
`;

/** Writes a gzip copy of `src` to the new file `dest` (see the invariants). */
export function gzipFileInBackground(src: string, dest: string): Promise<void> {
  return new Promise((resolve, reject) => {
    // No inherited flags: the program is CommonJS whatever the process was started with (--input-type).
    const worker = new Worker(PROGRAM, { eval: true, execArgv: [], workerData: { src, dest, chunkBytes: CHUNK_BYTES } });
    let done = false;
    worker.once("message", () => (done = true));
    worker.once("error", reject);
    worker.once("exit", (code) => {
      if (done && code === 0) resolve();
      else reject(new Error(`gzip of ${src} stopped (exit code ${code})`));
    });
  });
}
