/**
 * `tessera agent run|status|exec` as processes, as systemd and an operator run them: JSON-line
 * logs on stderr, the socket answering `curl --unix-socket`, `status --json` from the status file,
 * SIGHUP reloading the allow-list, `exec` handing a secret to a child's environment only, and
 * SIGTERM removing the socket and the rendered files.
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startTlsApp, type TlsTestApp } from "../helpers/mtls.js";
import { BIN } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-agent-cli-"));
const configFile = join(dir, "agent.json");
const socket = join(dir, "agent.sock");
const rendered = join(dir, "run", "app.env");
let t: TlsTestApp;
let agent: ChildProcess;
let agentLog = "";
let exited: Promise<number | null>;
let ciphertext: string;

const root = (method: string, path: string, body?: unknown) => t.call(method, path, { token: t.rootToken, ...(body !== undefined && { body }) });
const cli = (args: string[]) => runCli(args, { address: "http://127.0.0.1:1" });

function config(allow: string[]): string {
  return JSON.stringify({
    server: { address: t.url, ca_cert: "server-ca.pem" },
    join_token_file: "join-token",
    state_dir: "state",
    // Group access by the test's own group (an agent may give its socket a group it belongs to).
    listener: { socket: "agent.sock", mode: "0660", group: String(process.getgid!()), allow },
    templates: [
      { name: "app", contents: 'DB_PASSWORD={{ decrypt "file:db.ct" }}\n', destination: "run/app.env", mode: "0400" },
      { name: "db-password", contents: '{{ decrypt "file:db.ct" }}', env: "DB_PASSWORD" },
    ],
  });
}

/** `curl --unix-socket SOCKET http://agent/PATH -d BODY`, exactly as an application on the VM would. */
function curl(path: string, body: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) =>
    execFile("curl", ["-s", "-w", "\\n%{http_code}", "--unix-socket", socket, `http://agent${path}`, "-H", "content-type: application/json", "-d", JSON.stringify(body)], (err, stdout) => {
      if (err) return reject(err);
      const nl = stdout.lastIndexOf("\n");
      resolve({ status: Number(stdout.slice(nl + 1)), body: JSON.parse(stdout.slice(0, nl)) });
    }),
  );
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; agent log:\n${agentLog}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  t = await startTlsApp();
  await root("POST", "/v1/keys", { name: "app-db" });
  await root("PUT", "/v1/policies/app", { statements: [{ effect: "allow", actions: ["kms:Decrypt", "kms:Encrypt"], resources: ["app-*"] }] });
  await root("PUT", "/v1/roles/app", { policies: ["app"] });
  writeFileSync(join(dir, "join-token"), (await root("POST", "/v1/auth/join-tokens", { role: "app", vmId: "cli-vm" })).body.joinToken);
  writeFileSync(join(dir, "server-ca.pem"), t.serverCert);
  ciphertext = (await root("POST", "/v1/keys/app-db/encrypt", { plaintext: Buffer.from("s3cret-pw").toString("base64") })).body.ciphertext;
  writeFileSync(join(dir, "db.ct"), ciphertext);
  mkdirSync(join(dir, "run"));
  writeFileSync(configFile, config(["kms:Decrypt"]));
  agent = spawn(process.execPath, [BIN, "agent", "run", "--config", configFile], { stdio: ["ignore", "pipe", "pipe"] });
  agent.stdout!.on("data", (d) => (agentLog += d));
  agent.stderr!.on("data", (d) => (agentLog += d));
  exited = new Promise((resolve) => agent.once("exit", (code) => resolve(code)));
  await until(() => existsSync(rendered) && existsSync(socket), "the agent to enrol and render");
}, 60_000);

afterAll(async () => {
  if (agent?.exitCode === null) agent.kill("SIGKILL");
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera agent as a process", () => {
  it("answers `curl --unix-socket` with no token, and logs JSON lines without secrets", async () => {
    const r = await curl("/v1/decrypt", { ciphertext });
    expect([r.status, Buffer.from(r.body.plaintext, "base64").toString()]).toEqual([200, "s3cret-pw"]);
    const lines = agentLog.trim().split("\n");
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow(SyntaxError);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(expect.arrayContaining(["enrolled", "agent started", "template rendered"]));
    expect(agentLog).not.toContain("s3cret-pw");
    expect(readFileSync(rendered, "utf8")).toBe("DB_PASSWORD=s3cret-pw\n");
    expect([statSync(socket).mode & 0o777, statSync(socket).gid]).toEqual([0o660, process.getgid!()]);
  });

  it("`agent status --json` shows the identity, expiries and last success; the text form too", async () => {
    const r = await cli(["agent", "status", "--config", configFile, "--json"]);
    expect(r.code, r.stderr).toBe(0);
    const s = JSON.parse(r.stdout);
    expect(s).toMatchObject({ running: true, state: "running", identity: { vmId: "cli-vm", role: "app", keyProtection: "file" }, lastError: null });
    expect([typeof s.certificate.expiresAt, typeof s.token.expiresAt, typeof s.lastSuccess]).toEqual(["string", "string", "string"]);
    const text = await cli(["agent", "status", "--config", configFile]);
    expect([text.code, text.stdout]).toEqual([0, expect.stringMatching(/^state +running\nvm id +cli-vm\n/)]);
  });

  it("reloads its allow-list on SIGHUP", async () => {
    const before = await curl("/v1/keys/app-db/encrypt", { plaintext: "aGk=" });
    expect([before.status, before.body.error.code]).toEqual([403, "AccessDenied"]);
    writeFileSync(configFile, config(["kms:Decrypt", "kms:Encrypt"]));
    agent.kill("SIGHUP");
    await until(() => agentLog.includes('"configuration reloaded"'), "the reload");
    expect((await curl("/v1/keys/app-db/encrypt", { plaintext: "aGk=" })).status).toBe(200);
  });

  it("`agent exec` puts the rendered secret in the child's environment only", async () => {
    const r = await cli(["agent", "exec", "--config", configFile, "--", process.execPath, "-e", "process.stdout.write(process.env.DB_PASSWORD)"]);
    expect([r.code, r.stdout]).toEqual([0, "s3cret-pw"]);
    expect(r.stderr).not.toContain("s3cret-pw");
    const failing = await cli(["agent", "exec", "--config", configFile, "--", process.execPath, "-e", "process.exit(3)"]);
    expect(failing.code).toBe(3);
  });

  it("a configuration mistake is a usage error naming the field", async () => {
    writeFileSync(join(dir, "bad.json"), JSON.stringify({ server: { address: t.url }, state_dir: "s", listener: { socket: "x", mode: "0666" } }));
    const r = await cli(["agent", "status", "--config", join(dir, "bad.json")]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("listener.mode");
  });

  it("stops on SIGTERM: socket and rendered files removed, status says stopped", async () => {
    agent.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect([existsSync(socket), existsSync(rendered)]).toEqual([false, false]);
    const r = await cli(["agent", "status", "--config", configFile, "--json"]);
    expect([r.code, JSON.parse(r.stdout).state, JSON.parse(r.stdout).running]).toEqual([1, "stopped", false]);
  });
});
