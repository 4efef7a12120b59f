/**
 * The SDK's envelope encryption against a real server on a loopback socket: data keys from
 * GenerateDataKey/Decrypt with the encryption context (policy conditions apply), allowed key ids,
 * tampering refused, and the data-key cache's limits — counted as real KMS calls through a wrapper
 * around a real client (the calls reach the server; nothing is faked).
 */
import type { AddressInfo } from "node:net";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { pipeline } from "node:stream/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { DataKeyCache, TesseraClient, decrypt, decryptStream, encrypt, encryptStream, type EnvelopeKms } from "@tessera/client";
import { decodeHeader } from "../../packages/client/src/envelope/format.js";
import { roleToken, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let address: string;
let tessera: TesseraClient;
let envKeyId: string;
let otherKeyId: string;

beforeAll(async () => {
  t = await startTestApp();
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  address = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
  tessera = new TesseraClient({ address, token: t.rootToken });
  envKeyId = (await tessera.createKey({ name: "env-key" })).keyId;
  otherKeyId = (await tessera.createKey({ name: "other-key" })).keyId;
});
afterAll(async () => {
  await t?.close();
});

/** A real client whose GenerateDataKey and Decrypt calls are counted on their way to the server. */
function counting(client: EnvelopeKms) {
  const calls = { generateDataKey: 0, decrypt: 0 };
  const kms: EnvelopeKms = {
    generateDataKey: (key, req) => {
      calls.generateDataKey += 1;
      return client.generateDataKey(key, req);
    },
    decrypt: (req) => {
      calls.decrypt += 1;
      return client.decrypt(req);
    },
  };
  return { calls, kms };
}

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return isTesseraError(err) ? err.code : `not a TesseraError: ${String(err)}`;
  }
  return "no error";
}

const ctx = { tenant: "acme", purpose: "records" };

describe("round trips through the KMS", () => {
  const F = 1024;
  it.each([0, 1, F - 1, F, F + 1, 37 * F + 11])("%i bytes with 1 KiB frames, as a buffer and as a stream", async (n) => {
    const plaintext = randomBytes(n);
    const message = await encrypt(tessera, { keyId: "env-key", plaintext, encryptionContext: ctx, frameLength: F });
    const opened = await decrypt(tessera, message, { expectedEncryptionContext: { tenant: "acme" }, allowedKeyIds: ["env-key"] });
    expect(opened).toEqual({ plaintext, keyId: envKeyId, encryptionContext: ctx });

    const streamed = await buffer(Readable.from(chunks(plaintext, 333)).pipe(encryptStream(tessera, { keyId: "env-key", encryptionContext: ctx, frameLength: F })));
    const out = decryptStream(tessera, { allowedKeyIds: [envKeyId] });
    const infos: unknown[] = [];
    out.on("header", (info) => infos.push(info));
    expect(await buffer(Readable.from(chunks(streamed, 100)).pipe(out))).toEqual(plaintext);
    expect(infos).toEqual([{ keyId: envKeyId, encryptionContext: ctx }]);
    // A streamed message opens whole, and a buffer message as a stream.
    expect((await decrypt(tessera, streamed)).plaintext).toEqual(plaintext);
  });

  it("wraps the data key under the key with the encryption context: the wrapped key alone opens only with that context", async () => {
    const header = decodeHeader(await encrypt(tessera, { keyId: "env-key", plaintext: Buffer.from("x"), encryptionContext: ctx }))!;
    expect(header.keyId).toBe(envKeyId);
    const wrapped = header.wrappedDataKey.toString("base64");
    expect((await tessera.decrypt({ ciphertext: wrapped, context: ctx })).plaintext).toHaveLength(44);
    expect(await codeOf(tessera.decrypt({ ciphertext: wrapped }))).toBe("InvalidCiphertext");
  });

  it("sends the context to the KMS, so a policy condition on it decides", async () => {
    await tessera.putPolicy("env-acme", {
      statements: [{ effect: "allow", actions: ["kms:GenerateDataKey", "kms:Decrypt"], resources: ["env-key"], conditions: { encryptionContext: { tenant: "acme" } } }],
    });
    await tessera.putRole("env-acme", { policies: ["env-acme"] });
    const acme = new TesseraClient({ address, token: await roleToken(t, "env-acme") });
    const message = await encrypt(acme, { keyId: "env-key", plaintext: Buffer.from("ok"), encryptionContext: ctx });
    expect((await decrypt(acme, message)).plaintext.toString()).toBe("ok");
    expect(await codeOf(encrypt(acme, { keyId: "env-key", plaintext: Buffer.from("no"), encryptionContext: { tenant: "globex" } }))).toBe("AccessDenied");
    const globex = await encrypt(tessera, { keyId: "env-key", plaintext: Buffer.from("no"), encryptionContext: { tenant: "globex" } });
    expect(await codeOf(decrypt(acme, globex))).toBe("AccessDenied");
  });

  it("refuses bad options with InvalidInput", async () => {
    expect(await codeOf(encrypt(tessera, { keyId: "env-key", plaintext: Buffer.from("x"), frameLength: 0 }))).toBe("InvalidInput");
    expect(await codeOf(encrypt(tessera, { keyId: "env-key", plaintext: Buffer.from("x"), frameLength: 16 * 1024 * 1024 + 1 }))).toBe("InvalidInput");
    expect(await codeOf(encrypt(tessera, { keyId: "", plaintext: Buffer.from("x") }))).toBe("InvalidInput");
    expect(await codeOf(encrypt(tessera, { keyId: "env-key", plaintext: Buffer.from("x"), encryptionContext: { "": "v" } }))).toBe("InvalidInput");
    expect(await codeOf(encrypt(tessera, { keyId: "env-key", plaintext: "x" as unknown as Buffer }))).toBe("InvalidInput");
    expect(await codeOf(encrypt(tessera, { keyId: "no-such-key", plaintext: Buffer.from("x") }))).toBe("NotFound");
  });
});

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let at = 0; at < bytes.length; at += size) yield bytes.subarray(at, at + size);
}

