/**
 * Reading trail files: the lines of a file trail (current file plus rotated ones) in chain order, for
 * verification and for queries when the database sink is off.
 */
import { createReadStream } from "node:fs";
import { readdir, open } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { TrailChunk } from "./verify.js";

/** Lines of several trail files, ordered by the sequence number of their first record. */
export async function* fileLines(paths: readonly string[]): AsyncGenerator<TrailChunk> {
  const firsts: { path: string; seq: number }[] = [];
  for (const path of paths) {
    // The first record's seq orders the files; an empty file sorts last.
    const fh = await open(path, "r");
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    await fh.close();
    const m = /^\{"seq":(\d+)/.exec(buf.subarray(0, bytesRead).toString("utf8"));
    firsts.push({ path, seq: bytesRead === 0 ? Number.MAX_SAFE_INTEGER : m === null ? -1 : Number(m[1]) });
  }
  firsts.sort((a, b) => a.seq - b.seq);
  for (const { path } of firsts) {
    // Split by hand: readline costs more than hashing the lines it yields.
    let n = 0;
    let rest = "";
    for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
      const lines = (rest + (chunk as string)).split("\n");
      rest = lines.pop()!;
      const first = n;
      n += lines.length;
      yield { lines, where: (i) => `${path}:${first + i + 1}` };
    }
    if (rest.length > 0) yield { lines: [rest], where: () => `${path}:${n + 1}` };
  }
}

/** Reads a file trail (current file plus rotated ones) for queries when the database sink is off. */
export class FileTrailReader {
  constructor(private readonly path: string) {}

  private async files(): Promise<string[]> {
    const dir = dirname(this.path);
    const base = basename(this.path);
    // The current file and the rotated ones (`<base>.<12 digits>`), nothing else that lives beside them.
    return (await readdir(dir)).filter((f) => f === base || (f.startsWith(`${base}.`) && /^\d{12}$/.test(f.slice(base.length + 1)))).map((f) => join(dir, f));
  }

  async list(after: number, limit: number, range: { from?: string; to?: string } = {}): Promise<{ seq: number; line: string }[]> {
    const out: { seq: number; line: string }[] = [];
    for await (const chunk of fileLines(await this.files())) {
      for (const line of chunk.lines) {
        if (line.length === 0) continue;
        const r = JSON.parse(line) as { seq: number; time: string };
        if (r.seq <= after || (range.from !== undefined && r.time < range.from) || (range.to !== undefined && r.time > range.to)) continue;
        out.push({ seq: r.seq, line });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async last(): Promise<string | undefined> {
    let last: string | undefined;
    for await (const chunk of fileLines(await this.files())) for (const line of chunk.lines) if (line.length > 0) last = line;
    return last;
  }
}
