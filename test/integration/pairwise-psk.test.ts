/**
 * Pairwise TLS-PSK end to end: a real dev server; three VMs enrolled with join tokens (their tokens
 * carry their vm_id); `tessera psk` as each; and the two example programs in examples/ opening a TLS
 * channel over a real socket with the key, with no certificates. A third VM gets a different key, and
 * cannot pass itself off as one of the pair.
 */
import { hkdfSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeContext } from "@tessera/protocol";
import { runCli } from "../helpers/cli-process.js";
import { runExample, startExample } from "../helpers/examples.js";
import { keyAndCsr } from "../helpers/mtls.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-psk-"));
const rootToken = `root-${randomBytes(12).toString("hex")}`;
let server: ServerProcess;
const vmTokens: Record<string, string> = {};
const cli = (args: string[], token: string) => runCli(args, { address: server.url, token });

async function api(method: string, path: string, body: unknown, token = rootToken): Promise<{ status: number; body: any }> {
  const res = await fetch(server.url + path, { method, headers: { "content-type": "application/json", "x-tessera-token": token }, body: JSON.stringify(body) });
  return { status: res.status, body: await res.json() };
}

async function enrol(vmId: string): Promise<string> {
  const joinToken = (await api("POST", "/v1/auth/join-tokens", { role: "mesh-vm", vmId })).body.joinToken;
  const { csr } = await keyAndCsr(vmId);
  const joined = await api("POST", "/v1/auth/join", { joinToken, csr, vmId });
  expect(joined.status).toBe(200);
  return joined.body.token.token as string;
}

const pskOf = async (vm: string, peer: string, extra: string[] = []) => {
  const r = await cli(["psk", "--key", "mesh", "--peer", peer, "--json", ...extra], vmTokens[vm]!);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--data", join(dir, "data"), "--dev-root-token", rootToken], { ready: "unsealed" });
  expect((await api("POST", "/v1/keys", { name: "mesh" })).status).toBe(201);
  expect((await api("PUT", "/v1/policies/mesh-psk", { statements: [{ effect: "allow", actions: ["kms:DerivePsk"], resources: ["key/mesh"] }] })).status).toBe(200);
  expect((await api("PUT", "/v1/roles/mesh-vm", { policies: ["mesh-psk"] })).status).toBe(200);
  for (const vm of ["web-7", "db-1", "evil-9"]) vmTokens[vm] = await enrol(vm);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera psk", () => {
  it("gives both VMs of a pair the same 32-byte key, naming each side from its own login", async () => {
    const a = await pskOf("web-7", "db-1");
    const b = await pskOf("db-1", "web-7");
    expect(a.psk).toBe(b.psk);
    expect(Buffer.from(a.psk, "base64").length).toBe(32);
    expect([a.self, a.peer, b.self, b.peer]).toEqual(["web-7", "db-1", "db-1", "web-7"]);
    expect(a.identity).toBe(`tessera-psk/v1/${a.keyId}/1/tls/web-7`);
  });

  it("gives a third VM a different key for every pair it can name — it is always one of the two", async () => {
    const pair = (await pskOf("web-7", "db-1")).psk;
    const withDb = await pskOf("evil-9", "db-1");
    const withWeb = await pskOf("evil-9", "web-7");
    expect(withDb.self).toBe("evil-9");
    expect(new Set([pair, withDb.psk, withWeb.psk]).size).toBe(3);
  });

  it("separates purposes and versions", async () => {
    const tls = (await pskOf("web-7", "db-1")).psk;
    const replication = (await pskOf("web-7", "db-1", ["--purpose", "replication"])).psk;
    expect(replication).not.toBe(tls);
    const rotated = await runCli(["key", "rotate", "mesh"], { address: server.url, token: rootToken });
    expect(rotated.code).toBe(0);
    const v2 = await pskOf("web-7", "db-1");
    const v1 = await pskOf("db-1", "web-7", ["--version", "1"]);
    expect(v2.keyVersion).toBe(2);
    expect(v2.psk).not.toBe(tls);
    expect(v1.psk).toBe(tls);
  });

  it("refuses a caller without a VM identity (AccessDenied) and a VM naming itself as its peer (InvalidInput)", async () => {
    const root = await cli(["psk", "--key", "mesh", "--peer", "db-1", "--json"], rootToken);
    expect(root.code).toBe(1);
    expect(JSON.parse(root.stderr).error.code).toBe("AccessDenied");
    const self = await cli(["psk", "--key", "mesh", "--peer", "web-7", "--json"], vmTokens["web-7"]!);
    expect(JSON.parse(self.stderr).error).toMatchObject({ code: "InvalidInput", field: "/peer" });
  });
});

