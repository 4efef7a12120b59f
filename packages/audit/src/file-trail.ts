/**
 * Reading trail files: the lines of a file trail (current file plus rotated ones, plain or gzip) in
 * chain order, for verification and for queries when the database sink is off.
 */
import { open, readdir, type FileHandle } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { lineHead } from "./lines.js";
import type { TrailChunk } from "./verify.js";

/** A rotated file's name, plain: `<base>.<12 digits>`. */
const ROTATED_PLAIN = /\.\d{12}$/;

/**
 * Opens a trail file for reading. A rotated plain file the server compressed meanwhile (it renames the
 * finished `<name>.gz` into place, then removes `<name>`) is read from its compressed copy, which holds
 * the same lines: verifying a running server's files must not fail on that race. Returns the handle and
 * the path actually opened.
 */
async function openTrailFile(path: string): Promise<{ fh: FileHandle; path: string }> {
  try {
    return { fh: await open(path, "r"), path };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT" || !ROTATED_PLAIN.test(path)) throw e;
    return { fh: await open(`${path}.gz`, "r"), path: `${path}.gz` };
  }
}

/** The file's text in chunks, decompressed when it is a `.gz` file (a rotated, compressed one). */
async function* textOf(fh: FileHandle, path: string, highWaterMark: number): AsyncGenerator<string> {
  // The handle stays open (the caller closes it); both streams end with this generator, also when its reader stops early.
  const raw = fh.createReadStream({ highWaterMark, autoClose: false });
  const stream = path.endsWith(".gz") ? raw.pipe(createGunzip({ chunkSize: highWaterMark })) : raw;
  stream.setEncoding("utf8");
  try {
    for await (const chunk of stream) yield chunk as string;
  } finally {
    stream.destroy();
    raw.destroy();
  }
}

/** A file's first bytes (decompressed when it ends in `.gz`). */
async function firstBytes(path: string, n: number): Promise<string> {
  const opened = await openTrailFile(path);
  try {
    let text = "";
    for await (const chunk of textOf(opened.fh, opened.path, 64 * 1024)) {
      text += chunk;
      if (text.length >= n) break;
    }
    return text.slice(0, n);
  } finally {
    await opened.fh.close();
  }
}

/**
 * The files of `paths` that hold the trail, as a shell glob over a running server's directory names
 * them: a `<name>.gz.tmp` is a compressed copy still being written (never part of the trail, its
 * plain file is still there), and when a file is given both plain and compressed the plain one is
 * read (a crash may have left the compressed copy incomplete).
 */
export function readableTrailFiles(paths: readonly string[]): string[] {
  const given = new Set(paths);
  return paths.filter((p) => !p.endsWith(".gz.tmp") && !(p.endsWith(".gz") && ROTATED_PLAIN.test(p.slice(0, -3)) && given.has(p.slice(0, -3))));
}

/**
 * Lines of several trail files, ordered by the sequence number of their first record. The files are
 * taken through {@link readableTrailFiles}; a rotated file compressed while it is read is read from its
 * compressed copy.
 */
export async function* fileLines(paths: readonly string[]): AsyncGenerator<TrailChunk> {
  const firsts: { path: string; seq: number }[] = [];
  for (const path of readableTrailFiles(paths)) {
    // The first record's seq orders the files (either format); an empty file sorts last.
    const head = await firstBytes(path, 64);
    const m = /^\{"(?:seq|v":2,"s)":(\d+)/.exec(head);
    firsts.push({ path, seq: head.length === 0 ? Number.MAX_SAFE_INTEGER : m === null ? -1 : Number(m[1]) });
  }
  firsts.sort((a, b) => a.seq - b.seq);
  for (const { path: given } of firsts) {
    // Open before reading: once open, the server removing the plain file after compressing it does not matter.
    const { fh, path } = await openTrailFile(given);
    try {
      // Split by hand: readline costs more than hashing the lines it yields. Places name the file read.
      let n = 0;
      let rest = "";
      for await (const chunk of textOf(fh, path, 1 << 20)) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        const first = n;
        n += lines.length;
        yield { lines, where: (i) => `${path}:${first + i + 1}` };
      }
      if (rest.length > 0) yield { lines: [rest], where: () => `${path}:${n + 1}` };
    } finally {
      await fh.close();
    }
  }
}

/**
 * The files of a file trail at `path`: the current file and the rotated ones (`<base>.<12 digits>`,
 * or `.gz` once compressed), nothing else that lives beside them. When a crash left a rotated file
 * both plain and compressed, the plain one is read (the compressed copy may be incomplete).
 */
export async function trailFiles(path: string): Promise<string[]> {
  const dir = dirname(path);
  const base = basename(path);
  const rotated = (f: string) => f.startsWith(`${base}.`) && /^\d{12}(\.gz)?$/.test(f.slice(base.length + 1));
  return readableTrailFiles((await readdir(dir)).filter((f) => f === base || rotated(f)).map((f) => join(dir, f)));
}

/** Reads a file trail (current file plus rotated ones) for queries when the database sink is off. */
export class FileTrailReader {
  constructor(private readonly path: string) {}

  async list(after: number, limit: number, range: { from?: string; to?: string } = {}): Promise<{ seq: number; line: string }[]> {
    const out: { seq: number; line: string }[] = [];
    for await (const chunk of fileLines(await trailFiles(this.path))) {
      for (const line of chunk.lines) {
        if (line.length === 0) continue;
        const r = lineHead(line);
        if (r === undefined || r.seq <= after || (range.from !== undefined && r.time < range.from) || (range.to !== undefined && r.time > range.to)) continue;
        out.push({ seq: r.seq, line });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async last(): Promise<string | undefined> {
    let last: string | undefined;
    for await (const chunk of fileLines(await trailFiles(this.path))) for (const line of chunk.lines) if (line.length > 0) last = line;
    return last;
  }
}
