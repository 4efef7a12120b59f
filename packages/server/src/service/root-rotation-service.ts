/**
 * `tessera operator rotate-root`: a new root key, and everything sealed under the old one re-sealed
 * under it — resumably, so a crash at any point leaves every key usable:
 *
 * 1. The new root joins the seal record beside the old one (one compare-and-set): from then on every
 *    new record is sealed under it, and a record under either root opens (seal/root-ring.ts). A
 *    crash from here on unseals with both roots.
 * 2. Every registered kind of sealed data (seal/sealed-data.ts) is re-sealed in batches, each its own
 *    transaction, each record by compare-and-set on its old value; passes repeat until one finds
 *    nothing left under the old root.
 * 3. One transaction re-checks everything (re-sealing stragglers a concurrent writer may have left)
 *    and drops the old root from the record; only then is the old root zeroed.
 *
 * After an unseal that finds a rotation under way, it resumes by itself (as the system principal).
 * Audited as `sys:RotateRoot`: intent before step 1, outcome after step 3.
 *
 * Several workers (workers/): after step 1 every sibling takes the new root into its ring, after
 * step 3 every sibling drops the old one, each before this worker goes on (`RingPeers`). Step 1 is
 * told again whenever a rotation is run or resumed with two roots (siblings that hold the root
 * already only compare it), so a worker that crashed between storing the record and telling its
 * siblings is made good by whichever worker resumes the rotation.
 */
import type { RotateRootStatus } from "@tessera/protocol";
import { resources } from "../policy/index.js";
import type { Barrier, RootKey, RootRing } from "../seal/index.js";
import type { Eraser, Repositories, Store } from "../store/index.js";
import type { CallContext, Door } from "./door.js";

export interface RootRotationOptions {
  /** Records re-sealed per transaction (default 500). */
  batch?: number;
}

/** The other workers of this server; each call resolves once every live sibling took the change in. */
export interface RingPeers {
  /** Rotation step 1 stored `root` (the ring's current root; a copy crosses to the siblings, the caller keeps the original). */
  rootAdded(root: RootKey): Promise<void>;
  /** Rotation step 3 stored a record with root `keep` alone: the siblings drop and zero the older roots. */
  rootDropped(keep: string): Promise<void>;
}

export class RootRotationService {
  private running: Promise<RotateRootStatus> | undefined;
  private progress: Omit<RotateRootStatus, "rootId"> = { state: "idle", scanned: 0, resealed: 0, total: 0 };
  private readonly batch: number;

  constructor(
    private readonly door: Door,
    private readonly barrier: Barrier,
    private readonly store: Pick<Store, "transaction">,
    /** Told once the old root and the records sealed under it are overwritten, so the store's files are erased. */
    private readonly eraser: Pick<Eraser, "destroyed">,
    options: RootRotationOptions = {},
    private readonly peers?: RingPeers,
  ) {
    this.batch = options.batch ?? 500;
  }

  status(ctx: CallContext): Promise<RotateRootStatus> {
    return this.door.run(ctx, "sys:RotateRoot", async (s) => {
      await s.authorize(resources.sys);
      return this.describe();
    }, { readOnly: true });
  }

  /** Rotates the root (or joins the rotation under way) and answers once it is complete. */
  rotate(ctx: CallContext): Promise<RotateRootStatus> {
    return this.door.run(ctx, "sys:RotateRoot", async (s) => {
      await s.authorize(resources.sys);
      return this.run();
    });
  }

  /** After an unseal: finishes a rotation a crash or a seal interrupted, audited as the system's change. */
  async resumeIfUnderWay(): Promise<void> {
    if (this.barrier.sealed || this.barrier.ring().all().length < 2 || this.running !== undefined) return;
    await this.door.system("sys:RotateRoot", null, () => this.run());
  }

  /**
   * A worker that joined its siblings (restarted) with a rotation under way tells them step 1 again
   * before it serves: the worker that stored it may have crashed before telling them.
   */
  async retell(): Promise<void> {
    if (this.peers === undefined || this.barrier.sealed || this.barrier.ring().all().length < 2) return;
    await this.peers.rootAdded(this.barrier.ring().current);
  }

  private describe(): RotateRootStatus {
    return { ...this.progress, rootId: this.barrier.sealed ? "" : this.barrier.ring().current.id };
  }

  private run(): Promise<RotateRootStatus> {
    this.running ??= this.rotateNow().finally(() => {
      this.running = undefined;
      this.progress = { ...this.progress, state: "idle" };
    });
    return this.running;
  }

  private async rotateNow(): Promise<RotateRootStatus> {
    await this.barrier.beginRotation();
    await this.peers?.rootAdded(this.barrier.ring().current);
    let total = 0;
    await this.store.transaction(async (tx) => {
      for (const data of this.barrier.sealedData()) total += await data.count(tx);
    });
    this.progress = { state: "resealing", scanned: 0, resealed: 0, total };
    for (let pass = 0; pass < 3; pass++) {
      let resealed = 0;
      for (const data of this.barrier.sealedData()) {
        let cursor: string | null = null;
        do {
          const ring = this.barrier.ring();
          const b = await this.store.transaction((tx) => data.reseal(tx, ring, cursor, this.batch));
          cursor = b.cursor;
          resealed += b.resealed;
          if (pass === 0) this.progress.scanned += b.scanned;
          this.progress.resealed += b.resealed;
        } while (cursor !== null);
      }
      if (resealed === 0) break;
    }
    this.progress.state = "finishing";
    const kept = await this.barrier.finishRotation((tx, ring) => this.resealAll(tx, ring));
    await this.peers?.rootDropped(kept);
    await this.eraser.destroyed();
    // The answer comes once the rotation is complete: it says so (it said "finishing" before).
    this.progress.state = "idle";
    return this.describe();
  }

  /** Inside the last transaction: whatever is still under an older root is re-sealed now. */
  private async resealAll(tx: Repositories, ring: RootRing): Promise<void> {
    for (const data of this.barrier.sealedData()) {
      let cursor: string | null = null;
      do {
        const b = await data.reseal(tx, ring, cursor, this.batch);
        cursor = b.cursor;
        this.progress.resealed += b.resealed;
      } while (cursor !== null);
    }
  }
}
