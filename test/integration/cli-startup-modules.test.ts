/**
 * Every `tessera` command is a process of its own, so what the CLI loads before it does anything is paid
 * on every call. The CLI and the SDK take protocol values from `@tessera/protocol/core`, which leaves
 * out the TypeBox wire schemas (about 200 modules of TypeBox, a quarter of a second of CPU) that only the
 * server validates with; the CLI takes the SDK from `@tessera/client/core` (no envelope encryption), and
 * loads Node's network, compression and crypto modules only in the commands that use them
 * (packages/cli/src/builtins.ts says why an ES `import` of `node:http` alone loads undici, http2, zlib
 * and worker_threads). This test runs the built CLI with a module hook and lists what it loaded.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { rootCertificates } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, printedDevCa, startServer, type ServerProcess } from "../helpers/server-process.js";

/**
 * Logs each module URL the process loads through the module loader, then — at exit — every built-in
 * Node loaded, including those built-ins load internally (`process.moduleLoadList`), to stderr, one per
 * line, prefixed so they are easy to pick out.
 */
const HOOK =
  'data:text/javascript,import{registerHooks}from"node:module";registerHooks({load(u,c,next){process._rawDebug("loaded "+u);return next(u,c)}});' +
  'process.on("exit",()=>{for(const m of process.moduleLoadList)if(m.startsWith("NativeModule "))process._rawDebug("builtin "+m.slice(13))});';

function loadedBy(args: string[], env: NodeJS.ProcessEnv = {}): { modules: string[]; builtins: string[] } {
  const r = spawnSync(process.execPath, ["--import", HOOK, BIN, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", ...env } });
  expect(r.status, r.stderr).toBe(0);
  const lines = r.stderr.split("\n");
  const after = (prefix: string) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
  return { modules: after("loaded "), builtins: after("builtin ") };
}

/**
 * Built-ins no command needs before it talks to a server (internal modules included: `http2` is
 * `internal/http2/core` too, undici is `internal/deps/undici/undici`, Web Crypto
 * `internal/crypto/webcrypto`). The global `fetch` loads undici, http2 and zlib on its first call.
 */
const HEAVY = /^(http|https|http2|tls|zlib|worker_threads|crypto)$|^internal\/(http2|deps\/undici|crypto|tls)\//;

describe("the CLI's start-up", () => {
  it.each(["--version", "--help", "key create --help"])("`tessera %s` loads no TypeBox and no server code", (line) => {
    const { modules } = loadedBy(line.split(" "));
    expect(modules.some((u) => u.includes("/packages/cli/"))).toBe(true);
    expect(modules.filter((u) => u.includes("@sinclair/typebox"))).toEqual([]);
    expect(modules.filter((u) => u.includes("/packages/server/"))).toEqual([]);
  });

  it.each(["--version", "--help", "key create --help"])("`tessera %s` loads no network, compression, worker or crypto built-in, nor the SDK's envelope or the audit verifier", (line) => {
    const { modules, builtins } = loadedBy(line.split(" "));
    // The hook sees the built-ins at all (so an empty list below means something).
    expect(builtins).toContain("fs");
    expect(builtins.filter((b) => HEAVY.test(b))).toEqual([]);
    expect(modules.filter((u) => u.includes("/packages/client/dist/envelope/") && !u.endsWith("/envelope/format.js"))).toEqual([]);
    expect(modules.filter((u) => u.includes("/packages/audit/") || u.includes("/packages/cli/dist/agent/"))).toEqual([]);
  });
});

describe("a `tessera` call to a server", () => {
  const ROOT = "startup-modules-root";
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  });
  afterAll(async () => {
    await server?.stop();
  });

  it("goes through node:http, not the global fetch: no undici, http2, zlib or worker_threads", () => {
    const env = { TESSERA_ADDR: server.url, TESSERA_TOKEN: ROOT };
    expect(spawnSync(process.execPath, [BIN, "key", "create", "startup"], { cwd: REPO, env: { ...process.env, ...env } }).status).toBe(0);
    const { builtins } = loadedBy(["encrypt", "--key", "startup", "hello"], env);
    expect(builtins).toContain("http");
    expect(builtins.filter((b) => /^(http2|zlib|worker_threads)$|^internal\/(http2|deps\/undici)\//.test(b))).toEqual([]);
  });
});

describe("a `tessera` call to a server over TLS", () => {
  const ROOT = "startup-modules-tls-root";
  const dir = mkdtempSync(join(tmpdir(), "tessera-startup-tls-"));
  let server: ServerProcess;
  let ca: string;
  beforeAll(async () => {
    server = await startServer(["--dev", "--dev-tls", "--data", join(dir, "dev"), "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT], { scheme: "https" });
    ca = await printedDevCa(server);
  });
  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("goes through node:https with Node's trust (here NODE_EXTRA_CA_CERTS), not the global fetch: no undici, http2 or zlib", () => {
    const env = { TESSERA_ADDR: server.url, TESSERA_TOKEN: ROOT, NODE_EXTRA_CA_CERTS: ca };
    expect(spawnSync(process.execPath, [BIN, "key", "create", "startup-tls"], { cwd: REPO, env: { ...process.env, ...env } }).status).toBe(0);
    const { builtins } = loadedBy(["encrypt", "--key", "startup-tls", "hello"], env);
    expect(builtins).toContain("https");
    expect(builtins.filter((b) => /^(http2|zlib|worker_threads)$|^internal\/(http2|deps\/undici)\//.test(b))).toEqual([]);
  });

  it("--ca-cert adds to Node's trust rather than replacing NODE_EXTRA_CA_CERTS", () => {
    // Another CA as the --ca-cert file (one of Node's bundled roots); the server's CA only in NODE_EXTRA_CA_CERTS.
    const other = join(dir, "other-ca.pem");
    writeFileSync(other, rootCertificates[0]!);
    const r = spawnSync(process.execPath, [BIN, "status", "--ca-cert", other], { cwd: REPO, encoding: "utf8", env: { ...process.env, TESSERA_ADDR: server.url, TESSERA_TOKEN: ROOT, NODE_EXTRA_CA_CERTS: ca } });
    expect(r.status, r.stderr).toBe(0);
  });

  it("without that CA the certificate is refused, as before", () => {
    const r = spawnSync(process.execPath, [BIN, "status"], { cwd: REPO, encoding: "utf8", env: { ...process.env, TESSERA_ADDR: server.url, TESSERA_TOKEN: ROOT, NODE_EXTRA_CA_CERTS: "" } });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("TESSERA_CACERT");
  });
});

