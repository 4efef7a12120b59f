/**
 * The background-work lease: rotation, destruction, purges and pruning run on exactly one node at a
 * time — whichever holds the `background-jobs` lease row, timed by the database's clock (as Vault's
 * PostgreSQL HA lock). The holder renews it every `renewMs`; if it stops (crash, partition, a
 * database it cannot reach) the lease expires after `ttlMs` and another node takes it, with a new
 * epoch.
 *
 * Fencing: `fence(tx)` is checked first in every transaction of leased work and holds the lease row
 * for that transaction, so work commits only while its epoch still holds the lease — a node that lost
 * the lease (paused past expiry, say) cannot commit anything it did under it. Locally, the node also
 * stops counting itself the holder once `ttlMs` has passed since its last successful renewal began.
 */
import { TesseraError } from "@tessera/protocol";
import type { LeaseRepo, Repositories } from "../store/index.js";

export const JOB_LEASE = "background-jobs";

export interface JobLeaseOptions {
  ttlMs?: number;
  renewMs?: number;
  /** Told when this node gains or loses the lease (logs). */
  onChange?: (holding: boolean, epoch: number | undefined) => void;
}

export class JobLease {
  private held: { epoch: number; until: number } | undefined;
  private stopped = false;
  private renewing: Promise<void> | undefined;
  private readonly ttlMs: number;
  private readonly renewMs: number;

  constructor(
    private readonly leases: LeaseRepo,
    readonly holder: string,
    private readonly options: JobLeaseOptions = {},
  ) {
    this.ttlMs = options.ttlMs ?? 15_000;
    this.renewMs = options.renewMs ?? Math.max(100, Math.floor(this.ttlMs / 3));
  }

  /** True while this node believes it holds the lease (the database has the last word: `fence`). */
  get holding(): boolean {
    return this.held !== undefined && performance.now() < this.held.until;
  }

  /** How often the holder renews (the scheduler's "lease" job). */
  get renewIntervalMs(): number {
    return this.renewMs;
  }

  get epoch(): number | undefined {
    return this.holding ? this.held!.epoch : undefined;
  }

  /** Takes or renews the lease now (or joins a renewal under way). */
  renew(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.renewing ??= this.tryRenew().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  private async tryRenew(): Promise<void> {
    // Measured from before the request: the database's expiry is at least this far away.
    const began = performance.now();
    const before = this.epoch;
    try {
      const row = await this.leases.acquire(JOB_LEASE, this.holder, this.ttlMs);
      this.held = row === undefined ? undefined : { epoch: row.epoch, until: began + this.ttlMs };
    } catch {
      // Unreachable database: keep the local belief until its deadline passes, no longer.
    }
    const after = this.epoch;
    if (before !== after) this.options.onChange?.(after !== undefined, after);
  }

  /** Throws unless this node holds the lease at its epoch, by the database's clock, for the rest of `tx`. */
  readonly fence = async (tx: Pick<Repositories, "leases">): Promise<void> => {
    const epoch = this.epoch;
    if (epoch === undefined || !(await tx.leases.holds(JOB_LEASE, this.holder, epoch))) {
      if (epoch !== undefined) this.held = undefined;
      throw new TesseraError("Unavailable", "this node does not hold the background-work lease");
    }
  };

  /** Stops renewing and gives the lease up, so another node takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.renewing;
    const held = this.held;
    this.held = undefined;
    if (held !== undefined) await this.leases.release(JOB_LEASE, this.holder, held.epoch).catch(() => undefined);
  }
}
