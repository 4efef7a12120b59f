/**
 * The audit trail end to end: every request leaves one chained, durable record; verification
 * passes on a clean trail and catches and locates each kind of tampering; a failing or hanging sink
 * fails requests closed (health keeps answering) and the trail resumes without a gap.
 */
import { createDecipheriv, createHmac, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp, fileLines, verifyTrail, type TesseraApp } from "@tessera/server";
import { ControllableSink } from "../fakes/controllable-sink.js";
import { decodeLines } from "../helpers/audit-records.js";
import { lineHead } from "@tessera/audit";

const b64 = (s: string) => Buffer.from(s).toString("base64");

interface Harness {
  app: TesseraApp;
  store: SqliteStore;
  dir: string;
  file: string;
  root: string;
  sink: ControllableSink;
  call(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any }>;
}

let h: Harness | undefined;
afterEach(async () => {
  await h?.app.close().catch(() => undefined);
  if (h) rmSync(h.dir, { recursive: true, force: true });
  h = undefined;
});

/** `timeoutMs` bounds a request's wait for its record; generous by default, as the suite runs on loaded machines. */
async function start(options: { maxBytes?: number; timeoutMs?: number } = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-audit-"));
  const file = join(dir, "audit", "audit.jsonl");
  const sink = new ControllableSink();
  const store = new SqliteStore({ path: join(dir, "t.db") });
  const app = await buildApp({
    store,
    clock: new ManualClock(Date.UTC(2026, 0, 5, 12)),
    audit: { file: { path: file, ...(options.maxBytes && { maxBytes: options.maxBytes }) }, sinks: [sink], timeoutMs: options.timeoutMs ?? 5000 },
  });
  const harness: Harness = {
    app,
    store,
    dir,
    file,
    root: "",
    sink,
    async call(method, url, body, token) {
      const tok = token === undefined ? harness.root : token;
      const res = await app.http.inject({
        method: method as "GET",
        url,
        headers: { ...(tok !== null && { "x-tessera-token": tok }), ...(body !== undefined && { "content-type": "application/json" }) },
        ...(body !== undefined && { payload: JSON.stringify(body) }),
      });
      return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
    },
  };
  const init = await harness.call("POST", "/v1/sys/init", { shares: 1, threshold: 1 }, null);
  harness.root = init.body.rootToken;
  await harness.call("POST", "/v1/sys/unseal", { share: init.body.shares[0] }, null);
  h = harness;
  return harness;
}

const trailFiles = (x: Harness) => readdirSync(join(x.dir, "audit")).map((f) => join(x.dir, "audit", f));
// The harness's server is running, so its trail is open (no final checkpoint yet).
const verifyFiles = async (x: Harness, opts: Parameters<typeof verifyTrail>[1] = {}) => verifyTrail(fileLines(trailFiles(x)), { allowOpenTail: true, ...opts });
const lines = (x: Harness) => readFileSync(x.file, "utf8").trimEnd().split("\n");

/**
 * What an investigator computes: HMAC-SHA256 of a value under the trail's HMAC key. The key is
 * opened here with node:crypto alone from its stored keyring record (0x01 ‖ 12-byte nonce ‖
 * ciphertext ‖ 16-byte tag, AES-256-GCM under the root key, AAD `tessera/audit-hmac-key/v1`), so a
 * trail that HMACs with another key, another hash or no key at all does not match.
 */
async function investigatorHmac(x: Harness, value: string): Promise<string> {
  const stored = await x.store.meta.get<{ hmacKey: string }>("audit-keys");
  const record = Buffer.from(stored!.hmacKey, "base64");
  expect(record[0]).toBe(0x01);
  const decipher = createDecipheriv("aes-256-gcm", x.app.barrier.ring().current.key, record.subarray(1, 13));
  decipher.setAAD(Buffer.from("tessera/audit-hmac-key/v1", "utf8"));
  decipher.setAuthTag(record.subarray(record.length - 16));
  const key = Buffer.concat([decipher.update(record.subarray(13, record.length - 16)), decipher.final()]);
  expect(key).toHaveLength(32);
  return createHmac("sha256", key).update(value, "utf8").digest("hex");
}

