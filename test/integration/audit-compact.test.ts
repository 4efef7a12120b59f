/**
 * Issue 15, audit volume and durability: compact request records written by a real server continue a
 * format-1 trail in place, rotated files are gzipped and still verified and queried, retention deletes
 * the oldest files and the rest verifies from its first record, and `audit.durability: batch` survives
 * kill -9 with a trail that verifies.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, describe, expect, it } from "vitest";
import { GENESIS, fileLines, finishRecord, lineHead, trailFiles, verifyTrail, type RequestRecord, type VerifyOptions } from "@tessera/audit";
import { ManualClock, SqliteStore, buildApp, resolveConfig, type TesseraApp } from "@tessera/server";
import { api, freePort, startServer } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-audit-compact-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Node {
  app: TesseraApp;
  file: string;
  call(method: "GET" | "POST", url: string, body?: unknown): Promise<{ status: number; body: any }>;
}

type FileOptions = Omit<NonNullable<NonNullable<Parameters<typeof buildApp>[0]["audit"]>["file"]>, "path">;

async function start(name: string, file: FileOptions = {}, clock = new ManualClock(Date.UTC(2026, 10, 29, 12))): Promise<Node> {
  const path = join(dir, name, "audit.jsonl");
  mkdirSync(join(dir, name), { recursive: true });
  const app = await buildApp({ store: new SqliteStore({ path: join(dir, name, "t.db") }), clock, logger: false, audit: { database: false, file: { ...file, path } } });
  let token: string | undefined;
  const call = async (method: "GET" | "POST", url: string, body?: unknown) => {
    const res = await app.http.inject({ method, url, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, payload: JSON.stringify(body ?? {}) });
    return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
  };
  const init = await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 });
  await call("POST", "/v1/sys/unseal", { share: init.body.shares[0] });
  token = init.body.rootToken;
  expect((await call("POST", "/v1/keys", { name: "k" })).status).toBe(201);
  return { app, file: path, call };
}

const verifyFiles = async (path: string, options: VerifyOptions) => verifyTrail(fileLines(await trailFiles(path)), options);
const rotated = (path: string) => readdirSync(join(path, "..")).filter((f) => /^audit\.jsonl\.\d{12}/.test(f)).sort();

/** Waits until the background pass left only compressed rotated files. */
async function compressed(path: string): Promise<string[]> {
  for (let i = 0; i < 100 && rotated(path).some((f) => !f.endsWith(".gz")); i++) await new Promise((r) => setTimeout(r, 50));
  return rotated(path);
}