describe("refused messages", () => {
  let message: Buffer;
  let headerLength: number;
  beforeAll(async () => {
    message = await encrypt(tessera, { keyId: "env-key", plaintext: randomBytes(3000), encryptionContext: ctx, frameLength: 1024 });
    headerLength = decodeHeader(message)!.bytes.length;
  });

  it("a flipped bit in any header byte: InvalidCiphertext, through the KMS where the check is the server's", async () => {
    const codes = new Map<string, number[]>();
    for (let i = 0; i < headerLength; i++) {
      const bad = Buffer.from(message);
      bad[i]! ^= 0x01;
      const code = await codeOf(decrypt(tessera, bad));
      codes.set(code, [...(codes.get(code) ?? []), i]);
    }
    expect([...codes.keys()]).toEqual(["InvalidCiphertext"]);
  });

  it("another message's wrapped data key (same key and context) in this header: the key commitment fails", async () => {
    const other = decodeHeader(await encrypt(tessera, { keyId: "env-key", plaintext: Buffer.from("y"), encryptionContext: ctx }))!;
    const mine = decodeHeader(message)!;
    const at = message.indexOf(mine.wrappedDataKey);
    const bad = Buffer.from(message);
    other.wrappedDataKey.copy(bad, at);
    expect(await codeOf(decrypt(tessera, bad))).toBe("InvalidCiphertext");
  });

  it("a header naming another key than the one that wrapped the data key", async () => {
    const bad = Buffer.from(message);
    const at = message.indexOf(Buffer.from(envKeyId));
    Buffer.from(otherKeyId).copy(bad, at);
    expect(await codeOf(decrypt(tessera, bad))).toBe("InvalidCiphertext");
    expect(await codeOf(decrypt(tessera, bad, { allowedKeyIds: [otherKeyId] }))).toBe("InvalidCiphertext");
  });

  it("a context other than expected: InvalidCiphertext, before the KMS is asked", async () => {
    const { calls, kms } = counting(tessera);
    expect(await codeOf(decrypt(kms, message, { expectedEncryptionContext: { tenant: "globex" } }))).toBe("InvalidCiphertext");
    expect(await codeOf(decrypt(kms, message, { expectedEncryptionContext: { ...ctx, extra: "x" } }))).toBe("InvalidCiphertext");
    expect(calls.decrypt).toBe(0);
    expect((await decrypt(kms, message, { expectedEncryptionContext: { purpose: "records" } })).plaintext).toHaveLength(3000);
  });

  it("a key outside allowedKeyIds: IncorrectKey (ids compared locally, names resolved by the server)", async () => {
    const { calls, kms } = counting(tessera);
    expect(await codeOf(decrypt(kms, message, { allowedKeyIds: [otherKeyId] }))).toBe("IncorrectKey");
    expect(await codeOf(decrypt(kms, message, { allowedKeyIds: [] }))).toBe("IncorrectKey");
    expect(calls.decrypt).toBe(0);
    expect(await codeOf(decrypt(kms, message, { allowedKeyIds: ["other-key", "no-such-key"] }))).toBe("IncorrectKey");
    expect((await decrypt(kms, message, { allowedKeyIds: ["other-key", "env-key"] })).keyId).toBe(envKeyId);
    expect((await decrypt(kms, message, { allowedKeyIds: [otherKeyId, envKeyId] })).keyId).toBe(envKeyId);
  });

  it("a stream cut between frames fails at its end, after the verified frames before the cut", async () => {
    const cut = message.subarray(0, message.length - (9 + (3000 - 2048) + 16));
    const received: Buffer[] = [];
    const out = decryptStream(tessera);
    out.on("data", (d: Buffer) => received.push(d));
    expect(await codeOf(pipeline(Readable.from([cut]), out))).toBe("InvalidCiphertext");
    expect(Buffer.concat(received)).toHaveLength(2048);
  });

  it("a caller without kms:Decrypt: the KMS's AccessDenied", async () => {
    const { token } = await tessera.createToken({ grants: [{ actions: ["kms:Encrypt"], resources: ["env-key"] }] });
    const denied = new TesseraClient({ address, token });
    expect(await codeOf(decrypt(denied, message))).toBe("AccessDenied");
  });
});

