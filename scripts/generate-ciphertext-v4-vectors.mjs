#!/usr/bin/env node
/**
 * Writes test/vectors/ciphertext-v4.json: positive and negative vectors for Tessera's ciphertext
 * format v4 (docs/formats.md, "Format v4"): AES-128-GCM, ChaCha20-Poly1305 and convergent mode.
 *
 * Stand-alone on purpose: it implements the page on node:crypto and imports nothing of Tessera's, so
 * the vectors check the implementation rather than echo it. Deterministic: material, nonces and
 * plaintexts are SHAKE-128 of fixed labels, so running it again writes the same file. Vectors once
 * published are never edited; a format change gets a new file.
 *
 *   node scripts/generate-ciphertext-v4-vectors.mjs
 */
import { createCipheriv, createHash, createHmac, hkdfSync } from "node:crypto";
import { writeFileSync } from "node:fs";

const OUT = new URL("../test/vectors/ciphertext-v4.json", import.meta.url);
const hex = (b) => Buffer.from(b).toString("hex");
const shake = (label, n) => createHash("shake128", { outputLength: n }).update(`tessera v4 vectors: ${label}`).digest();
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

const KEY_ID = "3d6f4e2a-9b1c-4d7e-8f20-5a6b7c8d9e0f";
const ids = { AES_128_GCM: 0x06, AES_128_GCM_DERIVED: 0x07, CHACHA20_POLY1305: 0x08, CHACHA20_POLY1305_DERIVED: 0x09, AES_256_GCM_CONVERGENT: 0x0a, AES_128_GCM_CONVERGENT: 0x0b, CHACHA20_POLY1305_CONVERGENT: 0x0c };
const suites = {
  AES_128_GCM: { cipher: "aes-128-gcm", keyLength: 16 },
  AES_128_GCM_DERIVED: { cipher: "aes-128-gcm", keyLength: 16, info: "tessera/v4/encrypt" },
  CHACHA20_POLY1305: { cipher: "chacha20-poly1305", keyLength: 32 },
  CHACHA20_POLY1305_DERIVED: { cipher: "chacha20-poly1305", keyLength: 32, info: "tessera/v4/encrypt" },
  AES_256_GCM_CONVERGENT: { cipher: "aes-256-gcm", keyLength: 32, info: "tessera/v4/convergent", convergent: true },
  AES_128_GCM_CONVERGENT: { cipher: "aes-128-gcm", keyLength: 16, info: "tessera/v4/convergent", convergent: true },
  CHACHA20_POLY1305_CONVERGENT: { cipher: "chacha20-poly1305", keyLength: 32, info: "tessera/v4/convergent", convergent: true },
};
/** Material length of the key spec each algorithm belongs to. */
const materialLength = (algorithm) => (algorithm.startsWith("AES_128") ? 16 : 32);

function encodeContext(ctx) {
  const pairs = Object.entries(ctx).map(([k, v]) => [Buffer.from(k, "utf8"), Buffer.from(v, "utf8")]);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat([u16(pairs.length), ...pairs.flatMap(([k, v]) => [u16(k.length), k, u16(v.length), v])]);
}

function header(algorithm, keyVersion) {
  return Buffer.concat([Buffer.of(0x54, 0x04, ids[algorithm]), Buffer.from(KEY_ID.replaceAll("-", ""), "hex"), u32(keyVersion)]);
}

/** AEAD key (and convergent nonce key) for a message, per docs/formats.md. */
function keys(algorithm, material, encodedContext, info = suites[algorithm].info) {
  const s = suites[algorithm];
  // null: a twist that skips derivation altogether.
  if (info === undefined || info === null) return { key: material };
  const okm = Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), Buffer.concat([Buffer.from(info, "utf8"), encodedContext]), s.keyLength + (s.convergent ? 32 : 0)));
  return { key: okm.subarray(0, s.keyLength), nonceKey: s.convergent ? okm.subarray(s.keyLength) : undefined };
}

function seal(cipher, key, nonce, plaintext, aad) {
  const c = createCipheriv(cipher, key, nonce, { authTagLength: 16 });
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([body, c.getAuthTag()]);
}

