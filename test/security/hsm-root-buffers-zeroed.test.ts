/**
 * The root leaves the HSM once per unseal, in a buffer pkcs11js fills (C_Decrypt's output for
 * aes_gcm, the unwrapped object's CKA_VALUE for aes_key_wrap_pad). The seal copies the root out and
 * must zero what the module handed back — else a copy of the root stays on the heap for as long as
 * the garbage collector leaves it there. Observed on the real module and a real SoftHSM2: every
 * buffer the module returned with the root in it is all zeros once the node is unsealed, and sealing
 * zeroes the roots the barrier held. An auto-unseal whose audit intent cannot be written zeroes the
 * roots the HSM opened (they never reach the barrier).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, Pkcs11Seal, SqliteStore, buildApp, type Pkcs11SealOptions } from "@tessera/server";
import { ControllableSink } from "../fakes/controllable-sink.js";
import { startTestApp } from "../helpers/app.js";
import { SOFTHSM2_MODULE, USER_PIN, softHsm, type SoftHsm } from "../helpers/softhsm.js";

let hsm: SoftHsm;
beforeAll(() => {
  hsm = softHsm();
  for (const label of ["gcm", "kwp", "audit-down"]) hsm.initToken(label);
});
afterAll(() => hsm.close());

/** pkcs11js as the seal loads it, with every buffer C_Decrypt and C_GetAttributeValue return kept for inspection. */
function observedLibrary(returned: Buffer[]): unknown {
  type Fn = (...a: unknown[]) => unknown;
  const k = createRequire(import.meta.url)("pkcs11js") as Record<string, unknown> & { PKCS11: new () => Record<string, Fn> };
  class Observed extends k.PKCS11 {
    constructor() {
      super();
      // pkcs11js installs its wrapped methods on the instance: observe those, as the seal calls them.
      const decrypt = this["C_Decrypt"]!;
      const getAttributes = this["C_GetAttributeValue"]!;
      this["C_Decrypt"] = (...args: unknown[]) => {
        const out = decrypt.apply(this, args) as Buffer;
        returned.push(out);
        return out;
      };
      this["C_GetAttributeValue"] = (...args: unknown[]) => {
        const attrs = getAttributes.apply(this, args) as { value?: Buffer }[];
        for (const a of attrs) if (a.value !== undefined) returned.push(a.value);
        return attrs;
      };
    }
  }
  return { ...k, PKCS11: Observed };
}

describe("the HSM seal zeroes the root the module hands back", () => {
  it.each(["aes_gcm", "aes_key_wrap_pad"] as const)("%s", async (mechanism) => {
    const returned: Buffer[] = [];
    const options: Pkcs11SealOptions = { lib: SOFTHSM2_MODULE, tokenLabel: mechanism === "aes_gcm" ? "gcm" : "kwp", pin: USER_PIN, keyLabels: ["root"], mechanism, generateKey: true };
    // The constructor is the one `create` calls after loading pkcs11js; here it gets the observed module.
    const seal = new (Pkcs11Seal as unknown as new (k: unknown, o: Pkcs11SealOptions) => Pkcs11Seal)(observedLibrary(returned), options);
    const t = await startTestApp({ shares: 1, threshold: 1, seal });
    try {
      t.app.barrier.sealNow();
      expect([await t.app.autoUnseal.attempt(), t.app.barrier.status().error]).toEqual([true, undefined]);
      const root = Buffer.from(t.app.barrier.ring().current.key);
      const withRoot = returned.filter((b) => b.length >= 32);
      expect(withRoot.length).toBeGreaterThan(0);
      for (const b of withRoot) expect(b.equals(Buffer.alloc(b.length))).toBe(true);

      // Sealing zeroes the roots the barrier held.
      const held = t.app.barrier.ring().current.key;
      t.app.barrier.sealNow();
      expect(held.equals(Buffer.alloc(32))).toBe(true);
      expect(root.equals(Buffer.alloc(32))).toBe(false);
    } finally {
      await t.close();
    }
  });
});

describe("an auto-unseal refused for want of a durable audit record", () => {
  it("zeroes the roots the HSM opened", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-hsm-zero-"));
    const sink = new ControllableSink();
    const seal = await Pkcs11Seal.create({ lib: SOFTHSM2_MODULE, tokenLabel: "audit-down", pin: USER_PIN, keyLabels: ["root"], mechanism: "aes_gcm", generateKey: true });
    const app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock: new ManualClock(Date.UTC(2026, 0, 5)), seal, audit: { sinks: [sink] }, autoUnseal: { initialDelayMs: 3_600_000 } });
    try {
      const init = await app.http.inject({ method: "POST", url: "/v1/sys/init", headers: { "content-type": "application/json" }, payload: '{"shares":1,"threshold":1}' });
      expect(init.statusCode).toBe(200);
      app.barrier.sealNow();
      // Keep a reference to what the seal opens (the real seal; only observed).
      const opened: Buffer[] = [];
      const submit = seal.submit.bind(seal);
      seal.submit = async (record, input) => {
        const result = await submit(record, input);
        for (const r of result.opened?.roots ?? []) opened.push(r.key);
        return result;
      };
      sink.failOnce((r) => r["action"] === "sys:AutoUnseal" && r["outcome"] === "intent");
      expect(await app.autoUnseal.attempt()).toBe(false);
      expect(app.barrier.sealed).toBe(true);
      expect(opened).toHaveLength(1);
      expect(opened[0]!.equals(Buffer.alloc(32))).toBe(true);
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
