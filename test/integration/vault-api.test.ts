/**
 * The Vault-compatible API in process (inject): error shapes and statuses, batch partial failure,
 * policy denial, audit records, the `vault:vN:` ciphertext mapping both ways with the native API,
 * and tampered ciphertexts. Unchanged Vault clients are in vault-hvac.test.ts and vault-node-vault.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, resolveConfig } from "@tessera/server";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
const b64 = (s: string) => Buffer.from(s).toString("base64");

/** A Vault call; `from` sets the caller's address (refusals draw on a budget per address: audit.md). */
async function vault(method: string, path: string, body?: unknown, token: string | null = t.rootToken, from?: string) {
  const res = await t.app.http.inject({
    method: method as "GET",
    url: `/v1/${path}`,
    ...(from !== undefined && { remoteAddress: from }),
    headers: { ...(token !== null && { "x-vault-token": token }), "x-vault-request": "true" },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: res.body.length > 0 ? JSON.parse(res.body) : undefined };
}

beforeAll(async () => {
  t = await startTestApp();
  expect((await vault("POST", "transit/keys/orders", {})).status).toBe(200);
});
afterAll(async () => t.close());

describe("errors", () => {
  it("answers a bad token with 403 and Vault's errors list", async () => {
    const r = await vault("POST", "transit/encrypt/orders", { plaintext: b64("x") }, "not-a-token");
    expect(r.status).toBe(403);
    expect(r.body.errors).toHaveLength(1);
    expect(r.body.errors[0]).toMatch(/^permission denied/);
  });

  it("names the header Vault clients send when no token was given", async () => {
    const res = await t.app.http.inject({ method: "POST", url: "/v1/transit/encrypt/orders", headers: { "content-type": "application/json" }, payload: JSON.stringify({ plaintext: b64("x") }) });
    expect([res.statusCode, JSON.parse(res.body).errors]).toEqual([403, ["permission denied: A token is required: none was given (X-Vault-Token header)."]]);
  });

  it("takes the token from Authorization: Bearer too", async () => {
    const res = await t.app.http.inject({ method: "GET", url: "/v1/transit/keys/orders", headers: { authorization: `Bearer ${t.rootToken}` } });
    expect(res.statusCode).toBe(200);
    expect(JSON.parse(res.body).data.name).toBe("orders");
  });

  it("answers a missing token with 403", async () => {
    expect((await vault("GET", "transit/keys/orders", undefined, null)).status).toBe(403);
  });

  it("answers an unknown path with 404 and a known path without the operation with 405", async () => {
    const unknown = await vault("POST", "transit/no-such-thing/orders", {});
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ errors: ["unsupported path"] });
    const method = await vault("DELETE", "transit/encrypt/orders");
    expect(method.status).toBe(405);
    expect(method.body).toEqual({ errors: ["unsupported operation"] });
  });

  it("answers HEAD as a read: it never creates or changes anything", async () => {
    const head = await t.app.http.inject({ method: "HEAD", url: "/v1/transit/keys/made-by-head", headers: { "x-vault-token": t.rootToken } });
    expect(head.statusCode).toBe(404);
    expect((await vault("GET", "transit/keys/made-by-head")).status).toBe(404);
  });

  it("answers a missing key with 404 and an empty errors list, as Vault", async () => {
    const r = await vault("GET", "transit/keys/absent");
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ errors: [] });
  });

  it("answers a body that is not JSON with 400", async () => {
    const res = await t.app.http.inject({ method: "POST", url: "/v1/transit/encrypt/orders", headers: { "x-vault-token": t.rootToken }, payload: "{nope" });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body)).toEqual({ errors: ["failed to parse JSON input"] });
  });

  it("refuses key types Tessera does not have, saying so", async () => {
    for (const type of ["xchacha20-poly1305", "aes256-cmac"]) {
      const r = await vault("POST", `transit/keys/k-${type}`, { type });
      expect(r.status).toBe(400);
      expect(r.body.errors[0]).toContain("is not supported");
    }
  });

  it("refuses plaintext export, plaintext backup and convergent encryption without derivation with Vault-style errors", async () => {
    expect((await vault("GET", "transit/export/encryption-key/orders")).body.errors[0]).toContain("plaintext key export is not supported");
    expect((await vault("POST", "transit/keys/orders/config", { allow_plaintext_backup: true })).status).toBe(400);
    const conv = await vault("POST", "transit/keys/conv", { convergent_encryption: true });
    expect(conv.status).toBe(400);
    expect(conv.body.errors[0]).toBe("convergent encryption requires derivation to be enabled");
    expect((await vault("GET", "transit/keys/conv")).status).toBe(404);
  });

  it("warns about parameters it ignored, as Vault", async () => {
    const r = await vault("POST", "transit/encrypt/orders", { plaintext: b64("x"), colour: "blue" });
    expect(r.status).toBe(200);
    expect(r.body.warnings).toEqual(["Endpoint ignored these unrecognized parameters: [colour]"]);
  });
});

