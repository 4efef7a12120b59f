/**
 * Finding 5b, after a crash: a torn tail is repaired at start, and the repair is itself audited.
 *
 * A crash during a write can leave the trail file ending in a partial line, in bytes that are not a
 * record (NULs), or in lines that do not chain. Before the fix the server appended after them and
 * the trail never verified again. Now the start-up path cuts the file back to its last complete
 * record (keeping the cut bytes beside it), copies in records another sink holds that the file
 * missed, and writes a `repair` record saying so before anything else.
 */
import { createHash } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp, fileLines, verifyTrail, type TesseraApp } from "@tessera/server";

let dir = "";
let app: TesseraApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  rmSync(dir, { recursive: true, force: true });
});

const file = () => join(dir, "audit", "audit.jsonl");
const records = () => readFileSync(file(), "utf8").trimEnd().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);

async function open(database: boolean): Promise<TesseraApp> {
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock: new ManualClock(Date.UTC(2026, 0, 5, 12)), audit: { database, file: { path: file() } } });
  return app;
}

async function call(method: "GET" | "POST", url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await app!.http.inject({ method, url, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, payload: JSON.stringify(body ?? {}) });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

/** A server that ran, wrote some records and shut down cleanly; returns its root token and unseal share. */
async function history(database: boolean): Promise<{ root: string; share: string }> {
  dir = mkdtempSync(join(tmpdir(), "tessera-torn-tail-"));
  await open(database);
  const init = await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 });
  await call("POST", "/v1/sys/unseal", { share: init.body.shares[0] });
  await call("POST", "/v1/keys", { name: "k" }, init.body.rootToken);
  for (let i = 0; i < 5; i++) await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, init.body.rootToken);
  await app!.close();
  app = undefined;
  return { root: init.body.rootToken, share: init.body.shares[0] };
}

/** Restarts, unseals, makes one request and shuts down cleanly: the trail must then verify clean. */
async function restartAndVerify(s: { root: string; share: string }, database: boolean) {
  await open(database);
  await call("POST", "/v1/sys/unseal", { share: s.share });
  expect((await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, s.root)).status).toBe(200);
  await app!.close();
  app = undefined;
  return verifyTrail(fileLines([file()]));
}

describe("torn audit tail after a crash", () => {
  it("cuts a final partial line back to the last complete record, keeps the cut bytes and records the repair", async () => {
    const s = await history(false);
    const clean = readFileSync(file());
    const lastSeq = records().at(-1)!["seq"] as number;
    // A crash in the middle of writing the next record (and the one after it).
    const torn = Buffer.from(`{"seq":${lastSeq + 1},"time":"2026-01-05T12:00:00.000Z","kind":"request","requestId":"r","principal":null,"source":"x","action":"kms:Encrypt","keyId":null,"keyVersion":null,"outcome":`);
    appendFileSync(file(), torn);

    await open(false);
    const after = readFileSync(file());
    expect(after.subarray(0, clean.length).equals(clean)).toBe(true);
    const repair = records().at(-1)!;
    expect(repair).toMatchObject({
      seq: lastSeq + 1,
      kind: "repair",
      sink: "file",
      repair: "cut-torn-tail",
      afterSeq: lastSeq,
      bytes: torn.length,
      sha256: createHash("sha256").update(torn).digest("hex"),
      savedAs: `torn-audit.jsonl.${String(lastSeq).padStart(12, "0")}`,
    });
    expect(readFileSync(join(dir, "audit", repair["savedAs"] as string)).equals(torn)).toBe(true);
    await app!.close();
    app = undefined;

    const report = await restartAndVerify(s, false);
    expect(report).toMatchObject({ ok: true, final: true, repairs: 1 });
  });

  it("cuts NUL padding and complete lines that do not chain", async () => {
    const s = await history(false);
    const lines = readFileSync(file(), "utf8").trimEnd().split("\n");
    const lastSeq = lines.length;
    // What the old sink left: NULs from a truncate to a stale size, then a record that does not chain.
    appendFileSync(file(), Buffer.concat([Buffer.alloc(300), Buffer.from(`\n${lines[2]}\n`)]));
    await open(false);
    expect(records().at(-1)).toMatchObject({ kind: "repair", repair: "cut-torn-tail", afterSeq: lastSeq, bytes: 301 + lines[2]!.length + 1 });
    await app!.close();
    app = undefined;
    expect(await restartAndVerify(s, false)).toMatchObject({ ok: true, final: true, repairs: 1 });
  });

  it("copies records the database holds and the file missed (a crash between the two writes), then verifies", async () => {
    const s = await history(true);
    const lines = readFileSync(file(), "utf8").trimEnd().split("\n");
    // The database committed the last two records; the file got only part of the first of them.
    writeFileSync(file(), lines.slice(0, -2).join("\n") + "\n" + lines.at(-2)!.slice(0, 40));
    await open(true);
    const repaired = records();
    expect(repaired.slice(0, lines.length).map((r) => JSON.stringify(r))).toEqual(lines.map((l) => JSON.stringify(JSON.parse(l))));
    expect(repaired.slice(lines.length)).toMatchObject([
      { kind: "repair", sink: "file", repair: "cut-torn-tail", afterSeq: lines.length - 2, bytes: 40 },
      { kind: "repair", sink: "file", repair: "copied-missing", afterSeq: lines.length - 2, bytes: Buffer.byteLength(lines.slice(-2).join("\n") + "\n") },
    ]);
    await app!.close();
    app = undefined;
    const report = await restartAndVerify(s, true);
    expect(report).toMatchObject({ ok: true, final: true, repairs: 2 });
  });

  it("leaves a clean trail alone", async () => {
    const s = await history(false);
    const clean = readFileSync(file());
    await open(false);
    expect(readFileSync(file()).equals(clean)).toBe(true);
    await app!.close();
    app = undefined;
    expect(await restartAndVerify(s, false)).toMatchObject({ ok: true, final: true, repairs: 0 });
  });
});
