/**
 * Reading trail files: the lines of a file trail (current file plus rotated ones, plain or gzip) in
 * chain order, for verification and for queries when the database sink is off.
 */
import { createReadStream } from "node:fs";
import { readdir, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { createGunzip } from "node:zlib";
import { lineHead } from "./lines.js";
import type { TrailChunk } from "./verify.js";

/** A file's first bytes (decompressed when it ends in `.gz`). */
async function firstBytes(path: string, n: number): Promise<string> {
  if (!path.endsWith(".gz")) {
    const fh = await open(path, "r");
    try {
      const buf = Buffer.alloc(n);
      const { bytesRead } = await fh.read(buf, 0, n, 0);
      return buf.subarray(0, bytesRead).toString("utf8");
    } finally {
      await fh.close();
    }
  }
  let text = "";
  for await (const chunk of createReadStream(path).pipe(createGunzip())) {
    text += (chunk as Buffer).toString("utf8");
    if (text.length >= n) break;
  }
  return text.slice(0, n);
}

/** The file's text in chunks; a `.gz` file (a rotated, compressed one) is decompressed on the fly. */
function textOf(path: string): AsyncIterable<string> {
  const raw = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = path.endsWith(".gz") ? raw.pipe(createGunzip({ chunkSize: 1 << 20 })) : raw;
  stream.setEncoding("utf8");
  return stream as AsyncIterable<string>;
}

/** Lines of several trail files, ordered by the sequence number of their first record. */
export async function* fileLines(paths: readonly string[]): AsyncGenerator<TrailChunk> {
  const firsts: { path: string; seq: number }[] = [];
  for (const path of paths) {
    // The first record's seq orders the files (either format); an empty file sorts last.
    const head = await firstBytes(path, 64);
    const m = /^\{"(?:seq|v":2,"s)":(\d+)/.exec(head);
    firsts.push({ path, seq: head.length === 0 ? Number.MAX_SAFE_INTEGER : m === null ? -1 : Number(m[1]) });
  }
  firsts.sort((a, b) => a.seq - b.seq);
  for (const { path } of firsts) {
    // Split by hand: readline costs more than hashing the lines it yields.
    let n = 0;
    let rest = "";
    for await (const chunk of textOf(path)) {
      const lines = (rest + chunk).split("\n");
      rest = lines.pop()!;
      const first = n;
      n += lines.length;
      yield { lines, where: (i) => `${path}:${first + i + 1}` };
    }
    if (rest.length > 0) yield { lines: [rest], where: () => `${path}:${n + 1}` };
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
  const names = await readdir(dir);
  const rotated = (f: string) => f.startsWith(`${base}.`) && /^\d{12}(\.gz)?$/.test(f.slice(base.length + 1));
  const plain = new Set(names.filter((f) => rotated(f) && !f.endsWith(".gz")));
  return names.filter((f) => f === base || (rotated(f) && !(f.endsWith(".gz") && plain.has(f.slice(0, -3))))).map((f) => join(dir, f));
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
