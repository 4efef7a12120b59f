/**
 * What a new user hit: `TOKEN=$(tessera login join … --json | jq -r .token)` set TOKEN to `null` and
 * went on, because a failed command printed its error body on stdout, where jq found no `.token`.
 * A failure now writes nothing to stdout — under `--json` the error body goes to stderr — and exits
 * non-zero, for every command (one reporting path; several commands are checked here).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync, chmodSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { BIN, freePort, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "json-errors-root-token";
const dir = mkdtempSync(join(tmpdir(), "tessera-json-errors-"));
let server: ServerProcess;

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  expect((await runCli(["key", "create", "k"], { address: server.url, token: ROOT })).code).toBe(0);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a failed command under --json", () => {
  const failing: [string, string[], string][] = [
    ["login join with a bad join token", ["login", "join", "--token", "tsj_not-a-join-token", "--dir", join(dir, "vm"), "--json"], "Unauthenticated"],
    ["login approle with a bad secret id", ["login", "approle", "--role-id", "nope", "--secret-id", "nope", "--json"], "Unauthenticated"],
    ["key show of a missing key", ["key", "show", "missing", "--json"], "NotFound"],
    ["encrypt under a missing key", ["encrypt", "--key", "missing", "--json", "x"], "NotFound"],
    ["decrypt of garbage", ["decrypt", "--json", "bm90IGEgY2lwaGVydGV4dA=="], "InvalidCiphertext"],
    ["policy get of a missing policy", ["policy", "get", "missing", "--json"], "NotFound"],
    ["token lookup of a missing accessor", ["token", "lookup", "--accessor", "acc_missing", "--json"], "NotFound"],
    ["key create of an existing key", ["key", "create", "k", "--json"], "AlreadyExists"],
  ];

  it.each(failing)("%s: exit 1, nothing on stdout, the error body on stderr", async (_name, args, code) => {
    const token = args[0] === "login" ? undefined : ROOT;
    const r = await runCli(args, { address: server.url, token });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr).error.code).toBe(code);
  });

  it("an unreachable server: exit 1, nothing on stdout, Unavailable on stderr", async () => {
    const r = await runCli(["status", "--json"], { address: `http://127.0.0.1:${await freePort()}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr).error.code).toBe("Unavailable");
  });

  it("a usage error: exit 2, nothing on stdout", async () => {
    const r = await runCli(["audit", "query", "--limit", "0", "--json"], { address: server.url, token: ROOT });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
  });
});

describe("the scenario's boot script under set -euo pipefail", () => {
  it("stops at a failed `login join … --json | jq -r .token` instead of going on with `null`", () => {
    const bin = join(dir, "bin");
    spawnSync("mkdir", ["-p", bin]);
    symlinkSync(BIN, join(bin, "tessera"));
    const script = join(dir, "boot.sh");
    writeFileSync(
      script,
      [
        "set -euo pipefail",
        `TOKEN=$(tessera login join --token tsj_not-a-join-token --dir ${JSON.stringify(join(dir, "vm2"))} --json | jq -r .token)`,
        'echo "reached with TOKEN=$TOKEN"',
      ].join("\n"),
    );
    chmodSync(script, 0o755);
    const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${bin}:${process.env["PATH"]}`, TESSERA_ADDR: server.url };
    delete env["TESSERA_TOKEN"];
    const r = spawnSync("bash", [script], { env, encoding: "utf8", timeout: 60_000 });
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr).error.code).toBe("Unauthenticated");
  });
});
