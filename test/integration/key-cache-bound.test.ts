/**
 * The keyring keeps at most `keyCacheSize` keys unwrapped: the least recently used is dropped and
 * reloaded on its next use, with every answer unchanged (and a change made while it was out of the
 * cache is seen when it comes back).
 */
import { afterEach, describe, expect, it } from "vitest";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

describe("the key cache is bounded", () => {
  it("holds at most keyCacheSize keys, evicts the least recently used, and reloads evicted keys correctly", async () => {
    t = await startTestApp({ keyCacheSize: 3 });
    const names = ["k1", "k2", "k3", "k4", "k5"];
    const ciphertexts = new Map<string, string>();
    for (const name of names) {
      expect((await t.call("POST", "/v1/keys", { name })).status).toBe(201);
      ciphertexts.set(name, (await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64(`secret of ${name}`) })).body.ciphertext);
    }
    const keyring = t.app.keys.keyring;
    expect(keyring.size).toBeLessThanOrEqual(3);
    expect(keyring.evictions).toBeGreaterThanOrEqual(2);

    // k1 was evicted long ago; it comes back and decrypts.
    expect(unb64((await t.call("POST", "/v1/decrypt", { ciphertext: ciphertexts.get("k1") })).body.plaintext)).toBe("secret of k1");
    // Keep k1 hot while others come and go: the least recently used go first, k1 stays.
    for (const name of ["k2", "k3", "k4", "k5"]) {
      await t.call("POST", "/v1/decrypt", { ciphertext: ciphertexts.get("k1") });
      await t.call("POST", "/v1/decrypt", { ciphertext: ciphertexts.get(name) });
    }
    expect(keyring.cachedPrimary((await t.call("GET", "/v1/keys/k1")).body.keyId)).toBe(1);

    // A key disabled while out of the cache is refused when it is loaded again.
    expect((await t.call("POST", "/v1/keys/k2/disable")).status).toBe(200);
    for (const name of ["k3", "k4", "k5"]) await t.call("POST", "/v1/decrypt", { ciphertext: ciphertexts.get(name) });
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: ciphertexts.get("k2") })).body.error.code).toBe("Disabled");
    expect(keyring.size).toBeLessThanOrEqual(3);
  });

  it("keeps a key used by name as recently used, finds an evicted name again, and sees a change made by name", async () => {
    t = await startTestApp({ keyCacheSize: 2 });
    const ids = new Map<string, string>();
    for (const name of ["n1", "n2", "n3"]) ids.set(name, (await t.call("POST", "/v1/keys", { name })).body.keyId);
    const encrypt = async (name: string) => (await t.call("POST", `/v1/keys/${name}/encrypt`, { plaintext: b64("x") })).body.keyId;
    const keyring = t.app.keys.keyring;
    expect(await encrypt("n1")).toBe(ids.get("n1"));
    expect(await encrypt("n2")).toBe(ids.get("n2"));
    // n1 used again by name: the most recently used, so n3's load evicts n2.
    expect(await encrypt("n1")).toBe(ids.get("n1"));
    expect(await encrypt("n3")).toBe(ids.get("n3"));
    expect(keyring.cachedPrimary(ids.get("n1")!)).toBe(1);
    expect(keyring.cachedPrimary(ids.get("n2")!)).toBeUndefined();
    // The evicted name resolves again (from the store).
    expect(await encrypt("n2")).toBe(ids.get("n2"));
    // A change made by name drops the cached handle: the next use by name sees the new state.
    expect((await t.call("POST", "/v1/keys/n2/schedule-deletion", { pendingWindowDays: 7 })).status).toBe(200);
    expect((await t.call("POST", "/v1/keys/n2/encrypt", { plaintext: b64("x") })).body.error.code).toBe("InvalidState");
  });
});
