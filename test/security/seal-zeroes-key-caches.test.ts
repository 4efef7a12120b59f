/**
 * Finding (issue 8, item 8): a seal must leave no secret-derived value in memory. The keyring zeroed
 * the handles it still cached, but a handle retired by a write (rotation, disable …) was kept for a
 * one-second grace period for in-flight requests and zeroed only by a timer — so its material survived
 * the seal. Sealing now zeroes every handle the keyring handed out, cached or retiring, at once, with
 * the XAES-256-GCM keys prepared from their material.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";

let t: TestApp;

beforeEach(async () => {
  t = await startTestApp();
});

afterEach(async () => {
  await t?.close();
});

const isZero = (b: Uint8Array): boolean => b.every((x) => x === 0);

async function sealViaApi(): Promise<void> {
  const r = await t.call("POST", "/v1/sys/seal");
  expect(r.status).toBe(200);
  expect(r.body.sealed).toBe(true);
}

describe("sealing zeroes every cache of key material", () => {
  it("zeroes the material of cached keys at once, and their handles refuse further use", async () => {
    const { keyId } = (await t.call("POST", "/v1/keys", { name: "cached" })).body;
    await t.call("POST", "/v1/keys/cached/encrypt", { plaintext: b64("load it") });
    const handle = await t.app.keys.keyring.resolve(keyId);
    const material = handle.material(1)!;
    expect(isZero(material)).toBe(false);

    await sealViaApi();

    expect(isZero(material)).toBe(true);
    expect(() => handle.material(1)).toThrow(expect.objectContaining({ code: "Sealed" }));
    expect(() => handle.xaesKey(1)).toThrow(expect.objectContaining({ code: "Sealed" }));
  });

  it("destroys the XAES keys prepared from material (format v2's per-version precomputation)", async () => {
    const { keyId } = (await t.call("POST", "/v1/keys", { name: "prepared" })).body;
    await t.call("POST", "/v1/keys/prepared/encrypt", { plaintext: b64("prepare it") });
    const handle = await t.app.keys.keyring.resolve(keyId);
    const prepared = handle.xaesKey(1)!;
    const nonce = Buffer.alloc(24, 7);
    expect(prepared.deriveKey(nonce)).toHaveLength(32);

    await sealViaApi();

    // Destroyed: its CMAC subkey is zeroed and its OpenSSL key schedule released.
    expect(() => prepared.deriveKey(nonce)).toThrow(RangeError);
  });

  it("zeroes handles retired by a write within their grace period, without waiting for it", async () => {
    const { keyId } = (await t.call("POST", "/v1/keys", { name: "rotated" })).body;
    const before = await t.call("POST", "/v1/keys/rotated/encrypt", { plaintext: b64("v1 secret") });
    const old = await t.app.keys.keyring.resolve(keyId);
    const oldMaterial = old.material(1)!;

    // The rotation invalidates the cached handle: it retires, still holding version 1's material.
    expect((await t.call("POST", "/v1/keys/rotated/rotate")).status).toBe(200);
    const fresh = await t.app.keys.keyring.resolve(keyId);
    expect(fresh).not.toBe(old);
    const freshMaterial = fresh.material(2)!;
    expect(isZero(oldMaterial)).toBe(false);

    await sealViaApi();

    // Checked at once: the retired handle's one-second timer has not fired.
    expect(isZero(oldMaterial)).toBe(true);
    expect(isZero(freshMaterial)).toBe(true);
    expect(() => old.material(1)).toThrow(expect.objectContaining({ code: "Sealed" }));

    // Unsealing reloads from storage: nothing was lost, the old ciphertext still opens.
    await t.unseal();
    const opened = await t.call("POST", "/v1/decrypt", { ciphertext: before.body.ciphertext });
    expect(unb64(opened.body.plaintext)).toBe("v1 secret");
  });

  it("zeroes every handle retired by several writes to several keys", async () => {
    const materials: Buffer[] = [];
    for (const name of ["a", "b", "c"]) {
      const { keyId } = (await t.call("POST", "/v1/keys", { name })).body;
      for (const write of ["rotate", "disable", "enable"]) {
        const handle = await t.app.keys.keyring.resolve(keyId);
        materials.push(handle.material(1)!);
        expect((await t.call("POST", `/v1/keys/${name}/${write}`)).status).toBe(200);
      }
    }
    expect(materials.some(isZero)).toBe(false);

    await sealViaApi();

    expect(materials.filter((m) => !isZero(m))).toHaveLength(0);
  });

  it("the keyring holds nothing after a seal: the first use after unsealing reloads", async () => {
    const { keyId } = (await t.call("POST", "/v1/keys", { name: "reload" })).body;
    const before = await t.app.keys.keyring.resolve(keyId);
    await sealViaApi();
    await t.unseal();
    const after = await t.app.keys.keyring.resolve(keyId);
    expect(after).not.toBe(before);
    expect(isZero(after.material(1)!)).toBe(false);
  });
});
