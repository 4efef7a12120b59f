/**
 * Keeps this process's caches of security state — keyring entries, tokens, compiled policies, roles,
 * the certificate revocation set and certificate cache, access-key secrets (and with them the SigV4
 * signing keys derived from them) — in step with commits made by other processes or nodes.
 *
 * The database writes every security-state change to a feed (store migration 9: triggers, in commit
 * order). This process applies each change it has not seen to its caches:
 * - per request (the default, SQLite and PostgreSQL): `sync()`, awaited before every request, reads
 *   the feed past the last version seen — one indexed query, shared by requests that arrive together.
 *   A request that arrives after a commit anywhere is served only after this node applied it.
 * - push only (PostgreSQL, mode "notify", listener live): the database notifies every listening node
 *   at commit; nothing is read per request. A node that changes state waits, before answering, until
 *   its own listener has heard the change (`settle`) — the other nodes were notified at the same
 *   moment, but each applies it only when its listener delivers it (a short window, not none).
 *   In "notify" mode a node polls per request while its listener is down.
 * If the feed cannot be read the request fails `Unavailable`: fail closed, never stale.
 *
 * Invariants: versions are commit-ordered and only grow, so reading the feed past `seen` returns
 * every change this process has not applied; when the feed no longer holds the versions after
 * `seen` (pruned while this node was away), every cache is dropped. A change counts as seen when it
 * is read, but some take work to apply (another node initialised or re-keyed the database: the seal
 * record is re-read): a request waits for that work wherever the change came from (a poll or a
 * push), and when it failed, the next request does it again before it is served — or fails
 * `Unavailable` (a request arriving during a pushed change's re-read was served with the old record,
 * and a failed re-read was never retried).
 */
import { TesseraError } from "@tessera/protocol";
import type { ChangeFeed, ChangeRow, ChangeSubscription, Store } from "../store/index.js";

/** What each kind of change drops. */
export interface CacheTargets {
  key(id: string): void;
  tokens(): void;
  policies(): void;
  roles(): void;
  certificates(): void;
  accessKey(id: string): void;
  /** A `meta` document changed (`seal`: another node initialised the database). */
  meta(name: string): Promise<void> | void;
  /** Everything: a change this process cannot place, or versions it missed. */
  all(): void;
}

export interface CoherenceOptions {
  /** How long a change's writer waits for its own notification before falling back to polling (default 2000 ms). */
  settleTimeoutMs?: number;
  /**
   * Read the feed before every request even while changes are pushed ("per-request", the default on
   * PostgreSQL): no window at all between a commit elsewhere and this node's next request. "notify"
   * trusts the push alone: no read per request, but a change reaches this node only when its listener
   * delivers the notification — after the writer has answered, by however long the database and this
   * node's event loop take to forward it (docs/cluster.md).
   */
  mode?: "per-request" | "notify";
}

const PAGE = 1000;

export class CacheCoherence {
  private seen = 0;
  private push = false;
  private subscription: ChangeSubscription | undefined;
  /** The poll running now, and the one that callers arriving during it share. */
  private running: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private readonly waiters = new Set<{ version: number; resolve: () => void }>();
  /** Changes being applied (their invalidation returned a promise), and those whose application failed. */
  private readonly applying = new Set<Promise<void>>();
  private readonly failed = new Set<string>();
  private readonly settleTimeoutMs: number;
  private readonly mode: NonNullable<CoherenceOptions["mode"]>;

  constructor(
    private readonly store: { changes: ChangeFeed; subscribe?: Store["subscribe"] },
    private readonly targets: CacheTargets,
    options: CoherenceOptions = {},
  ) {
    this.settleTimeoutMs = options.settleTimeoutMs ?? 2000;
    this.mode = options.mode ?? "per-request";
  }

  /** True while changes are pushed (no per-request read). */
  get pushing(): boolean {
    return this.push;
  }

  /** The newest change applied. */
  get version(): number {
    return this.seen;
  }

  /** Starts from the feed's newest version (the caches are empty), and subscribes where the store can push. */
  async start(): Promise<void> {
    this.seen = await this.store.changes.latest();
    this.subscription = this.store.subscribe?.({
      // A change whose application fails is kept in `failed` and retried by the next request; nothing
      // here may reject unhandled (that would end the process).
      change: (row) => void this.apply([row]).catch(() => undefined),
      live: (up) => {
        if (!up) {
          this.push = false;
          return;
        }
        // Live from now on; what was committed while it was down is read once, then pushes suffice.
        this.poll().then(
          () => (this.push = true),
          () => undefined,
        );
      },
    });
  }