describe("ciphertexts", () => {
  it("answers a tampered vault:v1: ciphertext with 400 and one clear error, never 500", async () => {
    const enc = await vault("POST", "transit/encrypt/orders", { plaintext: b64("secret") });
    const ct: string = enc.body.data.ciphertext;
    const bytes = Buffer.from(ct.slice("vault:v1:".length), "base64");
    for (const i of [0, 5, 30, bytes.length - 1]) {
      const flipped = Buffer.from(bytes);
      flipped[i]! ^= 0x01;
      const r = await vault("POST", "transit/decrypt/orders", { ciphertext: `vault:v1:${flipped.toString("base64")}` });
      expect(r.status, `byte ${i}`).toBe(400);
      expect(r.body.errors).toHaveLength(1);
    }
    for (const bad of ["vault:v1:", "vault:v1:!!!", "vault:vX:abcd", "nope", `vault:v2:${ct.slice(9)}`]) {
      const r = await vault("POST", "transit/decrypt/orders", { ciphertext: bad });
      expect(r.status, bad).toBe(400);
    }
  });

  it("takes plaintext base64 as Vault's Go decoder does: padding bits unchecked, anything else refused by name", async () => {
    // "aGVsbG9=" spells "hello" with a non-zero padding bit: Vault (base64.StdEncoding) takes it; the native API does not.
    const enc = await vault("POST", "transit/encrypt/orders", { plaintext: "aGVsbG9=" });
    expect(enc.status).toBe(200);
    const dec = await vault("POST", "transit/decrypt/orders", { ciphertext: enc.body.data.ciphertext });
    expect(dec.body.data.plaintext).toBe("aGVsbG8=");
    // From an address of its own, so these refusals leave the other tests' refusal budget alone.
    for (const bad of ["aGVsbG8", "aGk-", "not base64!"]) {
      const r = await vault("POST", "transit/encrypt/orders", { plaintext: bad }, t.rootToken, "192.0.2.10");
      expect([r.status, r.body.errors], bad).toEqual([400, [expect.stringContaining("plaintext must be standard base64")]]);
    }
  });

  it("a Vault-format ciphertext decrypts through the native API, and a native one through Vault's", async () => {
    const enc = await vault("POST", "transit/encrypt/orders", { plaintext: b64("both ways") });
    const native = await t.call("POST", "/v1/decrypt", { ciphertext: enc.body.data.ciphertext.replace(/^vault:v1:/, "") });
    expect(native.status).toBe(200);
    expect(Buffer.from(native.body.plaintext, "base64").toString()).toBe("both ways");

    const nenc = await t.call("POST", "/v1/keys/orders/encrypt", { plaintext: b64("reverse") });
    const r = await vault("POST", "transit/decrypt/orders", { ciphertext: `vault:v${nenc.body.keyVersion}:${nenc.body.ciphertext}` });
    expect(r.status).toBe(200);
    expect(Buffer.from(r.body.data.plaintext, "base64").toString()).toBe("reverse");
  });

  it("a derived key's context is the encryption-context entry vault:context on the native API", async () => {
    expect((await vault("POST", "transit/keys/derived", { derived: true })).status).toBe(200);
    const context = b64("tenant-7");
    const enc = await vault("POST", "transit/encrypt/derived", { plaintext: b64("d"), context });
    expect(enc.status).toBe(200);
    const native = await t.call("POST", "/v1/decrypt", { ciphertext: enc.body.data.ciphertext.slice(9), context: { "vault:context": context } });
    expect(native.status).toBe(200);
    expect((await vault("POST", "transit/decrypt/derived", { ciphertext: enc.body.data.ciphertext, context: b64("tenant-8") })).status).toBe(400);
  });
});

