/**
 * `tessera agent` against a real server on a TLS socket (in process, so the server and the agent
 * share a clock the test moves): enrolment with a join token, a certificate and token renewed
 * across the first certificate's expiry, a server that seals, goes down and comes back, a template
 * rendered to a file and re-rendered after a rotation and a ciphertext change (with its reload
 * command), and the local proxy serving an application that holds no token.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraClient, decrypt as envelopeDecrypt, encrypt as envelopeEncrypt } from "@tessera/client";
import { Agent } from "../../packages/cli/src/agent/agent.js";
import { resolveAgentConfig } from "../../packages/cli/src/agent/config.js";
import type { AgentLog } from "../../packages/cli/src/agent/log.js";
import { LockstepClock } from "../helpers/agent-clock.js";
import { startTlsApp, type TlsTestApp } from "../helpers/mtls.js";
import { freePort } from "../helpers/server-process.js";

let t: TlsTestApp;
let clock: LockstepClock;
let agent: Agent;
const dir = mkdtempSync(join(tmpdir(), "tessera-agent-"));
const state = join(dir, "state");
const socket = join(dir, "agent.sock");
const rendered = join(dir, "run", "db.conf");
const ciphertextFile = join(dir, "db-password.ct");
const reloads = join(dir, "reloads.log");
const logLines: Record<string, unknown>[] = [];
const log: AgentLog = (level, msg, fields) => logLines.push({ level, msg, ...fields });

const root = (method: string, path: string, body?: unknown) => t.call(method, path, { token: t.rootToken, ...(body !== undefined && { body }) });

/** A request on the agent's socket, as `curl --unix-socket` sends it: no token. */
function viaSocket(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; requestId: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: socket, path, method, headers: { ...headers, ...(body !== undefined && { "content-type": "application/json" }) } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined, requestId: res.headers["x-request-id"] as string | undefined }));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

async function encrypt(text: string): Promise<string> {
  const r = await root("POST", "/v1/keys/app-db/encrypt", { plaintext: Buffer.from(text).toString("base64") });
  return r.body.ciphertext as string;
}

async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const status = () => JSON.parse(readFileSync(join(state, "status.json"), "utf8"));

