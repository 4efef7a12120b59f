/**
 * Finding 5b, with injected short writes: the file sink writes until every byte of a batch is
 * written or refuses the whole batch, and leaves the file exactly at the end of the last durable
 * batch — never a torn record, never NUL padding — and a request whose record is not completely
 * durable is never answered 200.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSink, ManualClock, SqliteStore, buildApp, fileLines, verifyTrail, type SinkBatch, type TesseraApp } from "@tessera/server";
import { shortWriteOpener } from "../fakes/short-write-file.js";

const dirs: string[] = [];
let app: TesseraApp | undefined;
afterEach(async () => {
  await app?.close();
  app = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "tessera-short-write-"));
  dirs.push(dir);
  return join(dir, "audit", "audit.jsonl");
}

const batch = (from: number, n: number, pad = ""): SinkBatch => ({
  records: Array.from({ length: n }, (_, i) => ({ seq: from + i, time: "2026-01-05T12:00:00.000Z", line: `{"seq":${from + i},"pad":"${pad}${"x".repeat(40)}"}` })),
});
const text = (b: SinkBatch) => b.records.map((r) => `${r.line}\n`).join("");

describe("audit file sink and short writes", () => {
  it("writes a batch in full when every write call is short", async () => {
    const path = tempFile();
    const opener = shortWriteOpener();
    const sink = new FileSink(path, 1 << 20, () => undefined, opener.open);
    await sink.lastLine();
    opener.current().maxWrite = 7;
    const a = batch(1, 5);
    await sink.write(a);
    expect(readFileSync(path, "utf8")).toBe(text(a));
    expect(opener.current().writes).toBeGreaterThan(text(a).length / 7 - 1);
    await sink.close();
  });

  it("refuses a batch that runs out of space part-way and leaves the file exactly at the batch start", async () => {
    const path = tempFile();
    const opener = shortWriteOpener();
    const sink = new FileSink(path, 1 << 20, () => undefined, opener.open);
    const a = batch(1, 3);
    await sink.write(a);
    opener.current().spaceLeft = 30;
    await expect(sink.write(batch(4, 3))).rejects.toMatchObject({ code: "ENOSPC" });
    expect(readFileSync(path).equals(Buffer.from(text(a)))).toBe(true);
    // A second failure must not pad the file either (the old sink truncated to a stale, larger size).
    await expect(sink.write(batch(4, 3))).rejects.toMatchObject({ code: "ENOSPC" });
    expect(readFileSync(path).equals(Buffer.from(text(a)))).toBe(true);
    opener.current().spaceLeft = Number.POSITIVE_INFINITY;
    const c = batch(4, 2);
    await sink.write(c);
    expect(readFileSync(path, "utf8")).toBe(text(a) + text(c));
    await sink.close();
  });

  it("cuts a failed batch's bytes before the next batch when cutting back failed the first time", async () => {
    const path = tempFile();
    const opener = shortWriteOpener();
    const sink = new FileSink(path, 1 << 20, () => undefined, opener.open);
    const a = batch(1, 2);
    await sink.write(a);
    Object.assign(opener.current(), { spaceLeft: 25, truncateFails: true });
    await expect(sink.write(batch(3, 2))).rejects.toMatchObject({ code: "ENOSPC" });
    // The torn bytes are still there, and the sink knows it.
    expect(readFileSync(path).length).toBe(Buffer.byteLength(text(a)) + 25);
    // Still failing to cut back: the next batch is refused rather than written after the torn bytes.
    opener.current().spaceLeft = Number.POSITIVE_INFINITY;
    await expect(sink.write(batch(3, 2))).rejects.toMatchObject({ code: "EIO" });
    opener.current().truncateFails = false;
    const c = batch(3, 2);
    await sink.write(c);
    expect(readFileSync(path, "utf8")).toBe(text(a) + text(c));
    await sink.close();
  });

  it("answers Unavailable, never 200, for a request whose record was only partly written, and the trail stays whole", async () => {
    const path = tempFile();
    const opener = shortWriteOpener();
    app = await buildApp({
      store: new SqliteStore({ path: join(path, "..", "..", "t.db") }),
      clock: new ManualClock(Date.UTC(2026, 0, 5, 12)),
      audit: { sinks: [new FileSink(path, 1 << 20, () => undefined, opener.open)], timeoutMs: 5000 },
    });
    const call = async (method: "GET" | "POST", url: string, body?: unknown, token?: string) => {
      const res = await app!.http.inject({ method, url, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, payload: JSON.stringify(body ?? {}) });
      return { status: res.statusCode, body: JSON.parse(res.body) };
    };
    const init = await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 });
    const root = init.body.rootToken as string;
    expect((await call("POST", "/v1/sys/unseal", { share: init.body.shares[0] })).status).toBe(200);
    expect((await call("POST", "/v1/keys", { name: "k" }, root)).status).toBe(201);
    const before = readFileSync(path);

    Object.assign(opener.current(), { maxWrite: 50, spaceLeft: 120 });
    const refused = await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, root);
    expect([refused.status, refused.body.error.code]).toEqual([503, "Unavailable"]);
    expect(readFileSync(path).equals(before)).toBe(true);

    Object.assign(opener.current(), { maxWrite: 50, spaceLeft: Number.POSITIVE_INFINITY });
    let ok = await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, root);
    for (let i = 0; ok.status !== 200 && i < 50; i++) ok = await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, root);
    expect(ok.status).toBe(200);
    const report = await verifyTrail(fileLines([path]), { allowOpenTail: true });
    expect(report).toMatchObject({ ok: true });
    // The database sink rolled the refused batch back too: it holds the same chain, to the same head.
    const head = (await call("GET", "/v1/audit/head", undefined, root)).body;
    expect(head).toEqual({ seq: report.lastSeq, hash: report.headHash });
  });
});
