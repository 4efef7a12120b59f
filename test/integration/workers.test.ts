/**
 * A server with `workers: 2` (one primary, two worker processes on one listener and one SQLite
 * file), driven over fresh connections so that requests land on both workers (the primary hands
 * connections out round-robin): a change made through one worker is refused by every worker on the
 * next request, unseal shares given to either worker unseal both, a worker killed with -9 is
 * restarted unsealed, SIGTERM stops everything cleanly, and both audit chains verify.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeLines } from "../helpers/audit-records.js";
import { runCli } from "../helpers/cli-process.js";
import { answering, fresh } from "../helpers/fresh-http.js";
import { createDatabase, sharedPostgres } from "../helpers/postgres.js";
import { freePort, startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-workers-"));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

function workerPids(primary: number): number[] {
  const out = execFileSync("ps", ["-o", "pid=", "--ppid", String(primary)], { encoding: "utf8" });
  return out.split("\n").map((l) => Number(l.trim())).filter((p) => p > 0);
}

describe("a server with two workers", () => {
  it("shares unseal progress, key state and seal across workers, survives kill -9 of one, and stops cleanly with two verifiable chains", async () => {
    mkdirSync(join(dir, "data"));
    const config = join(dir, "tessera.json");
    const port = await freePort();
    writeFileSync(config, JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage: { sqlite: { path: join(dir, "data", "tessera.db") } }, workers: 2, log_level: "warn" }));
    server = await startServer(["--config", config], { port, ready: "listening", readyTimeoutMs: 60_000 });
    const url = server.url;
    // Both workers are up once both have answered.
    for (let i = 0; i < 100 && (await answering(url, 2)).size < 2; i++) await new Promise((r) => setTimeout(r, 200));

    const init = await fresh(url, "POST", "/v1/sys/init", { shares: 3, threshold: 2 });
    expect(init.status).toBe(200);
    const token: string = init.body.rootToken;
    // Initialised through one worker: the other knows at its next request.
    for (const [, sealed] of await answering(url, 4)) expect(sealed).toBe(true);
    expect([...(await answering(url, 4)).keys()].sort()).toEqual(["w1", "w2"]);

    // One share each through consecutive connections (two workers, round-robin): together they unseal both.
    expect((await fresh(url, "POST", "/v1/sys/unseal", { share: init.body.shares[2] })).body.progress).toBe(1);
    expect((await fresh(url, "POST", "/v1/sys/unseal", { share: init.body.shares[0] })).body.sealed).toBe(false);
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });

    expect((await fresh(url, "POST", "/v1/keys", { name: "shared" }, token)).status).toBe(201);
    for (let i = 0; i < 4; i++) expect((await fresh(url, "POST", "/v1/keys/shared/encrypt", { plaintext: "aGk=" }, token)).status).toBe(200);
    expect((await fresh(url, "POST", "/v1/keys/shared/disable", {}, token)).status).toBe(200);
    // The answer came after both workers took the change in: every next request, on either, is refused.
    for (let i = 0; i < 8; i++) expect((await fresh(url, "POST", "/v1/keys/shared/encrypt", { plaintext: "aGk=" }, token)).body.error?.code).toBe("Disabled");
    expect((await fresh(url, "POST", "/v1/keys/shared/enable", {}, token)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await fresh(url, "POST", "/v1/keys/shared/encrypt", { plaintext: "aGk=" }, token)).status).toBe(200);

    // Sealed through one worker: both sealed; unsealed again through whichever.
    expect((await fresh(url, "POST", "/v1/sys/seal", {}, token)).body.sealed).toBe(true);
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: true, w2: true });
    await fresh(url, "POST", "/v1/sys/unseal", { share: init.body.shares[1] });
    await fresh(url, "POST", "/v1/sys/unseal", { share: init.body.shares[2] });
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });

    // kill -9 one worker: the other goes on serving; the primary restarts it, unsealed by the shares it kept.
    const pids = workerPids(server.proc.pid!);
    expect(pids).toHaveLength(2);
    process.kill(pids[1]!, "SIGKILL");
    // Once the primary has reaped it, it hands no more connections to it (one handed over just before
    // the kill is lost with it, as a request in flight on a crashed server is).
    for (let i = 0; i < 100 && workerPids(server.proc.pid!).includes(pids[1]!); i++) await new Promise((r) => setTimeout(r, 100));
    for (let i = 0; i < 4; i++) expect((await fresh(url, "POST", "/v1/keys/shared/encrypt", { plaintext: "aGk=" }, token)).status).toBe(200);
    let restarted = new Map<string, boolean>();
    for (let i = 0; i < 150; i++) {
      const now = workerPids(server.proc.pid!);
      if (now.length === 2 && !now.includes(pids[1]!)) {
        restarted = await answering(url, 4);
        if (restarted.size === 2) break;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(Object.fromEntries(restarted)).toEqual({ w1: false, w2: false });
    expect(server.output()).toMatch(/worker \d \(pid \d+\) exited \(signal SIGKILL\); restarting it/);
    for (let i = 0; i < 4; i++) expect((await fresh(url, "POST", "/v1/keys/shared/encrypt", { plaintext: "aGk=" }, token)).status).toBe(200);

    // SIGTERM to the primary: every worker closes (final checkpoint in its trail), then the primary exits 0.
    const stillRunning = workerPids(server.proc.pid!);
    expect(await server.stop()).toBe(0);
    for (const pid of stillRunning) expect(() => process.kill(pid, 0)).toThrow(/ESRCH/);
    const trails = ["audit-w1.jsonl", "audit-w2.jsonl"].map((f) => join(dir, "data", "audit", f));
    for (const t of trails) expect(JSON.parse(readFileSync(t, "utf8").trimEnd().split("\n").at(-1)!)).toMatchObject({ kind: "checkpoint", final: true });
    const verify = await runCli(["audit", "verify", "--json", ...trails.flatMap((t) => ["--file", t])], { address: url });
    expect(verify.code, verify.stderr).toBe(0);
    const report = JSON.parse(verify.stdout);
    expect(report.ok).toBe(true);
    expect(report.trails.map((t: { trail: string; ok: boolean }) => [t.trail, t.ok])).toEqual(trails.map((t) => [t, true]));
    // The restarted worker recorded, in its own chain and before serving, that it replaced a killed one.
    const notices = trails.flatMap((file) => decodeLines(readFileSync(file, "utf8").split("\n")).map((r) => Object.assign(r, { file }))).filter((r) => r.action === "sys:WorkerRestarted");
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ outcome: "allowed", principal: { id: "tessera:system" }, detail: { previousExit: "signal SIGKILL" } });
    expect(notices[0]!.file).toBe(join(dir, "data", "audit", `audit-${notices[0]!.detail.worker}.jsonl`));
  }, 180_000);

  it("on PostgreSQL: each worker a node (w1, w2 of the node id), changes in effect on both, every chain verifies", async () => {
    const pg = sharedPostgres();
    const database = await createDatabase(pg, "workers");
    const pgDir = join(dir, "pg");
    mkdirSync(pgDir);
    writeFileSync(join(pgDir, "pgpass"), `${pg.password}\n`, { mode: 0o600 });
    const port = await freePort();
    const config = join(pgDir, "tessera.json");
    writeFileSync(
      config,
      JSON.stringify({
        listener: { address: `127.0.0.1:${port}`, insecure_http: true },
        storage: { postgres: { url: pg.url(database), password_file: join(pgDir, "pgpass"), pool_size: 3 } },
        node_id: "node-a",
        audit: { database: true },
        workers: 2,
        log_level: "warn",
      }),
    );
    const pgServer = await startServer(["--config", config], { port, ready: "listening", readyTimeoutMs: 60_000 });
    try {
      const url = pgServer.url;
      const init = await fresh(url, "POST", "/v1/sys/init", { shares: 1, threshold: 1 });
      expect(init.status).toBe(200);
      const token: string = init.body.rootToken;
      expect((await fresh(url, "POST", "/v1/sys/unseal", { share: init.body.shares[0] })).body.sealed).toBe(false);
      let seen = new Map<string, boolean>();
      for (let i = 0; i < 150 && seen.size < 2; i++) {
        seen = await answering(url, 2);
        if (seen.size < 2) await new Promise((r) => setTimeout(r, 200));
      }
      expect(Object.fromEntries(seen)).toEqual({ "node-a.w1": false, "node-a.w2": false });

      expect((await fresh(url, "POST", "/v1/keys", { name: "pg-shared" }, token)).status).toBe(201);
      expect((await fresh(url, "POST", "/v1/keys/pg-shared/disable", {}, token)).status).toBe(200);
      for (let i = 0; i < 6; i++) expect((await fresh(url, "POST", "/v1/keys/pg-shared/encrypt", { plaintext: "aGk=" }, token)).body.error?.code).toBe("Disabled");

      const verify = await runCli(["audit", "verify", "--server", "--json"], { address: url, token });
      expect(verify.code, verify.stdout + verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout).nodes.map((n: { node: string; ok: boolean }) => [n.node, n.ok])).toEqual([
        ["node-a.w1", true],
        ["node-a.w2", true],
      ]);
    } finally {
      expect(await pgServer.stop()).toBe(0);
    }
  }, 180_000);
});
