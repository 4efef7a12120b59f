/**
 * `GET /v1/audit/activity` (and `tessera audit activity`): a node's answered requests per minute by
 * outcome and its most used keys — what a dashboard draws without downloading the trail.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => t.close());

/** A request is answered once its record is durable, so the counts already include it. */
async function activity(window: "hour" | "day", token?: string) {
  return t.call("GET", `/v1/audit/activity?window=${window}`, undefined, token);
}

describe("audit activity", () => {
  it("counts allowed, denied and failed requests in the current minute and ranks the keys used", async () => {
    const before = (await activity("hour")).body;
    const sum = (b: typeof before, k: string) => b.buckets.reduce((s: number, x: Record<string, number>) => s + x[k]!, 0);
    const k1 = (await t.call("POST", "/v1/keys", { name: "busy" })).body.keyId;
    const k2 = (await t.call("POST", "/v1/keys", { name: "quiet" })).body.keyId;
    for (let i = 0; i < 3; i++) await t.call("POST", "/v1/keys/busy/encrypt", { plaintext: b64("x") });
    await t.call("POST", "/v1/keys/quiet/encrypt", { plaintext: b64("x") });
    await t.call("GET", "/v1/keys/nope");
    await t.call("GET", "/v1/keys", undefined, null);
    const after = (await activity("hour")).body;
    expect({
      buckets: after.buckets.length,
      bucketSeconds: after.bucketSeconds,
      allowed: sum(after, "allowed") - sum(before, "allowed"),
      denied: sum(after, "denied") - sum(before, "denied"),
      error: sum(after, "error") - sum(before, "error"),
      top: after.topKeys.slice(0, 2).map((k: { keyId: string }) => k.keyId),
    }).toEqual({ buckets: 60, bucketSeconds: 60, allowed: 7, denied: 1, error: 1, top: [k1, k2] });
  });

  it("sums the last day in quarter-hours, refuses other windows, and needs audit:Read", async () => {
    const day = await activity("day");
    const week = await t.call("GET", "/v1/audit/activity?window=week");
    const token = (await t.call("POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Encrypt"], resources: ["*"] }] })).body.token;
    const denied = await activity("hour", token);
    expect([day.body.buckets.length, day.body.bucketSeconds, week.body.error.code, denied.body.error.code]).toEqual([96, 900, "InvalidInput", "AccessDenied"]);
  });
});

describe("tessera audit activity", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", "activity-root"]);
  });
  afterAll(async () => server.stop());

  it("prints the window's totals and, with --json, the API's answer", async () => {
    const text = await runCli(["audit", "activity"], { address: server.url, token: "activity-root" });
    const json = await runCli(["audit", "activity", "--day", "--json"], { address: server.url, token: "activity-root" });
    expect([text.code, /^\S+ – \S+: \d+ allowed, \d+ denied, \d+ errors$/m.test(text.stdout), json.code, JSON.parse(json.stdout).bucketSeconds]).toEqual([0, true, 0, 900]);
  });
});
