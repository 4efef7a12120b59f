#!/usr/bin/env node
// The recipient of a wrapped export (`tessera key export … --json`): checks what the export is bound
// to and opens it with the recipient's private key, using its own libraries — node:crypto, `hpke`
// (RFC 9180), `@panva/hpke-noble` (X-Wing), and for sm2pke the `openssl` command line (SM2PKE) and
// `sm-crypto-v2` (SM4-GCM, which neither node:crypto nor `openssl enc` has) — and nothing of Tessera's.
//
//   node examples/unwrap-export.mjs KEY_PREFIX EXPORT.json [--key KEY_ID] [--version N]
//     KEY_PREFIX.key.pem: the private key; KEY_PREFIX.pub.pem: the public key given to --wrap-to
//     prints the exported bytes as base64 on stdout; exits 1, saying why, if anything does not check out
//
// Checks before opening (docs/distribution.md, "What the recipient checks"):
//   - the binding string — info and aad for HPKE, info for rsa-oaep-aes-kwp (aad empty), aad for
//     sm2pke (info empty) — names this algorithm, the answer's key id, version and kind, and the
//     SHA-256 of *this* recipient's public key;
//   - with --key / --version, that the key and version are the ones expected.
import { execFileSync } from "node:child_process";
import { constants, createDecipheriv, createHash, createPrivateKey, createPublicKey, privateDecrypt } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as HPKE from "hpke";
// `@panva/hpke-noble` (X-Wing) and `sm-crypto-v2` (SM4-GCM) are imported where their algorithm is
// opened: loading the post-quantum library alone takes about half a second of CPU, which every other
// algorithm would pay for nothing.

const XWING_ALG = Buffer.from("300d060b2b0601040183e62d81c87a", "hex");
const sha256 = (b) => createHash("sha256").update(b).digest("hex");

/**
 * The private key, and the SHA-256 of the recipient's SubjectPublicKeyInfo — from the public key file
 * kept beside it (recipient-keygen.mjs writes both), which must match the private key where
 * node:crypto can check it (X-Wing's public key is expanded from the seed inside the KEM).
 */
async function loadRecipient(privatePem, publicPem, algorithm) {
  const spki = Buffer.from(publicPem.replace(/-----[^-]+-----|\s+/g, ""), "base64");
  const spkiSha256 = sha256(spki);
  if (algorithm === "hpke-xwing") {
    // PKCS#8: 30 34 | 02 01 00 | AlgorithmIdentifier { id-XWing } | 04 20 <32-byte seed>
    const der = Buffer.from(privatePem.replace(/-----[^-]+-----|\s+/g, ""), "base64");
    if (der.length !== 54 || !der.subarray(5, 5 + XWING_ALG.length).equals(XWING_ALG)) throw new Error("not an X-Wing private key");
    const { KEM_MLKEM768_X25519 } = await import("@panva/hpke-noble");
    const suite = new HPKE.CipherSuite(KEM_MLKEM768_X25519, HPKE.KDF_HKDF_SHA256, HPKE.AEAD_AES_256_GCM);
    return { suite, privateKey: await suite.DeserializePrivateKey(der.subarray(22), false), spkiSha256 };
  }
  if (algorithm === "sm2pke") {
    // OpenSSL derives the public key from the private one; it must be the file's.
    const derived = execFileSync("openssl", ["pkey", "-pubout", "-outform", "DER"], { input: privatePem });
    if (!derived.equals(spki)) throw new Error("the public key file does not match the private key");
    return { privatePem, spkiSha256 };
  }
  const key = createPrivateKey(privatePem);
  if (!createPublicKey(key).export({ type: "spki", format: "der" }).equals(spki)) throw new Error("the public key file does not match the private key");
  if (algorithm === "rsa-oaep-aes-kwp") return { key, spkiSha256 };
  const kem = algorithm === "hpke-p256" ? HPKE.KEM_DHKEM_P256_HKDF_SHA256 : HPKE.KEM_DHKEM_X25519_HKDF_SHA256;
  const suite = new HPKE.CipherSuite(kem, HPKE.KDF_HKDF_SHA256, HPKE.AEAD_AES_256_GCM);
  const d = Buffer.from(key.export({ format: "jwk" }).d, "base64url");
  return { suite, privateKey: await suite.DeserializePrivateKey(d, false), spkiSha256 };
}

/**
 * SM2PKE decryption by OpenSSL (`pkeyutl -decrypt` reads GM/T 0009 DER and checks C3), through a
 * private temporary directory, as the key must be a file.
 */
