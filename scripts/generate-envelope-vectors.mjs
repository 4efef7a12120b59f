#!/usr/bin/env node
/**
 * Writes test/vectors/sdk-envelope-v1.json: positive and negative vectors for the SDK envelope message
 * format (docs/formats.md, "SDK envelope message format").
 *
 * Stand-alone on purpose: it implements the page on node:crypto and imports nothing of Tessera's, so
 * the vectors check the implementation rather than echo it. Deterministic: a fixed, test-only data
 * key and message ids, so running it again writes the same file. Vectors once published are never
 * edited; a format change gets a new file.
 *
 *   node scripts/generate-envelope-vectors.mjs
 */
import { createCipheriv, createHash, hkdfSync } from "node:crypto";
import { writeFileSync } from "node:fs";

const OUT = new URL("../test/vectors/sdk-envelope-v1.json", import.meta.url);
const hex = (b) => Buffer.from(b).toString("hex");
const sha256 = (s) => createHash("sha256").update(s).digest();
const u8 = (n) => Buffer.of(n);
const u16 = (n) => { const b = Buffer.alloc(2); b.writeUInt16BE(n); return b; };
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

/** Test-only data key: bytes 0x00 … 0x1f. Never a real key. */
const DATA_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
/** Stands in for the native ciphertext of the data key; the vectors never send it to a KMS. */
const WRAPPED = Buffer.concat([sha256("tessera envelope vectors: wrapped data key"), sha256("2"), sha256("3")]).subarray(0, 95);
const KEY_ID = "5b0e6a3c-2d1f-4c8e-9a7b-3e4f5a6b7c8d";

function encodeContext(ctx) {
  const pairs = Object.entries(ctx).map(([k, v]) => [Buffer.from(k, "utf8"), Buffer.from(v, "utf8")]);
  pairs.sort((a, b) => Buffer.compare(a[0], b[0]));
  return Buffer.concat([u16(pairs.length), ...pairs.flatMap(([k, v]) => [u16(k.length), k, u16(v.length), v])]);
}

function derive(dataKey, messageId, hash = "sha512") {
  const key = Buffer.from(hkdfSync(hash, dataKey, messageId, Buffer.concat([Buffer.from("tessera/envelope/v1/encrypt"), u8(1)]), 32));
  const commitment = Buffer.from(hkdfSync(hash, dataKey, messageId, Buffer.concat([Buffer.from("tessera/envelope/v1/commit"), u8(1)]), 32));
  return { key, commitment };
}

function gcm(key, nonce, aad, plaintext) {
  const c = createCipheriv("aes-256-gcm", key, nonce);
  c.setAAD(aad);
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return { body, tag: c.getAuthTag() };
}

function headerBody({ messageId, keyId = KEY_ID, wrapped = WRAPPED, encodedContext, frameLength, commitment, version = 1, algorithm = 1 }) {
  const id = Buffer.from(keyId, "utf8");
  return Buffer.concat([Buffer.from("TSEV"), u8(version), u8(algorithm), messageId, u8(id.length), id, u16(wrapped.length), wrapped, u16(encodedContext.length), encodedContext, u32(frameLength), commitment]);
}

/**
 * A message, with hooks to build deliberately wrong ones: `frames` may override the framing (a list
 * of {type, seq, content}), `nonceOf`/`aadOf` replace the construction.
 */
function message({ messageId, context = {}, encodedContext = encodeContext(context), frameLength, plaintext, frames, hash, nonceOf, aadOf, headerVersion, algorithm }) {
  const { key, commitment } = derive(DATA_KEY, messageId, hash);
  const body = headerBody({ messageId, encodedContext, frameLength, commitment, version: headerVersion, algorithm });
  const headerTag = gcm(key, Buffer.alloc(12), body, Buffer.alloc(0)).tag;
  const header = Buffer.concat([body, headerTag]);
  const digest = sha256(header);
  const plan = frames ?? framing(plaintext, frameLength);
  const out = [header];
  for (const f of plan) {
    const prefix = Buffer.concat([u8(f.type), u32(f.seq), u32(f.length ?? f.content.length)]);
    const nonce = nonceOf ? nonceOf(f.seq) : Buffer.concat([Buffer.alloc(8), u32(f.seq)]);
    const aad = aadOf ? aadOf(digest, prefix) : Buffer.concat([digest, prefix]);
    const { body: ct, tag } = gcm(key, nonce, aad, f.content);
    out.push(prefix, ct, tag);
  }
  return { bytes: Buffer.concat(out), key, commitment, headerTag, header };
}

