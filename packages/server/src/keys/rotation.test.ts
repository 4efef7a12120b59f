/** Automatic rotation: due once per elapsed period, caught up once after downtime, never twice. */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../../../test/helpers/app.js";

const HOUR = 3_600_000;
let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

const primary = async (name: string) => (await t.call("GET", `/v1/keys/${name}`)).body.primaryVersion as number;

describe("automatic rotation", () => {
  it("does not rotate before the period has elapsed, rotates once when it has", async () => {
    await t.call("POST", "/v1/keys", { name: "auto", rotationPeriodSeconds: 3600 });
    t.clock.advance(HOUR - 1);
    expect(await t.app.jobs.rotateDue()).toEqual([]);
    t.clock.advance(1);
    expect(await t.app.jobs.rotateDue()).toHaveLength(1);
    expect(await primary("auto")).toBe(2);
    expect(await t.app.jobs.rotateDue()).toEqual([]);
  });

  it("catches up after downtime with one rotation, then counts the next period from then", async () => {
    await t.call("POST", "/v1/keys", { name: "auto", rotationPeriodSeconds: 3600 });
    t.clock.advance(10 * HOUR + 5);
    await t.restart();
    await t.unseal(); // unsealing triggers the catch-up run
    await t.app.scheduler.runOnce("rotate");
    expect(await primary("auto")).toBe(2);
    const meta = (await t.call("GET", "/v1/keys/auto")).body;
    expect(Date.parse(meta.nextRotationAt)).toBe(t.clock.now() + HOUR);
    t.clock.advance(HOUR - 1);
    expect(await t.app.jobs.rotateDue()).toEqual([]);
    t.clock.advance(1);
    expect(await t.app.jobs.rotateDue()).toHaveLength(1);
    expect(await primary("auto")).toBe(3);
  });

  it("never rotates twice for one period when runs overlap", async () => {
    await t.call("POST", "/v1/keys", { name: "a", rotationPeriodSeconds: 3600 });
    await t.call("POST", "/v1/keys", { name: "b", rotationPeriodSeconds: 7200 });
    t.clock.advance(2 * HOUR);
    const runs = await Promise.all([t.app.jobs.rotateDue(), t.app.jobs.rotateDue(), t.app.jobs.rotateDue()]);
    expect(runs.flat()).toHaveLength(2);
    expect(await primary("a")).toBe(2);
    expect(await primary("b")).toBe(2);
  });

  it("skips disabled keys and keys pending deletion; manual rotation resets the period", async () => {
    const ok = async (method: string, url: string, body?: unknown) => expect((await t.call(method, url, body)).status, url).toBeLessThan(300);
    await ok("POST", "/v1/keys", { name: "off", rotationPeriodSeconds: 3600 });
    await ok("POST", "/v1/keys", { name: "doomed", rotationPeriodSeconds: 3600 });
    await ok("POST", "/v1/keys", { name: "manual", rotationPeriodSeconds: 3600 });
    await ok("POST", "/v1/keys/off/disable");
    await ok("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 });
    t.clock.advance(HOUR / 2);
    await ok("POST", "/v1/keys/manual/rotate");
    t.clock.advance(HOUR / 2);
    expect(await t.app.jobs.rotateDue()).toEqual([]);
    t.clock.advance(HOUR / 2);
    expect(await t.app.jobs.rotateDue()).toHaveLength(1);
    expect(await primary("manual")).toBe(3);
    expect(await primary("off")).toBe(1);
    expect(await primary("doomed")).toBe(1);
  });

  it("old ciphertext still decrypts after automatic rotations", async () => {
    await t.call("POST", "/v1/keys", { name: "k", rotationPeriodSeconds: 3600 });
    const c = (await t.call("POST", "/v1/keys/k/encrypt", { plaintext: "aGk=" })).body.ciphertext;
    for (let i = 0; i < 3; i++) {
      t.clock.advance(HOUR);
      await t.app.jobs.rotateDue();
    }
    expect(await primary("k")).toBe(4);
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: c })).body).toMatchObject({ keyVersion: 1, plaintext: "aGk=" });
  });
});
