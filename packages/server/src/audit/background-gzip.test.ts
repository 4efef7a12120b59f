import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { gzipFileInBackground } from "./background-gzip.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-bg-gzip-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Trail-like lines (half of each random, as request ids and hashes are), `bytes` long in all. */
function trailLike(bytes: number): Buffer {
  const lines: string[] = [];
  let size = 0;
  for (let seq = 1; size < bytes; seq++) {
    const line = `{"v":2,"s":${seq},"t":1764460800000,"u":"${randomBytes(16).toString("base64url")}","c":12,"h":"${randomBytes(32).toString("base64url")}"}\n`;
    lines.push(line);
    size += line.length;
  }
  return Buffer.from(lines.join("")).subarray(0, bytes);
}

describe("gzipFileInBackground", () => {
  it("writes a gzip copy that node:zlib and the gzip command read back byte for byte, several members for a large file, mode 0600", async () => {
    const original = trailLike((9 << 20) + 12345); // three members: 4 + 4 + 1 MiB and a bit
    const src = join(dir, "large");
    writeFileSync(src, original);
    await gzipFileInBackground(src, `${src}.gz`);
    const gz = readFileSync(`${src}.gz`);
    expect(gunzipSync(gz).equals(original)).toBe(true);
    expect(execFileSync("gzip", ["-dc", `${src}.gz`], { maxBuffer: 64 << 20 }).equals(original)).toBe(true);
    // Each member starts with the gzip magic and deflate method: 1f 8b 08 (RFC 1952 §2.3).
    let members = 0;
    for (let i = gz.indexOf(Buffer.from([0x1f, 0x8b, 0x08])); i !== -1; i = gz.indexOf(Buffer.from([0x1f, 0x8b, 0x08]), i + 1)) members++;
    expect(members).toBeGreaterThanOrEqual(3);
    expect(gz.length).toBeLessThan(original.length * 0.6);
    expect(statSync(`${src}.gz`).mode & 0o777).toBe(0o600);
  });

  it("an empty file gives a valid empty gzip file", async () => {
    const src = join(dir, "empty");
    writeFileSync(src, "");
    await gzipFileInBackground(src, `${src}.gz`);
    expect(gunzipSync(readFileSync(`${src}.gz`)).length).toBe(0);
  });

  it("refuses to overwrite an existing destination, and fails for a missing source", async () => {
    const src = join(dir, "kept");
    writeFileSync(src, "records\n");
    writeFileSync(`${src}.gz`, "already here");
    await expect(gzipFileInBackground(src, `${src}.gz`)).rejects.toThrow(/EEXIST/);
    expect(readFileSync(`${src}.gz`, "utf8")).toBe("already here");
    await expect(gzipFileInBackground(join(dir, "missing"), join(dir, "missing.gz"))).rejects.toThrow(/ENOENT/);
  });
});