  /**
   * Before a request: in poll mode, applies every change committed before this call. Throws
   * `Unavailable` when the feed cannot be read (the caches may be stale, so nothing is served).
   */
  sync(): Promise<void> | undefined {
    if (this.applying.size > 0 || this.failed.size > 0) return this.settleApplying().then(() => this.sync());
    if (this.push && this.mode === "notify") return undefined;
    // Nothing committed since the last change applied (asked synchronously where the store can, and
    // only when no poll is under way): no feed read and no promise on the request's path.
    if (this.running === undefined && this.next === undefined) {
      const latest = this.store.changes.latestNow?.();
      if (latest !== undefined && latest <= this.seen) return undefined;
    }
    // A poll that started before this call may have missed a commit made just before it: wait for the next one.
    // Chained on the running poll whether it succeeds or fails: a failed poll must not leave `next`
    // settled as rejected for every later caller (the next poll reads the feed anew).
    this.next ??= (this.running ?? Promise.resolve()).catch(() => undefined).then(() => {
      this.next = undefined;
      this.running = this.poll().finally(() => (this.running = undefined));
      return this.running;
    });
    return this.next;
  }

  /**
   * After this node changed security state, before it answers: in push mode, waits until its own
   * listener has delivered every change committed so far — by then the database has notified every
   * node. If the notification does not come in time, this node polls from then on.
   */
  async settle(): Promise<void> {
    // Per request, every node reads the feed before serving: nothing to wait for.
    if (!this.push || this.mode === "per-request") return;
    const latest = await this.store.changes.latest();
    if (this.seen >= latest) return;
    await new Promise<void>((resolve) => {
      const waiter = { version: latest, resolve };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        this.push = false;
        resolve();
      }, this.settleTimeoutMs);
      timer.unref();
      waiter.resolve = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.add(waiter);
    });
  }

  private async poll(): Promise<void> {
    for (;;) {
      let page: { changes: ChangeRow[]; oldest: number };
      try {
        page = await this.store.changes.since(this.seen, PAGE);
      } catch (err) {
        throw err instanceof TesseraError ? err : new TesseraError("Unavailable", "cannot tell whether security state changed; retry", { cause: err });
      }
      // The feed no longer reaches back to what this node saw: something may be missing.
      if (page.oldest > this.seen + 1 && this.seen > 0) this.targets.all();
      await this.apply(page.changes);
      if (page.changes.length < PAGE) return;
    }
  }

  private async apply(changes: readonly ChangeRow[]): Promise<void> {
    const pending: Promise<void>[] = [];
    for (const c of changes) {
      // Applied even at or below `seen`: a catch-up read may return a change older than a pushed
      // one already applied. Dropping a cache entry twice is harmless; skipping one is not.
      const done = this.applyOne(c.scope);
      if (done !== undefined) pending.push(done);
      if (c.version > this.seen) this.seen = c.version;
    }
    if (pending.length > 0) await Promise.all(pending);
    for (const w of this.waiters) {
      if (w.version <= this.seen) {
        this.waiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Applies one change; when that takes work, every request waits for it (`applying`) and a failure
   * is kept (`failed`) for the next request to retry.
   */
  private applyOne(scope: string): Promise<void> | undefined {
    let done: Promise<void> | void;
    try {
      done = this.invalidate(scope);
    } catch (err) {
      this.failed.add(scope);
      return Promise.reject(err);
    }
    if (done === undefined) return undefined;
    const work: Promise<void> = done.then(
      () => void this.applying.delete(work),
      (err: unknown) => {
        this.applying.delete(work);
        this.failed.add(scope);
        throw err;
      },
    );
    this.applying.add(work);
    // Whoever applied it may not wait (a push); requests do, through `applying` and `failed`.
    work.catch(() => undefined);
    return work;
  }

  /** Waits for changes being applied, then applies again those that failed; throws `Unavailable` if one still fails. */
  private async settleApplying(): Promise<void> {
    while (this.applying.size > 0) await Promise.allSettled([...this.applying]);
    for (const scope of [...this.failed]) {
      this.failed.delete(scope);
      try {
        await this.applyOne(scope);
      } catch (err) {
        throw err instanceof TesseraError ? err : new TesseraError("Unavailable", "cannot apply a change another node made; retry", { cause: err });
      }
    }
  }

  private invalidate(scope: string): Promise<void> | void {
    const colon = scope.indexOf(":");
    const kind = colon < 0 ? scope : scope.slice(0, colon);
    const arg = colon < 0 ? "" : scope.slice(colon + 1);
    const t = this.targets;
    switch (kind) {
      case "key":
        return t.key(arg);
      case "tokens":
        return t.tokens();
      case "certificates":
        return t.certificates();
      case "access-key":
        return t.accessKey(arg);
      case "meta":
        return t.meta(arg);
      case "grants":
        // Grants are compiled into policies per role: dropping compiled policies drops them too.
        return t.policies();
      case "doc":
        if (arg === "policies") return t.policies();
        if (arg === "roles") return t.roles();
        // JWT issuers are read per login; nothing cached to drop.
        if (arg === "jwt-issuers") return undefined;
        return t.all();
      default:
        return t.all();
    }
  }

  async close(): Promise<void> {
    this.push = false;
    await this.subscription?.close();
    for (const w of this.waiters) w.resolve();
    this.waiters.clear();
  }
}
