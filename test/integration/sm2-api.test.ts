/**
 * SM2 keys through the native API, checked by an independent implementation (Debian's `openssl`):
 * SM2DSA signatures made by Tessera verify in `openssl pkeyutl` with the same distinguishing id (the
 * default `1234567812345678`, or the caller's `signerId`); OpenSSL encrypts to a key's public key and
 * Tessera decrypts (the private key never leaves, so the other direction is at the primitive level,
 * sm2-openssl-interop.test.ts); a signer id is refused where it does not apply; old versions still
 * verify after a rotation.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opensslIn, opensslStatusIn } from "../helpers/openssl.js";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await startTestApp();
  dir = mkdtempSync(join(tmpdir(), "tessera-sm2-api-"));
  for (const usage of ["SIGN_VERIFY", "ENCRYPT_DECRYPT"]) {
    const r = await t.call("POST", "/v1/keys", { name: `sm2-${usage.toLowerCase()}`, keySpec: "SM2", keyUsage: usage });
    expect(r.status, JSON.stringify(r.body)).toBe(201);
  }
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const openssl = (...args: string[]): Buffer => opensslIn(dir, ...args);
const opensslStatus = (...args: string[]): number => opensslStatusIn(dir, ...args);
const message = Buffer.from("转账 10 元到账户 42");

/** The key's public key (a version, default the primary) written as PEM for openssl. */
async function publicKeyPem(name: string, file: string, version?: number): Promise<void> {
  const r = await t.call("GET", `/v1/keys/${name}/public-key${version === undefined ? "" : `?version=${version}`}`);
  expect(r.status).toBe(200);
  const der = Buffer.from(r.body.publicKey, "base64");
  writeFileSync(join(dir, file), `-----BEGIN PUBLIC KEY-----\n${der.toString("base64").replace(/.{64}/g, "$&\n")}\n-----END PUBLIC KEY-----\n`);
}

const verifyArgs = (pub: string, sig: string, id: string) =>
  ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3", "-in", "msg.bin", "-sigfile", sig, "-pkeyopt", `distid:${id}`];

