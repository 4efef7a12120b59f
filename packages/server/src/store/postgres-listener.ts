/**
 * LISTEN tessera_state on a dedicated connection: every committed security-state change arrives as a
 * notification "<version> <scope>", in commit order (PostgreSQL queues notifications at commit).
 *
 * Invariant: the subscriber is told `live(true)` only once LISTEN is in force, and `live(false)` as
 * soon as the connection is known or suspected broken — an error, the server closing it, or a
 * heartbeat that does not come back within `heartbeatTimeoutMs` (a silently dead connection would
 * otherwise look like a quiet one). Between `live(false)` and the next `live(true)` changes may be
 * missed; the subscriber reads the feed for those.
 */
import pg from "pg";
import type { ChangeSubscriber, ChangeSubscription } from "./store.js";

export const STATE_CHANNEL = "tessera_state";

export interface ListenerTiming {
  heartbeatMs: number;
  heartbeatTimeoutMs: number;
  maxBackoffMs: number;
}

export class PostgresListener implements ChangeSubscription {
  private client: pg.Client | undefined;
  private closed = false;
  private up = false;
  private backoff = 100;
  private heartbeat: NodeJS.Timeout | undefined;
  private reconnect: NodeJS.Timeout | undefined;
  private readonly timing: ListenerTiming;

  constructor(
    private readonly config: () => pg.ClientConfig,
    private readonly subscriber: ChangeSubscriber,
    timing: Partial<ListenerTiming> = {},
  ) {
    this.timing = { heartbeatMs: 1000, heartbeatTimeoutMs: 2000, maxBackoffMs: 2000, ...timing };
  }

  start(): void {
    void this.connect();
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client(this.config());
    this.client = client;
    client.on("error", () => this.broken(client));
    client.on("end", () => this.broken(client));
    client.on("notification", (msg) => {
      if (msg.channel !== STATE_CHANNEL || msg.payload === undefined) return;
      const space = msg.payload.indexOf(" ");
      const version = Number(msg.payload.slice(0, space));
      if (space < 0 || !Number.isSafeInteger(version)) return;
      this.subscriber.change({ version, scope: msg.payload.slice(space + 1) });
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${STATE_CHANNEL}`);
    } catch {
      this.broken(client);
      return;
    }
    if (this.closed || this.client !== client) return;
    this.backoff = 100;
    this.up = true;
    this.subscriber.live(true);
    this.heartbeat = setInterval(() => void this.beat(client), this.timing.heartbeatMs);
    this.heartbeat.unref();
  }

  private async beat(client: pg.Client): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error("heartbeat timed out")), this.timing.heartbeatTimeoutMs);
    });
    try {
      await Promise.race([client.query("SELECT 1"), timeout]);
    } catch {
      this.broken(client);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Marks the subscription broken (once per client), drops the connection and schedules a new one. */
  private broken(client: pg.Client): void {
    if (this.client !== client) return;
    this.client = undefined;
    clearInterval(this.heartbeat);
    if (this.up) {
      this.up = false;
      this.subscriber.live(false);
    }
    client.removeAllListeners("notification");
    client.on("error", () => undefined);
    void client.end().catch(() => undefined);
    if (this.closed) return;
    this.reconnect = setTimeout(() => void this.connect(), this.backoff);
    this.reconnect.unref();
    this.backoff = Math.min(this.backoff * 2, this.timing.maxBackoffMs);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reconnect);
    clearInterval(this.heartbeat);
    const client = this.client;
    this.client = undefined;
    if (this.up) {
      this.up = false;
      this.subscriber.live(false);
    }
    if (client !== undefined) await client.end().catch(() => undefined);
  }
}