describe("compact audit records, compressed rotation, retention, batch durability", () => {
  it("continues a format-1 trail in place, gzips rotated files; both formats verify and are queried alike", async () => {
    // A trail written before the upgrade: format-1 request records.
    const path = join(dir, "upgrade", "audit.jsonl");
    const old: string[] = [];
    let prev = GENESIS;
    for (let seq = 1; seq <= 3; seq++) {
      const r: RequestRecord = { seq, time: "2026-11-28T10:00:00.000Z", kind: "request", requestId: `old-${seq}`, principal: null, source: "10.0.0.9", action: "kms:ListKeys", keyId: null, keyVersion: null, outcome: "denied", errorCode: "Unauthenticated", latencyMs: 0.1, hmac: {}, prev, hash: "" };
      old.push(finishRecord(r));
      prev = r.hash;
    }
    mkdirSync(join(dir, "upgrade"), { recursive: true });
    writeFileSync(path, old.join("\n") + "\n");
    const x = await start("upgrade", { maxBytes: 4096 });
    for (let i = 0; i < 100; i++) expect((await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64(`m${i}`), context: { vm: "vm-1" } })).status).toBe(200);
    const files = await compressed(x.file);
    expect(files.length).toBeGreaterThan(2);
    expect(files.every((f) => f.endsWith(".gz"))).toBe(true);
    // The first records live in the oldest, compressed file: queried like any other, in format 1's fields.
    const publicKey = (await x.call("GET", "/v1/audit/public-key")).body.publicKey as string;
    const entries = (await x.call("GET", "/v1/audit/entries?after=0&limit=1000")).body.records as Record<string, any>[];
    expect(entries.slice(0, 5).map((r) => [r.requestId.slice(0, 4), r.action, r.errorCode])).toEqual([
      ["old-", "kms:ListKeys", "Unauthenticated"],
      ["old-", "kms:ListKeys", "Unauthenticated"],
      ["old-", "kms:ListKeys", "Unauthenticated"],
      [expect.any(String), "sys:Init", null],
      [expect.any(String), "sys:Init", null],
    ]);
    const encrypts = entries.filter((r) => r.action === "kms:Encrypt");
    expect(encrypts).toHaveLength(100);
    for (const r of encrypts) expect(r).toMatchObject({ kind: "request", outcome: "allowed", keyVersion: 1, principal: { kind: "root" }, hmac: { "context.vm": expect.stringMatching(/^[0-9a-f]{64}$/) } });
    const late = (await x.call("GET", "/v1/audit/entries?action=kms:Encrypt&after=90&limit=1")).body.records as Record<string, any>[];
    expect(late[0]).toMatchObject({ action: "kms:Encrypt", principal: { kind: "root" }, keyId: encrypts[0]!.keyId });
    await x.app.close();
    // The oldest (compressed) file holds both formats: the old records, then compact ones chained on.
    const oldest = gunzipSync(readFileSync(join(dir, "upgrade", files[0]!))).toString("utf8").split("\n");
    expect(oldest[0]).toBe(old[0]);
    expect(oldest[3]).toMatch(/^\{"v":2,"s":4,.*"x":\{/);
    expect(oldest.some((l) => /^\{"v":2,.*"c":\d+/.test(l))).toBe(true);
    expect(await verifyFiles(path, { publicKey })).toMatchObject({ ok: true, firstSeq: 1, final: true });
  });

  it("deletes the oldest rotated files beyond keep_files or max_age; the rest verifies from its first record", async () => {
    const clock = new ManualClock(Date.now());
    const x = await start("retention", { maxBytes: 4096, keepFiles: 2, maxAgeMs: 86_400_000 }, clock);
    for (let i = 0; i < 150; i++) await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64(`m${i}`) });
    await compressed(x.file);
    expect(rotated(x.file)).toHaveLength(2);
    const publicKey = (await x.call("GET", "/v1/audit/public-key")).body.publicKey as string;
    await x.app.auditLog.checkpoint();
    // Without saying the head was removed by retention the trail is incomplete; with it, it verifies.
    expect((await verifyFiles(x.file, { publicKey, allowOpenTail: true })).problem).toMatchObject({ code: "missing" });
    const kept = await verifyFiles(x.file, { publicKey, allowOpenTail: true, retained: true });
    expect(kept).toMatchObject({ ok: true });
    expect(kept.firstSeq).toBeGreaterThan(1);
    // Two days later every rotated file is past max_age: the next rotation's pass deletes them all.
    clock.advance(2 * 86_400_000);
    for (let i = 0; i < 40; i++) await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64(`n${i}`) });
    await x.app.close();
    expect(rotated(x.file)).toEqual([]);
    expect(await verifyFiles(x.file, { publicKey, retained: true })).toMatchObject({ ok: true, final: true });
  });

  it("validates audit.durability and its interval", () => {
    const base = { listener: { address: "127.0.0.1:8200", insecure_http: true }, storage: { sqlite: { path: "t.db" } } };
    expect(resolveConfig({ ...base }, dir).audit.durability).toBeUndefined();
    expect(resolveConfig({ ...base, audit: { durability: "batch", batch_interval_ms: 5 } }, dir).audit.durability).toEqual({ mode: "batch", intervalMs: 5 });
    expect(resolveConfig({ ...base, audit: { durability: "sync", file: { path: "a.jsonl", keep_files: 7, max_age_days: 30, compress: false } } }, dir).audit).toMatchObject({
      durability: { mode: "sync" },
      file: { path: join(dir, "a.jsonl"), keepFiles: 7, maxAgeMs: 30 * 86_400_000, compress: false },
    });
    const refused = (doc: unknown) => {
      try {
        resolveConfig(doc, dir);
        return "accepted";
      } catch (err) {
        return (err as Error).message;
      }
    };
    expect(refused({ ...base, audit: { durability: "async" } })).toContain("durability");
    expect(refused({ ...base, audit: { batch_interval_ms: 5 } })).toContain("batch_interval_ms");
    expect(refused({ ...base, audit: { durability: "batch", batch_interval_ms: 0 } })).toContain("batch_interval_ms");
    expect(refused({ ...base, audit: { file: { path: "a", keep_files: 0 } } })).toContain("keep_files");
  });

  it("batch durability: kill -9 under load, restart, and the trail verifies", async () => {
    const port = await freePort();
    const path = join(dir, "batch", "audit.jsonl");
    const config = join(dir, "batch.json");
    mkdirSync(join(dir, "batch"), { recursive: true });
    writeFileSync(config, JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage: { sqlite: { path: join(dir, "batch", "t.db") } }, audit: { durability: "batch", batch_interval_ms: 20, file: { path } }, log_level: "warn" }));
    let server = await startServer(["--config", config], { port, ready: "listening" });
    const init = await api(server.url, undefined, "POST", "/v1/sys/init", { shares: 1, threshold: 1 });
    const share = init.body.shares[0] as string;
    const token = init.body.rootToken as string;
    await api(server.url, undefined, "POST", "/v1/sys/unseal", { share });
    expect((await api(server.url, token, "POST", "/v1/keys", { name: "k" })).status).toBe(201);
    const publicKey = (await api(server.url, token, "GET", "/v1/audit/public-key")).body.publicKey as string;
    let stop = false;
    let acked = 0;
    const load = async () => {
      while (!stop) {
        const r = await api(server.url, token, "POST", "/v1/keys/k/encrypt", { plaintext: b64("x") }).catch(() => undefined);
        if (r?.status === 200) acked++;
      }
    };
    const loaders = Array.from({ length: 4 }, load);
    while (acked < 50) await new Promise((r) => setTimeout(r, 20));
    await server.kill9();
    stop = true;
    await Promise.all(loaders);
    server = await startServer(["--config", config], { port, ready: "listening" });
    await api(server.url, undefined, "POST", "/v1/sys/unseal", { share });
    expect((await api(server.url, token, "POST", "/v1/keys/k/encrypt", { plaintext: b64("after") })).status).toBe(200);
    expect(await server.stop()).toBe(0);
    const report = await verifyFiles(path, { publicKey });
    expect(report).toMatchObject({ ok: true, final: true });
    // A killed process loses nothing the OS already holds: every acknowledged request is in the trail.
    expect(report.entries).toBeGreaterThan(acked);
    expect(lineHead(readFileSync(path, "utf8").trimEnd().split("\n").at(-1)!)!.seq).toBe(report.lastSeq);
  }, 60_000);
});
