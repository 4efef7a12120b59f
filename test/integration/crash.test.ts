/**
 * kill -9 in the middle of rotations and writes loses nothing that was acknowledged, and leaves no
 * half-written key (every key has exactly `primaryVersion` versions).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { api, startServer, type ServerProcess } from "../helpers/server-process.js";

const TOKEN = "crash-test-root-token";
const dir = mkdtempSync(join(tmpdir(), "tessera-crash-"));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe("crash safety", () => {
  it("keeps every acknowledged key, version, ciphertext and token across kill -9", async () => {
    const args = ["--dev", "--listen", "127.0.0.1:{port}", "--data", dir, "--dev-root-token", TOKEN];
    server = await startServer(args);
    const url = server.url;

    const keys = ["k0", "k1", "k2", "k3"];
    for (const name of keys) expect((await api(url, TOKEN, "POST", "/v1/keys", { name })).status).toBe(201);

    const ackedVersion = new Map<string, number>();
    const ackedKeys: string[] = [];
    const ackedCiphertexts: { ciphertext: string; plaintext: string }[] = [];
    const ackedTokens: string[] = [];
    let stop = false;
    const swallow = () => undefined; // requests cut off by the kill were never acknowledged

    const rotator = async (name: string) => {
      while (!stop) {
        const r = await api(url, TOKEN, "POST", `/v1/keys/${name}/rotate`).catch(swallow);
        if (r?.status === 200) ackedVersion.set(name, Math.max(ackedVersion.get(name) ?? 0, r.body.primaryVersion));
      }
    };
    const creator = async () => {
      for (let i = 0; !stop; i++) {
        const r = await api(url, TOKEN, "POST", "/v1/keys", { name: `new-${i}` }).catch(swallow);
        if (r?.status === 201) ackedKeys.push(`new-${i}`);
      }
    };
    const encryptor = async (name: string) => {
      for (let i = 0; !stop; i++) {
        const plaintext = Buffer.from(`${name}-${i}`).toString("base64");
        const r = await api(url, TOKEN, "POST", `/v1/keys/${name}/encrypt`, { plaintext }).catch(swallow);
        if (r?.status === 200) ackedCiphertexts.push({ ciphertext: r.body.ciphertext, plaintext });
      }
    };
    const tokenMaker = async () => {
      while (!stop) {
        const r = await api(url, TOKEN, "POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Encrypt"], resources: ["k0"] }] }).catch(swallow);
        if (r?.status === 201) ackedTokens.push(r.body.token);
      }
    };

    const load = Promise.all([...keys.map(rotator), creator(), creator(), encryptor("k0"), encryptor("k1"), tokenMaker()]);
    await new Promise((r) => setTimeout(r, 2500));
    await server.kill9();
    stop = true;
    await load;
    expect(ackedVersion.size).toBe(keys.length);
    expect(ackedKeys.length).toBeGreaterThan(0);
    expect(ackedCiphertexts.length).toBeGreaterThan(0);
    expect(ackedTokens.length).toBeGreaterThan(0);

    server = await startServer(args);
    const restarted = server.url;
    for (const name of keys) {
      const meta = await api(restarted, TOKEN, "GET", `/v1/keys/${name}`);
      expect(meta.body.primaryVersion, name).toBeGreaterThanOrEqual(ackedVersion.get(name)!);
    }
    for (const name of ackedKeys) expect((await api(restarted, TOKEN, "GET", `/v1/keys/${name}`)).status, name).toBe(200);
    for (const c of ackedCiphertexts) {
      const r = await api(restarted, TOKEN, "POST", "/v1/decrypt", { ciphertext: c.ciphertext });
      expect(r.body.plaintext).toBe(c.plaintext);
    }
    for (const tok of ackedTokens) {
      expect((await api(restarted, tok, "GET", "/v1/auth/tokens/self")).status).toBe(200);
    }
    // No partial writes: every key has exactly as many versions as its primary version number.
    let marker: string | null = null;
    do {
      const page: { body: { keys: { name: string; primaryVersion: number }[]; nextMarker: string | null } } = await api(
        restarted,
        TOKEN,
        "GET",
        `/v1/keys?limit=100${marker ? `&marker=${marker}` : ""}`,
      );
      for (const k of page.body.keys) {
        const versions = await api(restarted, TOKEN, "GET", `/v1/keys/${k.name}/versions`);
        expect(versions.body.versions.map((v: { version: number }) => v.version), k.name).toEqual(
          Array.from({ length: k.primaryVersion }, (_, i) => i + 1),
        );
      }
      marker = page.body.nextMarker;
    } while (marker !== null);
    expect(await server.stop()).toBe(0);
  }, 60_000);
});
