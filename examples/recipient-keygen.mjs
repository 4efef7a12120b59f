#!/usr/bin/env node
// Makes a recipient key pair for `tessera key export --wrap-to`, with the recipient's own libraries
// (node:crypto, `hpke` + `@panva/hpke-noble` for X-Wing, the `openssl` command line for SM2): nothing
// of Tessera's.
//
//   node examples/recipient-keygen.mjs ALGORITHM OUT_PREFIX
//     ALGORITHM: hpke-p256 | hpke-x25519 | hpke-xwing | rsa-oaep-aes-kwp | sm2pke
//     writes OUT_PREFIX.key.pem (PKCS#8, mode 0600) and OUT_PREFIX.pub.pem (SubjectPublicKeyInfo)
//
// X-Wing keys use the OID draft-connolly-cfrg-xwing-kem gives them (1.3.6.1.4.1.62253.25722): the
// public key's BIT STRING is the raw 1216-byte key, the private key's OCTET STRING the 32-byte seed.
// SM2 keys are `openssl genpkey -algorithm SM2`'s: id-ecPublicKey on curve 1.2.156.10197.1.301.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { writeFileSync } from "node:fs";
import * as HPKE from "hpke";
// `@panva/hpke-noble` is imported only for an X-Wing pair: loading it takes about half a second of CPU.

const XWING_ALG = Buffer.from("300d060b2b0601040183e62d81c87a", "hex");

const der = (tag, body) => {
  const len = body.length < 0x80 ? Buffer.of(body.length) : body.length < 0x100 ? Buffer.of(0x81, body.length) : Buffer.of(0x82, body.length >> 8, body.length & 0xff);
  return Buffer.concat([Buffer.of(tag), len, body]);
};
const pem = (label, bytes) => `-----BEGIN ${label}-----\n${bytes.toString("base64").match(/.{1,64}/g).join("\n")}\n-----END ${label}-----\n`;

export async function xwingKeyPair() {
  const { KEM_MLKEM768_X25519 } = await import("@panva/hpke-noble");
  const suite = new HPKE.CipherSuite(KEM_MLKEM768_X25519, HPKE.KDF_HKDF_SHA256, HPKE.AEAD_AES_256_GCM);
  const kp = await suite.GenerateKeyPair(true);
  const pub = Buffer.from(await suite.SerializePublicKey(kp.publicKey));
  const seed = Buffer.from(await suite.SerializePrivateKey(kp.privateKey));
  const spki = der(0x30, Buffer.concat([XWING_ALG, der(0x03, Buffer.concat([Buffer.of(0), pub]))]));
  const pkcs8 = der(0x30, Buffer.concat([Buffer.from("020100", "hex"), XWING_ALG, der(0x04, seed)]));
  return { privatePem: pem("PRIVATE KEY", pkcs8), publicPem: pem("PUBLIC KEY", spki) };
}

export async function recipientKeyPair(algorithm) {
  const enc = { publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "pkcs8", format: "pem" } };
  switch (algorithm) {
    case "hpke-p256": {
      const k = generateKeyPairSync("ec", { namedCurve: "P-256", ...enc });
      return { privatePem: k.privateKey, publicPem: k.publicKey };
    }
    case "hpke-x25519": {
      const k = generateKeyPairSync("x25519", enc);
      return { privatePem: k.privateKey, publicPem: k.publicKey };
    }
    case "rsa-oaep-aes-kwp": {
      const k = generateKeyPairSync("rsa", { modulusLength: 3072, ...enc });
      return { privatePem: k.privateKey, publicPem: k.publicKey };
    }
    case "hpke-xwing":
      return xwingKeyPair();
    case "sm2pke": {
      const privatePem = execFileSync("openssl", ["genpkey", "-algorithm", "SM2"], { encoding: "utf8" });
      const publicPem = execFileSync("openssl", ["pkey", "-pubout"], { input: privatePem, encoding: "utf8" });
      return { privatePem, publicPem };
    }
    default:
      throw new Error(`unknown algorithm ${algorithm}`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [algorithm, prefix] = process.argv.slice(2);
  if (algorithm === undefined || prefix === undefined) {
    process.stderr.write("usage: recipient-keygen.mjs ALGORITHM OUT_PREFIX\n");
    process.exit(2);
  }
  const { privatePem, publicPem } = await recipientKeyPair(algorithm);
  writeFileSync(`${prefix}.key.pem`, privatePem, { mode: 0o600 });
  writeFileSync(`${prefix}.pub.pem`, publicPem);
}