describe("tessera psk on the other key types", () => {
  beforeAll(async () => {
    expect((await api("POST", "/v1/keys", { name: "mesh-sm4", keySpec: "SM4", exportable: true })).status).toBe(201);
    expect((await api("POST", "/v1/keys", { name: "mesh-hmac", keySpec: "HMAC_256", keyUsage: "GENERATE_VERIFY_MAC" })).status).toBe(201);
    expect((await api("POST", "/v1/keys", { name: "mesh-sm2", keySpec: "SM2", keyUsage: "SIGN_VERIFY" })).status).toBe(201);
    const statements = [{ effect: "allow", actions: ["kms:DerivePsk"], resources: ["key/mesh", "key/mesh-sm4", "key/mesh-hmac", "key/mesh-sm2"] }];
    expect((await api("PUT", "/v1/policies/mesh-psk", { statements })).status).toBe(200);
  });

  it("an SM4 key gives a pair the same 32-byte PSK, HKDF-SHA256 over its 16-byte material as docs/formats.md defines", async () => {
    const psk = async (vm: string, peer: string) => {
      const r = await cli(["psk", "--key", "mesh-sm4", "--peer", peer, "--json"], vmTokens[vm]!);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    const [a, b] = [await psk("web-7", "db-1"), await psk("db-1", "web-7")];
    expect(a.psk).toBe(b.psk);
    // The owner's copy of the material, through wrapped export, to recompute the PSK independently.
    const prefix = join(dir, "sm4-recipient");
    expect((await runExample("recipient-keygen.mjs", ["hpke-x25519", prefix])).code).toBe(0);
    const exported = await cli(["key", "export", "mesh-sm4", "--wrap-to", `${prefix}.pub.pem`, "--algorithm", "hpke-x25519", "--json"], rootToken);
    expect(exported.code, exported.stderr).toBe(0);
    writeFileSync(`${prefix}.json`, exported.stdout);
    const opened = await runExample("unwrap-export.mjs", [prefix, `${prefix}.json`]);
    const material = Buffer.from(opened.stdout.trim(), "base64");
    expect(material.length).toBe(16);
    const info = Buffer.concat([Buffer.from("tessera/v1/psk"), encodeContext({ key: a.keyId, version: "1", a: "db-1", b: "web-7", purpose: "tls" })]);
    expect(Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), info, 32)).toString("base64")).toBe(a.psk);
  });

  it.each(["mesh-hmac", "mesh-sm2"])("refuses a PSK from %s, which is not an ENCRYPT_DECRYPT symmetric key (InvalidKeyUsage)", async (key) => {
    const r = await cli(["psk", "--key", key, "--peer", "db-1", "--json"], vmTokens["web-7"]!);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error.code).toBe("InvalidKeyUsage");
  });
});

