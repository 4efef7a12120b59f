/**
 * Reading a running server's trail files: the directory as a shell glob lists it can hold a compressed
 * copy still being written (`.gz.tmp`), a rotated file both plain and compressed, and a plain file the
 * server removes between the listing and the reading. Each record is read once, in order.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import { afterEach, describe, expect, it } from "vitest";
import { fileLines, readableTrailFiles } from "./file-trail.js";

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const record = (seq: number) => `{"seq":${seq},"x":"${"r".repeat(seq % 7)}"}`;
const text = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => record(from + i)).join("\n") + "\n";

async function read(paths: string[]): Promise<{ lines: string[]; places: string[] }> {
  const out = { lines: [] as string[], places: [] as string[] };
  for await (const chunk of fileLines(paths)) {
    chunk.lines.forEach((line, i) => {
      out.lines.push(line);
      out.places.push(chunk.where(i));
    });
  }
  return out;
}

/** A trail of 30 records: two rotated files (1–10 compressed, 11–20 plain) and the current file (21–30). */
function trail(): { current: string; first: string; second: string } {
  dir = mkdtempSync(join(tmpdir(), "tessera-file-trail-"));
  const current = join(dir, "audit.jsonl");
  const first = `${current}.000000000000`;
  const second = `${current}.000000000010`;
  writeFileSync(`${first}.gz`, gzipSync(text(1, 10)));
  writeFileSync(second, text(11, 20));
  writeFileSync(current, text(21, 30));
  return { current, first, second };
}

describe("reading trail files", () => {
  it("skips a compressed copy still being written and reads a file given plain and compressed once (the plain one)", async () => {
    const { current, second } = trail();
    writeFileSync(`${second}.gz.tmp`, gzipSync(text(11, 20)).subarray(0, 20));
    writeFileSync(`${second}.gz`, gzipSync(text(11, 15))); // an incomplete copy a crash left
    const all = readdirSync(dir).map((f) => join(dir, f));
    expect(all).toHaveLength(5);
    expect(readableTrailFiles(all).sort()).toEqual([current, `${current}.000000000000.gz`, second].sort());
    const { lines, places } = await read(all);
    expect(lines).toEqual(text(1, 30).trimEnd().split("\n"));
    expect(places[10]).toBe(`${second}:1`);
  });

  it("reads a rotated file the server compressed and removed after the listing from its compressed copy", async () => {
    const { current, first, second } = trail();
    writeFileSync(`${second}.gz`, gzipSync(text(11, 20)));
    rmSync(second);
    const { lines, places } = await read([current, `${first}.gz`, second]);
    expect(lines).toEqual(text(1, 30).trimEnd().split("\n"));
    expect(places[10]).toBe(`${second}.gz:1`);
  });

  it("still fails on a file that is missing and has no compressed copy", async () => {
    const { current, second } = trail();
    rmSync(second);
    await expect(read([current, second])).rejects.toMatchObject({ code: "ENOENT" });
    await expect(read([current, join(dir, "nothing.jsonl")])).rejects.toMatchObject({ code: "ENOENT" });
  });
});