/** The one framing a writer produces: full regular frames, then one final frame of 0 … frameLength bytes. */
function framing(plaintext, frameLength) {
  const frames = [];
  let at = 0;
  let seq = 1;
  while (plaintext.length - at > frameLength) {
    frames.push({ type: 0, seq: seq++, content: plaintext.subarray(at, at + frameLength) });
    at += frameLength;
  }
  frames.push({ type: 1, seq, content: plaintext.subarray(at) });
  return frames;
}

const plaintextOf = (n, label) => {
  const out = Buffer.alloc(n);
  for (let at = 0, i = 0; at < n; at += 32, i++) sha256(`${label}/${i}`).copy(out, at);
  return out;
};
const messageIdOf = (label) => sha256(`tessera envelope vectors: message id ${label}`);

const positiveCases = [
  { name: "empty plaintext, empty context, 16-byte frames: one empty final frame", n: 0, context: {}, frameLength: 16 },
  { name: "1 byte, non-ASCII multi-pair context (UTF-8 byte order)", n: 1, context: { "vm_id": "vm-1", "purpose": "backup", "🔑": "ключ", "\uFF61": "" }, frameLength: 16 },
  { name: "frame length − 1 (15 bytes): one final frame", n: 15, context: { tenant: "acme" }, frameLength: 16 },
  { name: "exactly one frame (16 bytes): one full final frame", n: 16, context: { tenant: "acme" }, frameLength: 16 },
  { name: "frame length + 1 (17 bytes): a regular frame and a 1-byte final frame", n: 17, context: { tenant: "acme" }, frameLength: 16 },
  { name: "100 bytes in 16-byte frames: six regular frames and a 4-byte final frame", n: 100, context: { tenant: "acme", purpose: "records" }, frameLength: 16 },
  { name: "48 bytes in 16-byte frames: the last full frame is the final one", n: 48, context: { tenant: "acme" }, frameLength: 16 },
  { name: "4096 bytes, 64 KiB frames", n: 4096, context: { file: "report.pdf" }, frameLength: 65536 },
  { name: "1-byte frames, 5 bytes", n: 5, context: {}, frameLength: 1 },
];

const positive = positiveCases.map((c, i) => {
  const messageId = messageIdOf(`positive ${i}`);
  const plaintext = plaintextOf(c.n, `positive ${i}`);
  const m = message({ messageId, context: c.context, frameLength: c.frameLength, plaintext });
  return {
    description: c.name,
    dataKey: hex(DATA_KEY),
    messageId: hex(messageId),
    keyId: KEY_ID,
    wrappedDataKey: hex(WRAPPED),
    context: c.context,
    encodedContext: hex(encodeContext(c.context)),
    frameLength: c.frameLength,
    plaintext: hex(plaintext),
    messageKey: hex(m.key),
    commitment: hex(m.commitment),
    headerTag: hex(m.headerTag),
    ciphertext: m.bytes.toString("base64"),
  };
});