/** A whole v4 ciphertext; `twist` swaps one step for a deliberately wrong one (negative vectors). */
function encrypt({ algorithm, material, keyVersion, context, plaintext, nonce, twist = {} }) {
  const s = suites[algorithm];
  const encoded = encodeContext(context);
  const h = twist.header ?? header(algorithm, keyVersion);
  const { key, nonceKey } = keys(algorithm, material, encoded, twist.info);
  let n = nonce;
  if (s.convergent && twist.randomNonce === undefined) {
    const input = twist.nonceInput === "context-and-plaintext" ? Buffer.concat([encoded, plaintext]) : plaintext;
    n = createHmac("sha256", nonceKey).update(input).digest().subarray(0, 12);
  }
  const aad = twist.aad === "no-header" ? encoded : twist.aad === "no-context" ? h : Buffer.concat([h, encoded]);
  return { ciphertext: Buffer.concat([h, n, seal(s.cipher, key, n, plaintext, aad)]), nonce: n };
}

const nonAscii = { "用途": "备份", vm_id: "vm-1", "｡": "x", "🔑": "y" };
const cases = [
  { name: "empty context, short plaintext", context: {}, plaintext: Buffer.from("hello, tessera"), keyVersion: 1 },
  { name: "empty plaintext", context: {}, plaintext: Buffer.alloc(0), keyVersion: 1 },
  { name: "non-ASCII multi-pair context (UTF-8 byte order)", context: nonAscii, plaintext: Buffer.from("国密 and AES", "utf8"), keyVersion: 7 },
  { name: "4096-byte plaintext, two-pair context", context: { vm_id: "vm-0042", purpose: "bulk" }, plaintext: "4096", keyVersion: 3 },
  { name: "the largest key version (2^32 - 1)", context: { a: "b" }, plaintext: Buffer.from("last"), keyVersion: 2 ** 32 - 1 },
];

const positive = [];
for (const algorithm of Object.keys(ids)) {
  const material = shake(`material ${algorithm}`, materialLength(algorithm));
  for (const c of cases) {
    const plaintext = c.plaintext === "4096" ? shake(`plaintext ${algorithm} 4096`, 4096) : c.plaintext;
    const { ciphertext, nonce } = encrypt({ algorithm, material, keyVersion: c.keyVersion, context: c.context, plaintext, nonce: shake(`nonce ${algorithm} ${c.name}`, 12) });
    positive.push({
      description: `${algorithm}: ${c.name}`,
      algorithm,
      material: hex(material),
      keyId: KEY_ID,
      keyVersion: c.keyVersion,
      nonce: hex(nonce),
      context: c.context,
      encodedContext: hex(encodeContext(c.context)),
      plaintext: hex(plaintext),
      ciphertext: ciphertext.toString("base64"),
    });
  }
}

const negative = [];
const neg = (description, ciphertext, material, context) => negative.push({ description, ciphertext: Buffer.from(ciphertext).toString("base64"), material: hex(material), context, expectedError: "InvalidCiphertext" });
const flip = (buf, at, mask = 0x01) => { const b = Buffer.from(buf); b[at] ^= mask; return b; };

