import { TesseraError } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import type { ChangeFeed, ChangeRow } from "../store/index.js";
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
