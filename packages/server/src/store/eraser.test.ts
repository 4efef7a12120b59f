import { afterEach, describe, expect, it } from "vitest";
import { ERASE_DONE, ERASE_REQUESTED, Eraser } from "./eraser.js";
import { SqliteStore } from "./sqlite-store.js";

let inner: SqliteStore | undefined;
afterEach(async () => {
  await inner?.close();
  inner = undefined;
});

/** A real (in-memory) store whose erases wait until the test lets each one finish. */
async function gatedStore() {
  inner = new SqliteStore({ path: ":memory:" });
  await inner.migrate();
  const real = inner;
  const gates: (() => void)[] = [];
  const state = { calls: 0, inFlight: 0, most: 0 };
  const store = {
    meta: real.meta,
    async eraseDeleted() {
      state.calls++;
      state.inFlight++;
      state.most = Math.max(state.most, state.inFlight);
      await new Promise<void>((resolve) => gates.push(resolve));
      state.inFlight--;
      return real.eraseDeleted();
    },
  };
  /** Waits (by turns of the event loop, not by time) until `n` erases have started. */
  const started = async (n: number) => {
    while (gates.length < n) await new Promise((resolve) => setImmediate(resolve));
  };
  return { store, state, gates, started };
}

describe("Eraser", () => {
  it("runs one erase at a time: destructions that arrive during one share the next, which begins after it", async () => {
    const g = await gatedStore();
    const eraser = new Eraser({ store: g.store });
    const first = eraser.destroyed();
    await g.started(1);
    // Committed while the first erase runs, which may have begun before them: they need another.
    const later = [eraser.destroyed(), eraser.destroyed(), eraser.destroyed()];
    g.gates[0]!();
    await g.started(2);
    g.gates[1]!();
    await Promise.all([first, ...later]);
    expect(g.state).toEqual({ calls: 2, inFlight: 0, most: 1 });
    expect(await inner!.meta.get(ERASE_DONE)).toBe(await inner!.meta.get(ERASE_REQUESTED));
  });

  it("keeps a destruction owed when recording it failed, and records it on the next run", async () => {
    inner = new SqliteStore({ path: ":memory:" });
    await inner.migrate();
    const real = inner;
    let failing = true;
    const errors: unknown[] = [];
    const store = {
      eraseDeleted: async () => false,
      meta: {
        get: <T>(name: string) => real.meta.get<T>(name),
        put: (name: string, value: unknown) => (failing ? Promise.reject(new Error("the database is unreachable")) : real.meta.put(name, value)),
      },
    };
    const eraser = new Eraser({ store, failed: (err) => errors.push(err) });
    await eraser.destroyed();
    expect(errors.map((e) => (e as Error).message)).toEqual(["the database is unreachable"]);
    await expect(eraser.retry(false)).rejects.toThrow("the database is unreachable");
    expect(await real.meta.get(ERASE_REQUESTED)).toBeUndefined();
    failing = false;
    expect(await eraser.retry(false)).toBe(true);
    expect(await real.meta.get(ERASE_REQUESTED)).toEqual(expect.any(String));
    // The lease holder's run: the store refuses to erase, so it stays owed.
    expect(await eraser.retry(true)).toBe(false);
    expect(await real.meta.get(ERASE_DONE)).toBeUndefined();
  });
});