beforeAll(async () => {
  t = await startTlsApp();
  clock = new LockstepClock(t.clock);
  expect((await root("POST", "/v1/keys", { name: "app-db" })).status).toBe(201);
  expect((await root("POST", "/v1/keys", { name: "app-derive", derived: true })).status).toBe(201);
  const policy = {
    statements: [
      { effect: "allow", actions: ["kms:Decrypt", "kms:Derive", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"], resources: ["app-*"] },
      { effect: "allow", actions: ["secrets:Read", "secrets:ReadMetadata"], resources: ["secret/secret/db/*"] },
    ],
  };
  expect((await root("PUT", "/v1/secrets/secret/data/db/billing", { data: { password: "pw-v1", user: "billing" } })).status).toBe(200);
  expect((await root("PUT", "/v1/policies/app-vm", policy)).status).toBe(200);
  // The shortest lifetimes a role allows: a 5-minute certificate and a 1-minute token.
  expect((await root("PUT", "/v1/roles/app-vm", { policies: ["app-vm"], certTtlSeconds: 300, tokenTtlSeconds: 60 })).status).toBe(200);
  const join_ = await root("POST", "/v1/auth/join-tokens", { role: "app-vm", vmId: "web-7" });
  writeFileSync(join(dir, "join-token"), join_.body.joinToken, { mode: 0o600 });
  writeFileSync(join(dir, "server-ca.pem"), t.serverCert);
  writeFileSync(ciphertextFile, `${await encrypt("hunter2")}\n`);
  const { mkdirSync } = await import("node:fs");
  mkdirSync(join(dir, "run"));
  const config = resolveAgentConfig(
    {
      server: { address: t.url, ca_cert: "server-ca.pem" },
      join_token_file: "join-token",
      state_dir: "state",
      listener: { socket: "agent.sock", tcp_port: await freePort(), allow: ["kms:Decrypt", "kms:Derive", "kms:GenerateDataKey", "secrets:Read"] },
      renewal: { retry_initial_ms: 500, retry_max_ms: 2000 },
      poll_seconds: 1,
      templates: [
        {
          name: "db",
          contents: 'password={{ decrypt "file:db-password.ct" }}\nsession_key={{ derive "app-derive" context.purpose="session" length=32 }}\n',
          destination: "run/db.conf",
          mode: "0440",
          command: ["sh", "-c", `echo reloaded >> ${reloads}`],
        },
        { name: "billing", contents: '{{ secret "db/billing" "user" }}:{{ secret "db/billing" "password" | json }}\n', destination: "run/billing" },
        { name: "pinned", contents: '{{ secret "db/billing" "password" version=1 }}', destination: "run/pinned" },
      ],
    },
    join(dir, "agent.json"),
  );
  agent = new Agent(config, { clock, log });
  await agent.start();
  await agent.waitForToken();
  await clock.settle();
}, 60_000);

afterAll(async () => {
  await agent?.stop();
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera agent", () => {
  it("enrols with the join token, deletes the token file, and keeps its state private", async () => {
    expect(agent.identity.current).toMatchObject({ vmId: "web-7", role: "app-vm", keyProtection: "file" });
    expect(existsSync(join(dir, "join-token"))).toBe(false);
    expect(statSync(state).mode & 0o777).toBe(0o700);
    const files = readdirSync(state);
    expect(files.filter((f) => f.startsWith("key-"))).toEqual([`key-${agent.identity.current!.serial}.pem`]);
    for (const f of files) expect([f, statSync(join(state, f)).mode & 0o777]).toEqual([f, 0o600]);
    const s = status();
    expect(s).toMatchObject({ state: "running", identity: { vmId: "web-7", role: "app-vm", serial: agent.identity.current!.serial } });
    // No token and no plaintext in anything the agent keeps on disk.
    for (const f of files) expect(readFileSync(join(state, f), "utf8")).not.toContain(agent.identity.token!);
  });

  it("renders the template to its file with its mode", async () => {
    await until(() => existsSync(rendered), "the rendered file");
    const text = readFileSync(rendered, "utf8");
    expect(text).toMatch(/^password=hunter2\nsession_key=[A-Za-z0-9+/]{43}=\n$/);
    expect(statSync(rendered).mode & 0o777).toBe(0o440);
    expect(status().templates.map((t: { name: string; error: string | null }) => [t.name, t.error])).toEqual([["billing", null], ["db", null], ["pinned", null]]);
    expect(JSON.stringify(logLines)).not.toContain("hunter2");
  });

  it("proxies a decrypt for an application that holds no token, audited under the VM's identity", async () => {
    const ciphertext = await encrypt("from-the-app");
    const r = await viaSocket("POST", "/v1/decrypt", { ciphertext });
    expect([r.status, Buffer.from(r.body.plaintext, "base64").toString()]).toEqual([200, "from-the-app"]);
    // The server's request id comes back through the agent and names the call's audit record.
    const proxied = (await root("GET", `/v1/audit/entries?requestId=${r.requestId}`)).body.records;
    expect(proxied.map((x: { action: string; principal: { role: string } }) => [x.action, x.principal.role])).toEqual([["kms:Decrypt", "app-vm"]]);
    // The SDK with socketPath: no address, no token.
    const sdk = new TesseraClient({ socketPath: socket });
    expect(Buffer.from((await sdk.decrypt({ ciphertext })).plaintext, "base64").toString()).toBe("from-the-app");
    // The optional loopback port serves the same.
    const tcp = new TesseraClient({ address: `http://127.0.0.1:${agent.tcpPort}` });
    expect(Buffer.from((await tcp.decrypt({ ciphertext })).plaintext, "base64").toString()).toBe("from-the-app");
    const audit = await root("GET", "/v1/audit/entries?action=kms:Decrypt&limit=1000");
    const last = audit.body.records.at(-1);
    expect([last.outcome, last.principal.role, JSON.stringify(last.principal)]).toEqual(["allowed", "app-vm", expect.stringContaining("web-7")]);
  });

  it("serves the SDK's envelope encryption through the socket: data keys from the agent, no token in the application", async () => {
    const app = new TesseraClient({ socketPath: socket });
    const plaintext = Buffer.alloc(200_000, 7);
    const message = await envelopeEncrypt(app, { keyId: "app-db", plaintext, encryptionContext: { tenant: "acme" } });
    const opened = await envelopeDecrypt(app, message, { expectedEncryptionContext: { tenant: "acme" } });
    expect(opened.plaintext.equals(plaintext)).toBe(true);
    const audit = await root("GET", "/v1/audit/entries?action=kms:GenerateDataKey&limit=1000");
    expect(audit.body.records.at(-1).principal.role).toBe("app-vm");
  });

  it("refuses what the allow-list does not name, and never forwards the caller's credentials", async () => {
    const encryptCall = await viaSocket("POST", "/v1/keys/app-db/encrypt", { plaintext: "aGk=" });
    expect([encryptCall.status, encryptCall.body.error.code]).toEqual([403, "AccessDenied"]);
    expect(encryptCall.body.error.message).toContain("kms:Encrypt");
    // Administration is never forwarded, whatever token the caller sends along.
    const admin = await viaSocket("POST", "/v1/keys", { name: "x" }, { "x-tessera-token": t.rootToken, authorization: `Bearer ${t.rootToken}` });
    expect([admin.status, admin.body.error.code]).toEqual([403, "AccessDenied"]);
    expect((await root("GET", "/v1/keys/x")).status).toBe(404);
    // An allowed call with a caller's token goes out with the agent's own: the VM's identity is audited.
    const ciphertext = await encrypt("x");
    expect((await viaSocket("POST", "/v1/decrypt", { ciphertext }, { "x-tessera-token": t.rootToken })).status).toBe(200);
    const last = (await root("GET", "/v1/audit/entries?action=kms:Decrypt&limit=1000")).body.records.at(-1);
    expect(last.principal.role).toBe("app-vm");
    expect(statSync(socket).mode & 0o777).toBe(0o600);
  });

  it("renews the certificate and the token before they expire, past the first certificate's expiry", async () => {
    const first = agent.identity.current!;
    const firstExpiry = Date.parse(first.expiresAt);
    // Ten minutes in 15-second steps: the first certificate expires at 5 minutes.
    for (let i = 0; i < 40; i++) await clock.advance(15_000);
    expect(clock.now()).toBeGreaterThan(firstExpiry);
    const now = agent.identity.current!;
    expect(now.serial).not.toBe(first.serial);
    expect(Date.parse(now.expiresAt)).toBeGreaterThan(clock.now());
    // The old certificate's key is gone; the proxy still works with a token from the new certificate.
    expect(readdirSync(state).filter((f) => f.startsWith("key-"))).toEqual([`key-${now.serial}.pem`]);
    const r = await viaSocket("POST", "/v1/decrypt", { ciphertext: await encrypt("still here") });
    expect(r.status).toBe(200);
    expect(status()).toMatchObject({ identity: { serial: now.serial }, certificate: { expiresAt: now.expiresAt } });
  });

  it("re-renders after the key rotates and runs the reload command", async () => {
    const before = readFileSync(rendered, "utf8");
    expect((await root("POST", "/v1/keys/app-derive/rotate")).status).toBe(200);
    await clock.advance(1000);
    await until(() => readFileSync(rendered, "utf8") !== before, "the re-render");
    expect(readFileSync(rendered, "utf8")).toMatch(/^password=hunter2\n/);
    await until(() => existsSync(reloads), "the reload command");
    expect(readFileSync(reloads, "utf8")).toBe("reloaded\n");
  });

  it("renders a secret's fields, re-rendered when the secret gets a new version (a pinned version stays)", async () => {
    const billing = join(dir, "run", "billing");
    await until(() => existsSync(billing), "the secret's file");
    expect([readFileSync(billing, "utf8"), readFileSync(join(dir, "run", "pinned"), "utf8")]).toEqual(['billing:"pw-v1"\n', "pw-v1"]);
    expect((await root("PUT", "/v1/secrets/secret/data/db/billing", { data: { password: "pw-v2", user: "billing" } })).status).toBe(200);
    await clock.advance(1000);
    await until(() => readFileSync(billing, "utf8") === 'billing:"pw-v2"\n', "the re-render after the secret changed");
    expect(readFileSync(join(dir, "run", "pinned"), "utf8")).toBe("pw-v1");
    // Through the socket too, as an application without a token reads it.
    const r = await viaSocket("GET", "/v1/secrets/secret/data/db/billing");
    expect([r.status, r.body.data.password]).toEqual([200, "pw-v2"]);
    expect(JSON.stringify(logLines)).not.toContain("pw-v");
  });

  it("re-renders when the ciphertext file changes", async () => {
    writeFileSync(ciphertextFile, await encrypt("correct horse"));
    await until(() => readFileSync(rendered, "utf8").startsWith("password=correct horse\n"), "the re-render after the file changed");
    await until(() => readFileSync(reloads, "utf8") === "reloaded\nreloaded\n", "the second reload");
    expect(readFileSync(rendered, "utf8")).toMatch(/^password=correct horse\nsession_key=/);
  });

  it("waits out a sealed server and keeps its identity", async () => {
    const ciphertext = await encrypt("x");
    expect((await root("POST", "/v1/sys/seal")).status).toBe(200);
    const sealed = await viaSocket("POST", "/v1/decrypt", { ciphertext });
    expect([sealed.status, sealed.body.error.code]).toEqual([503, "Sealed"]);
    // The token comes due while sealed: the login fails, the agent retries with backoff.
    await clock.advance(60_000);
    await clock.advance(2_000);
    expect(status().lastError.code).toBe("Sealed");
    expect((await t.call("POST", "/v1/sys/unseal", { body: { share: t.share } })).status).toBe(200);
    await clock.advance(2_000);
    // The same VM (its certificate may have been renewed on the way): never a new enrolment.
    expect(agent.identity.current!.vmId).toBe("web-7");
    expect(logLines.filter((l) => l["msg"] === "enrolled")).toHaveLength(1);
    expect((await viaSocket("POST", "/v1/decrypt", { ciphertext: await encrypt("after unseal") })).status).toBe(200);
  });

  it("survives the server going down and coming back", async () => {
    const ciphertext = await encrypt("x");
    await t.down();
    const down = await viaSocket("POST", "/v1/decrypt", { ciphertext });
    expect([down.status, down.body.error.code]).toEqual([503, "Unavailable"]);
    await clock.advance(60_000);
    await clock.advance(2_000);
    expect(status().lastError.code).toBe("Unavailable");
    await t.restart();
    expect((await t.call("POST", "/v1/sys/unseal", { body: { share: t.share } })).status).toBe(200);
    await clock.advance(2_000);
    const lastSuccess = Date.parse(status().lastSuccess);
    expect(lastSuccess).toBeGreaterThan(Date.parse(status().lastError.at));
    // The same VM (its certificate may have been renewed on the way): never a new enrolment.
    expect(agent.identity.current!.vmId).toBe("web-7");
    expect(logLines.filter((l) => l["msg"] === "enrolled")).toHaveLength(1);
    expect((await viaSocket("POST", "/v1/decrypt", { ciphertext: await encrypt("after restart") })).status).toBe(200);
  });

  it("logs in again at once when the server refuses its token, and the request goes through", async () => {
    const old = agent.identity.token!;
    expect((await root("POST", "/v1/auth/tokens/revoke", { token: old })).status).toBe(204);
    const r = await viaSocket("POST", "/v1/decrypt", { ciphertext: await encrypt("after revocation") });
    expect([r.status, Buffer.from(r.body.plaintext, "base64").toString()]).toEqual([200, "after revocation"]);
    expect(agent.identity.token).not.toBe(old);
  });

  it("on stop, removes the rendered file and the socket and records that it stopped", async () => {
    await agent.stop();
    expect([existsSync(rendered), existsSync(join(dir, "run", "billing")), existsSync(socket), status().state]).toEqual([false, false, false, "stopped"]);
  });
});