describe("signatures", () => {
  it("signs with the curve's own hash by default, refuses another, and verifies prehashed digests", async () => {
    expect((await vault("POST", "transit/keys/p384", { type: "ecdsa-p384" })).status).toBe(200);
    const message = b64("signed");
    const sig = await vault("POST", "transit/sign/p384", { input: message });
    expect(sig.status).toBe(200);
    expect((await vault("POST", "transit/verify/p384", { input: message, signature: sig.body.data.signature })).body.data.valid).toBe(true);
    const wrongHash = await vault("POST", "transit/sign/p384/sha2-256", { input: message });
    expect(wrongHash.status).toBe(400);
    expect(wrongHash.body.errors[0]).toContain("sha2-384");
    const digest = (await import("node:crypto")).createHash("sha384").update("signed").digest("base64");
    const pre = await vault("POST", "transit/sign/p384", { input: digest, prehashed: true });
    expect((await vault("POST", "transit/verify/p384", { input: message, signature: pre.body.data.signature })).body.data.valid).toBe(true);
  });

  it("verifies only with the version a signature names", async () => {
    expect((await vault("POST", "transit/keys/rotating-signer", { type: "ed25519" })).status).toBe(200);
    const sig = (await vault("POST", "transit/sign/rotating-signer", { input: b64("m") })).body.data.signature as string;
    await vault("POST", "transit/keys/rotating-signer/rotate", {});
    expect((await vault("POST", "transit/verify/rotating-signer", { input: b64("m"), signature: sig })).body.data.valid).toBe(true);
    expect((await vault("POST", "transit/verify/rotating-signer", { input: b64("m"), signature: sig.replace("vault:v1:", "vault:v2:") })).body.data.valid).toBe(false);
  });

  it("refuses PSS salt lengths other than the hash's, and signing with a symmetric key", async () => {
    expect((await vault("POST", "transit/keys/rsa-pss", { type: "rsa-2048" })).status).toBe(200);
    expect((await vault("POST", "transit/sign/rsa-pss", { input: b64("m"), salt_length: 20 })).status).toBe(400);
    expect((await vault("POST", "transit/sign/rsa-pss", { input: b64("m"), salt_length: "hash" })).status).toBe(200);
    expect((await vault("POST", "transit/sign/orders", { input: b64("m") })).status).toBe(400);
  });
});

describe("exports", () => {
  it("byok-export wraps an exportable key's versions to another key's RSA public key (RSA-OAEP + AES-KWP)", async () => {
    expect((await vault("POST", "transit/keys/wrapping-rsa", { type: "rsa-4096" })).status).toBe(200);
    expect((await vault("POST", "transit/keys/movable", { exportable: true })).status).toBe(200);
    await vault("POST", "transit/keys/movable/rotate", {});
    const all = await vault("GET", "transit/byok-export/wrapping-rsa/movable");
    expect(all.status).toBe(200);
    expect(all.body.data).toMatchObject({ name: "movable", type: "aes256-gcm96" });
    expect(Object.keys(all.body.data.keys)).toEqual(["1", "2"]);
    // 512 bytes of RSA-4096 OAEP, then AES-KWP of 32 bytes of material (40 bytes).
    expect(Buffer.from(all.body.data.keys["1"], "base64")).toHaveLength(512 + 40);
    const latest = await vault("GET", "transit/byok-export/wrapping-rsa/movable/latest");
    expect(Object.keys(latest.body.data.keys)).toEqual(["2"]);
  });

  it("byok-export refuses a key that is not exportable, and public-key export gives PEM", async () => {
    expect((await vault("GET", "transit/byok-export/wrapping-rsa/orders")).status).toBe(400);
    const pub = await vault("GET", "transit/export/public-key/wrapping-rsa");
    expect(pub.status).toBe(200);
    expect(pub.body.data.keys["1"]).toContain("-----BEGIN PUBLIC KEY-----");
  });
});

