/**
 * node-vault (npm, unchanged) against a real Tessera process: its transit commands, KV v2 through its
 * generic read/write/list/delete (the LIST verb and, with noCustomHTTPVerbs, `?list=1`), health,
 * status and token lookup — with Vault's response shapes.
 */
import nodeVault from "node-vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "node-vault-root-token-0123456789";
let server: ServerProcess;
let vault: nodeVault.client;

const b64 = (s: string) => Buffer.from(s).toString("base64");

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT], { ready: "unsealed" });
  vault = nodeVault({ apiVersion: "v1", endpoint: server.url, token: ROOT });
}, 60_000);
afterAll(async () => server?.stop());

describe("node-vault against Tessera", () => {
  it("creates, reads and lists transit keys (the LIST verb)", async () => {
    await vault.transitCreateKey({ name: "payments" });
    const read = await vault.transitReadKey({ name: "payments" });
    expect(read.data).toMatchObject({ name: "payments", type: "aes256-gcm96", latest_version: 1 });
    expect(read).toMatchObject({ lease_id: "", renewable: false, lease_duration: 0, wrap_info: null });
    expect((await vault.transitListKeys()).data.keys).toEqual(["payments"]);
    expect((await vault.list("transit/keys")).data.keys).toEqual(["payments"]);
  });

  it("lists with GET ?list=1 when custom verbs are off", async () => {
    const plain = nodeVault({ apiVersion: "v1", endpoint: server.url, token: ROOT, noCustomHTTPVerbs: true });
    expect((await plain.list("transit/keys")).data.keys).toEqual(["payments"]);
  });

  it("encrypts, decrypts and rewraps", async () => {
    const enc = await vault.encryptData({ name: "payments", plaintext: b64("card 4111") });
    expect(enc.data.ciphertext).toMatch(/^vault:v1:/);
    expect((await vault.decryptData({ name: "payments", ciphertext: enc.data.ciphertext })).data.plaintext).toBe(b64("card 4111"));
    await vault.write("transit/keys/payments/rotate", {});
    const re = await vault.rewrapData({ name: "payments", ciphertext: enc.data.ciphertext });
    expect(re.data).toMatchObject({ key_version: 2 });
    expect(re.data.ciphertext).toMatch(/^vault:v2:/);
  });

  it("signs and verifies through generic writes", async () => {
    await vault.write("transit/keys/tokens-signer", { type: "ed25519" });
    const sig = await vault.write("transit/sign/tokens-signer", { input: b64("jwt body") });
    expect(sig.data.signature).toMatch(/^vault:v1:/);
    const ok = await vault.write("transit/verify/tokens-signer", { input: b64("jwt body"), signature: sig.data.signature });
    expect(ok.data.valid).toBe(true);
  });

  it("rejects with Vault's status and errors list", async () => {
    const err = await vault.decryptData({ name: "payments", ciphertext: "vault:v1:AAAA" }).catch((e: unknown) => e as { response: { statusCode: number; body: { errors: string[] } } });
    expect(err.response.statusCode).toBe(400);
    expect(err.response.body.errors).toHaveLength(1);
    const denied = await nodeVault({ apiVersion: "v1", endpoint: server.url, token: "wrong" })
      .transitReadKey({ name: "payments" })
      .catch((e: unknown) => e as { response: { statusCode: number } });
    expect(denied.response.statusCode).toBe(403);
  });

  it("reads health, seal status and its own token", async () => {
    expect(await vault.health()).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(await vault.status()).toMatchObject({ sealed: false, t: 1, n: 1, progress: 0 });
    expect((await vault.tokenLookupSelf()).data).toMatchObject({ policies: ["root"], id: ROOT });
  });
});

describe("node-vault's generic calls on KV v2", () => {
  it("writes, reads, lists and deletes secrets", async () => {
    const w = await vault.write("secret/data/services/billing", { data: { api_key: "k1" } });
    expect(w.data).toMatchObject({ version: 1, destroyed: false });
    await vault.write("secret/data/services/billing", { data: { api_key: "k2" }, options: { cas: 1 } });
    const r = await vault.read("secret/data/services/billing");
    expect(r.data).toMatchObject({ data: { api_key: "k2" }, metadata: { version: 2 } });
    expect((await vault.read("secret/data/services/billing?version=1")).data.data).toEqual({ api_key: "k1" });
    expect((await vault.list("secret/metadata/services")).data.keys).toEqual(["billing"]);
    expect((await vault.list("secret/metadata")).data.keys).toEqual(["services/"]);
    await vault.delete("secret/metadata/services/billing");
    const gone = await vault.read("secret/data/services/billing").catch((e: unknown) => e as { response: { statusCode: number } });
    expect(gone.response.statusCode).toBe(404);
  });
});
