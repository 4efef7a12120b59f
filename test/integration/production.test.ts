/**
 * Production mode: `tessera server --config FILE` over real TLS on loopback, initialised and
 * unsealed by an operator, sealed again after a restart; and configurations it must refuse.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent, request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, freePort, startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-prod-"));
let ca: Buffer;
let server: ServerProcess | undefined;

/** HTTPS JSON call that trusts only the test CA. */
function call(url: string, method: string, path: string, token?: string, body?: unknown): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url + path,
      {
        method,
        agent: new Agent({ ca }),
        headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

beforeAll(() => {
  // A throwaway CA and a server certificate for 127.0.0.1, made with the openssl CLI.
  const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  o(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days", "2", "-subj", "/CN=test-ca"]);
  o(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=127.0.0.1"]);
  writeFileSync(join(dir, "ext.cnf"), "subjectAltName=IP:127.0.0.1\n");
  o(["x509", "-req", "-in", "tls.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-out", "tls.crt", "-days", "2", "-extfile", "ext.cnf"]);
  ca = readFileSync(join(dir, "ca.crt"));
});
afterAll(async () => {
  await server?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

function writeConfig(name: string, doc: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof doc === "string" ? doc : JSON.stringify(doc));
  return path;
}

describe("tessera server --config", () => {
  it("serves TLS, starts uninitialised, is initialised and unsealed by shares, and is sealed after a restart", async () => {
    const port = await freePort();
    const config = writeConfig("tessera.json", {
      listener: { address: `127.0.0.1:${port}`, tls_cert_file: "tls.crt", tls_key_file: "tls.key" },
      storage: { sqlite: { path: "data/tessera.db" } },
      log_level: "warn",
    });
    rmSync(join(dir, "data"), { recursive: true, force: true });
    execFileSync("mkdir", ["-p", join(dir, "data")]);
    const https = { port, scheme: "https" as const, ready: "listening" as const };
    server = await startServer(["--config", config], https);
    const url = server.url;

    const health = await call(url, "GET", "/v1/sys/health");
    expect([health.status, health.body.initialized]).toEqual([503, false]);
    expect((await call(url, "POST", "/v1/keys", "x", { name: "k" })).body.error.code).toBe("NotInitialized");

    const init = await call(url, "POST", "/v1/sys/init", undefined, { shares: 3, threshold: 2 });
    expect(init.status).toBe(200);
    expect(init.body.shares).toHaveLength(3);
    const root = init.body.rootToken as string;
    expect((await call(url, "POST", "/v1/sys/init", undefined, { shares: 3, threshold: 2 })).body.error.code).toBe("InvalidState");
    expect((await call(url, "POST", "/v1/keys", root, { name: "k" })).body.error.code).toBe("Sealed");
    await call(url, "POST", "/v1/sys/unseal", undefined, { share: init.body.shares[2] });
    await call(url, "POST", "/v1/sys/unseal", undefined, { share: init.body.shares[0] });
    expect((await call(url, "GET", "/v1/sys/health")).status).toBe(200);

    expect((await call(url, "POST", "/v1/keys", root, { name: "tls-key" })).status).toBe(201);
    const enc = await call(url, "POST", "/v1/keys/tls-key/encrypt", root, { plaintext: Buffer.from("over tls").toString("base64") });
    expect(enc.status).toBe(200);

    // Plain HTTP on the TLS port is not served: fetch rejects (with a TypeError) only when no HTTP answer came back.
    await expect(fetch(`http://127.0.0.1:${port}/v1/sys/health`).then((r) => r.status)).rejects.toThrow(TypeError);

    expect(await server.stop()).toBe(0);
    server = await startServer(["--config", config], https);
    expect((await call(server.url, "GET", "/v1/sys/seal-status")).body).toMatchObject({ initialized: true, sealed: true, threshold: 2, shares: 3 });
    expect((await call(server.url, "POST", "/v1/decrypt", root, { ciphertext: enc.body.ciphertext })).body.error.code).toBe("Sealed");
    await call(server.url, "POST", "/v1/sys/unseal", undefined, { share: init.body.shares[1] });
    await call(server.url, "POST", "/v1/sys/unseal", undefined, { share: init.body.shares[2] });
    const dec = await call(server.url, "POST", "/v1/decrypt", root, { ciphertext: enc.body.ciphertext });
    expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe("over tls");
    await server.stop();
    server = undefined;
  }, 60_000);

  it.each([
    ["an unknown field", { listener: { address: "127.0.0.1:1" }, storage: { sqlite: { path: "x.db" } }, colour: "blue" }, /colour/],
    ["an unknown nested field", { listener: { address: "127.0.0.1:1", insecure_http: true, tls: true }, storage: { sqlite: { path: "x.db" } } }, /listener\.tls/],
    ["a missing TLS certificate", { listener: { address: "127.0.0.1:1" }, storage: { sqlite: { path: "x.db" } } }, /tls_cert_file/],
    ["insecure HTTP off loopback", { listener: { address: "0.0.0.0:1", insecure_http: true }, storage: { sqlite: { path: "x.db" } } }, /loopback/],
    ["a bad address", { listener: { address: "nowhere", insecure_http: true }, storage: { sqlite: { path: "x.db" } } }, /listener\.address/],
    ["a wrong type", { listener: { address: "127.0.0.1:1", insecure_http: "yes" }, storage: { sqlite: { path: "x.db" } } }, /listener\.insecure_http/],
    ["missing storage", { listener: { address: "127.0.0.1:1", insecure_http: true } }, /storage/],
    ["invalid JSON", "{ listener: ", /not valid JSON/],
  ])("refuses a configuration with %s, naming the field", (_what, doc, message) => {
    const path = writeConfig("bad.json", doc);
    const r = spawnSync(process.execPath, [BIN, "server", "--config", path], { encoding: "utf8", timeout: 15_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });

  it("refuses dev mode on a non-loopback address", () => {
    const r = spawnSync(process.execPath, [BIN, "server", "--dev", "--listen", "0.0.0.0:8200"], { encoding: "utf8", timeout: 15_000 });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/loopback/);
  });
});
