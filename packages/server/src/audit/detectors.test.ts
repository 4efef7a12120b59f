/** Each detector driven with synthetic traffic and a controlled clock: exactly the expected alerts. */
import { describe, expect, it } from "vitest";
import { AnomalyDetectors, RecentMap, type DetectorOptions, type RaisedAlert, type StreamRecord } from "./detectors.js";

const T0 = Date.UTC(2026, 0, 5, 2, 0); // Monday 10:00 in Asia/Shanghai
let seq = 0;
const rec = (over: Partial<StreamRecord> & { at: number }): StreamRecord => ({
  seq: ++seq,
  time: new Date(over.at).toISOString(),
  principal: { id: "cert:01", displayName: "pay-1", role: "payment-vm" },
  source: "10.0.0.7",
  action: "kms:Decrypt",
  keyId: "k1",
  keyVersion: 1,
  outcome: "allowed",
  errorCode: null,
  ...over,
});

function run(options: DetectorOptions, records: StreamRecord[]): RaisedAlert[] {
  const alerts: RaisedAlert[] = [];
  const d = new AnomalyDetectors(options, (a) => alerts.push(a));
  for (const r of records) d.observe(r);
  return alerts;
}

/** Steady traffic: one principal, one source, one key, 10 requests a minute for an hour. */
const normal = (minutes = 60) => Array.from({ length: minutes * 10 }, (_, i) => rec({ at: T0 + i * 6000 }));
const quiet: DetectorOptions = { allowedHours: { default: { tz: "Asia/Shanghai", days: "Mon-Fri", hours: "08-20" } } };

