/**
 * What a new user hit: while unseal shares were pending, `tessera status` and
 * `GET /v1/sys/seal-status` reported progress 0/3 — only the answer to the unseal call itself counted
 * the shares. Status now reports the shares the seal holds, on a 3-of-5 server.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { api, freePort, startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-unseal-progress-"));
let server: ServerProcess;
let shares: string[];

beforeAll(async () => {
  const port = await freePort();
  const config = join(dir, "tessera.json");
  writeFileSync(config, JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage: { sqlite: { path: join(dir, "tessera.db") } } }));
  server = await startServer(["--config", config], { port, ready: "listening" });
  const init = await api(server.url, undefined, "POST", "/v1/sys/init", { shares: 5, threshold: 3 });
  expect(init.status).toBe(200);
  shares = init.body.shares;
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const sealStatus = async () => (await api(server.url, undefined, "GET", "/v1/sys/seal-status")).body;
const cliStatus = async () => {
  const r = await runCli(["status", "--json"], { address: server.url });
  expect(r.code).toBe(2); // sealed
  return JSON.parse(r.stdout);
};

describe("unseal progress on a 3-of-5 server", () => {
  it("seal-status and `tessera status` count the shares submitted so far", async () => {
    expect(await sealStatus()).toMatchObject({ sealed: true, threshold: 3, shares: 5, progress: 0 });

    expect((await runCli(["operator", "unseal"], { address: server.url, input: shares[0]! })).code).toBe(0);
    expect(await sealStatus()).toMatchObject({ sealed: true, progress: 1 });
    expect(await cliStatus()).toMatchObject({ sealed: true, progress: 1, threshold: 3 });

    expect((await api(server.url, undefined, "POST", "/v1/sys/unseal", { share: shares[3] })).body.progress).toBe(2);
    expect(await sealStatus()).toMatchObject({ sealed: true, progress: 2 });
    const text = await runCli(["status"], { address: server.url });
    expect(text.stdout).toMatch(/^Unseal Progress\s+2\/3$/m);
  });

  it("a reset, and the unseal that completes the threshold, bring progress back to 0", async () => {
    expect((await api(server.url, undefined, "POST", "/v1/sys/unseal", { reset: true })).status).toBe(200);
    expect(await sealStatus()).toMatchObject({ sealed: true, progress: 0 });
    for (const share of [shares[4], shares[1]]) await api(server.url, undefined, "POST", "/v1/sys/unseal", { share });
    expect(await sealStatus()).toMatchObject({ sealed: true, progress: 2 });
    expect((await api(server.url, undefined, "POST", "/v1/sys/unseal", { share: shares[2] })).body).toMatchObject({ sealed: false, progress: 0 });
    expect(await sealStatus()).toMatchObject({ sealed: false, progress: 0 });
  });
});
