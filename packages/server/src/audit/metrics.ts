/**
 * Prometheus metrics (text exposition format 0.0.4), names prefixed `tessera_`, fed from durable
 * audit records — so they count exactly what the trail holds. Labels are actions and outcomes only:
 * never key ids, principals or addresses.
 */
import type { RequestRecord } from "@tessera/audit";

const BUCKETS_MS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, { buckets: number[]; sum: number; count: number }>();
  private readonly flush = { buckets: new Array<number>(BUCKETS_MS.length).fill(0), sum: 0, count: 0 };
  private alerts = new Map<string, number>();

  constructor(private readonly gauges: { sealed: () => boolean; auditQueueDepth: () => number }) {}

  observe(records: readonly RequestRecord[]): void {
    for (const r of records) {
      const key = `${r.action}\u0000${r.outcome}`;
      this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
      let h = this.latency.get(r.action);
      if (h === undefined) this.latency.set(r.action, (h = { buckets: new Array<number>(BUCKETS_MS.length).fill(0), sum: 0, count: 0 }));
      add(h, r.latencyMs);
    }
  }

  observeFlush(ms: number): void {
    add(this.flush, ms);
  }

  alertRaised(detector: string): void {
    this.alerts.set(detector, (this.alerts.get(detector) ?? 0) + 1);
  }

  render(): string {
    const out: string[] = [];
    out.push("# HELP tessera_requests_total Requests answered, by action and outcome.", "# TYPE tessera_requests_total counter");
    for (const [k, v] of this.requests) {
      const [action, outcome] = k.split("\u0000");
      out.push(`tessera_requests_total{action="${action}",outcome="${outcome}"} ${v}`);
    }
    out.push("# HELP tessera_request_duration_milliseconds Request latency inside Tessera, by action.", "# TYPE tessera_request_duration_milliseconds histogram");
    for (const [action, h] of this.latency) histogram(out, "tessera_request_duration_milliseconds", `action="${action}",`, h);
    out.push("# HELP tessera_audit_flush_duration_milliseconds Time to make one audit batch durable in every sink.", "# TYPE tessera_audit_flush_duration_milliseconds histogram");
    histogram(out, "tessera_audit_flush_duration_milliseconds", "", this.flush);
    out.push("# HELP tessera_audit_queue_depth Audit records waiting to be written.", "# TYPE tessera_audit_queue_depth gauge", `tessera_audit_queue_depth ${this.gauges.auditQueueDepth()}`);
    out.push("# HELP tessera_alerts_total Alerts raised, by detector.", "# TYPE tessera_alerts_total counter");
    for (const [d, v] of this.alerts) out.push(`tessera_alerts_total{detector="${d}"} ${v}`);
    out.push("# HELP tessera_sealed 1 when sealed, 0 when unsealed.", "# TYPE tessera_sealed gauge", `tessera_sealed ${this.gauges.sealed() ? 1 : 0}`);
    return out.join("\n") + "\n";
  }
}

function add(h: { buckets: number[]; sum: number; count: number }, v: number): void {
  for (let i = 0; i < BUCKETS_MS.length; i++) if (v <= BUCKETS_MS[i]!) h.buckets[i]!++;
  h.sum += v;
  h.count++;
}

function histogram(out: string[], name: string, labels: string, h: { buckets: number[]; sum: number; count: number }): void {
  BUCKETS_MS.forEach((le, i) => out.push(`${name}_bucket{${labels}le="${le}"} ${h.buckets[i]}`));
  out.push(`${name}_bucket{${labels}le="+Inf"} ${h.count}`);
  const l = labels.replace(/,$/, "");
  out.push(`${name}_sum${l ? `{${l}}` : ""} ${h.sum}`, `${name}_count${l ? `{${l}}` : ""} ${h.count}`);
}
