/**
 * Fair share: per-principal quotas by role. A flooding principal is refused `Throttled` (429 with
 * Retry-After; AWS ThrottlingException) once its bucket is empty, gets requests back as it refills,
 * and never slows another principal down; its refusals are audited as summaries, not one record each.
 */
import { afterEach, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";
import { decodeLines } from "../helpers/audit-records.js";

let t: TestApp;
afterEach(async () => {
  await t?.close();
});

async function token(role: string, name: string) {
  return (await t.app.tokens.issue({ kind: "vm", displayName: name, role, authMethod: "cert", attributes: { vm_id: name }, source: "10.1.1.1", subject: name, ttlSeconds: 3600 })).token;
}

describe("per-principal quotas", () => {
  it("throttles a flooding principal only, refills with time, and summarises its refusals in the trail", async () => {
    t = await startTestApp({ quotas: { default: { burst: 1000, perSecond: 1000 }, roles: { batch: { burst: 20, perSecond: 5 } } } });
    await t.call("POST", "/v1/keys", { name: "k" });
    await t.call("PUT", "/v1/policies/use", { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["k"] }] });
    for (const role of ["batch", "web"]) await t.call("PUT", `/v1/roles/${role}`, { policies: ["use"] });
    const flood = await token("batch", "runaway-vm");
    const other = await token("web", "web-1");

    const statuses: number[] = [];
    for (let i = 0; i < 200; i++) statuses.push((await t.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") }, flood)).status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(20);
    expect(statuses.filter((s) => s === 429)).toHaveLength(180);
    const refused = await t.app.http.inject({ method: "POST", url: "/v1/keys/k/encrypt", headers: { "x-tessera-token": flood, "content-type": "application/json" }, payload: JSON.stringify({ plaintext: b64("x") }) });
    expect(refused.statusCode).toBe(429);
    expect(refused.headers["retry-after"]).toBe("1");
    expect(JSON.parse(refused.body).error.code).toBe("Throttled");

    // Another principal is not affected; the flooder gets 5 requests back per second.
    for (let i = 0; i < 50; i++) expect((await t.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") }, other)).status).toBe(200);
    t.clock.advance(1000);
    const after: number[] = [];
    for (let i = 0; i < 10; i++) after.push((await t.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") }, flood)).status);
    expect(after.filter((s) => s === 200)).toHaveLength(5);

    // The trail: refusals on their own while the source's refusal budget lasts, then one summary.
    // A restart flushes the pending summary (as a shutdown does).
    await t.restart();
    await t.unseal();
    const records = decodeLines((await t.call("GET", "/v1/audit/lines?after=0&limit=5000")).body.lines as string[]);
    const throttled = records.filter((r) => r.errorCode === "Throttled");
    expect(throttled.length).toBeLessThan(40);
    const suppressed = throttled.reduce((n, r) => n + (r.detail?.suppressed ?? 1), 0);
    expect(suppressed).toBe(186);
    expect(throttled.some((r) => r.principal?.displayName === "runaway-vm")).toBe(true);
  });

  it("without quotas configured nobody is throttled", async () => {
    t = await startTestApp();
    await t.call("POST", "/v1/keys", { name: "k" });
    for (let i = 0; i < 300; i++) expect((await t.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") })).status).toBe(200);
  });
});
