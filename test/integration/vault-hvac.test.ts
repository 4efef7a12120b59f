/**
 * Debian's python3-hvac, unchanged, against a real Tessera process: transit calls and Vault's
 * response shapes (docs/vault-compatibility.md). hvac runs under the system Python (/usr/bin/python3),
 * where Debian installs it; scripts/test-prerequisites.mjs installs it when missing.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "hvac-root-token-0123456789";
const SCRIPT = fileURLToPath(new URL("./vault/hvac_transit.py", import.meta.url));
const KV_SCRIPT = fileURLToPath(new URL("./vault/hvac_kv.py", import.meta.url));
let server: ServerProcess;
let out: Record<string, any>;
let kv: Record<string, any>;

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT], { ready: "unsealed" });
  out = JSON.parse(execFileSync("/usr/bin/python3", [SCRIPT, server.url, ROOT], { encoding: "utf8", timeout: 120_000 }));
  // A secret written through the native API, for hvac to read.
  const native = await fetch(`${server.url}/v1/secrets/secret/data/from-native`, {
    method: "PUT",
    headers: { "x-tessera-token": ROOT, "content-type": "application/json" },
    body: JSON.stringify({ data: { token: "n" } }),
  });
  expect(native.status).toBe(200);
  kv = JSON.parse(execFileSync("/usr/bin/python3", [KV_SCRIPT, server.url, ROOT], { encoding: "utf8", timeout: 120_000 }));
}, 180_000);
afterAll(async () => server?.stop());

const b64 = (s: string) => Buffer.from(s).toString("base64");

describe("python3-hvac against Tessera", () => {
  it("authenticates with the Tessera token", () => {
    expect(out["is_authenticated"]).toEqual({ value: true });
  });

  it("creates, reads and lists keys in Vault's shapes", () => {
    const read = out["read"].data;
    expect(read).toMatchObject({ name: "orders", type: "aes256-gcm96", latest_version: 1, min_decryption_version: 1, min_encryption_version: 0, deletion_allowed: false, exportable: false, derived: false, supports_encryption: true, supports_decryption: true, supports_signing: false });
    expect(typeof read.keys["1"]).toBe("number");
    expect(out["list"].data.keys).toContain("orders");
    expect(out["rotate"].data.latest_version).toBe(2);
    expect(out["config"].data).toMatchObject({ deletion_allowed: true, min_decryption_version: 1 });
    expect(out["config_rotation"].data).toMatchObject({ deletion_allowed: true, auto_rotate_period: 86400 });
  });

  it("encrypts, decrypts and rewraps with vault:vN: ciphertexts", () => {
    expect(out["encrypt"].data.ciphertext).toMatch(/^vault:v1:[A-Za-z0-9+/]+=*$/);
    expect(out["encrypt"].data.key_version).toBe(1);
    expect(out["decrypt"].data.plaintext).toBe(b64("hello hvac"));
    expect(out["rewrap"].data.ciphertext).toMatch(/^vault:v2:/);
    expect(out["decrypt_after_rotate"].data.plaintext).toBe(b64("hello hvac"));
    expect(out["derived_decrypt"].data.plaintext).toBe(b64("t"));
  });

  it("answers batches with references, and a partial failure with 400 (an InvalidRequest in hvac)", () => {
    expect(out["batch_encrypt"].data.batch_results.map((r: any) => r.reference)).toEqual(["one", "two"]);
    expect(out["batch_partial"].exception).toBe("InvalidRequest");
  });

  it("generates data keys, random bytes and hashes", () => {
    expect(out["datakey_plaintext"].data.ciphertext).toMatch(/^vault:v2:/);
    expect(Buffer.from(out["datakey_plaintext"].data.plaintext, "base64")).toHaveLength(32);
    expect(out["datakey_wrapped"].data.plaintext).toBeUndefined();
    expect(out["random"].data.random_bytes).toMatch(/^[0-9a-f]{32}$/);
    expect(out["hash"].data.sum).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  });

  it("signs and verifies (asn1 and jws), and HMACs through the generic write", () => {
    expect(out["sign"].data.signature).toMatch(/^vault:v1:/);
    expect(out["verify"].data.valid).toBe(true);
    expect(out["verify_wrong"].data.valid).toBe(false);
    expect(out["sign_jws"].data.signature).toMatch(/^vault:v1:[A-Za-z0-9_-]+$/);
    expect(out["verify_jws"].data.valid).toBe(true);
    expect(out["rsa_verify"].data.valid).toBe(true);
    expect(out["ed25519_sign"].data.signature).toMatch(/^vault:v1:/);
    expect(out["ecdsa_create"].data.keys["1"].public_key).toContain("BEGIN PUBLIC KEY");
    expect(out["hmac"].data.hmac).toMatch(/^vault:v1:/);
    expect(out["hmac_verify"].data.valid).toBe(true);
    expect(out["sm4_encrypt"].data.ciphertext).toMatch(/^vault:v1:/);
    expect(out["sm2_sign"].data.signature).toMatch(/^vault:v1:/);
  });

  it("refuses what Tessera does not offer with Vault-style 400s", () => {
    const refusals: Record<string, string> = {
      xchacha_refused: "no XChaCha20-Poly1305 keys",
      convergent_nonce_refused: "nonce provided when not allowed",
      convergent_not_derived_refused: "convergent encryption requires derivation to be enabled",
      encrypt_below_min_refused: "below its minEncryptionVersion",
      min_encryption_above_latest_refused: "cannot set min encryption version of 3, latest key version is 2",
      export_refused: "plaintext key export is not supported",
      trim_too_high: "min decryption version",
      decrypt_trimmed: "has been destroyed",
      restore_refused: "restore with force",
      restore_tampered: "damaged",
      tampered: "The ciphertext is invalid",
    };
    for (const [name, text] of Object.entries(refusals)) {
      expect(out[name].exception, name).toBe("InvalidRequest");
      expect(out[name].message, name).toContain(text);
    }
  });

  it("serves aes128-gcm96 and chacha20-poly1305 keys, convergent keys, key_version and min_encryption_version", () => {
    expect(out["aes128_create"].data).toMatchObject({ name: "a128", type: "aes128-gcm96" });
    expect(out["aes128_decrypt"].data.plaintext).toBe(b64("aes-128"));
    expect(out["chacha_create"].data).toMatchObject({ name: "cc", type: "chacha20-poly1305" });
    expect(out["chacha_decrypt"].data.plaintext).toBe(b64("chacha"));
    expect(out["convergent_read"].data).toMatchObject({ derived: true, convergent_encryption: true, convergent_encryption_version: 3, kdf: "hkdf_sha256" });
    expect(out["convergent_2"].data.ciphertext).toBe(out["convergent_1"].data.ciphertext);
    expect(out["convergent_other"].data.ciphertext).not.toBe(out["convergent_1"].data.ciphertext);
    expect(out["convergent_decrypt"].data.plaintext).toBe(b64("same"));
    expect(out["encrypt_v1"].data).toMatchObject({ key_version: 1 });
    expect(out["encrypt_v1"].data.ciphertext).toMatch(/^vault:v1:/);
    expect(out["rewrap_v2"].data).toMatchObject({ key_version: 2 });
    expect(out["rewrap_v2"].data.ciphertext).toMatch(/^vault:v2:/);
    expect(out["cc_read"].data).toMatchObject({ latest_version: 2, min_encryption_version: 2, min_decryption_version: 1 });
  });

  it("trims retired versions and backs up and restores a key (sealed, never plaintext)", () => {
    expect(out["trim"].data).toMatchObject({ min_available_version: 2, min_decryption_version: 2, latest_version: 2 });
    expect(Object.keys(out["trim"].data.keys)).toEqual(["2"]);
    // The backup is Tessera's sealed format, not Vault's plaintext JSON.
    expect(Buffer.from(out["backup"].data.backup, "base64").subarray(0, 4).toString()).toBe("TKBK");
    expect(out["restore_forced"]).toEqual({ status: 204 });
    expect(out["read_restored"].data).toMatchObject({ name: "orders", latest_version: 2, min_available_version: 2 });
  });

  it("deletes a key whose deletion is allowed (204)", () => {
    expect(out["delete"]).toEqual({ status: 204 });
  });

  it("reads sys/health, sys/seal-status and lookup-self in Vault's shapes", () => {
    expect(out["health"]).toMatchObject({ initialized: true, sealed: false, standby: false });
    expect(out["seal_status"]).toMatchObject({ sealed: false, t: 1, n: 1, progress: 0, type: "shamir" });
    expect(out["lookup_self"].data).toMatchObject({ id: ROOT, policies: ["root"], display_name: "root" });
  });
});

describe("python3-hvac's KV v2 against Tessera's secrets store", () => {
  it("writes versions with check-and-set and reads them in Vault's shape", () => {
    expect(kv["put"].data).toMatchObject({ version: 1, destroyed: false, deletion_time: "" });
    expect(kv["put_cas"].data.version).toBe(2);
    expect(kv["put_stale_cas"]).toMatchObject({ exception: "InvalidRequest" });
    expect(kv["put_stale_cas"].message).toContain("check-and-set");
    expect(kv["read"].data).toMatchObject({ data: { username: "orders", password: "second" }, metadata: { version: 2, destroyed: false, deletion_time: "" } });
    expect(kv["read_v1"].data.data.password).toBe("first");
    expect(kv["list"].data.keys).toEqual(["db"]);
  });

  it("reads metadata with every version", () => {
    const m = kv["metadata"].data;
    expect(m).toMatchObject({ current_version: 2, oldest_version: 1, cas_required: false, delete_version_after: "0s" });
    expect(Object.keys(m.versions)).toEqual(["1", "2"]);
    expect(kv["update_metadata"]).toEqual({ status: 204 });
  });

  it("soft-deletes, undeletes and destroys versions; a deleted version reads 404 (an InvalidPath in hvac)", () => {
    expect(kv["delete_latest"]).toEqual({ status: 204 });
    expect(kv["read_deleted"].exception).toBe("InvalidPath");
    expect(kv["read_deleted"].message).toContain('"deletion_time":"20');
    expect(kv["undelete"]).toEqual({ status: 204 });
    expect(kv["read_undeleted"].data.data.password).toBe("second");
    expect(kv["destroy"]).toEqual({ status: 204 });
    expect(kv["read_destroyed"].message).toContain('"destroyed":true');
  });

  it("patches, configures the mount, and deletes everything", () => {
    expect(kv["read_patched"].data.data).toEqual({ username: "orders", password: "second", port: "5432" });
    expect(kv["read_configuration"].data).toMatchObject({ max_versions: 20, cas_required: false });
    expect(kv["delete_all"]).toEqual({ status: 204 });
    expect(kv["read_gone"].exception).toBe("InvalidPath");
  });

  it("reads a secret written through the native API", () => {
    expect(kv["native_written"].data.data).toEqual({ token: "n" });
  });
});