describe("batches", () => {
  it("answers a batch with one bad item 400 by default, with each item's result and reference", async () => {
    const r = await vault("POST", "transit/encrypt/orders", {
      batch_input: [
        { plaintext: b64("a"), reference: "first" },
        { plaintext: "not base64!", reference: "second" },
      ],
    });
    expect(r.status).toBe(400);
    const [ok, bad] = r.body.data.batch_results;
    expect(ok.reference).toBe("first");
    expect(ok.ciphertext).toMatch(/^vault:v1:/);
    expect(bad.reference).toBe("second");
    expect(typeof bad.error).toBe("string");
  });

  it("sends each item through the door on its own: one audit record per item, request id <id>/<index>", async () => {
    const r = await vault("POST", "transit/encrypt/orders", { batch_input: [{ plaintext: b64("1") }, { plaintext: b64("2") }, { plaintext: "bad!" }] });
    const id: string = r.body.request_id;
    // By request id: the batch's items are found under the batch's id, however long the trail has grown.
    const mine = (await t.call("GET", `/v1/audit/entries?requestId=${id}`)).body.records as { requestId: string; action: string; outcome: string }[];
    expect(mine.every((x) => x.requestId.startsWith(`${id}/`))).toBe(true);
    expect(mine.filter((x) => x.action === "kms:Encrypt").map((x) => x.requestId).sort()).toEqual([`${id}/0`, `${id}/1`]);
    expect(mine.some((x) => x.requestId === `${id}/2` && x.action === "api:Rejected")).toBe(true);
  });

  it("answers partial_failure_response_code when some item succeeded, and 400 when none did", async () => {
    const partial = await vault("POST", "transit/decrypt/orders", {
      partial_failure_response_code: 207,
      batch_input: [{ ciphertext: (await vault("POST", "transit/encrypt/orders", { plaintext: b64("p") })).body.data.ciphertext }, { ciphertext: "vault:v1:AAAA" }],
    });
    expect(partial.status).toBe(207);
    expect(partial.body.data.batch_results[0].plaintext).toBe(b64("p"));
    const none = await vault("POST", "transit/decrypt/orders", { partial_failure_response_code: 207, batch_input: [{ ciphertext: "vault:v1:AAAA" }] });
    expect(none.status).toBe(400);
  });
});

describe("policy and audit", () => {
  it("a token allowed only kms:Decrypt on one key gets 403 on encrypt, and can decrypt", async () => {
    const enc = await vault("POST", "transit/encrypt/orders", { plaintext: b64("for the reader") });
    const token = (await t.call("POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Decrypt"], resources: ["key/orders"] }] })).body.token as string;
    const denied = await vault("POST", "transit/encrypt/orders", { plaintext: b64("x") }, token);
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0]).toMatch(/^permission denied/);
    const allowed = await vault("POST", "transit/decrypt/orders", { ciphertext: enc.body.data.ciphertext }, token);
    expect(allowed.status).toBe(200);
  });

  it("leaves audit records for Vault calls: operations under their kms: action, refusals as api:Rejected", async () => {
    const enc = await vault("POST", "transit/encrypt/orders", { plaintext: b64("audited") });
    const requestId: string = enc.body.request_id;
    await vault("POST", "transit/nowhere", {});
    const records = (await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as { requestId: string; action: string; outcome: string }[];
    expect(records.some((r) => r.requestId === requestId && r.action === "kms:Encrypt" && r.outcome === "allowed")).toBe(true);
    expect(records.some((r) => r.action === "api:Rejected")).toBe(true);
    expect(JSON.stringify(records)).not.toContain(b64("audited"));
  });
});

