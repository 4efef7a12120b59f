/**
 * The changes the server makes by itself — automatic rotation, destruction of keys whose deletion
 * window has passed, purges of expired credentials — each passed through the door under the system
 * principal, so the trail records them like any request: intent, change, outcome. Usage-counter
 * flushes and audit checkpoints are not here: counters are telemetry, and a checkpoint is itself a
 * trail record.
 */
import type { Clock } from "../clock.js";
import type { TokenService } from "../identity/token-service.js";
import type { KeyService } from "../keys/index.js";
import type { JobLease } from "./job-lease.js";
import type { Door } from "./door.js";
import type { Eraser, Store } from "../store/index.js";

export interface SystemJobsDeps {
  door: Pick<Door, "system" | "notice">;
  keys: Pick<KeyService, "dueForRotation" | "rotateIfDue" | "dueForDestruction" | "destroyIfDue">;
  tokens: Pick<TokenService, "purgeExpired">;
  store: Pick<Store, "joinTokens" | "secretIds" | "changes">;
  eraser: Pick<Eraser, "record" | "retry">;
  clock: Clock;
  /** Only the holder of the background-work lease runs these jobs; rotation and destruction are fenced by it. */
  lease: Pick<JobLease, "renew" | "holding" | "fence">;
}

/** How long the feed of security-state changes is kept: a node away longer drops all its caches on return. */
export const CHANGE_RETENTION_MS = 3_600_000;

export class SystemJobs {
  constructor(private readonly d: SystemJobsDeps) {}

  /**
   * Records that worker `worker` took over from a process of its slot that ended (`previousExit`:
   * "signal SIGKILL", "code 1"): a crash and restart is part of the trail, not only of the log.
   */
  workerRestarted(worker: string, previousExit: string): Promise<void> {
    return this.d.door.notice("sys:WorkerRestarted", { worker, previousExit });
  }

  /** Rotates every key whose period has elapsed; returns the ids rotated now. */
  async rotateDue(): Promise<string[]> {
    const rotated: string[] = [];
    if (!(await this.leased())) return rotated;
    for (const id of await this.d.keys.dueForRotation()) {
      if ((await this.d.door.system("kms:RotateKey", id, () => this.d.keys.rotateIfDue(id, this.d.lease.fence))) !== null) rotated.push(id);
    }
    return rotated;
  }

  /** Takes or renews the lease; true when this node holds it and may run leased work. */
  private async leased(): Promise<boolean> {
    if (!this.d.lease.holding) await this.d.lease.renew();
    return this.d.lease.holding;
  }

  /**
   * Destroys (crypto-shreds) every key whose pending-deletion window has passed; returns their ids.
   * Then erases destroyed material from the store's files (free pages, write-ahead log) — this run's
   * and any other path's or node's still owed (eraser.ts) — so that no copy of the files made from
   * now on can hold it. On a node without the lease only records what this process still owes.
   */
  async destroyDue(): Promise<string[]> {
    const destroyed: string[] = [];
    if (!(await this.leased())) {
      await this.d.eraser.retry(false);
      return destroyed;
    }
    try {
      for (const id of await this.d.keys.dueForDestruction()) {
        if (await this.d.door.system("kms:DestroyKey", id, () => this.d.keys.destroyIfDue(id, this.d.lease.fence))) destroyed.push(id);
      }
    } finally {
      // Also after a failed or sealed run: what was destroyed before must not wait for a later one.
      if (destroyed.length > 0) await this.d.eraser.record();
      await this.d.eraser.retry(true);
    }
    return destroyed;
  }

  /**
   * Deletes expired tokens and spent or expired join tokens and secret ids. They no longer
   * authenticate anyone, but their rows are still state: one audited system action per run.
   */
  async purgeExpired(): Promise<number> {
    if (!(await this.leased())) return 0;
    // Not security state (the purge itself writes no change): the feed's old entries go quietly.
    await this.d.store.changes.prune(this.d.clock.now() - CHANGE_RETENTION_MS);
    return this.d.door.system("auth:PurgeExpired", null, async () => {
      const now = this.d.clock.now();
      return (await this.d.tokens.purgeExpired()) + (await this.d.store.joinTokens.deleteExpired(now)) + (await this.d.store.secretIds.deleteExpired(now));
    });
  }
}
