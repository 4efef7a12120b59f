/**
 * Finding 14: the CLI depended on @tessera/server (for offline audit verification and `tessera
 * server`), so a VM that installed the CLI to enrol built the server's native modules. The packed
 * protocol, client, audit and CLI packages now install into an empty directory with scripts off and
 * no server; the installed `tessera` runs, verifies a trail offline, and says that `tessera server`
 * needs the server package.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp } from "@tessera/server";
import { REPO } from "../helpers/server-process.js";

const PACKAGES = ["protocol", "client", "audit", "cli"];
const dir = mkdtempSync(join(tmpdir(), "tessera-cli-install-"));
const app = join(dir, "app");
// npm settings of an enclosing `npm test` must not leak into the install.
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_")));
let install: SpawnSyncReturns<string>;

const npm = (args: string[], cwd: string) => spawnSync("npm", args, { cwd, env, encoding: "utf8", timeout: 180_000 });
/** The installed `tessera`, run by its own `#!/usr/bin/env node` line with this test's Node first on PATH. */
const tessera = (args: string[]) =>
  spawnSync(join(app, "node_modules", ".bin", "tessera"), args, { cwd: app, encoding: "utf8", env: { ...env, PATH: `${dirname(process.execPath)}${delimiter}${env["PATH"] ?? ""}` } });

function filesUnder(root: string): string[] {
  return readdirSync(root, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** A trail written by a real server that shut down cleanly, and its public key. */
async function trail(): Promise<{ file: string; publicKey: string }> {
  const file = join(dir, "audit", "audit.jsonl");
  const server = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock: new ManualClock(Date.UTC(2026, 0, 5, 12)), audit: { database: false, file: { path: file } } });
  const call = async (url: string, body: unknown, token?: string) =>
    JSON.parse((await server.http.inject({ method: "POST", url, headers: { "content-type": "application/json", ...(token && { "x-tessera-token": token }) }, payload: JSON.stringify(body) })).body);
  const init = await call("/v1/sys/init", { shares: 1, threshold: 1 });
  await call("/v1/sys/unseal", { share: init.shares[0] });
  await call("/v1/keys", { name: "k" }, init.rootToken);
  const publicKey = await server.auditLog.publicKey();
  await server.close();
  writeFileSync(join(dir, "audit.pub"), publicKey);
  return { file, publicKey: join(dir, "audit.pub") };
}

beforeAll(() => {
  for (const p of PACKAGES) expect(existsSync(join(REPO, "packages", p, "dist", "index.js")), `packages/${p} is built (npm test runs tsc -b)`).toBe(true);
  const packed = join(dir, "packed");
  mkdirSync(packed);
  for (const p of PACKAGES) {
    const r = npm(["pack", "--ignore-scripts", "--silent", "--pack-destination", packed], join(REPO, "packages", p));
    expect(r.status, r.stderr).toBe(0);
  }
  mkdirSync(app);
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "enrol-a-vm", private: true }));
  const tarballs = readdirSync(packed).map((f) => join(packed, f));
  const flags = ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--no-save"];
  // From the npm cache alone when it holds everything; otherwise registry packages may come from the registry.
  install = npm([...flags, "--offline", ...tarballs], app);
  if (install.status !== 0) install = npm([...flags, "--prefer-offline", ...tarballs], app);
}, 240_000);

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the CLI installed on its own", () => {
  it("installs without the server and without any native module", () => {
    expect(install.status, install.stderr).toBe(0);
    const installed = readdirSync(join(app, "node_modules", "@tessera")).sort();
    expect(installed).toEqual(["audit", "cli", "client", "protocol"]);
    const cli = JSON.parse(readFileSync(join(app, "node_modules", "@tessera", "cli", "package.json"), "utf8"));
    expect(Object.keys(cli.dependencies)).not.toContain("@tessera/server");
    const natives = filesUnder(join(app, "node_modules")).filter((f) => f.endsWith(".node") || f.endsWith("binding.gyp"));
    expect(natives).toEqual([]);
  });

  it("runs `tessera --help` and verifies a trail offline", async () => {
    const help = tessera(["--help"]);
    expect([help.status, help.stdout.startsWith("Usage: tessera")]).toEqual([0, true]);
    const { file, publicKey } = await trail();
    const verify = tessera(["audit", "verify", "--file", file, "--public-key", publicKey, "--json"]);
    expect(verify.status, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, final: true, checkpoints: 1 });
  });

  it("runs the VM agent's commands (no native module: TPM sealing goes through tpm2-tools)", () => {
    const help = tessera(["agent", "run", "--help"]);
    expect([help.status, help.stdout]).toEqual([0, expect.stringContaining("--config <file>")]);
    const status = tessera(["agent", "status", "--config", join(dir, "missing.json")]);
    expect([status.status, status.stderr]).toEqual([2, expect.stringContaining("cannot read the agent configuration")]);
  });

  it("says `tessera server` needs the server package, with a non-zero exit", () => {
    const r = tessera(["server", "--dev"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("@tessera/server");
  });
});