describe("anomaly detectors", () => {
  it("raise nothing on normal traffic", () => {
    expect(run(quiet, normal())).toEqual([]);
  });

  it("off-hours: use outside the allowed window, with per-role and per-key overrides", () => {
    const night = T0 + 12 * 3600_000; // 22:00 Shanghai
    const alerts = run(
      { allowedHours: { default: { tz: "Asia/Shanghai", days: "Mon-Fri", hours: "08-20" }, roles: { batch: { tz: "Asia/Shanghai", hours: "20-08" } } } },
      [rec({ at: T0 }), rec({ at: night }), rec({ at: night, principal: { id: "cert:02", displayName: "batch-1", role: "batch" } })],
    );
    expect(alerts.map((a) => [a.detector, a.subject])).toEqual([["off-hours", "cert:01"]]);
    expect(run({}, [rec({ at: night })])).toEqual([]); // not configured: off
  });

  it("new-source: a known principal from a new address, once per address", () => {
    const alerts = run(quiet, [rec({ at: T0 }), rec({ at: T0 + 1000, source: "10.9.9.9" }), rec({ at: T0 + 2000, source: "10.9.9.9" }), rec({ at: T0 + 3000 })]);
    expect(alerts.map((a) => [a.detector, a.subject, a.seqs.length])).toEqual([["new-source", "cert:01", 1]]);
    expect(alerts[0]!.message).toContain("10.9.9.9");
  });

  it("rate-spike: against the principal's and the key's own baseline, once per window", () => {
    const base = normal(10); // 10 per minute for 10 minutes
    const burstStart = T0 + 10 * 60_000;
    const burst = Array.from({ length: 120 }, (_, i) => rec({ at: burstStart + i * 100 }));
    const alerts = run(quiet, [...base, ...burst]);
    expect(alerts.map((a) => [a.detector, a.subject]).sort()).toEqual([
      ["rate-spike", "cert:01"],
      ["rate-spike", "k1"],
    ]);
    // Each alert is worded for its own subject: the key's names the key, the principal's the principal.
    expect(alerts.find((a) => a.subject === "k1")!.message).toMatch(/^key k1: \d+ requests in 60 s/);
    expect(alerts.find((a) => a.subject === "cert:01")!.message).not.toMatch(/^key /);
    // The same absolute rate is normal for a principal whose baseline is that high.
    const busy = Array.from({ length: 11 * 120 }, (_, i) => rec({ at: T0 + i * 500 }));
    expect(run(quiet, busy)).toEqual([]);
  });

  it("denial-burst: many denials or failed logins from one source within a minute", () => {
    const denials = Array.from({ length: 12 }, (_, i) =>
      rec({ at: T0 + i * 1000, outcome: "denied", errorCode: "Unauthenticated", principal: null, source: "192.0.2.66", action: "auth:Login" }),
    );
    const alerts = run(quiet, [...normal(2), ...denials]);
    expect(alerts.map((a) => [a.detector, a.subject])).toEqual([["denial-burst", "192.0.2.66"]]);
    const spread = Array.from({ length: 12 }, (_, i) => rec({ at: T0 + i * 10_000, outcome: "denied", source: "192.0.2.67" }));
    expect(run(quiet, spread)).toEqual([]);
  });

  it("first-use: an active principal decrypting with a key it never used", () => {
    const alerts = run(quiet, [rec({ at: T0 }), rec({ at: T0 + 1000 }), rec({ at: T0 + 2000, keyId: "k2" }), rec({ at: T0 + 3000, keyId: "k2" })]);
    expect(alerts.map((a) => [a.detector, a.subject])).toEqual([["first-use", "cert:01"]]);
    // A principal's very first request establishes its history.
    expect(run(quiet, [rec({ at: T0, keyId: "k9" })])).toEqual([]);
  });

  it("new-source lists the addresses seen before", () => {
    const alerts = run(quiet, [rec({ at: T0 }), rec({ at: T0 + 1000, source: "10.9.9.9" }), rec({ at: T0 + 2000, source: "10.8.8.8" })]);
    expect(alerts.map((a) => a.message.replace(/.*seen before from /, ""))).toEqual(["10.0.0.7)", "10.0.0.7, 10.9.9.9)"]);
  });

  it("keep bounded memory: 5,000 principals on 5,000 keys through tables of 100, the least recently seen forgotten", () => {
    const d = new AnomalyDetectors({ ...quiet, maxTracked: 100 }, () => undefined);
    for (let i = 0; i < 5000; i++) d.observe(rec({ at: T0 + i, principal: { id: `vm-${i}`, displayName: `vm-${i}`, role: null }, keyId: `k-${i}`, source: `10.1.${i >> 8}.${i & 255}` }));
    const tables = Object.values(d as unknown as Record<string, unknown>).filter((v): v is RecentMap<string, unknown> => v instanceof RecentMap);
    expect(tables.length).toBeGreaterThanOrEqual(7);
    for (const t of tables) expect(t.size).toBeLessThanOrEqual(1000);
    // A principal still remembered keeps its history: a new key is a first use, a new address a new source.
    const alerts: RaisedAlert[] = [];
    const e = new AnomalyDetectors({ ...quiet, maxTracked: 100 }, (a) => alerts.push(a));
    e.observe(rec({ at: T0 }));
    for (let i = 0; i < 50; i++) e.observe(rec({ at: T0 + 1 + i, principal: { id: `other-${i}`, displayName: "o", role: null } }));
    e.observe(rec({ at: T0 + 100, keyId: "k2", source: "10.9.9.9" }));
    expect(alerts.map((a) => a.detector).sort()).toEqual(["first-use", "new-source"]);
  });

  it("retiring-version: decrypting with a version older than the primary, once per version and principal", () => {
    const other = { id: "cert:02", displayName: "pay-2", role: "payment-vm" };
    const records = [
      rec({ at: T0, keyVersion: 3 }),
      rec({ at: T0 + 1000, keyVersion: 1 }),
      rec({ at: T0 + 2000, keyVersion: 1 }),
      rec({ at: T0 + 3000, keyVersion: 2 }),
      rec({ at: T0 + 4000, keyVersion: 1, principal: other }),
      rec({ at: T0 + 5000, keyVersion: 1, principal: other }),
    ];
    const alerts = run({ ...quiet, primaryVersion: (id) => (id === "k1" ? 3 : undefined) }, records).filter((a) => a.detector === "retiring-version");
    // The first use of version 1 and of version 2 by cert:01, and the first use of version 1 by cert:02.
    expect(alerts.map((a) => [a.subject, a.seqs])).toEqual([
      ["k1", [records[1]!.seq]],
      ["k1", [records[3]!.seq]],
      ["k1", [records[4]!.seq]],
    ]);
  });
});