describe("SM2DSA through the API", () => {
  it.each([
    ["the default id", undefined, "1234567812345678"],
    ["a caller's signerId", "vm-42@tessera.example", "vm-42@tessera.example"],
  ])("openssl verifies a signature made with %s, and refuses it under another id", async (_n, signerId, distid) => {
    const r = await t.call("POST", "/v1/keys/sm2-sign_verify/sign", { message: b64(message), signingAlgorithm: "SM2DSA", ...(signerId === undefined ? {} : { signerId }) });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    writeFileSync(join(dir, "msg.bin"), message);
    writeFileSync(join(dir, "t.sig"), Buffer.from(r.body.signature, "base64"));
    await publicKeyPem("sm2-sign_verify", "t.pub");
    expect(openssl(...verifyArgs("t.pub", "t.sig", distid)).toString()).toContain("Signature Verified Successfully");
    expect(opensslStatus(...verifyArgs("t.pub", "t.sig", "someone-else"))).not.toBe(0);
    // Tessera agrees: the same id verifies, another does not.
    const body = { message: b64(message), signingAlgorithm: "SM2DSA", signature: r.body.signature };
    expect((await t.call("POST", "/v1/keys/sm2-sign_verify/verify", { ...body, ...(signerId === undefined ? {} : { signerId }) })).body.signatureValid).toBe(true);
    expect((await t.call("POST", "/v1/keys/sm2-sign_verify/verify", { ...body, signerId: "someone-else" })).body.signatureValid).toBe(false);
  });

  it("a signerId is InvalidInput for a DIGEST and for any other algorithm", async () => {
    const digest = b64(Buffer.alloc(32, 7));
    const sm2 = await t.call("POST", "/v1/keys/sm2-sign_verify/sign", { message: digest, messageType: "DIGEST", signingAlgorithm: "SM2DSA", signerId: "x" });
    expect([sm2.status, sm2.body.error.code, sm2.body.error.field]).toEqual([400, "InvalidInput", "/signerId"]);
    expect((await t.call("POST", "/v1/keys", { name: "p256-sv", keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" })).status).toBe(201);
    const ec = await t.call("POST", "/v1/keys/p256-sv/sign", { message: b64(message), signingAlgorithm: "ECDSA_SHA_256", signerId: "x" });
    expect([ec.status, ec.body.error.code, ec.body.error.field]).toEqual([400, "InvalidInput", "/signerId"]);
  });

  it("after a rotation the old version still verifies its signatures; new ones name version 2", async () => {
    const old = (await t.call("POST", "/v1/keys/sm2-sign_verify/sign", { message: b64(message), signingAlgorithm: "SM2DSA" })).body;
    expect((await t.call("POST", "/v1/keys/sm2-sign_verify/rotate")).status).toBe(200);
    const fresh = (await t.call("POST", "/v1/keys/sm2-sign_verify/sign", { message: b64(message), signingAlgorithm: "SM2DSA" })).body;
    expect([old.keyVersion, fresh.keyVersion]).toEqual([1, 2]);
    const check = (signature: string, keyVersion: number) =>
      t.call("POST", "/v1/keys/sm2-sign_verify/verify", { message: b64(message), signingAlgorithm: "SM2DSA", signature, keyVersion }).then((r) => r.body.signatureValid);
    expect(await check(old.signature, 1)).toBe(true);
    expect(await check(fresh.signature, 2)).toBe(true);
    expect(await check(old.signature, 2)).toBe(false);
  });
});

describe("SM2PKE through the API", () => {
  it("Tessera decrypts what openssl encrypts to the key's public key; a changed byte is InvalidCiphertext", async () => {
    await publicKeyPem("sm2-encrypt_decrypt", "e.pub");
    writeFileSync(join(dir, "plain.bin"), message);
    openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", "e.pub", "-in", "plain.bin", "-out", "c.bin");
    const ciphertext = readFileSync(join(dir, "c.bin"));
    const r = await t.call("POST", "/v1/decrypt", { ciphertext: b64(ciphertext), keyId: "sm2-encrypt_decrypt", encryptionAlgorithm: "SM2PKE" });
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(Buffer.from(r.body.plaintext, "base64").equals(message)).toBe(true);
    const bad = Buffer.from(ciphertext);
    bad[bad.length - 1]! ^= 1;
    const refused = await t.call("POST", "/v1/decrypt", { ciphertext: b64(bad), keyId: "sm2-encrypt_decrypt", encryptionAlgorithm: "SM2PKE" });
    expect([refused.status, refused.body.error.code]).toEqual([400, "InvalidCiphertext"]);
  });

  it("encrypts at most 1024 bytes, round-trips, and SYMMETRIC_DEFAULT or RSA algorithms are InvalidKeyUsage", async () => {
    const enc = await t.call("POST", "/v1/keys/sm2-encrypt_decrypt/encrypt", { plaintext: b64(message), encryptionAlgorithm: "SM2PKE" });
    expect(enc.status, JSON.stringify(enc.body)).toBe(200);
    const dec = await t.call("POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext, keyId: "sm2-encrypt_decrypt", encryptionAlgorithm: "SM2PKE" });
    expect(Buffer.from(dec.body.plaintext, "base64").equals(message)).toBe(true);
    const big = await t.call("POST", "/v1/keys/sm2-encrypt_decrypt/encrypt", { plaintext: b64(Buffer.alloc(1025)), encryptionAlgorithm: "SM2PKE" });
    expect([big.status, big.body.error.code]).toEqual([400, "InvalidInput"]);
    for (const encryptionAlgorithm of [undefined, "RSAES_OAEP_SHA_256"]) {
      const r = await t.call("POST", "/v1/keys/sm2-encrypt_decrypt/encrypt", { plaintext: b64("x"), ...(encryptionAlgorithm === undefined ? {} : { encryptionAlgorithm }) });
      expect([r.status, r.body.error.code], String(encryptionAlgorithm)).toEqual([400, "InvalidKeyUsage"]);
    }
  });
});