// Negative vectors start from one 100-byte message in 16-byte frames (seven frames).
const base = { messageId: messageIdOf("negative base"), context: { tenant: "acme", purpose: "records" }, frameLength: 16, plaintext: plaintextOf(100, "negative base") };
const good = message(base);
const headerLength = good.header.length;
const frameAt = (bytes, i) => {
  let at = headerLength;
  for (let k = 0; k < i; k++) at += 9 + bytes.readUInt32BE(at + 5) + 16;
  return [at, at + 9 + bytes.readUInt32BE(at + 5) + 16];
};
const frameOf = (i) => good.bytes.subarray(...frameAt(good.bytes, i));
const header = good.bytes.subarray(0, headerLength);
const flip = (offset, bit = 0) => { const b = Buffer.from(good.bytes); b[offset] ^= 1 << bit; return b; };
const idLength = Buffer.byteLength(KEY_ID);
const OFF = { version: 4, algorithm: 5, messageId: 6, keyIdLength: 38, keyId: 39, wrapped: 39 + idLength + 2, context: 39 + idLength + 2 + WRAPPED.length + 2 };
OFF.frameLength = OFF.context + encodeContext(base.context).length;
OFF.commitment = OFF.frameLength + 4;
OFF.headerTag = OFF.commitment + 32;
const framesOf = (plaintext, frameLength) => framing(plaintext, frameLength);
const std = framesOf(base.plaintext, 16);
const other = message({ ...base, messageId: messageIdOf("negative other") });

