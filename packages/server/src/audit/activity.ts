/**
 * This node's recent activity for dashboards (`GET /v1/audit/activity`): answered requests per minute
 * by outcome over the last day, and the most used keys, counted from durable audit records (the same
 * feed as the metrics, so it counts exactly what the trail holds) by the records' own time.
 *
 * Memory is bounded whatever the load: 1,440 minute slots of three counters, and key counts in
 * 288 five-minute slots of at most KEYS_PER_SLOT keys each (keys beyond that in a slot are not ranked).
 * Counts start when the node starts; on several nodes each counts its own requests.
 */
import type { RequestRecord } from "@tessera/audit";

export type ActivityOutcome = "allowed" | "denied" | "error";
const MINUTE = 60_000;
const KEY_SLOT = 5 * MINUTE;
const DAY_MINUTES = 1440;
const KEY_SLOTS = DAY_MINUTES / 5;
export const KEYS_PER_SLOT = 10_000;

interface MinuteSlot {
  minute: number;
  allowed: number;
  denied: number;
  error: number;
}
interface KeySlot {
  slot: number;
  /** A mutable count per key: a use is one lookup (a number value would need a second to store it). */
  counts: Map<string, { count: number }>;
}

export interface ActivityWindow {
  from: string;
  to: string;
  bucketSeconds: number;
  buckets: { start: string; allowed: number; denied: number; error: number }[];
  topKeys: { keyId: string; count: number }[];
}

export class Activity {
  private readonly minutes: (MinuteSlot | undefined)[] = new Array(DAY_MINUTES);
  private readonly keySlots: (KeySlot | undefined)[] = new Array(KEY_SLOTS);

  observe(records: readonly Pick<RequestRecord, "time" | "outcome" | "keyId">[]): void {
    for (const r of records) {
      if (r.outcome === "intent") continue;
      const at = Date.parse(r.time);
      const minute = Math.floor(at / MINUTE);
      let m = this.minutes[minute % DAY_MINUTES];
      if (m === undefined || m.minute !== minute) this.minutes[minute % DAY_MINUTES] = m = { minute, allowed: 0, denied: 0, error: 0 };
      m[r.outcome]++;
      if (r.keyId === null || r.outcome !== "allowed") continue;
      const slot = Math.floor(at / KEY_SLOT);
      let k = this.keySlots[slot % KEY_SLOTS];
      if (k === undefined || k.slot !== slot) this.keySlots[slot % KEY_SLOTS] = k = { slot, counts: new Map() };
      const n = k.counts.get(r.keyId);
      if (n !== undefined) n.count++;
      else if (k.counts.size < KEYS_PER_SLOT) k.counts.set(r.keyId, { count: 1 });
    }
  }

  /**
   * The last hour in minutes, or the last day in 15-minute buckets, ending with the minute of `now`;
   * the `top` keys by allowed requests over the window.
   */
  window(now: number, span: "hour" | "day", top = 10): ActivityWindow {
    const minutes = span === "hour" ? 60 : DAY_MINUTES;
    const per = span === "hour" ? 1 : 15;
    const last = Math.floor(now / MINUTE);
    const first = last - minutes + 1;
    const buckets: ActivityWindow["buckets"] = [];
    for (let start = first; start <= last; start += per) {
      const b = { start: new Date(start * MINUTE).toISOString(), allowed: 0, denied: 0, error: 0 };
      for (let minute = start; minute < start + per && minute <= last; minute++) {
        const m = this.minutes[minute % DAY_MINUTES];
        if (m === undefined || m.minute !== minute) continue;
        b.allowed += m.allowed;
        b.denied += m.denied;
        b.error += m.error;
      }
      buckets.push(b);
    }
    const totals = new Map<string, number>();
    const firstSlot = Math.floor((first * MINUTE) / KEY_SLOT);
    for (let slot = firstSlot; slot <= Math.floor(now / KEY_SLOT); slot++) {
      const k = this.keySlots[slot % KEY_SLOTS];
      if (k === undefined || k.slot !== slot) continue;
      for (const [id, n] of k.counts) totals.set(id, (totals.get(id) ?? 0) + n.count);
    }
    const topKeys = [...totals].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, top).map(([keyId, count]) => ({ keyId, count }));
    return { from: new Date(first * MINUTE).toISOString(), to: new Date((last + 1) * MINUTE).toISOString(), bucketSeconds: per * 60, buckets, topKeys };
  }
}