function sm2Decrypt(privatePem, ciphertext) {
  const dir = mkdtempSync(join(tmpdir(), "unwrap-sm2-"));
  try {
    writeFileSync(join(dir, "key.pem"), privatePem, { mode: 0o600 });
    writeFileSync(join(dir, "c.der"), ciphertext);
    return execFileSync("openssl", ["pkeyutl", "-decrypt", "-inkey", join(dir, "key.pem"), "-in", join(dir, "c.der")], { stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    throw new Error("openssl could not decrypt encapsulatedKey with this SM2 key");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** SM4-GCM (RFC 8998) open of nonce(12) ‖ ciphertext ‖ tag(16); sm-crypto-v2 checks the tag before decrypting. */
async function sm4GcmOpen(key, box, aad) {
  if (box.length < 28) throw new Error("wrappedKey is too short for SM4-GCM");
  const { sm4 } = await import("sm-crypto-v2");
  try {
    const out = sm4.decrypt(box.subarray(12, box.length - 16), key, { mode: "gcm", iv: box.subarray(0, 12), associatedData: aad, tag: box.subarray(box.length - 16), output: "array" });
    return Buffer.from(out);
  } catch {
    throw new Error("SM4-GCM refused wrappedKey (wrong key, changed bytes or changed aad)");
  }
}

/** Parses `tessera/v1/export|alg=…|key=…|…` into its fields; refuses anything else. */
function parseBinding(bytes) {
  const text = bytes.toString("ascii");
  const [head, ...fields] = text.split("|");
  if (head !== "tessera/v1/export") throw new Error("the binding is not a Tessera export binding");
  return Object.fromEntries(fields.map((f) => f.split(/=(.*)/s).slice(0, 2)));
}

export async function unwrapExport(privatePem, publicPem, answer, expect = {}) {
  const recipient = await loadRecipient(privatePem, publicPem, answer.algorithm);
  const info = Buffer.from(answer.info, "base64");
  const aad = Buffer.from(answer.aad, "base64");
  const where = answer.algorithm === "sm2pke" ? "aad" : "info";
  const b = parseBinding(where === "aad" ? aad : info);
  const problems = [];
  if (b.alg !== answer.algorithm) problems.push(`${where} names algorithm ${b.alg}, not ${answer.algorithm}`);
  if (b.key !== answer.keyId) problems.push(`${where} names key ${b.key}, not ${answer.keyId}`);
  if (b.version !== String(answer.keyVersion)) problems.push(`${where} names version ${b.version}, not ${answer.keyVersion}`);
  if (b.export !== answer.export) problems.push(`${where} names export ${b.export}, not ${answer.export}`);
  if (b.recipient !== recipient.spkiSha256) problems.push(`${where} names another recipient key than this one`);
  if (expect.keyId !== undefined && answer.keyId !== expect.keyId) problems.push(`the export is of key ${answer.keyId}, not ${expect.keyId}`);
  if (expect.keyVersion !== undefined && answer.keyVersion !== expect.keyVersion) problems.push(`the export is of version ${answer.keyVersion}, not ${expect.keyVersion}`);
  const hpke = answer.algorithm.startsWith("hpke-");
  const bindsAsExpected = hpke ? aad.equals(info) : answer.algorithm === "sm2pke" ? info.length === 0 : aad.length === 0;
  if (!bindsAsExpected) problems.push("info and aad are not what this algorithm binds");
  if (problems.length > 0) throw new Error(problems.join("; "));

  const enc = Buffer.from(answer.encapsulatedKey, "base64");
  const wrapped = Buffer.from(answer.wrappedKey, "base64");
  if (hpke) return Buffer.from(await recipient.suite.Open(recipient.privateKey, enc, wrapped, { info, aad }));
  if (answer.algorithm === "sm2pke") {
    // GM/T digital envelope: SM2PKE (C1C3C2 DER) of a 16-byte SM4 key, SM4-GCM of the payload under it.
    const sm4Key = sm2Decrypt(recipient.privatePem, enc);
    try {
      if (sm4Key.length !== 16) throw new Error("encapsulatedKey does not hold a 16-byte SM4 key");
      return await sm4GcmOpen(sm4Key, wrapped, aad);
    } finally {
      sm4Key.fill(0);
    }
  }
  // RSA_AES_KEY_WRAP_SHA_256: RSA-OAEP-SHA-256 (label = info) of an AES-256 key, then AES-KWP (RFC 5649).
  const kek = privateDecrypt({ key: recipient.key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256", oaepLabel: info }, enc);
  const d = createDecipheriv("id-aes256-wrap-pad", kek, Buffer.from("a65959a6", "hex"));
  const out = Buffer.concat([d.update(wrapped), d.final()]);
  kek.fill(0);
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name) => {
    const i = args.indexOf(name);
    return i < 0 ? undefined : args.splice(i, 2)[1];
  };
  const keyId = flag("--key");
  const version = flag("--version");
  const [prefix, exportFile] = args;
  if (prefix === undefined || exportFile === undefined) {
    process.stderr.write("usage: unwrap-export.mjs KEY_PREFIX EXPORT.json [--key KEY_ID] [--version N]\n");
    process.exit(2);
  }
  try {
    const answer = JSON.parse(readFileSync(exportFile === "-" ? 0 : exportFile, "utf8"));
    const bytes = await unwrapExport(readFileSync(`${prefix}.key.pem`, "utf8"), readFileSync(`${prefix}.pub.pem`, "utf8"), answer, { keyId, ...(version !== undefined && { keyVersion: Number(version) }) });
    process.stdout.write(bytes.toString("base64") + "\n");
  } catch (err) {
    process.stderr.write(`unwrap-export: ${err.message}\n`);
    process.exit(1);
  }
}
