/**
 * This node in the `nodes` table: its id, state (uninitialized / sealed / unsealed / stopped),
 * version and a heartbeat stamped by the database's clock, so `tessera status` through any node
 * lists every node it shares the database with. A node id names one process at a time: starting
 * while another instance with the same id has beaten within `staleMs` is refused, since two
 * processes appending to one audit chain would break it.
 */
import { randomUUID } from "node:crypto";
import { TESSERA_VERSION } from "@tessera/protocol";
import type { NodeRepo, NodeRow } from "../store/index.js";

export interface NodeInfo {
  id: string;
  address: string;
  state: string;
  version: string;
  startedAt: string;
  lastSeen: string;
  /** Beaten within the stale window (a stopped or crashed node is listed, but not live). */
  live: boolean;
  /** The node that answered. */
  self: boolean;
}

export class NodePresence {
  readonly instance = randomUUID();
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly nodes: NodeRepo,
    readonly id: string,
    private readonly address: string,
    private readonly state: () => string,
    private readonly options: { intervalMs?: number; staleMs?: number } = {},
  ) {}

  private get intervalMs(): number {
    return this.options.intervalMs ?? 5000;
  }

  private get staleMs(): number {
    return this.options.staleMs ?? 3 * this.intervalMs;
  }

  /** Registers the node (refusing a live duplicate id) and starts the heartbeat. */
  async start(): Promise<void> {
    const existing = await this.nodes.get(this.id);
    if (existing !== undefined && existing.state !== "stopped" && existing.instance !== this.instance && (await this.nodes.now()) - existing.lastSeen < this.staleMs) {
      throw new Error(`node id "${this.id}" is in use by a running node (last seen ${new Date(existing.lastSeen).toISOString()}); give each node its own node_id`);
    }
    await this.beat();
    this.timer = setInterval(() => void this.beat().catch(() => undefined), this.intervalMs);
    this.timer.unref();
  }

  beat(state = this.state()): Promise<NodeRow> {
    return this.nodes.heartbeat({ id: this.id, instance: this.instance, address: this.address, state, version: TESSERA_VERSION, startedAt: this.startedAt });
  }

  /** Every node the database knows, live or not. */
  async list(): Promise<NodeInfo[]> {
    const [rows, now] = await Promise.all([this.nodes.list(), this.nodes.now()]);
    return rows.map((r) => ({
      id: r.id,
      address: r.address,
      state: r.state,
      version: r.version,
      startedAt: new Date(r.startedAt).toISOString(),
      lastSeen: new Date(r.lastSeen).toISOString(),
      live: r.state !== "stopped" && now - r.lastSeen < this.staleMs,
      self: r.id === this.id && r.instance === this.instance,
    }));
  }

  /** Marks the node stopped (clean shutdown). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.beat("stopped").catch(() => undefined);
  }
}
