/**
 * Finding (issue 8, item 8): keys were drawn from the same pooled CSPRNG buffer as nonces, so up to
 * 4 KiB of *future* key material sat in memory before those keys existed. The pool now serves nonces
 * only (at most 24 bytes a call); every key, data key, root/unseal key, token and secret comes from its
 * own `crypto.randomBytes` call.
 *
 * How this is observed from outside: `node:crypto`'s `randomFillSync` (what refills the pool) is
 * wrapped to keep a copy of every region it fills. Nonces must be found in those copies (the control:
 * the observation works); no secret may be.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fillNonce, nonce, secretBytes } from "../../packages/server/src/crypto/index.js";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

const filled = vi.hoisted(() => [] as Buffer[]);

vi.mock("node:crypto", async (importOriginal) => {
  const real = await importOriginal<typeof import("node:crypto")>();
  const randomFillSync = ((buffer: NodeJS.ArrayBufferView, offset = 0, size?: number) => {
    const out = real.randomFillSync(buffer, offset, size);
    const bytes = Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    filled.push(Buffer.from(bytes.subarray(offset, size === undefined ? undefined : offset + size)));
    return out;
  }) as typeof real.randomFillSync;
  return { ...real, default: { ...real, randomFillSync }, randomFillSync };
});

/** True when `secret` appears in any region the pool was filled with. */
function inPool(secret: Uint8Array): boolean {
  return filled.some((region) => region.indexOf(Buffer.from(secret)) !== -1);
}

let t: TestApp;

beforeAll(async () => {
  t = await startTestApp();
});

afterAll(async () => {
  await t?.close();
});

describe("the nonce pool serves no key material", () => {
  it("control: nonces of new ciphertexts do come from the observed pool", async () => {
    await t.call("POST", "/v1/keys", { name: "control" });
    const enc = await t.call("POST", "/v1/keys/control/encrypt", { plaintext: b64("x") });
    // The first 12 bytes after the 23-byte header are nonce bytes in every format version.
    expect(inPool(Buffer.from(enc.body.ciphertext, "base64").subarray(23, 35))).toBe(true);
  });

  it("data keys (GenerateDataKey, both sizes) are not pool bytes", async () => {
    await t.call("POST", "/v1/keys", { name: "wrapping" });
    for (let i = 0; i < 20; i++) {
      for (const body of [{}, { keySpec: "AES_128" }, { numberOfBytes: 64 }]) {
        const r = await t.call("POST", "/v1/keys/wrapping/generate-data-key", body);
        expect(r.status).toBe(200);
        // A nonce drawn right after: the pool is live between data keys.
        await t.call("POST", "/v1/keys/wrapping/encrypt", { plaintext: b64("between") });
        expect(inPool(Buffer.from(r.body.plaintext, "base64"))).toBe(false);
      }
    }
  });

  it("GenerateRandom output (callers use it as keys) is not pool bytes", async () => {
    for (const numberOfBytes of [12, 16, 24, 32, 1024]) {
      const r = await t.call("POST", "/v1/random", { numberOfBytes });
      expect(inPool(Buffer.from(r.body.plaintext, "base64"))).toBe(false);
    }
  });

  it("key version material, the root key and the 1-of-1 unseal key are not pool bytes", async () => {
    const created = await t.call("POST", "/v1/keys", { name: "material" });
    await t.call("POST", "/v1/keys/material/rotate");
    const handle = await t.app.keys.keyring.resolve(created.body.keyId);
    for (const version of [1, 2]) expect(inPool(handle.material(version)!)).toBe(false);
    expect(inPool(t.app.barrier.ring().current.key)).toBe(false);
    // With one share the share is the raw 32-byte unseal key (docs/formats.md).
    expect(inPool(Buffer.from(t.shares[0]!, "base64"))).toBe(false);
  });

  it("access-key secrets and tokens are not pool bytes", async () => {
    const key = await t.call("POST", "/v1/auth/access-keys", { role: "operator" });
    expect(inPool(Buffer.from(key.body.secretAccessKey, "base64"))).toBe(false);
    expect(key.body.secretAccessKey).toMatch(/^[A-Za-z0-9+/]{40}$/);
    // Tokens are a prefix and 32 random bytes in base64url.
    const secret = Buffer.from(t.rootToken.slice(t.rootToken.indexOf("_") + 1), "base64url");
    expect(secret).toHaveLength(32);
    expect(inPool(secret)).toBe(false);
  });
});

describe("the pool API cannot hand out a key", () => {
  it("refuses any request longer than the longest nonce (24 bytes)", () => {
    for (const length of [25, 32, 64]) {
      expect(() => nonce(length)).toThrow(RangeError);
      expect(() => fillNonce(Buffer.alloc(64), 0, length)).toThrow(RangeError);
    }
  });

  it("secretBytes never touches the pool", () => {
    const before = filled.length;
    for (let i = 0; i < 300; i++) expect(inPool(secretBytes(32))).toBe(false);
    expect(filled.length).toBe(before);
  });
});
