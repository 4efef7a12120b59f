/** Reading the audit trail through the door: query, head, public key, HMAC of a value. */
import { TesseraError } from "@tessera/protocol";
import type { AuditLog } from "../audit/audit-log.js";
import type { AlertCenter } from "../audit/alerts.js";
import type { Metrics } from "../audit/metrics.js";
import type { Activity, ActivityWindow } from "../audit/activity.js";
import { iso, type Clock } from "../clock.js";
import { resources } from "../policy/index.js";
import type { AuditRepo } from "../store/index.js";
import { TrailDecoder, lineHead, type DecodedRecord } from "@tessera/audit";

/**
 * Where queries read the trail: the database sink, or the file sink when the database one is off.
 * Only the database holds the other nodes' chains (`chains`, `listChain`).
 */
export type TrailReader = Pick<AuditRepo, "list" | "last"> & Partial<Pick<AuditRepo, "chains" | "listChain">>;
import type { CallContext, Door } from "./door.js";

export interface AuditQuery {
  from?: string;
  to?: string;
  principal?: string;
  key?: string;
  action?: string;
  outcome?: string;
  /** A request id (X-Request-Id, x-amzn-RequestId, Vault's request_id): its records, and a Vault batch's items (`<id>/<index>`). */
  requestId?: string;
  after?: number;
  limit?: number;
}

export class AuditService {
  constructor(
    private readonly door: Door,
    private readonly log: AuditLog,
    private readonly repo: TrailReader,
    private readonly alerts: AlertCenter,
    private readonly metrics: Metrics,
    private readonly activity: Pick<Activity, "window">,
    private readonly clock: Clock,
    /** This node's chain ("" for a single node). */
    private readonly self = "",
  ) {}

  listAlerts(ctx: CallContext, all: boolean, limit: number) {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      const rows = await this.alerts.list(!all, Math.min(limit, 1000));
      return { alerts: rows.map((r) => ({ id: r.id, time: r.time, detector: r.detector, ...r.body, acknowledgedAt: r.ackedAt, acknowledgedBy: r.ackedBy })) };
    });
  }

  ackAlert(ctx: CallContext, id: string): Promise<void> {
    return this.door.run(ctx, "audit:AckAlert", async (s) => {
      await s.authorize(resources.audit);
      if (!(await this.alerts.ack(id, iso(this.clock.now()), s.principal.displayName))) throw new TesseraError("NotFound", "no such alert");
    });
  }

  /**
   * This node's requests per minute by outcome and its most used keys, over the last hour or day
   * (audit/activity.ts). Key ids are named, so it is `audit:Read`, unlike the open metrics.
   */
  activityWindow(ctx: CallContext, span: "hour" | "day"): Promise<ActivityWindow & { node: string }> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      return { node: this.self, ...this.activity.window(this.clock.now(), span) };
    });
  }

  /** Prometheus text; open like /v1/sys/health (aggregates only, no identities). */
  renderMetrics(): string {
    return this.metrics.render();
  }

  /**
   * Records from the database sink (or the trail files), filtered, oldest first; `nextAfter` pages on.
   * Every record in format 1's fields, whatever the format of its line: a compact record's context
   * reference is resolved from the record that spelt it out (read on demand when the page starts after it).
   */
  query(ctx: CallContext, q: AuditQuery): Promise<{ records: unknown[]; nextAfter: number | null }> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      const limit = Math.min(q.limit ?? 100, 1000);
      const out: unknown[] = [];
      let after = q.after ?? 0;
      const decoder = new TrailDecoder();
      // Scan in pages until enough matches; the scan is bounded so one query cannot read everything.
      for (let scanned = 0; out.length < limit && scanned < 100_000; ) {
        const rows = await this.repo.list(after, 1000, { ...(q.from && { from: q.from }), ...(q.to && { to: q.to }) });
        if (rows.length === 0) {
          after = -1;
          break;
        }
        for (const row of rows) {
          after = row.seq;
          scanned++;
          const ref = decoder.unresolved(row.line);
          if (ref !== undefined) for (const def of await this.repo.list(ref - 1, 1)) decoder.learn(def.line);
          const r = decoder.decode(row.line) as DecodedRecord & { principal?: { id: string; displayName: string; role: string | null } | null; keyId?: string | null; action?: string; outcome?: string; requestId?: string };
          if (q.principal !== undefined && r.principal?.id !== q.principal && r.principal?.displayName !== q.principal && r.principal?.role !== q.principal) continue;
          if (q.key !== undefined && r.keyId !== q.key) continue;
          if (q.action !== undefined && r.action !== q.action) continue;
          if (q.outcome !== undefined && r.outcome !== q.outcome) continue;
          if (q.requestId !== undefined && r.requestId !== q.requestId && !(r.requestId?.startsWith(`${q.requestId}/`) ?? false)) continue;
          out.push(r);
          if (out.length === limit) break;
        }
      }
      return { records: out, nextAfter: after === -1 || out.length < limit ? null : after };
    });
  }

  /**
   * The raw trail lines from the database, for `tessera audit verify --server`: this node's chain, or
   * with `chain` any node's (several nodes on one database, each writing its own chain).
   */
  lines(ctx: CallContext, after: number, limit: number, chain?: string): Promise<{ lines: string[]; nextAfter: number | null }> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      const n = Math.min(limit, 10_000);
      if (chain !== undefined && chain !== this.self && this.repo.listChain === undefined) throw new TesseraError("InvalidInput", "this node keeps its trail in a file: only its own chain can be read", { field: "/chain" });
      const rows = chain === undefined || chain === this.self ? await this.repo.list(after, n) : await this.repo.listChain!(chain, after, n);
      return { lines: rows.map((r) => r.line), nextAfter: rows.length === 0 ? null : rows[rows.length - 1]!.seq };
    });
  }

  /** Every chain the database holds (one per node that wrote one) and which is this node's. */
  chains(ctx: CallContext): Promise<{ self: string; chains: string[] }> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      const chains = this.repo.chains === undefined ? [] : await this.repo.chains();
      return { self: this.self, chains: chains.includes(this.self) ? chains : [...chains, this.self].sort() };
    });
  }

  head(ctx: CallContext): Promise<{ seq: number; hash: string } | null> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      const last = await this.repo.last();
      if (last === undefined) return null;
      const r = lineHead(last);
      if (r === undefined) throw new TesseraError("Internal", "the trail's last record cannot be read");
      return { seq: r.seq, hash: r.hash };
    });
  }

  publicKey(ctx: CallContext): Promise<{ publicKey: string }> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      return { publicKey: await this.log.publicKey() };
    });
  }

  hash(ctx: CallContext, value: string): Promise<{ hmac: string }> {
    return this.door.run(ctx, "audit:Read", async (s) => {
      await s.authorize(resources.audit);
      if (value.length === 0) throw new TesseraError("InvalidInput", "value must not be empty", { field: "/value" });
      return { hmac: await this.log.hmacOf(value) };
    });
  }
}