describe("examples/psk-server.mjs and psk-client.mjs over a real socket", () => {
  const env = (vm: string) => ({ TESSERA_ADDR: server.url, TESSERA_TOKEN: vmTokens[vm]! });

  it("establish a TLS 1.3 channel with the pairwise key and exchange data; an impostor and a stranger are refused", async () => {
    const db = startExample("psk-server.mjs", ["--key", "mesh", "--peers", "web-7,evil-9"], env("db-1"));
    try {
      const port = (await db.waitFor(/listening (\d+)/))[1]!;
      const ok = await runExample("psk-client.mjs", ["--key", "mesh", "--peer", "db-1", "--port", port, "--message", "hello from web"], { env: env("web-7") });
      expect(ok.code, ok.stderr).toBe(0);
      expect(ok.stdout.trim()).toBe("db-1 got hello from web");
      expect((await db.waitFor(/web-7: hello from web \((TLSv1\.3) (\S+)\)/))[2]).toMatch(/^TLS_(AES_128_GCM_SHA256|CHACHA20_POLY1305_SHA256)$/);

      // evil-9 holds only its own pair's key: claiming web-7's identity fails the handshake.
      const identity = (await pskOf("web-7", "db-1")).identity as string;
      const impostor = await runExample("psk-client.mjs", ["--key", "mesh", "--peer", "db-1", "--port", port, "--identity", identity, "--message", "let me in"], { env: env("evil-9") });
      expect(impostor.code).toBe(1);
      expect(impostor.stdout).toBe("");
      expect(db.output().stdout).not.toContain("let me in");
    } finally {
      await db.stop();
    }
    // A server that does not list a peer refuses it, even with the right key.
    const strict = startExample("psk-server.mjs", ["--key", "mesh", "--peers", "evil-9"], env("db-1"));
    try {
      const port = (await strict.waitFor(/listening (\d+)/))[1]!;
      const refused = await runExample("psk-client.mjs", ["--key", "mesh", "--peer", "db-1", "--port", port], { env: env("web-7") });
      expect(refused.code).toBe(1);
    } finally {
      await strict.stop();
    }
  });
});

describe("what Node 24 allows with an external PSK (docs/distribution.md)", () => {
  const psk = randomBytes(32);
  function handshake(server: object, client: object): Promise<string> {
    return new Promise((resolve) => {
      const srv = createServer({ pskCallback: () => psk, ...server }, (s) => s.end());
      srv.on("tlsClientError", () => undefined);
      srv.listen(0, "127.0.0.1", () => {
        const port = (srv.address() as { port: number }).port;
        const c = connect({ port, host: "127.0.0.1", pskCallback: () => ({ psk, identity: "id" }), checkServerIdentity: () => undefined, ...client }, () => {
          const got = `${c.getProtocol()} ${c.getCipher().standardName}`;
          c.destroy();
          srv.close();
          resolve(got);
        });
        c.on("error", () => {
          srv.close();
          resolve("refused");
        });
      });
    });
  }
  const both = (o: object) => handshake(o, o);

  it("TLS 1.3: the SHA-256 suites only", async () => {
    expect(await both({ minVersion: "TLSv1.3", ciphers: "TLS_AES_128_GCM_SHA256" })).toBe("TLSv1.3 TLS_AES_128_GCM_SHA256");
    expect(await both({ minVersion: "TLSv1.3", ciphers: "TLS_CHACHA20_POLY1305_SHA256" })).toBe("TLSv1.3 TLS_CHACHA20_POLY1305_SHA256");
    expect(await both({ minVersion: "TLSv1.3", ciphers: "TLS_AES_256_GCM_SHA384" })).toBe("refused");
  });

  it("TLS 1.2: PSK suites only when named in ciphers; plain and ECDHE PSK suites work, DHE-PSK does not", async () => {
    expect(await both({ maxVersion: "TLSv1.2" })).toBe("refused");
    expect(await both({ maxVersion: "TLSv1.2", ciphers: "PSK-AES256-GCM-SHA384" })).toBe("TLSv1.2 TLS_PSK_WITH_AES_256_GCM_SHA384");
    expect(await both({ maxVersion: "TLSv1.2", ciphers: "ECDHE-PSK-CHACHA20-POLY1305" })).toBe("TLSv1.2 TLS_ECDHE_PSK_WITH_CHACHA20_POLY1305_SHA256");
    expect(await both({ maxVersion: "TLSv1.2", ciphers: "DHE-PSK-AES256-GCM-SHA384" })).toBe("refused");
  });
});
