/**
 * The benchmarks behind docs/performance.md's aims run end to end — tiny sizes, a second or so of
 * load, results in a temporary directory — so that a change to the server or the store cannot leave
 * one broken until the next time someone measures (scale.mjs's seeding once broke that way). Each
 * bench already fails on any refused or failed request, on a non-2xx answer and on a check it makes
 * itself; this asserts that it finishes, reports its aims and writes its results. It times nothing:
 * the numbers at these sizes mean nothing.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO } from "../helpers/server-process.js";

const results = mkdtempSync(join(tmpdir(), "tessera-bench-smoke-"));
afterAll(() => rmSync(results, { recursive: true, force: true }));

function bench(script: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(REPO, "bench", script)], {
      cwd: REPO,
      env: { ...process.env, BENCH_RESULTS_DIR: results, BENCH_CONNECTIONS: "4", BENCH_SECONDS: "1", BENCH_ROUNDS: "1", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, out }));
  });
}

const aimsOf = (file: string) => (JSON.parse(readFileSync(join(results, file), "utf8")) as { aims: { aim: string; value: number; met: boolean }[] }).aims;

describe("the benchmarks run", () => {
  it("run.mjs: bare, durable baseline, the floor, Tessera with root and restricted tokens, and two workers", async () => {
    const r = await bench("run.mjs", { BENCH_ONLY: "encrypt", BENCH_WARMUP_SECONDS: "0", BENCH_WORKERS: "2" });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^aims:$/m);
    const latest = JSON.parse(readFileSync(join(results, "latest.json"), "utf8")) as { floor?: { cpuUsPerRequest: number; ratioToBare: number } };
    const aims = aimsOf("latest.json");
    expect(aims.map((a) => a.aim)).toEqual(expect.arrayContaining([expect.stringMatching(/^encrypt \(root\) throughput >= 0\.5 x bare/), expect.stringMatching(/^encrypt 2 workers >= 1\.5 x 1 worker/)]));
    for (const a of aims) expect(Number.isFinite(a.value), a.aim).toBe(true);
    // The floor answered (its size is checked against Tessera's before the load) and is summarised.
    expect(r.out).toMatch(/^floor: Fastify, XAES, durable record @4 … \d+ req\/s/m);
    expect(Number.isFinite(latest.floor?.cpuUsPerRequest) && Number.isFinite(latest.floor?.ratioToBare), JSON.stringify(latest.floor)).toBe(true);
  }, 180_000);

  it("aws.mjs: AWS Encrypt signed by the official SDK beside native Encrypt", async () => {
    const r = await bench("aws.mjs", {});
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/(MET|MISS) +AWS throughput >= 0\.85 x native/);
  }, 180_000);

  it("scale.mjs: seeds a store through the server's own code, starts both servers, encrypts with seeded keys", async () => {
    const r = await bench("scale.mjs", {
      BENCH_SCALE_KEYS: "300",
      BENCH_SCALE_WORKING_SET: "30",
      BENCH_SCALE_SMALL: "10",
      BENCH_SCALE_BATCH: "100",
      BENCH_WARMUP_SECONDS: "0",
    });
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/seeding: 10 keys .*; 300 keys/);
    expect(aimsOf("scale.json").map((a) => a.aim)).toEqual([expect.stringMatching(/^encrypt throughput 300 keys \/ 10 keys >= 0\.9/), expect.stringMatching(/^start-up with 300 keys/)]);
  }, 180_000);
});
