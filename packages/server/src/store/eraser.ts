/**
 * Erasure after destruction: every path that destroys key or secret material (crypto-shredding a
 * key or a version, trimming versions, deleting imported material, destroying or pruning secret
 * versions, restores and root changes that overwrite sealed records) tells the eraser once its change
 * has committed, and the eraser makes the store erase what was deleted from its own files
 * (`Store.eraseDeleted`: free pages, write-ahead log; VACUUM FULL on PostgreSQL) — at once where it
 * can, and again on every run of the destroy job until an erase succeeds.
 *
 * Who still owes an erase is recorded in the store itself, so that on several nodes the holder of
 * the background-work lease (the only node that runs the jobs) learns of destructions made on other
 * nodes: two `meta` documents, `erase-requested` (a fresh random value written after each
 * destruction) and `erase-done` (the `erase-requested` value read just before the last erase that
 * succeeded). An erase is owed while they differ. Both are blind writes, so destructions on many
 * nodes never conflict with one another or with the eraser; a late `erase-done` can only make an
 * erase owed again (one erase too many), never hide one — the value it writes was read before its
 * erase began, and every destruction that wrote an older value committed before that.
 *
 * Invariants: one erase at a time per process (a destruction that arrives while one runs waits for
 * the next, which began after its commit); a failed or refused erase never fails the request that
 * destroyed the material — that change has committed, and the erase is owed until one succeeds;
 * nothing here ever sees material.
 */
import { randomUUID } from "node:crypto";
import type { Store } from "./store.js";

export const ERASE_REQUESTED = "erase-requested";
export const ERASE_DONE = "erase-done";

export interface EraserDeps {
  store: Pick<Store, "eraseDeleted" | "meta">;
  /** An erase or a record that failed (the erase stays owed); never given material. */
  failed?: (err: unknown) => void;
}

export class Eraser {
  /**
   * This process may have destroyed material that the store does not yet record as owed. True at
   * start: a crash may have come between a destruction and its record.
   */
  private unrecorded = true;
  private running: Promise<boolean> | undefined;
  private next: Promise<boolean> | undefined;

  constructor(private readonly d: EraserDeps) {}

  /**
   * After a change that destroyed material has committed: records the erase as owed and erases now.
   * Never throws; if the erase cannot finish now, the destroy job's next run retries it.
   */
  async destroyed(): Promise<void> {
    await this.record();
    await this.erase();
  }

  /**
   * Erases now, best effort, after destructions that were recorded (`record`). Never throws; if the
   * erase cannot finish now, it stays owed and the destroy job's next run retries it.
   */
  async erase(): Promise<void> {
    try {
      await this.eraseOnce();
    } catch (err) {
      this.d.failed?.(err);
    }
  }

  /**
   * After a committed change that destroyed material: records the erase as owed — for `erase`, or for
   * the destroy job's next run (versions pruned in passing by a write, where an erase per write
   * would cost too much). Never throws.
   */
  async record(): Promise<void> {
    try {
      await this.recordNow();
    } catch (err) {
      this.d.failed?.(err);
    }
  }

  /**
   * The destroy job's run: records what this process still owes, and — on the lease holder — erases
   * if any node's destruction is owed. True when nothing is owed any more (as far as this node runs
   * the erase). Throws what the store throws (the job logs it and runs again).
   */
  async retry(holding: boolean): Promise<boolean> {
    if (this.unrecorded) await this.recordNow();
    if (!holding) return true;
    const [requested, done] = await Promise.all([this.d.store.meta.get<string>(ERASE_REQUESTED), this.d.store.meta.get<string>(ERASE_DONE)]);
    if (requested === undefined || requested === done) return true;
    return this.eraseOnce();
  }

  private async recordNow(): Promise<void> {
    // Cleared before the write: a destruction recorded while it is under way sets it again if its own write fails.
    this.unrecorded = false;
    try {
      await this.d.store.meta.put(ERASE_REQUESTED, randomUUID());
    } catch (err) {
      this.unrecorded = true;
      throw err;
    }
  }

  /**
   * One erase at a time. One under way may have begun before the caller's destruction committed, so
   * the caller waits for the next one — shared by every caller that arrives meanwhile.
   */
  private eraseOnce(): Promise<boolean> {
    if (this.running === undefined) return this.start();
    this.next ??= this.running
      .catch(() => false)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<boolean> {
    this.running = this.eraseNow().finally(() => (this.running = undefined));
    return this.running;
  }

  private async eraseNow(): Promise<boolean> {
    // Read before erasing: every destruction that wrote this value (or an older one) had committed.
    const requested = await this.d.store.meta.get<string>(ERASE_REQUESTED);
    if (!(await this.d.store.eraseDeleted())) return false;
    if (requested !== undefined) await this.d.store.meta.put(ERASE_DONE, requested);
    return true;
  }
}
