/**
 * Alerts raised by the detectors: stored (listable, acknowledgeable, with the records that triggered
 * them), written to the audit trail, and delivered to webhooks as signed JSON — retried with backoff
 * and never awaited by a request.
 *
 * Webhook signature: `X-Tessera-Timestamp: <unix seconds>` and
 * `X-Tessera-Signature: sha256=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>`; receivers should
 * reject timestamps older than a few minutes.
 */
import { createHmac, randomUUID } from "node:crypto";
import type { AlertRepo, AlertRow } from "../store/index.js";
import type { RaisedAlert } from "./detectors.js";

export interface Webhook {
  url: string;
  secret: string;
}

export interface AlertSinkOptions {
  webhooks?: readonly Webhook[];
  /** Delivery attempts per webhook (default 5) and the first retry delay (doubles each time). */
  attempts?: number;
  retryMs?: number;
  /** Writes the alert into the audit trail (fire and forget). */
  toTrail?: (alert: AlertRow) => void;
  /** Counts raised alerts (metrics). */
  onRaised?: (alert: AlertRow) => void;
  log?: (message: string) => void;
  fetch?: typeof fetch;
}

export function signWebhook(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export class AlertCenter {
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly repo: AlertRepo,
    private readonly o: AlertSinkOptions = {},
  ) {}

  /** Stores, records and delivers an alert; never throws and never blocks the caller. */
  raise(a: RaisedAlert): void {
    const row: AlertRow = {
      id: randomUUID(),
      time: a.time,
      detector: a.detector,
      body: { severity: a.severity, subject: a.subject, message: a.message, seqs: a.seqs },
      ackedAt: null,
      ackedBy: null,
    };
    const work = (async () => {
      try {
        await this.repo.insert(row);
      } catch (err) {
        this.o.log?.(`could not store alert ${row.id}: ${(err as Error).message}`);
      }
      this.o.onRaised?.(row);
      this.o.toTrail?.(row);
      await Promise.all((this.o.webhooks ?? []).map((w) => this.deliver(w, row)));
    })();
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  private async deliver(w: Webhook, row: AlertRow): Promise<void> {
    const body = JSON.stringify({ type: "tessera.alert", alert: { id: row.id, time: row.time, detector: row.detector, ...row.body } });
    const attempts = this.o.attempts ?? 5;
    let delay = this.o.retryMs ?? 1000;
    for (let i = 1; i <= attempts; i++) {
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const res = await (this.o.fetch ?? fetch)(w.url, {
          method: "POST",
          headers: { "content-type": "application/json", "x-tessera-timestamp": timestamp, "x-tessera-signature": signWebhook(w.secret, timestamp, body) },
          body,
          signal: AbortSignal.timeout(5000),
        });
        if (res.ok) return;
        this.o.log?.(`webhook ${new URL(w.url).host} answered ${res.status} for alert ${row.id} (attempt ${i}/${attempts})`);
      } catch (err) {
        this.o.log?.(`webhook ${new URL(w.url).host} failed for alert ${row.id} (attempt ${i}/${attempts}): ${(err as Error).message}`);
      }
      if (i < attempts) await new Promise((r) => setTimeout(r, delay).unref());
      delay *= 2;
    }
  }

  list(unacknowledgedOnly: boolean, limit = 100): Promise<AlertRow[]> {
    return this.repo.list({ unacknowledgedOnly, limit });
  }

  ack(id: string, at: string, by: string): Promise<boolean> {
    return this.repo.ack(id, at, by);
  }

  /** Waits for deliveries in flight (tests, shutdown). */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }
}
