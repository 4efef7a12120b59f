#!/usr/bin/env node
// The recipient of a wrapped export (`tessera key export … --json`): checks what the export is bound
// to and opens it with the recipient's private key, using its own libraries — node:crypto, `hpke`
// (RFC 9180) and `@panva/hpke-noble` (X-Wing) — and nothing of Tessera's.
//
//   node examples/unwrap-export.mjs KEY_PREFIX EXPORT.json [--key KEY_ID] [--version N]
//     KEY_PREFIX.key.pem: the private key; KEY_PREFIX.pub.pem: the public key given to --wrap-to
//     prints the exported bytes as base64 on stdout; exits 1, saying why, if anything does not check out
//
// Checks before opening (docs/distribution.md, "What the recipient checks"):
//   - info (and aad, for HPKE) is the binding string naming this algorithm, the answer's key id,
//     version and kind, and the SHA-256 of *this* recipient's public key;
//   - with --key / --version, that the key and version are the ones expected.
import { constants, createDecipheriv, createHash, createPrivateKey, createPublicKey, privateDecrypt } from "node:crypto";
import { readFileSync } from "node:fs";
import * as HPKE from "hpke";
import { KEM_MLKEM768_X25519 } from "@panva/hpke-noble";

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
    const suite = new HPKE.CipherSuite(KEM_MLKEM768_X25519, HPKE.KDF_HKDF_SHA256, HPKE.AEAD_AES_256_GCM);
    return { suite, privateKey: await suite.DeserializePrivateKey(der.subarray(22), false), spkiSha256 };
  }
  const key = createPrivateKey(privatePem);
  if (!createPublicKey(key).export({ type: "spki", format: "der" }).equals(spki)) throw new Error("the public key file does not match the private key");
  if (algorithm === "rsa-oaep-aes-kwp") return { key, spkiSha256 };
  const kem = algorithm === "hpke-p256" ? HPKE.KEM_DHKEM_P256_HKDF_SHA256 : HPKE.KEM_DHKEM_X25519_HKDF_SHA256;
  const suite = new HPKE.CipherSuite(kem, HPKE.KDF_HKDF_SHA256, HPKE.AEAD_AES_256_GCM);
  const d = Buffer.from(key.export({ format: "jwk" }).d, "base64url");
  return { suite, privateKey: await suite.DeserializePrivateKey(d, false), spkiSha256 };
}

/** Parses `tessera/v1/export|alg=…|key=…|…` into its fields; refuses anything else. */
function parseBinding(bytes) {
  const text = bytes.toString("ascii");
  const [head, ...fields] = text.split("|");
  if (head !== "tessera/v1/export") throw new Error("info is not a Tessera export binding");
  return Object.fromEntries(fields.map((f) => f.split(/=(.*)/s).slice(0, 2)));
}

export async function unwrapExport(privatePem, publicPem, answer, expect = {}) {
  const recipient = await loadRecipient(privatePem, publicPem, answer.algorithm);
  const info = Buffer.from(answer.info, "base64");
  const aad = Buffer.from(answer.aad, "base64");
  const b = parseBinding(info);
  const problems = [];
  if (b.alg !== answer.algorithm) problems.push(`info names algorithm ${b.alg}, not ${answer.algorithm}`);
  if (b.key !== answer.keyId) problems.push(`info names key ${b.key}, not ${answer.keyId}`);
  if (b.version !== String(answer.keyVersion)) problems.push(`info names version ${b.version}, not ${answer.keyVersion}`);
  if (b.export !== answer.export) problems.push(`info names export ${b.export}, not ${answer.export}`);
  if (b.recipient !== recipient.spkiSha256) problems.push("info names another recipient key than this one");
  if (expect.keyId !== undefined && answer.keyId !== expect.keyId) problems.push(`the export is of key ${answer.keyId}, not ${expect.keyId}`);
  if (expect.keyVersion !== undefined && answer.keyVersion !== expect.keyVersion) problems.push(`the export is of version ${answer.keyVersion}, not ${expect.keyVersion}`);
  const hpke = answer.algorithm !== "rsa-oaep-aes-kwp";
  if (hpke ? !aad.equals(info) : aad.length !== 0) problems.push("aad is not what this algorithm binds");
  if (problems.length > 0) throw new Error(problems.join("; "));

  const enc = Buffer.from(answer.encapsulatedKey, "base64");
  const wrapped = Buffer.from(answer.wrappedKey, "base64");
  if (hpke) return Buffer.from(await recipient.suite.Open(recipient.privateKey, enc, wrapped, { info, aad }));
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
