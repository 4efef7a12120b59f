import { TesseraError } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import type { ChangeFeed, ChangeRow, ChangeSubscriber } from "../store/index.js";
import { CacheCoherence, type CacheTargets } from "./cache-coherence.js";

/** A feed whose reads fail while `down` (the database unreachable). */
function feed() {
  const rows: ChangeRow[] = [];
  const state = { down: false };
  const changes: ChangeFeed = {
    async since(after, limit) {
      await new Promise((r) => setTimeout(r, 5));
      if (state.down) throw new TesseraError("Unavailable", "the database cannot be reached");
      return { changes: rows.filter((r) => r.version > after).slice(0, limit), oldest: rows[0]?.version ?? 0 };
    },
    latest: async () => rows.at(-1)?.version ?? 0,
    prune: async () => 0,
  };
  return { changes, rows, state };
}

function targets(dropped: string[]): CacheTargets {
  return {
    key: (id) => void dropped.push(`key:${id}`),
    tokens: () => void dropped.push("tokens"),
    policies: () => void dropped.push("policies"),
    roles: () => void dropped.push("roles"),
    certificates: () => void dropped.push("certificates"),
    accessKey: (id) => void dropped.push(`access-key:${id}`),
    meta: (name) => void dropped.push(`meta:${name}`),
    all: () => void dropped.push("all"),
  };
}

describe("CacheCoherence per request", () => {
  it("applies every change committed before a request, before it is served", async () => {
    const f = feed();
    const dropped: string[] = [];
    const c = new CacheCoherence({ changes: f.changes }, targets(dropped));
    await c.start();
    f.rows.push({ version: 1, scope: "key:k1" }, { version: 2, scope: "tokens" });
    await c.sync();
    expect(dropped).toEqual(["key:k1", "tokens"]);
    expect(c.version).toBe(2);
  });

  it("fails requests Unavailable while the feed cannot be read, and serves again once it can (no poisoned wait)", async () => {
    const f = feed();
    const dropped: string[] = [];
    const c = new CacheCoherence({ changes: f.changes }, targets(dropped));
    await c.start();
    f.state.down = true;
    // A request whose read is under way, and one arriving during it (it waits for the next read): each fails, none hangs.
    const first = c.sync();
    await new Promise((r) => setImmediate(r));
    const during = await Promise.allSettled([first, c.sync(), c.sync()]);
    expect(during.map((r) => (r.status === "rejected" ? (r.reason as TesseraError).code : "served"))).toEqual(["Unavailable", "Unavailable", "Unavailable"]);
    f.state.down = false;
    f.rows.push({ version: 1, scope: "key:k2" });
    await expect(Promise.all([c.sync(), c.sync()])).resolves.toEqual([undefined, undefined]);
    expect(dropped).toEqual(["key:k2"]);
  });
});

describe("CacheCoherence: changes that take work to apply", () => {
  /** Targets whose `meta` (the seal record re-read) takes until `release()`, and fails while `failing`. */
  function slowMeta() {
    const state = { failing: false, applied: 0 };
    let release: () => void = () => undefined;
    const t: CacheTargets = {
      ...targets([]),
      meta: () =>
        new Promise<void>((resolve, reject) => {
          release = () => (state.failing ? reject(new Error("database timeout")) : (state.applied++, resolve()));
        }),
    };
    return { t, state, release: () => release() };
  }

  /** A store that pushes: `push(row)` delivers a change as the PostgreSQL listener does. */
  function pushing(f: ReturnType<typeof feed>) {
    let subscriber: ChangeSubscriber | undefined;
    const store = {
      changes: f.changes,
      subscribe: (s: ChangeSubscriber) => {
        subscriber = s;
        return { close: async () => undefined };
      },
    };
    return { store, push: (row: ChangeRow) => subscriber!.change(row) };
  }

  /** A started node whose store pushes, and a pushed seal-record change (committed to the feed too) it is applying. */
  async function pushedSealChange(failing: boolean) {
    const f = feed();
    const m = slowMeta();
    const p = pushing(f);
    const c = new CacheCoherence(p.store as never, m.t);
    await c.start();
    f.rows.push({ version: 1, scope: "meta:seal" });
    m.state.failing = failing;
    p.push({ version: 1, scope: "meta:seal" }); // no unhandled rejection when it fails: the failure is kept for requests
    return { c, m };
  }

  it("a request arriving while a pushed change is being applied waits for it (it used to be served with the old state)", async () => {
    const { c, m } = await pushedSealChange(false);
    let served = false;
    const request = Promise.resolve(c.sync()).then(() => (served = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(served).toBe(false);
    m.release();
    await request;
    expect(m.state.applied).toBe(1);
  });

  it("a change whose application failed is applied again before the next request is served, which fails Unavailable while it cannot be", async () => {
    const { c, m } = await pushedSealChange(true);
    m.release();
    await new Promise((r) => setTimeout(r, 10));
    const refused = c.sync();
    await new Promise((r) => setTimeout(r, 10));
    m.release();
    await expect(refused).rejects.toMatchObject({ code: "Unavailable" });
    m.state.failing = false;
    const next = c.sync();
    await new Promise((r) => setTimeout(r, 10));
    m.release();
    await next;
    expect(m.state.applied).toBe(1);
    // Applied now: later requests take the fast path again.
    await c.sync();
    expect(m.state.applied).toBe(1);
  });
});
