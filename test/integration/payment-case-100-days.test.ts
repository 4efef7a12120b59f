/**
 * The seed's payment case over ~100 simulated days (docs/scenarios/payment-cluster.md), with a
 * controlled clock: the database password is a versioned secret (the "configuration centre")
 * encrypted under `payment-db`; the key rotates every 30 days; retention disables an old version 7
 * days after it stopped being primary and destroys it 7 days later. VMs hold a decrypt-only role and
 * read the password every day. A straggler VM still decrypts an old ciphertext: when its version is
 * disabled it is refused, the destruction waits and an alert names it; the operator re-enables the
 * version, the straggler rewraps, and the version is destroyed on the restarted schedule. Alerts
 * (off-hours, new source, rate spike, retention) reach a webhook; every step is in the audit trail,
 * which verifies at the end.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { lineHead, verifyTrail } from "@tessera/audit";
import { ManualClock } from "@tessera/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";
import { decodeLines } from "../helpers/audit-records.js";

const DAY = 86_400_000;
let t: TestApp;
let hook: Server;
const delivered: { detector: string; message: string; subject: string }[] = [];
/** What retention did, day by day. */
const events: string[] = [];

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      delivered.push(JSON.parse(body).alert);
      res.end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/alerts`;
  // Day 0 is a Monday, 09:00 in Shanghai.
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 1));
  t = await startTestApp({
    clock,
    alerts: {
      webhooks: [{ url, secret: "webhook-secret-for-the-test" }],
      retryMs: 10,
      detectors: { allowedHours: { roles: { "payment-vm": { tz: "Asia/Shanghai", days: "Mon-Sun", hours: "07:00-23:00" } } }, rateSpike: { windowSeconds: 60, factor: 5, minRequests: 50, historyWindows: 3 } },
    },
  });
});
afterAll(async () => {
  await t?.close();
  hook?.close();
});

async function as(token: string, method: string, url: string, body?: unknown, remoteAddress = "10.20.0.11") {
  const res = await t.app.http.inject({ method: method as "GET", url, remoteAddress, headers: { "x-tessera-token": token, ...(body !== undefined && { "content-type": "application/json" }) }, ...(body !== undefined && { payload: JSON.stringify(body) }) });
  return { status: res.statusCode, body: JSON.parse(res.body || "{}") };
}

const vm = async (name: string) =>
  (await t.app.tokens.issue({ kind: "vm", displayName: name, role: "payment-vm", authMethod: "cert", attributes: { vm_id: name }, source: "10.20.0.11", subject: name, ttlSeconds: 365 * 86_400 })).token;

describe("the payment case over 100 days", () => {
  it("rotates every 30 days, retires old versions on schedule, holds one a straggler needs, and keeps a verifiable trail", { timeout: 120_000 }, async () => {
    // Operator: the key (30-day rotation, retention 7 + 7 days), the configuration centre's mount, the password, a decrypt-only role.
    expect((await t.call("POST", "/v1/keys", { name: "payment-db", rotationPeriodSeconds: 30 * 86_400 })).status).toBe(201);
    expect((await t.call("PUT", "/v1/keys/payment-db/retention", { disableAfterSeconds: 7 * 86_400, destroyAfterSeconds: 7 * 86_400, keepAtLeast: 1 })).status).toBe(200);
    expect((await t.call("PUT", "/v1/secrets/payments/config", { key: "payment-db" })).status).toBe(200);
    expect((await t.call("PUT", "/v1/secrets/payments/data/db", { data: { password: "pw-1" } })).status).toBe(200);
    await t.call("PUT", "/v1/policies/payment-vm", {
      statements: [
        { effect: "allow", actions: ["secrets:Read"], resources: ["secret/payments/db"], conditions: { sourceCidr: ["10.20.0.0/16"] } },
        { effect: "allow", actions: ["kms:Decrypt", "kms:ReEncrypt"], resources: ["payment-db"], conditions: { sourceCidr: ["10.20.0.0/16"] } },
      ],
    });
    await t.call("PUT", "/v1/roles/payment-vm", { policies: ["payment-vm"], tokenTtlSeconds: 3600 });
    const vms = await Promise.all(["pay-1", "pay-2", "pay-3"].map(vm));
    const straggler = await vm("pay-legacy");
    // The straggler keeps a config file encrypted directly under the key (version 1) — not in the configuration centre.
    let legacy = (await t.call("POST", "/v1/keys/payment-db/encrypt", { plaintext: b64("legacy-config") })).body.ciphertext as string;

    // A VM outside the cluster's range is refused.
    expect((await as(vms[0]!, "GET", "/v1/secrets/payments/data/db", undefined, "192.168.1.5")).status).toBe(403);

    let straggling = true;
    for (let day = 1; day <= 100; day++) {
      t.clock.advance(DAY);
      await t.app.jobs.rotateDue();
      for (const token of vms) expect((await as(token, "GET", "/v1/secrets/payments/data/db")).status).toBe(200);
      const r = await as(straggler, "POST", "/v1/decrypt", { ciphertext: legacy });
      if (straggling) expect([200, 409]).toContain(r.status);
      else {
        // Reformed: it rewraps its file as soon as a rotation makes its version old.
        expect(r.status).toBe(200);
        const primary = (await t.call("GET", "/v1/keys/payment-db")).body.primaryVersion as number;
        if (r.body.keyVersion < primary) legacy = (await as(straggler, "POST", "/v1/reencrypt", { ciphertext: legacy })).body.ciphertext;
      }
      if (day === 50) expect((await t.call("PUT", "/v1/secrets/payments/data/db", { data: { password: "pw-2" }, cas: 1 })).status).toBe(200);
      const done = await t.app.retention.runDue();
      if (day === 45) {
        // Blocked by the straggler since day 44: the operator re-enables v1 and the straggler rewraps.
        expect((await t.call("GET", "/v1/keys/payment-db/retention")).body.versions[0]).toMatchObject({ state: "Disabled", inUse: true });
        expect((await t.call("POST", "/v1/keys/payment-db/versions/1/enable")).status).toBe(200);
        expect((await t.app.retention.runDue()).restarted).toEqual(["payment-db/v1"]);
        const rewrapped = await as(straggler, "POST", "/v1/reencrypt", { ciphertext: legacy });
        expect(rewrapped.status).toBe(200);
        legacy = rewrapped.body.ciphertext;
        straggling = false;
      }
      if (done.destroyed.length > 0 || done.disabled.length > 0) events.push(`day ${day}: ${[...done.disabled.map((d) => `disabled ${d}`), ...done.destroyed.map((d) => `destroyed ${d}`)].join(", ")}`);
    }
    expect(events).toEqual([
      "day 37: disabled payment-db/v1",
      "day 52: disabled payment-db/v1",
      "day 59: destroyed payment-db/v1",
      "day 67: disabled payment-db/v2",
      "day 74: destroyed payment-db/v2",
      "day 97: disabled payment-db/v3",
    ]);
    const versions = (await t.call("GET", "/v1/keys/payment-db/versions")).body.versions.map((v: any) => v.state);
    expect(versions).toEqual(["Destroyed", "Destroyed", "Disabled", "Enabled"]);
    expect((await as(vms[0]!, "GET", "/v1/secrets/payments/data/db")).body.data).toEqual({ password: "pw-2" });
    expect(unb64((await as(straggler, "POST", "/v1/decrypt", { ciphertext: legacy })).body.plaintext)).toBe("legacy-config");

    // Off-hours (03:00 in Shanghai), a new source, a rate spike: alerts, delivered to the webhook.
    t.clock.advance(18 * 3_600_000);
    expect((await as(vms[1]!, "GET", "/v1/secrets/payments/data/db", undefined, "10.20.9.9")).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      t.clock.advance(60_000);
      await as(vms[2]!, "GET", "/v1/secrets/payments/data/db");
    }
    t.clock.advance(60_000);
    for (let i = 0; i < 80; i++) await as(vms[2]!, "GET", "/v1/secrets/payments/data/db");
    const wanted = ["retention-in-use", "off-hours", "new-source", "rate-spike"];
    await expect.poll(() => wanted.filter((d) => !delivered.some((a) => a.detector === d)), { timeout: 20_000 }).toEqual([]);
    for (const d of ["retention-in-use", "off-hours", "new-source", "rate-spike"]) expect(delivered.some((a) => a.detector === d), `${d} in ${JSON.stringify(delivered.map((a) => a.detector))}`).toBe(true);
    // Day 44 and day 45 (before the operator acted): at most one a day.
    const held = delivered.filter((a) => a.detector === "retention-in-use");
    expect(held).toHaveLength(2);
    expect(held[0]!.message).toContain("pay-legacy");

    // Every step is in the trail (intent + outcome under the system principal) and the trail verifies.
    const records = decodeLines(await trail());
    const system = records.filter((r) => r.principal?.id === "tessera:system" && r.outcome === "allowed").map((r) => r.action);
    expect(system.filter((a) => a === "kms:RotateKey")).toHaveLength(3);
    expect(system.filter((a) => a === "kms:DisableKeyVersion")).toHaveLength(4);
    expect(system.filter((a) => a === "kms:DestroyKeyVersion")).toHaveLength(2);
    const publicKey = (await t.call("GET", "/v1/audit/public-key")).body.publicKey as string;
    await t.app.auditLog.checkpoint();
    const all = await trail();
    const report = await verifyTrail(
      (async function* () {
        yield { lines: all, where: (i: number) => `line ${i + 1}` };
      })(),
      { publicKey, allowOpenTail: true },
    );
    expect(report.ok, JSON.stringify(report)).toBe(true);
  });
});

/** The whole trail, page by page. */
async function trail(): Promise<string[]> {
  const out: string[] = [];
  for (let after = 0; ; ) {
    const page = (await t.call("GET", `/v1/audit/lines?after=${after}&limit=5000`)).body.lines as string[];
    out.push(...page);
    if (page.length < 5000) return out;
    after = lineHead(page[page.length - 1]!)!.seq;
  }
}
