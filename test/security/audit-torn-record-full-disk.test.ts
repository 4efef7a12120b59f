/**
 * Finding 5b, on a real full filesystem: a torn audit record must never count as written.
 *
 * A real server writes its trail to a tmpfs of 300 KiB that the test fills. A write that runs into the
 * full disk is short (the bytes that fit in the file's last page) and then fails with ENOSPC. Before the
 * fix the short write was taken as complete: the request was answered 200 with its record cut after a
 * few bytes, and the next failed batch's truncate to a stale size padded the file with NUL bytes, so
 * the trail never verified again. Now every request is answered 200 only with its record complete and
 * durable, the rest `Unavailable`; after space returns requests succeed and the trail verifies clean.
 */
import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, api, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "full-disk-root-token";
const dir = mkdtempSync(join(tmpdir(), "tessera-full-disk-"));
const mnt = join(dir, "mnt");
const trail = join(mnt, "audit.jsonl");
const filler = join(mnt, "filler");
let mounted: string | true = "not tried";
let server: ServerProcess | undefined;

beforeAll(() => {
  mkdirSync(mnt);
  const m = spawnSync("mount", ["-t", "tmpfs", "-o", "size=300k", "tmpfs", mnt], { encoding: "utf8" });
  mounted = m.status === 0 ? true : `mount -t tmpfs is not permitted here (${(m.stderr || m.error?.message || "").trim()})`;
});

afterAll(async () => {
  await server?.stop();
  if (mounted === true) spawnSync("umount", [mnt]);
  rmSync(dir, { recursive: true, force: true });
});

/** Writes to `filler` until the filesystem refuses another byte. */
function fillDisk(): void {
  const fd = openSync(filler, "w");
  const chunk = Buffer.alloc(4096, 0x61);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  }
  // Byte by byte: the last partial page as well.
  try {
    for (;;) writeSync(fd, chunk, 0, 1);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOSPC") throw err;
  } finally {
    closeSync(fd);
  }
}

const tessera = (args: string[]) => spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, TESSERA_ADDR: server!.url, TESSERA_TOKEN: ROOT }, timeout: 30_000 });

describe("audit trail on a full disk", () => {
  it("refuses requests whose record cannot be written in full, then recovers with a trail that verifies", async (ctx) => {
    if (mounted !== true) ctx.skip(mounted);
    server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT, "--data", join(dir, "data"), "--audit-file", trail]);
    const encrypt = (i: number) => api(server!.url, ROOT, "POST", "/v1/keys/k/encrypt", { plaintext: Buffer.from(`m${i}`).toString("base64") });
    expect((await api(server.url, ROOT, "POST", "/v1/keys", { name: "k" })).status).toBe(201);
    writeFileSync(join(dir, "audit.pub"), tessera(["audit", "public-key"]).stdout);

    fillDisk();
    const statuses: number[] = [];
    const codes = new Set<string>();
    // Until the first refusal (records may still fit in the file's last page), then a few more.
    for (let i = 0, refused = 0; i < 40 && refused < 3; i++) {
      const r = await encrypt(i);
      statuses.push(r.status);
      if (r.status !== 200) {
        codes.add(r.body.error.code);
        refused++;
      }
    }
    // Records that fit in the file's last page may still be written; once one does not, none is answered 200.
    expect(statuses.indexOf(503)).toBeGreaterThanOrEqual(0);
    expect(new Set(statuses.slice(statuses.indexOf(503)))).toEqual(new Set([503]));
    expect([...codes]).toEqual(["Unavailable"]);
    // While the disk is full the file holds only complete records: no torn line, no NUL padding.
    const whileFull = readFileSync(trail);
    expect(whileFull.includes(0)).toBe(false);
    expect(whileFull.at(-1)).toBe(0x0a);
    for (const line of whileFull.toString("utf8").trimEnd().split("\n")) expect(() => JSON.parse(line)).not.toThrow();

    rmSync(filler);
    let ok = await encrypt(100);
    for (let i = 0; ok.status !== 200 && i < 100; i++) {
      await new Promise((r) => setTimeout(r, 50));
      ok = await encrypt(100);
    }
    expect(ok.status).toBe(200);
    expect(await server.stop()).toBe(0);
    server = undefined;

    const text = readFileSync(trail);
    expect(text.includes(0)).toBe(false);
    const verify = spawnSync(process.execPath, [BIN, "audit", "verify", "--file", trail, "--public-key", join(dir, "audit.pub"), "--json"], { cwd: REPO, encoding: "utf8" });
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, lastSeq: expect.any(Number) });
    expect(verify.status).toBe(0);
  }, 60_000);
});
