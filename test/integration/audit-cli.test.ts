/** `tessera audit verify|query|hash|public-key` against a real dev server writing a trail file. */
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "audit-cli-root-token";
const dir = mkdtempSync(join(tmpdir(), "tessera-audit-cli-"));
const trail = join(dir, "trail.jsonl");
let server: ServerProcess;

const tessera = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, TESSERA_ADDR: server.url, TESSERA_TOKEN: ROOT }, timeout: 30_000 });

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT, "--audit-file", trail]);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera audit", () => {
  it("verifies the trail from the file and from the server, finds tampering, queries and hashes", () => {
    expect(tessera(["key", "create", "audited"]).status).toBe(0);
    expect(tessera(["encrypt", "--key", "audited", "--context", "vm=vm-9", "hello"]).status).toBe(0);
    expect(tessera(["key", "show", "nope"]).status).toBe(1);
    writeFileSync(join(dir, "audit.pub"), tessera(["audit", "public-key"]).stdout);

    // The server is running: its trail does not end in a final checkpoint yet.
    const open = tessera(["audit", "verify", "--file", trail, "--public-key", join(dir, "audit.pub"), "--json"]);
    expect([open.status, JSON.parse(open.stdout).problem.code]).toEqual([1, "open-tail"]);
    const ok = tessera(["audit", "verify", "--file", trail, "--public-key", join(dir, "audit.pub"), "--allow-open-tail", "--json"]);
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ ok: true });
    expect(tessera(["audit", "verify", "--server"]).stdout).toMatch(/^OK: \d+ entries/);

    const original = readFileSync(trail, "utf8");
    writeFileSync(trail, original.replace('"outcome":"error"', '"outcome":"allowed"'));
    const bad = tessera(["audit", "verify", "--file", trail]);
    expect(bad.status).toBe(1);
    expect(bad.stdout).toMatch(/^FAILED at seq \d+ \(.*trail\.jsonl:\d+\): content does not match its hash/);
    writeFileSync(trail, original);

    const hmac = tessera(["audit", "hash", "vm-9"]).stdout.trim();
    expect(original).toContain(hmac);
    expect(original).not.toContain("vm-9");
    const q = JSON.parse(tessera(["audit", "query", "--action", "kms:Encrypt", "--json"]).stdout);
    expect(q.records).toHaveLength(1);
    expect(q.records[0].hmac["context.vm"]).toBe(hmac);
    expect(tessera(["audit", "query", "--outcome", "error"]).stdout).toContain("kms:DescribeKey");
  });

  it("finds one request's records by the request id its answer carried", async () => {
    const refused = tessera(["key", "show", "no-such-key", "--json"]);
    expect(refused.status).toBe(1);
    const id = JSON.parse(refused.stderr).error.requestId as string;
    const one = JSON.parse(tessera(["audit", "query", "--request-id", id, "--json"]).stdout);
    expect(one.records).toHaveLength(1);
    expect(one.records[0]).toMatchObject({ requestId: id, action: "kms:DescribeKey", outcome: "error", errorCode: "NotFound" });
    // A success's id comes in the answer's X-Request-Id header.
    const res = await fetch(`${server.url}/v1/keys/audited`, { headers: { "x-tessera-token": ROOT } });
    expect(res.status).toBe(200);
    const ok = JSON.parse(tessera(["audit", "query", "--request-id", res.headers.get("x-request-id")!, "--json"]).stdout);
    expect(ok.records.map((r: { action: string; outcome: string }) => [r.action, r.outcome])).toEqual([["kms:DescribeKey", "allowed"]]);
    expect(JSON.parse(tessera(["audit", "query", "--request-id", "not-a-request", "--json"]).stdout).records).toEqual([]);
  });

  it("verifies a trail directory given as --file: the trail files in it, not what a crash repair or a compression left beside them", () => {
    expect(tessera(["encrypt", "--key", "audited", "again"]).status).toBe(0);
    const copy = join(dir, "copy-of-audit-dir");
    mkdirSync(copy);
    copyFileSync(trail, join(copy, "trail.jsonl"));
    writeFileSync(join(copy, "torn-trail.jsonl.000000000007"), '{"v":2,"s":7,"torn');
    writeFileSync(join(copy, "trail.jsonl.000000000003.gz.tmp"), "partial");
    const r = tessera(["audit", "verify", "--file", copy, "--allow-open-tail", "--json"]);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, firstSeq: 1 });
    const empty = join(dir, "empty-audit-dir");
    mkdirSync(empty);
    const none = tessera(["audit", "verify", "--file", empty]);
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("no trail files in");
  });
});