for (const algorithm of ["AES_128_GCM", "CHACHA20_POLY1305", "AES_256_GCM_CONVERGENT"]) {
  const material = shake(`material ${algorithm}`, materialLength(algorithm));
  const context = { vm_id: "vm-9", "東京": "" };
  const plaintext = Buffer.from("negative vector plaintext");
  const good = encrypt({ algorithm, material, keyVersion: 1, context, plaintext, nonce: shake(`negative nonce ${algorithm}`, 12) }).ciphertext;
  const p = `${algorithm}:`;
  neg(`${p} magic byte flipped (0x54 -> 0x55)`, flip(good, 0), material, context);
  neg(`${p} format version 0x04 -> 0x03 (v3 has no algorithm ${ids[algorithm]})`, flip(good, 1, 0x07), material, context);
  neg(`${p} format version 0x04 -> 0x02 (v2 layout expects a 24-byte nonce)`, flip(good, 1, 0x06), material, context);
  neg(`${p} format version 0x05 (no such version)`, flip(good, 1, 0x01), material, context);
  neg(`${p} v3 algorithm id 0x05 in a v4 header`, Buffer.concat([good.subarray(0, 2), Buffer.of(0x05), good.subarray(3)]), material, context);
  neg(`${p} unknown algorithm id 0x0d`, Buffer.concat([good.subarray(0, 2), Buffer.of(0x0d), good.subarray(3)]), material, context);
  neg(`${p} key version 0`, Buffer.concat([good.subarray(0, 19), u32(0), good.subarray(23)]), material, context);
  neg(`${p} key id changed in one bit`, flip(good, 5), material, context);
  neg(`${p} key version changed (1 -> 2)`, flip(good, 22, 0x03), material, context);
  neg(`${p} nonce changed in one bit`, flip(good, 23), material, context);
  neg(`${p} first ciphertext byte changed`, flip(good, 35), material, context);
  neg(`${p} last tag byte changed`, flip(good, good.length - 1), material, context);
  neg(`${p} truncated to 50 bytes (shorter than header + nonce + tag)`, good.subarray(0, 50), material, context);
  neg(`${p} tag cut by one byte`, good.subarray(0, good.length - 1), material, context);
  neg(`${p} one byte appended`, Buffer.concat([good, Buffer.of(0)]), material, context);
  neg(`${p} context missing (empty) at decryption`, good, material, {});
  neg(`${p} context value differs`, good, material, { vm_id: "vm-8", "東京": "" });
  neg(`${p} context with an extra pair`, good, material, { ...context, extra: "1" });
  neg(`${p} wrong material`, good, shake(`other material ${algorithm}`, materialLength(algorithm)), context);
  neg(`${p} deliberately wrong construction: header left out of the AAD`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, nonce: shake("n", 12), twist: { aad: "no-header" } }).ciphertext, material, context);
  neg(`${p} deliberately wrong construction: context left out of the AAD`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, nonce: shake("n", 12), twist: { aad: "no-context" } }).ciphertext, material, context);
}

// Wrong constructions of the derived and convergent key schedules.
{
  const algorithm = "AES_128_GCM_DERIVED";
  const material = shake(`material ${algorithm}`, 16);
  const context = { tenant: "t-1" };
  const plaintext = Buffer.from("derived");
  neg(`${algorithm}: deliberately wrong construction: v2's HKDF label (tessera/v2/encrypt)`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, nonce: shake("d", 12), twist: { info: "tessera/v2/encrypt" } }).ciphertext, material, context);
  neg(`${algorithm}: deliberately wrong construction: the material itself as the key (no derivation)`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, nonce: shake("d", 12), twist: { info: null } }).ciphertext, material, context);
}
for (const algorithm of ["AES_128_GCM_CONVERGENT", "CHACHA20_POLY1305_CONVERGENT"]) {
  const material = shake(`material ${algorithm}`, materialLength(algorithm));
  const context = { tenant: "t-2" };
  const plaintext = Buffer.from("convergent");
  neg(`${algorithm}: deliberately wrong construction: a random nonce (the AEAD opens, the nonce check fails)`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, nonce: shake(`random ${algorithm}`, 12), twist: { randomNonce: true } }).ciphertext, material, context);
  neg(`${algorithm}: deliberately wrong construction: nonce = HMAC over context ‖ plaintext`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, twist: { nonceInput: "context-and-plaintext" } }).ciphertext, material, context);
  neg(`${algorithm}: deliberately wrong construction: derived mode's HKDF label (tessera/v4/encrypt)`, encrypt({ algorithm, material, keyVersion: 1, context, plaintext, twist: { info: "tessera/v4/encrypt" } }).ciphertext, material, context);
}

writeFileSync(
  OUT,
  JSON.stringify(
    {
      description:
        "Tessera ciphertext format v4 vectors (docs/formats.md): AES-128-GCM, ChaCha20-Poly1305 (RFC 8439) and convergent mode, each with a 96-bit nonce and a 128-bit tag. Generated once by scripts/generate-ciphertext-v4-vectors.mjs, a stand-alone implementation of docs/formats.md on node:crypto that imports nothing of Tessera's; inputs are SHAKE-128 of fixed labels. Convergent vectors' nonces are the derived ones. Never edit or delete a vector, only add. Ciphertexts are standard base64 of the binary form; material, nonce, plaintext and encodedContext are hex.",
      positive,
      negative,
    },
    null,
    1,
  ) + "\n",
);
console.log(`${positive.length} positive, ${negative.length} negative vectors`);