const negative = [
  ["empty input", Buffer.alloc(0)],
  ["wrong magic", flip(0)],
  ["format version 0x02 (unknown)", flip(OFF.version, 1)],
  ["algorithm id 0x02 (unknown)", (() => { const b = Buffer.from(good.bytes); b[OFF.algorithm] = 2; return b; })()],
  ["header cut one byte short", header.subarray(0, headerLength - 1)],
  ["nothing but the header", header],
  ["message id: one bit flipped", flip(OFF.messageId + 7, 3)],
  ["key id length 0", (() => { const b = Buffer.from(good.bytes); b[OFF.keyIdLength] = 0; return b; })()],
  ["key id: one character changed", flip(OFF.keyId + 3, 0)],
  ["wrapped data key: one bit flipped", flip(OFF.wrapped + 40, 5)],
  ["encryption context: one value byte changed", flip(OFF.context + 6, 1)],
  ["frame length: one bit flipped", flip(OFF.frameLength + 3, 0)],
  ["commitment: one bit flipped", flip(OFF.commitment, 7)],
  ["header tag: one bit flipped", flip(OFF.headerTag + 15, 0)],
  ["regular frame: prefix type byte flipped to final", flip(frameAt(good.bytes, 0)[0], 0)],
  ["regular frame: sequence number changed", flip(frameAt(good.bytes, 1)[0] + 4, 1)],
  ["regular frame: body bit flipped", flip(frameAt(good.bytes, 2)[0] + 9 + 3, 2)],
  ["regular frame: tag bit flipped", flip(frameAt(good.bytes, 2)[1] - 1, 0)],
  ["final frame: body bit flipped", flip(frameAt(good.bytes, 6)[0] + 9, 0)],
  ["final frame: content length changed", flip(frameAt(good.bytes, 6)[0] + 8, 0)],
  ["frames 2 and 3 swapped", Buffer.concat([header, frameOf(0), frameOf(2), frameOf(1), ...[3, 4, 5, 6].map(frameOf)])],
  ["final frame dropped", Buffer.concat([header, ...[0, 1, 2, 3, 4, 5].map(frameOf)])],
  ["a middle frame dropped", Buffer.concat([header, ...[0, 1, 3, 4, 5, 6].map(frameOf)])],
  ["a frame duplicated", Buffer.concat([header, ...[0, 1, 1, 2, 3, 4, 5, 6].map(frameOf)])],
  ["the final frame repeated after itself", Buffer.concat([good.bytes, frameOf(6)])],
  ["one byte after the final frame", Buffer.concat([good.bytes, Buffer.of(0)])],
  ["cut inside the final frame", good.bytes.subarray(0, good.bytes.length - 1)],
  ["frame 2 spliced in from another message under the same data key", Buffer.concat([header, frameOf(0), other.bytes.subarray(...frameAt(other.bytes, 1)), ...[2, 3, 4, 5, 6].map(frameOf)])],
  ["another message's header with this message's frames", Buffer.concat([other.header, good.bytes.subarray(headerLength)])],
  // Correctly authenticated, but not what a writer produces: the structure checks must refuse them.
  ["authenticated: context pairs not in canonical order", message({ ...base, encodedContext: Buffer.concat([u16(2), u16(6), Buffer.from("tenant"), u16(4), Buffer.from("acme"), u16(7), Buffer.from("purpose"), u16(7), Buffer.from("records")]) }).bytes],
  ["authenticated: a context key given twice", message({ ...base, encodedContext: Buffer.concat([u16(2), u16(1), Buffer.from("a"), u16(1), Buffer.from("1"), u16(1), Buffer.from("a"), u16(1), Buffer.from("2")]) }).bytes],
  ["authenticated: frame length 0", message({ ...base, frameLength: 0, frames: [{ type: 1, seq: 1, content: Buffer.alloc(0) }] }).bytes],
  ["authenticated: frame length 16 MiB + 1", message({ ...base, frameLength: 16 * 1024 * 1024 + 1, frames: [{ type: 1, seq: 1, content: base.plaintext }] }).bytes],
  ["authenticated: a regular frame shorter than the frame length", message({ ...base, frames: [{ type: 0, seq: 1, content: base.plaintext.subarray(0, 10) }, { type: 1, seq: 2, content: base.plaintext.subarray(10, 20) }] }).bytes],
  ["authenticated: a final frame longer than the frame length", message({ ...base, frames: [{ type: 1, seq: 1, content: base.plaintext.subarray(0, 17) }] }).bytes],
  ["authenticated: an empty final frame after full frames", message({ ...base, plaintext: undefined, frames: [...framesOf(base.plaintext.subarray(0, 32), 16).map((f) => ({ ...f, type: 0 })), { type: 1, seq: 3, content: Buffer.alloc(0) }] }).bytes],
  ["authenticated: sequence numbers starting at 0", message({ ...base, frames: std.map((f) => ({ ...f, seq: f.seq - 1 })) }).bytes],
  ["authenticated: frame type 0x02", message({ ...base, frames: [{ type: 2, seq: 1, content: base.plaintext.subarray(0, 16) }] }).bytes],
  ["authenticated: no final frame (all regular)", message({ ...base, frames: framesOf(base.plaintext.subarray(0, 48), 16).map((f) => ({ ...f, type: 0 })) }).bytes],
  ["authenticated: a frame after the final frame", message({ ...base, frames: [...std, { type: 0, seq: 8, content: base.plaintext.subarray(0, 16) }] }).bytes],
  // Wrong constructions an implementation could make: each must fail.
  ["wrong construction: HKDF-SHA-256 instead of HKDF-SHA-512", message({ ...base, hash: "sha256" }).bytes],
  ["wrong construction: sequence number in the nonce's first 4 bytes", message({ ...base, nonceOf: (seq) => Buffer.concat([u32(seq), Buffer.alloc(8)]) }).bytes],
  ["wrong construction: frame AAD without the header digest", message({ ...base, aadOf: (_digest, prefix) => prefix }).bytes],
  ["wrong construction: frame AAD with the header instead of its digest", message({ ...base, aadOf: (_digest, prefix) => Buffer.concat([good.header, prefix]) }).bytes],
].map(([description, bytes]) => ({ description, ciphertext: bytes.toString("base64"), expectedError: "InvalidCiphertext" }));

const file = {
  description:
    "Tessera SDK envelope message format v1 (docs/formats.md, 'SDK envelope message format'). Generated by scripts/generate-envelope-vectors.mjs, " +
    "a stand-alone implementation on node:crypto. Bytes are hex except `ciphertext` (standard base64). `dataKey` is a fixed test-only key. " +
    "Positive: opening `ciphertext` with `dataKey` gives `plaintext`; sealing `plaintext` with `dataKey` and `messageId` gives `ciphertext`. " +
    "Negative: opening with the same test data key fails with `expectedError`.",
  dataKey: hex(DATA_KEY),
  positive,
  negative,
};
writeFileSync(OUT, `${JSON.stringify(file, null, 2)}\n`);
console.log(`wrote ${positive.length} positive and ${negative.length} negative vectors to ${OUT.pathname}`);