describe("the data-key cache, counted in real KMS calls", () => {
  const send = (kms: EnvelopeKms, cache: DataKeyCache | undefined, bytes: number, context: Record<string, string> = ctx) =>
    encrypt(kms, { keyId: "env-key", plaintext: randomBytes(bytes), encryptionContext: context, ...(cache && { cache }) });

  it("is off by default: a GenerateDataKey per message", async () => {
    const { calls, kms } = counting(tessera);
    for (let i = 0; i < 3; i++) await send(kms, undefined, 10);
    expect(calls.generateDataKey).toBe(3);
  });

  it("maxMessages: 10 messages with at most 3 per data key take 4 data keys, and each message opens", async () => {
    const { calls, kms } = counting(tessera);
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000, maxMessages: 3 });
    const messages = [];
    for (let i = 0; i < 10; i++) messages.push(await send(kms, cache, 10));
    expect(calls.generateDataKey).toBe(4);
    const wrapped = messages.map((m) => decodeHeader(m)!.wrappedDataKey.toString("base64"));
    expect(new Set(wrapped).size).toBe(4);
    expect([0, 3, 6, 9].map((i) => wrapped.filter((w) => w === wrapped[i]).length)).toEqual([3, 3, 3, 1]);
    for (const m of messages) expect((await decrypt(tessera, m)).plaintext).toHaveLength(10);
  });

  it("maxBytes: 40-byte messages with at most 100 bytes per data key take a key every 2 messages; a message over the limit never touches the cache", async () => {
    const { calls, kms } = counting(tessera);
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000, maxBytes: 100 });
    for (let i = 0; i < 10; i++) await send(kms, cache, 40);
    expect(calls.generateDataKey).toBe(5);
    await send(kms, cache, 100);
    await send(kms, cache, 100);
    expect(calls.generateDataKey).toBe(7);
    await send(kms, cache, 101);
    await send(kms, cache, 101);
    expect(calls.generateDataKey).toBe(9);
  });

  it("maxAgeMs: an entry serves until it is that old", async () => {
    let now = 0;
    const { calls, kms } = counting(tessera);
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 1000, now: () => now });
    await send(kms, cache, 1);
    now = 999;
    await send(kms, cache, 1);
    expect(calls.generateDataKey).toBe(1);
    now = 1000;
    await send(kms, cache, 1);
    expect(calls.generateDataKey).toBe(2);
  });

  it("capacity: the least recently used (key, context) entry is evicted", async () => {
    const { calls, kms } = counting(tessera);
    const cache = new DataKeyCache({ capacity: 2, maxAgeMs: 60_000 });
    const [a, b, c] = [{ r: "a" }, { r: "b" }, { r: "c" }];
    for (const context of [a, b, a, c, b, a]) await send(kms, cache, 1, context);
    // misses: a, b, c (evicts b), b (evicts a), a
    expect(calls.generateDataKey).toBe(5);
  });

  it("decryption: Decrypt answers are reused for at most maxMessages messages, and never serve encryption", async () => {
    const message = await send(tessera, undefined, 10);
    const { calls, kms } = counting(tessera);
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000, maxMessages: 3 });
    for (let i = 0; i < 5; i++) await decrypt(kms, message, { cache });
    expect(calls.decrypt).toBe(2);
    await send(kms, cache, 10);
    expect(calls.generateDataKey).toBe(1);
  });

  it("streams use the cache only when their length is declared, and must then be that long", async () => {
    const { calls, kms } = counting(tessera);
    const cache = new DataKeyCache({ capacity: 10, maxAgeMs: 60_000 });
    const run = (declared?: number, actual = 100) =>
      buffer(Readable.from([randomBytes(actual)]).pipe(encryptStream(kms, { keyId: "env-key", encryptionContext: { s: "1" }, cache, ...(declared !== undefined && { plaintextLength: declared }) })));
    await run();
    await run();
    expect(calls.generateDataKey).toBe(2);
    await run(100);
    await run(100);
    expect(calls.generateDataKey).toBe(3);
    expect(await codeOf(run(99))).toBe("InvalidInput");
    expect(await codeOf(run(101))).toBe("InvalidInput");
  });
});
