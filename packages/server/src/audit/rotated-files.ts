/**
 * The file trail's rotated files: compressing them (gzip, on a thread at the lowest CPU priority) and
 * deleting the oldest under the retention setting. Runs beside the trail, never on a request's path; a
 * failure is reported and retried at the next rotation or start, and never touches the current file.
 *
 * Invariants:
 * - A rotated file is replaced by its compressed copy only once that copy is complete and synced:
 *   written to `<name>.gz.tmp`, datasynced, renamed to `<name>.gz`, the directory synced, and only then
 *   the plain file removed. A crash at any point leaves the plain file (readers prefer it when both
 *   exist) and at worst a stale `.tmp`/`.gz` that the next pass replaces.
 * - Retention deletes whole rotated files, oldest first, never the current file, and only files the
 *   setting names (`keep_files` newest kept, or older than `max_age`). Each file's first request record
 *   spells out its `prev` and every context it uses, so the kept files verify from their first record.
 */
import { open, readdir, rename, rm, stat, utimes } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { gzipFileInBackground } from "./background-gzip.js";

export interface RotatedFileOptions {
  /** Compress rotated files with gzip (default true). */
  compress?: boolean;
  /** Keep at most this many rotated files (the current file not counted); the oldest go first. */
  keepFiles?: number;
  /** Delete rotated files whose last write is older than this. */
  maxAgeMs?: number;
}

const ROTATED = /^\d{12}(\.gz)?$/;

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Rotated files of the trail at `path`, oldest first (their names carry the seq they follow). */
async function rotated(path: string): Promise<string[]> {
  const base = basename(path);
  return (await readdir(dirname(path))).filter((f) => f.startsWith(`${base}.`) && ROTATED.test(f.slice(base.length + 1))).sort();
}

/** Compresses one rotated file in place (see the invariants). */
async function compress(dir: string, name: string): Promise<void> {
  const tmp = join(dir, `${name}.gz.tmp`);
  const original = await stat(join(dir, name));
  // Written and synced on a thread at the lowest CPU priority (background-gzip.ts).
  await gzipFileInBackground(join(dir, name), tmp);
  // The copy keeps the file's own time: retention's age is the age of the records, not of the copy.
  await utimes(tmp, original.atime, original.mtime);
  await rename(tmp, join(dir, `${name}.gz`));
  await syncDir(dir);
  await rm(join(dir, name));
}

/**
 * One pass over the rotated files: compresses the plain ones, then applies retention. Returns what it
 * did, for the server log.
 */
export async function tendRotated(path: string, options: RotatedFileOptions, now: number): Promise<{ compressed: string[]; deleted: string[] }> {
  const dir = dirname(path);
  const done = { compressed: [] as string[], deleted: [] as string[] };
  if (options.compress !== false) {
    for (const name of await rotated(path)) {
      if (name.endsWith(".gz")) continue;
      await rm(join(dir, `${name}.gz.tmp`), { force: true });
      await compress(dir, name);
      done.compressed.push(name);
    }
  }
  if (options.keepFiles === undefined && options.maxAgeMs === undefined) return done;
  // Plain and compressed copies of one file count once; both go together.
  const files = [...new Set((await rotated(path)).map((n) => n.replace(/\.gz$/, "")))];
  for (let i = 0; i < files.length; i++) {
    const name = files[i]!;
    const beyondCount = options.keepFiles !== undefined && files.length - i > options.keepFiles;
    let tooOld = false;
    if (!beyondCount && options.maxAgeMs !== undefined) {
      const st = await stat(join(dir, `${name}.gz`)).catch(() => stat(join(dir, name)));
      tooOld = now - st.mtimeMs > options.maxAgeMs;
    }
    if (!beyondCount && !tooOld) continue;
    await rm(join(dir, name), { force: true });
    await rm(join(dir, `${name}.gz`), { force: true });
    done.deleted.push(name);
  }
  if (done.deleted.length > 0) await syncDir(dir);
  return done;
}
