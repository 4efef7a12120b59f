/**
 * This node in the `nodes` table: its id, state (uninitialized / sealed / unsealed / stopped),
 * version and a heartbeat stamped by the database's clock, so `tessera status` through any node
 * lists every node it shares the database with. A node id names one process at a time, since two
 * processes appending to one audit chain would break it: a node whose id another instance has
 * beaten within `staleMs` waits out that window (a crashed predecessor, restarted by its supervisor,
 * stops beating) and is refused only if the other instance is still beating after it.
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
    /**
     * `takeOver`: the previous process under this id is known to have exited (a worker its primary
     * restarted after seeing it exit), so its fresh heartbeat is not waited out.
     */
    private readonly options: { intervalMs?: number; staleMs?: number; takeOver?: boolean } = {},
  ) {}

  private get intervalMs(): number {
    return this.options.intervalMs ?? 5000;
  }

  private get staleMs(): number {
    return this.options.staleMs ?? 3 * this.intervalMs;
  }

  /** Registers the node (refusing a live duplicate id, after waiting out a crashed one) and starts the heartbeat. */
  async start(): Promise<void> {
    const first = await this.nodes.get(this.id);
    const livesAt = async (row: NodeRow | undefined): Promise<number> =>
      row === undefined || row.state === "stopped" || row.instance === this.instance || this.options.takeOver === true ? 0 : Math.max(0, row.lastSeen + this.staleMs - (await this.nodes.now()));
    const wait = await livesAt(first);
    if (wait > 0) {
      await new Promise((r) => setTimeout(r, wait + 50));
      const again = await this.nodes.get(this.id);
      if ((await livesAt(again)) > 0) {
        throw new Error(`node id "${this.id}" is in use by a running node (last seen ${new Date(again!.lastSeen).toISOString()}); give each node its own node_id`);
      }
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