describe("sys", () => {
  it("serves Vault's health shape to Vault clients and the native one to others", async () => {
    const v = await vault("GET", "sys/health");
    expect(v.status).toBe(200);
    expect(v.body).toMatchObject({ initialized: true, sealed: false, standby: false, replication_dr_mode: "disabled" });
    expect(typeof v.body.server_time_utc).toBe("number");
    const native = await t.call("GET", "/v1/sys/health", undefined, null);
    expect(native.body).toHaveProperty("serverTime");
  });

  it("answers sys/health 503 while sealed, or sealedcode", async () => {
    await t.call("POST", "/v1/sys/seal", {});
    try {
      expect((await vault("GET", "sys/health")).status).toBe(503);
      expect((await vault("GET", "sys/health?sealedcode=299")).status).toBe(299);
      const seal = await vault("GET", "sys/seal-status");
      expect(seal.body).toMatchObject({ sealed: true, initialized: true, t: 1, n: 1, progress: 0, type: "shamir" });
      expect((await vault("POST", "transit/encrypt/orders", { plaintext: b64("x") })).status).toBe(503);
    } finally {
      await t.unseal();
    }
  });
});

describe("KV v2", () => {
  it("a secret written through Vault's API reads through the native API, and the reverse", async () => {
    expect((await vault("POST", "secret/data/app/db", { data: { password: "from-vault" } })).status).toBe(200);
    const native = await t.call("GET", "/v1/secrets/secret/data/app/db");
    expect(native.status).toBe(200);
    expect(native.body.data).toEqual({ password: "from-vault" });
    expect((await t.call("PUT", "/v1/secrets/secret/data/app/cache", { data: { url: "redis://x" } })).status).toBe(200);
    const r = await vault("GET", "secret/data/app/cache");
    expect(r.body.data.data).toEqual({ url: "redis://x" });
  });

  it("a token allowed only secrets:Read on one path gets 403 on write, and reads it", async () => {
    await vault("POST", "secret/data/team/a", { data: { k: "v" } });
    const token = (await t.call("POST", "/v1/auth/tokens", { grants: [{ actions: ["secrets:Read"], resources: ["secret/secret/team/a"] }] })).body.token as string;
    const denied = await vault("POST", "secret/data/team/a", { data: { k: "w" } }, token);
    expect(denied.status).toBe(403);
    expect(denied.body.errors[0]).toMatch(/^permission denied/);
    expect((await vault("GET", "secret/data/team/a", undefined, token)).body.data.data).toEqual({ k: "v" });
    expect((await vault("GET", "secret/data/team/b", undefined, token)).status).toBe(403);
  });

  it("audits KV writes and reads as secrets:Write and secrets:Read, never their values", async () => {
    const w = await vault("POST", "secret/data/audited", { data: { password: "never-in-the-trail" } });
    const r = await vault("GET", "secret/data/audited");
    const records = (await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as { requestId: string; action: string }[];
    expect(records.some((x) => x.requestId === w.body.request_id && x.action === "secrets:Write")).toBe(true);
    expect(records.some((x) => x.requestId === r.body.request_id && x.action === "secrets:Read")).toBe(true);
    expect(JSON.stringify(records)).not.toContain("never-in-the-trail");
  });

  it("refuses a secret path Tessera's store does not allow before any service call", async () => {
    // (Dot segments never get here through inject: URL parsing resolves them, %2E%2E included.)
    for (const path of ["secret/data/a%20b", "secret/data/a*b", "secret/data/a%0Ab"]) {
      const r = await vault("GET", path);
      expect(r.status, path).toBe(400);
    }
  });

  it("answers a write without data 400, and check-and-set mismatches 400", async () => {
    expect((await vault("POST", "secret/data/x", { nodata: 1 })).status).toBe(400);
    await vault("POST", "secret/data/cas", { data: { a: "1" } });
    const stale = await vault("POST", "secret/data/cas", { data: { a: "2" }, options: { cas: 0 } });
    expect(stale.status).toBe(400);
    expect(stale.body.errors[0]).toContain("check-and-set");
  });
});

describe("configuration", () => {
  const base = { listener: { address: "127.0.0.1:8200", insecure_http: true }, storage: { sqlite: { path: "t.db" } } };

  it("mounts transit and KV v2 at transit/ and secret/ unless told otherwise, and can be turned off", () => {
    expect(resolveConfig(base, "/").vault).toEqual({ transitMount: "transit", kvMounts: ["secret"], listVerb: true });
    expect(resolveConfig({ ...base, vault: { transit_mount: "crypto", kv_mount: "kv", list_verb: false } }, "/").vault).toEqual({ transitMount: "crypto", kvMounts: ["kv"], listVerb: false });
    expect(resolveConfig({ ...base, vault: { kv_mounts: ["secret", "team-a"] } }, "/").vault).toEqual({ transitMount: "transit", kvMounts: ["secret", "team-a"], listVerb: true });
    expect(resolveConfig({ ...base, vault: { enabled: false } }, "/").vault).toBeNull();
  });

  it("refuses a mount on a native path, the same mount twice, and unknown fields, naming the field", () => {
    expect(() => resolveConfig({ ...base, vault: { transit_mount: "keys" } }, "/")).toThrow(ConfigError);
    expect(() => resolveConfig({ ...base, vault: { transit_mount: "keys" } }, "/")).toThrow(/vault\.transit_mount/);
    expect(() => resolveConfig({ ...base, vault: { transit_mount: "x", kv_mount: "x" } }, "/")).toThrow(/must differ/);
    // kv_mounts is checked the same way, each against the others and the transit mount.
    expect(() => resolveConfig({ ...base, vault: { kv_mounts: ["kv", "auth"] } }, "/")).toThrow(/vault\.kv_mounts: "auth" is a path of the native API/);
    expect(() => resolveConfig({ ...base, vault: { kv_mounts: ["kv", "transit"] } }, "/")).toThrow(/vault\.kv_mounts: "transit" is mounted twice/);
    expect(() => resolveConfig({ ...base, vault: { kv_mounts: ["kv", "kv"] } }, "/")).toThrow(/vault\.kv_mounts: "kv" is mounted twice/);
    expect(() => resolveConfig({ ...base, vault: { kv_mounts: [] } }, "/")).toThrow(/vault\.kv_mounts/);
    expect(() => resolveConfig({ ...base, vault: { kv_mounts: ["Bad/Name"] } }, "/")).toThrow(/vault\.kv_mounts/);
    expect(() => resolveConfig({ ...base, vault: { kv_mount: "a", kv_mounts: ["b"] } }, "/")).toThrow(/not both/);
    expect(() => resolveConfig({ ...base, vault: { mounts: [] } }, "/")).toThrow(/vault\.mounts/);
  });
});

describe("mounts", () => {
  it("serves transit and KV v2 under the configured mounts only", async () => {
    const other = await startTestApp({ vault: { transitMount: "crypto", kvMounts: ["kv"] } });
    try {
      const h = { "x-vault-token": other.rootToken };
      expect((await other.app.http.inject({ method: "POST", url: "/v1/crypto/keys/k", headers: h, payload: "{}" })).statusCode).toBe(200);
      expect((await other.app.http.inject({ method: "POST", url: "/v1/kv/data/a", headers: h, payload: JSON.stringify({ data: { x: "1" } }) })).statusCode).toBe(200);
      expect((await other.app.http.inject({ method: "POST", url: "/v1/transit/keys/k", headers: h, payload: "{}" })).statusCode).toBe(404);
      expect((await other.call("GET", "/v1/secrets/kv/data/a")).body.data).toEqual({ x: "1" });
    } finally {
      await other.close();
    }
  });
});
