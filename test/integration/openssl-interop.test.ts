/**
 * Interoperability with an independent implementation: Debian's `openssl` command line.
 * - Tessera signs (RAW and DIGEST), openssl verifies with the public key from GetPublicKey (PEM from DER).
 * - openssl encrypts to Tessera's RSA public key with OAEP (SHA-1 and SHA-256), Tessera decrypts.
 * - openssl derives an ECDH secret with Tessera's public key; Tessera derives the same with openssl's.
 * - openssl reads GenerateDataKeyPair's PKCS#8 private key and finds the public key Tessera returned.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
const dir = mkdtempSync(join(tmpdir(), "tessera-openssl-"));
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const file = (name: string, content?: Uint8Array | string): string => {
  const path = join(dir, name);
  if (content !== undefined) writeFileSync(path, content);
  return path;
};
/** Runs openssl; returns stdout, or the failure's output (openssl exits 1 when a signature fails). */
function openssl(args: string[]): { ok: boolean; out: string } {
  try {
    return { ok: true, out: execFileSync("openssl", args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }) };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ""}${e.stderr ?? ""}` };
  }
}

/** The key's public key (GetPublicKey, DER) as a PEM file, converted by openssl itself. */
async function publicKeyPem(name: string): Promise<string> {
  const der = file(`${name}.pub.der`, Buffer.from((await t.call("GET", `/v1/keys/${name}/public-key`)).body.publicKey, "base64"));
  const pem = file(`${name}.pub.pem`);
  expect(openssl(["pkey", "-pubin", "-inform", "DER", "-in", der, "-out", pem]).ok).toBe(true);
  return pem;
}

async function createKey(name: string, keySpec: string, keyUsage: string): Promise<void> {
  const r = await t.call("POST", "/v1/keys", { name, keySpec, keyUsage });
  expect(r.status, JSON.stringify(r.body)).toBe(201);
}

const message = Buffer.from("interoperable message\n");

describe("openssl verifies Tessera's signatures", () => {
  const cases = [
    ["RSA_2048", "RSASSA_PSS_SHA_256", "sha256", ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:32"]],
    ["RSA_3072", "RSASSA_PSS_SHA_512", "sha512", ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:64"]],
    ["RSA_2048", "RSASSA_PKCS1_V1_5_SHA_256", "sha256", []],
    ["RSA_4096", "RSASSA_PKCS1_V1_5_SHA_384", "sha384", []],
    ["ECC_NIST_P256", "ECDSA_SHA_256", "sha256", []],
    ["ECC_NIST_P384", "ECDSA_SHA_384", "sha384", []],
    ["ECC_NIST_P521", "ECDSA_SHA_512", "sha512", []],
    ["ECC_SECG_P256K1", "ECDSA_SHA_256", "sha256", []],
  ] as const;

  it.each(cases)("%s %s: RAW with `openssl dgst -verify`, DIGEST with `openssl pkeyutl -verify`", async (spec, algorithm, hash, sigopts) => {
    const name = `${spec}-${algorithm}`.toLowerCase().replaceAll("_", "-");
    await createKey(name, spec, "SIGN_VERIFY");
    const pem = await publicKeyPem(name);
    const msg = file(`${name}.msg`, message);

    const raw = await t.call("POST", `/v1/keys/${name}/sign`, { message: b64(message), signingAlgorithm: algorithm });
    const rawSig = file(`${name}.raw.sig`, Buffer.from(raw.body.signature, "base64"));
    const verified = openssl(["dgst", `-${hash}`, ...sigopts, "-verify", pem, "-signature", rawSig, msg]);
    expect(verified.out.trim()).toBe("Verified OK");

    const digest = createHash(hash).update(message).digest();
    const fromDigest = await t.call("POST", `/v1/keys/${name}/sign`, { message: b64(digest), messageType: "DIGEST", signingAlgorithm: algorithm });
    const digestSig = file(`${name}.digest.sig`, Buffer.from(fromDigest.body.signature, "base64"));
    const pkeyopts = sigopts.length > 0 ? ["-pkeyopt", "rsa_padding_mode:pss", "-pkeyopt", `rsa_pss_saltlen:${digest.length}`] : [];
    const digestOk = openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pem, "-in", file(`${name}.digest`, digest), "-sigfile", digestSig, "-pkeyopt", `digest:${hash}`, ...pkeyopts]);
    expect(digestOk.out.trim()).toBe("Signature Verified Successfully");
    // …and the same signature over another message does not verify.
    const other = openssl(["dgst", `-${hash}`, ...sigopts, "-verify", pem, "-signature", rawSig, file(`${name}.other`, "another message\n")]);
    expect([other.ok, other.out.split("\n")[0]]).toEqual([false, "Verification failure"]);
  });

  it("ECC_NIST_EDWARDS25519 ED25519_SHA_512: `openssl pkeyutl -verify -rawin`", async () => {
    await createKey("ed", "ECC_NIST_EDWARDS25519", "SIGN_VERIFY");
    const pem = await publicKeyPem("ed");
    const signed = await t.call("POST", "/v1/keys/ed/sign", { message: b64(message), signingAlgorithm: "ED25519_SHA_512" });
    const sig = file("ed.sig", Buffer.from(signed.body.signature, "base64"));
    expect(openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", file("ed.msg", message), "-sigfile", sig]).out.trim()).toBe(
      "Signature Verified Successfully",
    );
    const other = openssl(["pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", file("ed.other", "x"), "-sigfile", sig]);
    expect([other.ok, other.out.split("\n")[0]]).toEqual([false, "Signature Verification Failure"]);
  });
});

describe("openssl encrypts to Tessera's RSA keys", () => {
  it.each([
    ["RSA_2048", "RSAES_OAEP_SHA_256", "sha256"],
    ["RSA_3072", "RSAES_OAEP_SHA_1", "sha1"],
    ["RSA_4096", "RSAES_OAEP_SHA_256", "sha256"],
  ] as const)("%s %s: `openssl pkeyutl -encrypt` with OAEP → Tessera Decrypt", async (spec, algorithm, md) => {
    const name = `enc-${spec.toLowerCase().replaceAll("_", "-")}`;
    await createKey(name, spec, "ENCRYPT_DECRYPT");
    const pem = await publicKeyPem(name);
    const ct = file(`${name}.ct`);
    const encrypted = openssl([
      "pkeyutl", "-encrypt", "-pubin", "-inkey", pem, "-in", file(`${name}.pt`, "sealed by openssl"), "-out", ct,
      "-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", `rsa_oaep_md:${md}`, "-pkeyopt", `rsa_mgf1_md:${md}`,
    ]);
    expect(encrypted.ok, encrypted.out).toBe(true);
    const r = await t.call("POST", "/v1/decrypt", { ciphertext: b64(readFileSync(ct)), keyId: name, encryptionAlgorithm: algorithm });
    expect(Buffer.from(r.body.plaintext, "base64").toString()).toBe("sealed by openssl");
  });
});

describe("ECDH and data key pairs with openssl", () => {
  it.each([["ECC_NIST_P256", "prime256v1"], ["ECC_NIST_P521", "secp521r1"]] as const)("%s: openssl and Tessera derive the same shared secret", async (spec, curve) => {
    const name = `ecdh-${curve}`;
    await createKey(name, spec, "KEY_AGREEMENT");
    const ours = await publicKeyPem(name);
    const peer = file(`${name}.peer.pem`);
    expect(openssl(["genpkey", "-algorithm", "EC", "-pkeyopt", `ec_paramgen_curve:${curve}`, "-out", peer]).ok).toBe(true);
    const peerPub = file(`${name}.peer.pub.der`);
    expect(openssl(["pkey", "-in", peer, "-pubout", "-outform", "DER", "-out", peerPub]).ok).toBe(true);
    const secret = file(`${name}.secret`);
    expect(openssl(["pkeyutl", "-derive", "-inkey", peer, "-peerkey", ours, "-out", secret]).ok).toBe(true);
    const r = await t.call("POST", `/v1/keys/${name}/derive-shared-secret`, { keyAgreementAlgorithm: "ECDH", publicKey: b64(readFileSync(peerPub)) });
    expect(r.body.sharedSecret).toBe(b64(readFileSync(secret)));
  });

  it("openssl reads GenerateDataKeyPair's PKCS#8 private key and derives the public key Tessera returned", async () => {
    expect((await t.call("POST", "/v1/keys", { name: "pairs" })).status).toBe(201);
    for (const keyPairSpec of ["RSA_2048", "ECC_NIST_P384", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519"]) {
      const r = await t.call("POST", "/v1/keys/pairs/generate-data-key-pair", { keyPairSpec });
      const priv = file(`pair-${keyPairSpec}.der`, Buffer.from(r.body.privateKeyPlaintext, "base64"));
      const pub = file(`pair-${keyPairSpec}.pub.der`);
      expect(openssl(["pkey", "-inform", "DER", "-in", priv, "-pubout", "-outform", "DER", "-out", pub]).ok).toBe(true);
      expect(b64(readFileSync(pub))).toBe(r.body.publicKey);
    }
  });
});
