/**
 * Finding 4 of the trust review: the scheduler's automatic rotations, deletions and destruction
 * bypassed the door and left no audit entry. Every change the server makes by itself is now audited
 * under the system principal — an intent before the change, an outcome after — and a change whose
 * intent cannot be written does not happen.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { ControllableSink } from "../fakes/controllable-sink.js";
import { ManualClock, SqliteStore, buildApp } from "@tessera/server";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const DAY = 86_400_000;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe("the server's own changes", () => {
  it("automatic rotation, destruction and purges are in the trail under the system principal", async () => {
    t = await startTestApp();
    const rotating = (await t.call("POST", "/v1/keys", { name: "rotating", rotationPeriodSeconds: 86_400 })).body.keyId as string;
    const doomed = (await t.call("POST", "/v1/keys", { name: "doomed" })).body.keyId as string;
    expect((await t.call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 })).status).toBe(200);
    t.clock.advance(8 * DAY);
    await t.app.scheduler.runOnce("rotate");
    await t.app.scheduler.runOnce("destroy");
    await t.app.scheduler.runOnce("purge");
    expect((await t.call("GET", "/v1/keys/doomed")).body.state).toBe("Destroyed");
    expect((await t.call("GET", "/v1/keys/rotating")).body.primaryVersion).toBe(2);

    const records = (await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as Record<string, any>[];
    const system = records.filter((r) => r["principal"]?.id === "tessera:system");
    expect(system.map((r) => [r["action"], r["keyId"], r["outcome"]])).toEqual([
      ["kms:RotateKey", rotating, "intent"],
      ["kms:RotateKey", rotating, "allowed"],
      ["kms:DestroyKey", doomed, "intent"],
      ["kms:DestroyKey", doomed, "allowed"],
      ["auth:PurgeExpired", null, "intent"],
      ["auth:PurgeExpired", null, "allowed"],
    ]);
    expect(system[0]!["principal"]).toEqual({ id: "tessera:system", kind: "system", displayName: "Tessera scheduler", role: null, authMethod: "system" });
  });

  it("a key is not destroyed (nor rotated) while the trail cannot record it; the next run does it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-system-audit-"));
    const sink = new ControllableSink();
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
    const app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock, audit: { sinks: [sink] } });
    try {
      const inject = async (method: string, url: string, body?: unknown, token?: string) =>
        (
          await app.http.inject({
            method: method as "GET",
            url,
            headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
            ...(body !== undefined && { payload: JSON.stringify(body) }),
          })
        ).json();
      const init = await inject("POST", "/v1/sys/init", { shares: 1, threshold: 1 });
      await inject("POST", "/v1/sys/unseal", { share: init.shares[0] });
      await inject("POST", "/v1/keys", { name: "doomed" }, init.rootToken);
      await inject("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 }, init.rootToken);
      clock.advance(8 * DAY);

      sink.failOnce((r) => r["action"] === "kms:DestroyKey" && r["outcome"] === "intent");
      await expect(app.jobs.destroyDue()).rejects.toMatchObject({ code: "Unavailable" });
      expect((await inject("GET", "/v1/keys/doomed", undefined, init.rootToken)).state).toBe("PendingDeletion");

      expect(await app.jobs.destroyDue()).toHaveLength(1);
      expect((await inject("GET", "/v1/keys/doomed", undefined, init.rootToken)).state).toBe("Destroyed");
    } finally {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