describe("audit trail", () => {
  it("records every request, allowed or denied, with sensitive values only as HMACs", async () => {
    const x = await start();
    const rootAccessor = (await x.call("GET", "/v1/auth/tokens/self")).body.accessor as string;
    // Computed while unsealed: the HMAC key is sealed under the root key.
    const expected = { vm: await investigatorHmac(x, "vm-17"), root: await investigatorHmac(x, rootAccessor) };
    expect((await x.call("POST", "/v1/keys", { name: "k" })).status).toBe(201);
    expect((await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("secret"), context: { vm: "vm-17" } })).status).toBe(200);
    await x.call("GET", "/v1/keys", undefined, "tsr_wrong");
    await x.call("POST", "/v1/sys/seal");
    await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") });
    const records = decodeLines(lines(x));
    const requests = records.filter((r) => r.kind === "request");
    // State changes are announced by a durable intent before they happen; reads and refusals are not.
    expect(requests.map((r) => [r.action, r.outcome, r.errorCode])).toEqual([
      ["sys:Init", "intent", null],
      ["sys:Init", "allowed", null],
      ["sys:Unseal", "intent", null],
      ["sys:Unseal", "allowed", null],
      ["auth:LookupToken", "allowed", null],
      ["kms:CreateKey", "intent", null],
      ["kms:CreateKey", "allowed", null],
      ["kms:Encrypt", "allowed", null],
      ["kms:ListKeys", "denied", "Unauthenticated"],
      ["sys:Seal", "intent", null],
      ["sys:Seal", "allowed", null],
      ["kms:Encrypt", "error", "Sealed"],
    ]);
    const text = readFileSync(x.file, "utf8");
    expect(text).not.toContain("vm-17");
    expect(text).not.toContain(x.root);
    expect(text).not.toContain(rootAccessor);
    expect(text).not.toContain(b64("secret"));
    const encrypt = requests.find((r) => r.action === "kms:Encrypt")!;
    const keyId = (await x.store.keys.getByName("k"))!.id;
    expect([encrypt.keyId, encrypt.keyVersion]).toEqual([keyId, 1]);
    // The investigator's view: the HMAC of a known value, under the trail's key, finds it.
    expect(encrypt.hmac).toEqual({ "context.vm": expected.vm });
    expect(encrypt.principal.id).toBe(`hmac:${expected.root}`);
    expect(requests.filter((r) => r.hmac?.["context.vm"] === expected.vm).map((r) => r.action)).toEqual(["kms:Encrypt"]);
    // The database and the file hold the same chain, and the fake sink too.
    expect(x.sink.lines).toEqual(lines(x));
  });

  it("verifies a clean trail of thousands of entries with signatures, and catches each kind of tampering", async () => {
    const x = await start();
    await x.call("POST", "/v1/keys", { name: "k" });
    for (let i = 0; i < 40; i++) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64(`m${i}-${j}`), context: { n: String(j) } })));
    }
    await x.app.auditLog.checkpoint();
    await x.call("GET", "/v1/keys/k");
    const publicKey = (await x.call("GET", "/v1/audit/public-key")).body.publicKey as string;
    const head = (await x.call("GET", "/v1/audit/head")).body as { seq: number; hash: string };
    const clean = await verifyFiles(x, { publicKey, expectHead: head });
    // After the checkpoint: the describe, public-key and head requests.
    expect(clean).toMatchObject({ ok: true, checkpoints: 1, unsignedTail: 3 });
    expect(clean.entries).toBeGreaterThanOrEqual(2000);
    // Group commit: concurrent requests shared writes.
    expect(x.sink.writes).toBeLessThan(clean.entries);

    const original = lines(x);
    const check = async (mutated: string[], opts: Parameters<typeof verifyTrail>[1] = { publicKey }) => {
      writeFileSync(x.file, mutated.join("\n") + "\n");
      const r = await verifyFiles(x, opts);
      writeFileSync(x.file, original.join("\n") + "\n");
      return r;
    };
    const edited = [...original];
    // A compact record's time (format 2 writes it as epoch ms).
    edited[100] = edited[100]!.replace(/"t":(\d+)/, (_m, t: string) => `"t":${Number(t) + 1}`);
    expect(edited[100]).not.toBe(original[100]);
    expect((await check(edited)).problem).toMatchObject({ seq: 101, what: expect.stringContaining("edited") });

    const deleted = original.filter((_, i) => i !== 200);
    expect((await check(deleted)).problem).toMatchObject({ seq: 202, what: expect.stringContaining("missing") });

    const swapped = [...original];
    [swapped[300], swapped[301]] = [swapped[301]!, swapped[300]!];
    expect((await check(swapped)).problem).toMatchObject({ seq: 302, what: expect.stringContaining("missing") });

    // A forged record inserted with a correct-looking hash and the next sequence numbers shifted.
    const forged = [...original.slice(0, 400), original[399]!.replace(/"(seq|s)":400,/, '"$1":401,'), ...original.slice(400)];
    const f = await check(forged);
    expect(f.ok).toBe(false);
    expect(f.problem!.seq).toBe(401);

    const truncated = original.slice(0, original.length - 5);
    expect((await check(truncated, { publicKey, expectHead: head })).problem?.what).toContain("truncated");

    // A whole trail replaced by a self-consistent forgery: its checkpoint is not signed by our key.
    const { privateKey: _p, publicKey: otherKey } = generateKeyPairSync("ed25519");
    expect((await verifyFiles(x, { publicKey: otherKey.export({ type: "spki", format: "pem" }).toString() })).problem?.what).toContain("different key");

    // Through the CLI's server mode path: the database trail matches, up to the head read first
    // (reading the trail is itself audited, so the trail keeps growing while it is read).
    const dbHead = (await x.call("GET", "/v1/audit/head")).body as { seq: number; hash: string };
    const fromDb = await verifyTrail(
      (async function* () {
        let after = 0;
        while (after < dbHead.seq) {
          const page = (await x.call("GET", `/v1/audit/lines?after=${after}&limit=5000`)).body;
          yield { lines: page.lines.filter((line: string) => lineHead(line)!.seq <= dbHead.seq), where: () => "db" };
          if (page.nextAfter === null) return;
          after = page.nextAfter;
        }
      })(),
      { publicKey, expectHead: dbHead, allowOpenTail: true },
    );
    expect(fromDb.ok).toBe(true);
  }, 60_000);

  it("fails closed on an erroring sink, keeps health, and resumes with no gap", async () => {
    const x = await start();
    await x.call("POST", "/v1/keys", { name: "k" });
    x.sink.mode = "error";
    const refused = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") });
    expect([refused.status, refused.body.error.code]).toEqual([503, "Unavailable"]);
    expect((await x.call("GET", "/v1/sys/health", undefined, null)).status).toBe(200);
    const create = await x.call("POST", "/v1/keys", { name: "not-created" });
    expect([create.status, create.body.error.code]).toEqual([503, "Unavailable"]);
    await x.app.alerts.settle();
    expect((await x.app.alerts.list(true)).map((a) => a.detector)).toEqual(["audit-sink"]);
    x.sink.mode = "ok";
    await new Promise((r) => setTimeout(r, 50));
    // Retried until the backoff lets it through.
    let ok = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("y") });
    for (let i = 0; ok.status !== 200 && i < 50; i++) ok = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("y") });
    expect(ok.status).toBe(200);
    // The refused CreateKey changed nothing: there is no such key, and the name is still free.
    expect((await x.call("GET", "/v1/keys/not-created")).body.error.code).toBe("NotFound");
    expect((await x.call("GET", "/v1/keys")).body.keys.map((k: { name: string }) => k.name)).toEqual(["k"]);
    const report = await verifyFiles(x);
    expect(report.ok).toBe(true);
    expect(x.sink.lines).toEqual(lines(x));
  });

  it("never refers back to a context whose record a refused batch spelt out", async () => {
    const x = await start();
    await x.call("POST", "/v1/keys", { name: "k" });
    await x.call("POST", "/v1/keys", { name: "k2" });
    await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") });
    // The first Encrypt on k2 spells its context out in a batch that no sink keeps.
    x.sink.failOnce((r) => r.action === "kms:Encrypt" && r.keyId !== null && r.keyId !== undefined);
    const before = lines(x).length;
    const refused = await x.call("POST", "/v1/keys/k2/encrypt", { plaintext: b64("x") });
    expect([refused.status, refused.body.error.code]).toEqual([503, "Unavailable"]);
    expect(lines(x)).toHaveLength(before);
    let ok = await x.call("POST", "/v1/keys/k2/encrypt", { plaintext: b64("y") });
    for (let i = 0; ok.status !== 200 && i < 50; i++) ok = await x.call("POST", "/v1/keys/k2/encrypt", { plaintext: b64("y") });
    expect(ok.status).toBe(200);
    // Its record spells the context out again ("x"), and every reference in the file resolves.
    const encrypts = lines(x).filter((l) => l.startsWith('{"v":2,') && l.includes('"x":{') && l.includes('"action":"kms:Encrypt"'));
    expect(encrypts).toHaveLength(2);
    const decoded = decodeLines(lines(x));
    expect(decoded.filter((r) => r.action === "kms:Encrypt" && r.outcome === "allowed")).toHaveLength(2);
    expect((await verifyFiles(x)).ok).toBe(true);
  });

  it("bounds the wait on a hung sink: requests fail, health answers, and the trail resumes in order", async () => {
    const x = await start({ timeoutMs: 200 });
    await x.call("POST", "/v1/keys", { name: "k" });
    x.sink.mode = "hang";
    const hung = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") });
    expect(hung.body.error.code).toBe("Unavailable");
    expect((await x.call("GET", "/v1/sys/health", undefined, null)).status).toBe(200);
    x.sink.unhang();
    let ok = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("y") });
    for (let i = 0; ok.status !== 200 && i < 50; i++) ok = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("y") });
    expect(ok.status).toBe(200);
    expect((await verifyFiles(x)).ok).toBe(true);
  });

  it("refuses each request waiting on a hung sink at its own deadline, one timer for all; nothing stays watched once records are durable", async () => {
    const x = await start({ timeoutMs: 400 });
    await x.call("POST", "/v1/keys", { name: "k" });
    const log = x.app.auditLog as unknown as { watched: unknown[]; watchedFrom: number; watchdog: unknown };
    for (let i = 0; i < 20; i++) expect((await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64(`w${i}`) })).status).toBe(200);
    expect([log.watched.length - log.watchedFrom, log.watchdog]).toEqual([0, undefined]);

    x.sink.mode = "hang";
    const t0 = performance.now();
    const first = x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("a") }).then((r) => ({ r, at: performance.now() - t0 }));
    await new Promise((r) => setTimeout(r, 200));
    const second = x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("b") }).then((r) => ({ r, at: performance.now() - t0 }));
    const [a, b] = await Promise.all([first, second]);
    expect([a.r.body.error.code, b.r.body.error.code]).toEqual(["Unavailable", "Unavailable"]);
    // Each at its own deadline (lower bounds only: a loaded machine can only make them later): the
    // second was not refused when the first's deadline came.
    expect(a.at).toBeGreaterThanOrEqual(390);
    expect(b.at).toBeGreaterThanOrEqual(590);
    x.sink.unhang();
    let ok = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("c") });
    for (let i = 0; ok.status !== 200 && i < 50; i++) ok = await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("c") });
    expect(ok.status).toBe(200);
    expect((await verifyFiles(x)).ok).toBe(true);
  });

  it("rotates files by size with the chain continuing, and survives the file being deleted", async () => {
    const x = await start({ maxBytes: 8192 });
    await x.call("POST", "/v1/keys", { name: "k" });
    for (let i = 0; i < 60; i++) await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64(`m${i}`) });
    expect(trailFiles(x).length).toBeGreaterThan(1);
    expect((await verifyFiles(x)).ok).toBe(true);
    unlinkSync(x.file);
    expect((await x.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("after") })).status).toBe(200);
    expect(readFileSync(x.file, "utf8").length).toBeGreaterThan(0);
    // The deleted part is a detectable gap for offline verification of the files that remain.
    // The rotated files verify up to where the deleted file began; the new file's first line is reported as following a gap.
    const gap = await verifyFiles(x);
    expect(gap).toMatchObject({ ok: false, problem: { code: "missing", where: `${x.file}:1` } });
    expect(gap.problem!.seq).toBeGreaterThan(gap.lastSeq! + 1);
  });

  it("continues the chain across a restart", async () => {
    const x = await start();
    await x.call("POST", "/v1/keys", { name: "k" });
    const dbPath = join(x.dir, "t.db");
    await x.app.close();
    const sink2 = new ControllableSink();
    sink2.lines.push(...x.sink.lines);
    const app2 = await buildApp({ store: new SqliteStore({ path: dbPath }), audit: { file: { path: x.file }, sinks: [sink2] } });
    h = { ...x, app: app2, sink: sink2 };
    await app2.http.inject({ method: "GET", url: "/v1/sys/seal-status" });
    const res = await app2.http.inject({ method: "POST", url: "/v1/keys", headers: { "content-type": "application/json", "x-tessera-token": x.root }, payload: JSON.stringify({ name: "k2" }) });
    expect(res.statusCode).toBe(503);
    const report = await verifyFiles(x);
    expect(report).toMatchObject({ ok: true });
    expect(decodeLines(lines(x)).at(-1)).toMatchObject({ action: "kms:CreateKey", errorCode: "Sealed" });
  });
});
