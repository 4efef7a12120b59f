/**
 * Finding 6: a trail copied after a clean shutdown and then cut short (its final checkpoint and a few
 * records removed) verified as OK. The checkpoint written at shutdown is now marked final under its
 * signature, and offline verification reports an open tail — records after the last checkpoint, or
 * a last checkpoint that is not final — unless told the trail is live (`--allow-open-tail`).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp, fileLines, verifyTrail, type TesseraApp } from "@tessera/server";
import { BIN, REPO } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-cut-trail-"));
const file = join(dir, "audit", "audit.jsonl");
let app: TesseraApp | undefined;
let publicKey = "";
let share = "";
let root = "";

async function open(): Promise<TesseraApp> {
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock: new ManualClock(Date.UTC(2026, 0, 5, 12)), audit: { database: false, file: { path: file } } });
  return app;
}
async function call(method: "GET" | "POST", url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await app!.http.inject({ method, url, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, payload: JSON.stringify(body ?? {}) });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}
const verifyLines = (lines: string[], options: Parameters<typeof verifyTrail>[1] = {}) => {
  const copy = join(dir, "copy.jsonl");
  writeFileSync(copy, lines.map((l) => `${l}\n`).join(""));
  return verifyTrail(fileLines([copy]), { publicKey, ...options });
};
const cli = (args: string[]) => spawnSync(process.execPath, [BIN, "audit", "verify", ...args], { cwd: REPO, encoding: "utf8" });

beforeAll(async () => {
  const first = await open();
  const init = await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 });
  [root, share] = [init.body.rootToken, init.body.shares[0]];
  await call("POST", "/v1/sys/unseal", { share });
  publicKey = (await call("GET", "/v1/audit/public-key", undefined, root)).body.publicKey;
  writeFileSync(join(dir, "audit.pub"), publicKey);
  await call("POST", "/v1/keys", { name: "k" }, root);
  await first.auditLog.checkpoint();
  for (let i = 0; i < 4; i++) await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, root);
  await first.close();
  app = undefined;
});
afterAll(async () => {
  await app?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("a trail cut short after a clean shutdown", () => {
  it("verifies clean when it ends in the final checkpoint", async () => {
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    expect(JSON.parse(lines.at(-1)!)).toMatchObject({ kind: "checkpoint", final: true });
    expect(JSON.parse(lines.at(-6)!)).toMatchObject({ kind: "checkpoint" });
    expect(JSON.parse(lines.at(-6)!)).not.toHaveProperty("final");
    expect(await verifyLines(lines)).toMatchObject({ ok: true, final: true, unsignedTail: 0 });
    const r = cli(["--file", file, "--public-key", join(dir, "audit.pub"), "--json"]);
    expect([r.status, JSON.parse(r.stdout).ok]).toEqual([0, true]);
  });

  it("reports an open tail when the final checkpoint and records before it are cut", async () => {
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const cut = lines.slice(0, -3); // the final checkpoint and two records
    const lastCheckpoint = JSON.parse(lines.at(-6)!).seq as number;
    expect(await verifyLines(cut)).toMatchObject({ ok: false, final: false, unsignedTail: 2, lastCheckpointSeq: lastCheckpoint, problem: { code: "open-tail", seq: lastCheckpoint + 2 } });
    // A live trail may be open.
    expect(await verifyLines(cut, { allowOpenTail: true })).toMatchObject({ ok: true, final: false, unsignedTail: 2 });

    writeFileSync(join(dir, "cut.jsonl"), cut.map((l) => `${l}\n`).join(""));
    const r = cli(["--file", join(dir, "cut.jsonl"), "--public-key", join(dir, "audit.pub"), "--json"]);
    expect([r.status, JSON.parse(r.stdout).problem.code]).toEqual([1, "open-tail"]);
    expect(cli(["--file", join(dir, "cut.jsonl"), "--public-key", join(dir, "audit.pub"), "--allow-open-tail"]).status).toBe(0);
  });

  it("reports an open tail when the trail is cut right after a checkpoint that is not final", async () => {
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const cut = lines.slice(0, -5);
    expect(await verifyLines(cut)).toMatchObject({ ok: false, unsignedTail: 0, problem: { code: "open-tail" } });
  });

  it("catches a checkpoint marked final after the fact (the mark is signed)", async () => {
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const cut = lines.slice(0, -5);
    const { hash: _h, ...body } = JSON.parse(cut.at(-1)!);
    const { prev, ...rest } = body;
    const forged = JSON.stringify({ ...rest, final: true, prev });
    const { createHash } = await import("node:crypto");
    cut[cut.length - 1] = `${forged.slice(0, -1)},"hash":"${createHash("sha256").update(forged).digest("hex")}"}`;
    expect((await verifyLines(cut)).problem).toMatchObject({ code: "checkpoint-signature" });
  });

  it("chains records after a final checkpoint on normally at the next start", async () => {
    await open();
    await call("POST", "/v1/sys/unseal", { share });
    expect((await call("POST", "/v1/keys/k/encrypt", { plaintext: "eA==" }, root)).status).toBe(200);
    await app!.close();
    app = undefined;
    const lines = readFileSync(file, "utf8").trimEnd().split("\n");
    const report = await verifyLines(lines);
    expect(report).toMatchObject({ ok: true, final: true, checkpoints: 3 });
  });
});
