import { describe, expect, it } from "vitest";
import { TesseraError, isTesseraError } from "@tessera/protocol";
import { ManualClock } from "../clock.js";
import type { AuditEntry, AuditRecorder } from "../audit/auditor.js";
import { OTHER_SOURCES, RefusalLog } from "./refusal-log.js";

const DISK_FULL = new Error("disk full");

class Recorder implements AuditRecorder {
  readonly entries: AuditEntry[] = [];
  failNext = 0;
  async record(entry: AuditEntry): Promise<void> {
    if (this.failNext > 0) {
      this.failNext--;
      throw DISK_FULL;
    }
    this.entries.push(entry);
  }
  get summaries() {
    return this.entries.filter((e) => e.detail?.["suppressed"] !== undefined);
  }
  get own() {
    return this.entries.filter((e) => e.detail?.["suppressed"] === undefined);
  }
}

const ctx = (source: string, n = 0) => ({ token: undefined, source, requestId: `req-${source}-${n}` });
const invalid = new TesseraError("InvalidInput");

function setup(options: ConstructorParameters<typeof RefusalLog>[2] = {}) {
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const rec = new Recorder();
  return { clock, rec, log: new RefusalLog(rec, clock, { perSource: { burst: 3, perSecond: 1 }, global: { burst: 100, perSecond: 100 }, ...options }) };
}

/** Every refusal is in a record of its own or in a summary's count. */
const accounted = (rec: Recorder) => rec.own.length + rec.summaries.reduce((n, e) => n + Number(e.detail!["suppressed"]), 0);

describe("RefusalLog", () => {
  it("records a source's refusals up to its burst, then counts them into one summary per error code", async () => {
    const { rec, log } = setup();
    for (let i = 0; i < 10; i++) await log.record(ctx("10.0.0.1", i), i % 2 === 0 ? invalid : new TesseraError("NotFound"));
    expect(rec.own.map((e) => e.requestId)).toEqual(["req-10.0.0.1-0", "req-10.0.0.1-1", "req-10.0.0.1-2"]);
    expect(rec.own.every((e) => e.action === "api:Rejected")).toBe(true);
    expect(log.suppressed).toBe(7);
    expect(await log.flush()).toBe(7);
    expect(rec.summaries.map((e) => [e.source, e.errorCode, e.detail!["suppressed"]]).sort()).toEqual([
      ["10.0.0.1", "InvalidInput", 3],
      ["10.0.0.1", "NotFound", 4],
    ]);
    expect(accounted(rec)).toBe(10);
    expect(log.suppressed).toBe(0);
    expect(await log.flush()).toBe(0);
  });

  it("keeps sources apart, earns tokens back over time, and classifies outcomes as the door does", async () => {
    const { clock, rec, log } = setup();
    for (let i = 0; i < 5; i++) await log.record(ctx("a", i), new TesseraError("Unauthenticated"));
    for (let i = 0; i < 2; i++) await log.record(ctx("b", i), invalid);
    expect(rec.own.filter((e) => e.source === "a")).toHaveLength(3);
    expect(rec.own.filter((e) => e.source === "b")).toHaveLength(2);
    expect(rec.own.find((e) => e.source === "a")!.outcome).toBe("denied");
    expect(rec.own.find((e) => e.source === "b")!.outcome).toBe("error");
    clock.advance(2000);
    await log.record(ctx("a", 5), invalid);
    await log.record(ctx("a", 6), invalid);
    await log.record(ctx("a", 7), invalid);
    expect(rec.own.filter((e) => e.source === "a")).toHaveLength(5);
    await log.flush();
    expect(accounted(rec)).toBe(10);
  });

  it("a global bucket limits a flood from ever-new sources", async () => {
    const { rec, log } = setup({ global: { burst: 10, perSecond: 1 } });
    for (let i = 0; i < 50; i++) await log.record(ctx(`10.1.0.${i}`), invalid);
    expect(rec.own).toHaveLength(10);
    await log.flush();
    expect(accounted(rec)).toBe(50);
  });

  it("bounds the summaries per interval: later sources are counted under *", async () => {
    const { rec, log } = setup({ perSource: { burst: 0, perSecond: 0 }, maxSummaries: 4 });
    for (let i = 0; i < 20; i++) await log.record(ctx(`10.2.0.${i}`), invalid);
    expect(rec.own).toHaveLength(0);
    await log.flush();
    expect(rec.summaries).toHaveLength(5);
    expect(rec.summaries.find((e) => e.source === OTHER_SOURCES)!.detail!["suppressed"]).toBe(16);
    expect(accounted(rec)).toBe(20);
  });

  it("remembers at most maxSources buckets, forgetting the least recently refused", async () => {
    const { rec, log } = setup({ perSource: { burst: 1, perSecond: 0 }, maxSources: 2 });
    await log.record(ctx("a"), invalid);
    await log.record(ctx("b"), invalid);
    await log.record(ctx("a", 1), invalid); // a is suppressed and becomes the most recent
    await log.record(ctx("c"), invalid); // b is forgotten
    await log.record(ctx("b", 1), invalid); // a fresh bucket for b; a is forgotten
    expect(rec.own.map((e) => e.source)).toEqual(["a", "b", "c", "b"]);
    await log.flush();
    expect(accounted(rec)).toBe(5);
  });

  it("a summary that cannot be written keeps its count for the next flush", async () => {
    const { rec, log } = setup({ perSource: { burst: 0, perSecond: 0 } });
    for (let i = 0; i < 4; i++) await log.record(ctx("a", i), invalid);
    rec.failNext = 1;
    await expect(log.flush()).rejects.toBe(DISK_FULL);
    expect(log.suppressed).toBe(4);
    await log.record(ctx("a", 9), invalid);
    expect(await log.flush()).toBe(5);
    expect(rec.summaries.map((e) => e.detail!["suppressed"])).toEqual([5]);
  });

  it("fails closed: a refusal whose own record cannot be written is Unavailable", async () => {
    const { rec, log } = setup();
    rec.failNext = 1;
    const err = await log.record(ctx("a"), invalid).catch((e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe("Unavailable");
  });
});
