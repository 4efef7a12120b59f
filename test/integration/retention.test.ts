/**
 * Version retention (docs/retention.md) with a controlled clock: a retired version is disabled
 * `disableAfter` after it stopped being primary and destroyed `destroyAfter` later — unless something
 * used it within `disableAfter`, which holds the destruction and raises one alert naming who; enabling
 * the version cancels and restarts its clock; a rewrap clears the way. Every step is audited under
 * the system principal and shows in GET /v1/keys/{key}/retention.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";
import { decodeLines } from "../helpers/audit-records.js";

const DAY = 86_400_000;
let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

const code = (r: { status: number; body: any }) => ({ status: r.status, code: r.body?.error?.code });

async function vmToken(name: string) {
  await t.call("PUT", "/v1/policies/app", { statements: [{ effect: "allow", actions: ["kms:Decrypt", "kms:ReEncrypt", "kms:Encrypt"], resources: ["payment"] }] });
  await t.call("PUT", "/v1/roles/app", { policies: ["app"], tokenTtlSeconds: 3600 });
  return (await t.app.tokens.issue({ kind: "vm", displayName: name, role: "app", authMethod: "cert", attributes: { vm_id: name }, source: "10.9.8.7", subject: name, ttlSeconds: 400 * 86_400 })).token;
}

async function lines(): Promise<any[]> {
  const r = await t.call("GET", "/v1/audit/lines?after=0&limit=5000");
  return decodeLines(r.body.lines as string[]);
}

const retention = async () => (await t.call("GET", "/v1/keys/payment/retention")).body;
const version = async (n: number) => (await retention()).versions.find((v: any) => v.version === n);

describe("version retention", () => {
  it("disables, waits for a straggler, alerts once, restarts when re-enabled, and destroys once nothing uses the version", async () => {
    await t.call("POST", "/v1/keys", { name: "payment" });
    const set = await t.call("PUT", "/v1/keys/payment/retention", { disableAfterSeconds: 30 * 86_400, destroyAfterSeconds: 7 * 86_400, keepAtLeast: 1 });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ policySource: "key", policy: { keepAtLeast: 1 } });
    const straggler = await vmToken("vm-straggler");
    const old = (await t.call("POST", "/v1/keys/payment/encrypt", { plaintext: b64("db-password-v1") })).body.ciphertext as string;
    expect((await t.call("POST", "/v1/keys/payment/rotate")).status).toBe(200);

    // Day 29: still within disableAfter; a use of the old version is counted against it.
    t.clock.advance(29 * DAY);
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: old }, straggler)).status).toBe(200);
    expect((await t.app.retention.runDue()).disabled).toEqual([]);
    expect(await version(1)).toMatchObject({ state: "Enabled", usesSinceRetired: 1, users: [{ source: "127.0.0.1", uses: 1 }] });

    // Day 31: disabled by retention, destruction scheduled 7 days on.
    t.clock.advance(2 * DAY);
    expect((await t.app.retention.runDue()).disabled).toEqual(["payment/v1"]);
    const disabled = await version(1);
    expect(disabled).toMatchObject({ state: "Disabled", destroyAt: new Date(t.clock.now() + 7 * DAY).toISOString() });
    const refused = await t.call("POST", "/v1/decrypt", { ciphertext: old }, straggler);
    expect(code(refused)).toEqual({ status: 409, code: "Disabled" });

    // Day 39: due, but refused within the last 30 days: held, one alert naming the VM and its address.
    t.clock.advance(8 * DAY);
    expect((await t.app.retention.runDue()).destroyed).toEqual([]);
    expect((await t.app.retention.runDue()).destroyed).toEqual([]);
    const alerts = (await t.call("GET", "/v1/alerts")).body.alerts.filter((a: any) => a.detector === "retention-in-use");
    expect(alerts).toHaveLength(1);
    expect(alerts[0].message).toContain("vm-straggler");
    expect(alerts[0].message).toContain("127.0.0.1");
    expect(alerts[0].message).toMatch(/version 1 of key payment/);
    expect(await version(1)).toMatchObject({ state: "Disabled", inUse: true, refused: 1 });

    // The operator re-enables v1 (cancels; the clock restarts) and the straggler rewraps.
    expect((await t.call("POST", "/v1/keys/payment/versions/1/enable")).status).toBe(200);
    expect((await t.app.retention.runDue()).restarted).toEqual(["payment/v1"]);
    const rewrapped = await t.call("POST", "/v1/reencrypt", { ciphertext: old }, straggler);
    expect(rewrapped.body).toMatchObject({ sourceKeyVersion: 1, keyVersion: 2 });
    expect(await version(1)).toMatchObject({ state: "Enabled", destroyAt: null, disableAt: new Date(t.clock.now() + 30 * DAY).toISOString() });

    // 30 days after the restart: disabled again; 7 more days with nothing using it: destroyed.
    t.clock.advance(30 * DAY + 1000);
    expect((await t.app.retention.runDue()).disabled).toEqual(["payment/v1"]);
    t.clock.advance(7 * DAY + 1000);
    expect((await t.app.retention.runDue()).destroyed).toEqual(["payment/v1"]);
    expect(await version(1)).toMatchObject({ state: "Destroyed", destroyAt: null });
    expect(code(await t.call("POST", "/v1/decrypt", { ciphertext: old }, straggler))).toEqual({ status: 410, code: "Destroyed" });
    expect(unb64((await t.call("POST", "/v1/decrypt", { ciphertext: rewrapped.body.ciphertext }, straggler)).body.plaintext)).toBe("db-password-v1");

    // Each automatic step passed the door under the system principal: intent, then outcome.
    const system = (await lines()).filter((r) => r.principal?.id === "tessera:system" && (r.action === "kms:DisableKeyVersion" || r.action === "kms:DestroyKeyVersion"));
    expect(system.map((r) => [r.action, r.outcome])).toEqual([
      ["kms:DisableKeyVersion", "intent"],
      ["kms:DisableKeyVersion", "allowed"],
      ["kms:DisableKeyVersion", "intent"],
      ["kms:DisableKeyVersion", "allowed"],
      ["kms:DestroyKeyVersion", "intent"],
      ["kms:DestroyKeyVersion", "allowed"],
    ]);
  });

  it("keeps the newest keepAtLeast versions and clears a key's policy", async () => {
    await t.call("POST", "/v1/keys", { name: "payment" });
    for (let i = 0; i < 3; i++) await t.call("POST", "/v1/keys/payment/rotate");
    expect((await retention()).policySource).toBe("none");
    await t.call("PUT", "/v1/keys/payment/retention", { disableAfterSeconds: 86_400, destroyAfterSeconds: 86_400, keepAtLeast: 3 });
    t.clock.advance(2 * DAY);
    expect((await t.app.retention.runDue()).disabled).toEqual(["payment/v1"]);
    expect((await retention()).versions.map((v: any) => v.state)).toEqual(["Disabled", "Enabled", "Enabled", "Enabled"]);
    expect((await t.call("DELETE", "/v1/keys/payment/retention")).body.policySource).toBe("none");
    t.clock.advance(2 * DAY);
    expect(await t.app.retention.runDue()).toEqual({ disabled: [], destroyed: [], restarted: [] });
  });

  it("applies the server's default policy to keys with none of their own", async () => {
    await t.close();
    t = await startTestApp({ retention: { disableAfterSeconds: 86_400, destroyAfterSeconds: 86_400, keepAtLeast: 1 } });
    await t.call("POST", "/v1/keys", { name: "payment" });
    await t.call("POST", "/v1/keys/payment/rotate");
    expect((await retention()).policySource).toBe("default");
    t.clock.advance(DAY + 1000);
    expect((await t.app.retention.runDue()).disabled).toEqual(["payment/v1"]);
    t.clock.advance(DAY + 1000);
    expect((await t.app.retention.runDue()).destroyed).toEqual(["payment/v1"]);
  });

  it("refuses malformed policies and authorises writes as kms:UpdateKey, reads as kms:DescribeKey", async () => {
    await t.call("POST", "/v1/keys", { name: "payment" });
    expect(code(await t.call("PUT", "/v1/keys/payment/retention", { disableAfterSeconds: 60, destroyAfterSeconds: 86_400, keepAtLeast: 1 }))).toEqual({ status: 400, code: "InvalidInput" });
    expect(code(await t.call("PUT", "/v1/keys/payment/retention", { disableAfterSeconds: 86_400, destroyAfterSeconds: 86_400, keepAtLeast: 0 }))).toEqual({ status: 400, code: "InvalidInput" });
    const vm = await vmToken("vm-1");
    expect(code(await t.call("PUT", "/v1/keys/payment/retention", { disableAfterSeconds: 86_400, destroyAfterSeconds: 86_400, keepAtLeast: 1 }, vm))).toEqual({ status: 403, code: "AccessDenied" });
    expect(code(await t.call("GET", "/v1/keys/payment/retention", undefined, vm))).toEqual({ status: 403, code: "AccessDenied" });
  });
});
