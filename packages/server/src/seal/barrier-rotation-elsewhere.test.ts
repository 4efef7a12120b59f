/**
 * A root rotation seen from a sibling worker: two barriers on one store, as two workers on one
 * database. The one that did not rotate takes the new root into its ring (step 1) and drops the old
 * one (step 3) only when the stored record, authenticated with its own escrow keys, vouches for it.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { SqliteStore } from "../store/index.js";
import { Barrier } from "./barrier.js";
import type { RootKey } from "./root-ring.js";
import { ShamirSeal } from "./shamir-seal.js";

let store: SqliteStore;
let here: Barrier;
let sibling: Barrier;

const aad = Buffer.from("test");
const copy = (r: RootKey): RootKey => ({ id: r.id, key: Buffer.from(r.key) });

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TesseraError);
  return (err as TesseraError).code;
}

beforeEach(async () => {
  store = new SqliteStore({ path: ":memory:" });
  await store.migrate();
  here = new Barrier(store, new ShamirSeal(), { handOverToOtherNodes: true });
  await here.load();
  const shares = await here.initialize({ shares: 3, threshold: 2 }, async () => undefined);
  for (const s of shares.slice(0, 2)) await here.unseal(s);
  sibling = new Barrier(store, new ShamirSeal(), { handOverToOtherNodes: true });
  await sibling.load();
  for (const s of shares.slice(1, 3)) await sibling.unseal(s);
});
afterEach(async () => {
  here.sealNow();
  sibling.sealNow();
  await store.close();
});

describe("Barrier.rootAddedElsewhere", () => {
  it("takes the root the record now escrows: the sibling opens what the rotating node sealed under it, and seals under it too; the given buffer is zeroed", async () => {
    const { from, to } = await here.beginRotation();
    const given = copy(here.ring().current);
    await sibling.rootAddedElsewhere(given);
    expect(given.key.every((b) => b === 0)).toBe(true);
    expect(sibling.ring().ids).toEqual([from, to]);
    expect(sibling.record).toEqual(here.record);
    expect(sibling.openSecret(here.sealSecret(Buffer.from("new"), aad), aad).toString()).toBe("new");
    expect(here.openSecret(sibling.sealSecret(Buffer.from("back"), aad), aad).toString()).toBe("back");
    // Told again (a resumed rotation): the same key changes nothing.
    await sibling.rootAddedElsewhere(copy(here.ring().current));
    expect(sibling.ring().ids).toEqual([from, to]);
  });

  it("refuses a root the stored record does not name, or a different key under a root it holds, keeping its ring", async () => {
    const { from, to } = await here.beginRotation();
    const stranger: RootKey = { id: "root-000000000000", key: Buffer.alloc(32, 9) };
    expect(await codeOf(sibling.rootAddedElsewhere(stranger))).toBe("InvalidState");
    expect(stranger.key.every((b) => b === 0)).toBe(true);
    expect(sibling.ring().ids).toEqual([from]);
    // The escrowed key itself cannot be read without the shares: a root the ring holds already must come again with the same key.
    await sibling.rootAddedElsewhere(copy(here.ring().current));
    expect(await codeOf(sibling.rootAddedElsewhere({ id: to, key: Buffer.alloc(32, 1) }))).toBe("InvalidState");
    expect(sibling.ring().ids).toEqual([from, to]);
  });

  it("refuses a record whose escrow does not authenticate with its escrow keys (an altered record)", async () => {
    await here.beginRotation();
    const record = (await store.meta.get<{ escrow: { roots: { id: string }[] } }>("seal"))!;
    const forged = { ...record, escrow: { ...record.escrow, roots: [...record.escrow.roots, { ...record.escrow.roots[1]!, id: "root-111111111111" }] } };
    await store.transaction((tx) => tx.meta.put("seal", forged));
    expect(await codeOf(sibling.rootAddedElsewhere({ id: "root-111111111111", key: Buffer.alloc(32, 2) }))).toBe("InvalidUnsealKey");
    expect(sibling.ring().all()).toHaveLength(1);
  });

  it("while sealed, only reads the new record", async () => {
    sibling.sealNow();
    await here.beginRotation();
    const given = copy(here.ring().current);
    await sibling.rootAddedElsewhere(given);
    expect(sibling.sealed).toBe(true);
    expect(sibling.record).toEqual(here.record);
    expect(given.key.every((b) => b === 0)).toBe(true);
  });
});

describe("Barrier.rootDroppedElsewhere", () => {
  it("drops and zeroes the old root once the record escrows the new one alone; refuses while the record still holds both", async () => {
    const { from, to } = await here.beginRotation();
    await sibling.rootAddedElsewhere(copy(here.ring().current));
    const oldKey = sibling.ring().all()[0]!.key;
    expect(await codeOf(sibling.rootDroppedElsewhere(to))).toBe("InvalidState");
    expect(sibling.ring().ids).toEqual([from, to]);
    await here.finishRotation(async () => undefined);
    expect(await codeOf(sibling.rootDroppedElsewhere(from))).toBe("InvalidState");
    await sibling.rootDroppedElsewhere(to);
    expect(sibling.ring().ids).toEqual([to]);
    expect(oldKey.every((b) => b === 0)).toBe(true);
    expect(sibling.record).toEqual(here.record);
  });

  it("still drops the old root when a next rotation added a newer root meanwhile, then takes that one", async () => {
    const { from, to } = await here.beginRotation();
    await sibling.rootAddedElsewhere(copy(here.ring().current));
    await here.finishRotation(async () => undefined);
    const next = await here.beginRotation();
    await sibling.rootDroppedElsewhere(to);
    expect(sibling.ring().ids).toEqual([to]);
    await sibling.rootAddedElsewhere(copy(here.ring().current));
    expect(sibling.ring().ids).toEqual([to, next.to]);
    expect(sibling.ring().ids).not.toContain(from);
  });

  it("a sibling finishing the same rotation after the other finished it converges instead of failing", async () => {
    const { to } = await here.beginRotation();
    await sibling.rootAddedElsewhere(copy(here.ring().current));
    await here.finishRotation(async () => undefined);
    expect(await sibling.finishRotation(async () => undefined)).toBe(to);
    expect(sibling.ring().ids).toEqual([to]);
  });
});

/** What a node on the same database sees through the change feed (no relay: the record is all it gets). */
describe("Barrier.storedRecordChanged (another node of the database)", () => {
  it("follows a rotation from the record alone: takes the handed-over root at step 1, drops the old one at step 3", async () => {
    const { from, to } = await here.beginRotation();
    expect(await sibling.storedRecordChanged()).toEqual({ level: "info", message: `followed the seal record changed on another node: took root ${to}, current from now on (a root rotation)` });
    expect(sibling.ring().ids).toEqual([from, to]);
    expect(sibling.record).toEqual(here.record);
    expect(sibling.openSecret(here.sealSecret(Buffer.from("new"), aad), aad).toString()).toBe("new");
    const old = sibling.ring().all()[0]!.key;
    await here.finishRotation(async () => undefined);
    expect(await sibling.storedRecordChanged()).toEqual({ level: "info", message: `followed the seal record changed on another node: dropped root(s) ${from} (the root rotation finished)` });
    expect(sibling.ring().ids).toEqual([to]);
    expect(old.every((b) => b === 0)).toBe(true);
    // Nothing changed since: nothing to do.
    expect(await sibling.storedRecordChanged()).toBeUndefined();
    expect(sibling.ring().ids).toEqual([to]);
  });

  it("a handover sealed under no root it holds (written by someone without the root) changes nothing and says to reseal", async () => {
    await here.beginRotation();
    const stored = (await store.meta.get<Record<string, unknown>>("seal"))!;
    const handover = stored["handover"] as { root: string; sealed: string };
    const forged = Buffer.from(handover.sealed, "base64");
    forged[forged.length - 1]! ^= 1;
    await store.transaction(async (tx) => tx.meta.put("seal", { ...stored, handover: { ...handover, sealed: forged.toString("base64") } }));
    const before = sibling.record;
    expect(await sibling.storedRecordChanged()).toEqual({ level: "warn", message: expect.stringMatching(/sealed under no root this node holds.*seal and unseal/) });
    expect(sibling.ring().ids).toHaveLength(1);
    expect(sibling.record).toEqual(before);
  });

  it("re-keyed elsewhere: takes the new escrow key handed over under the root, so its own next change escrows for the new shares", async () => {
    const { shares } = await here.rekey({ shares: 2, threshold: 2 });
    expect(await sibling.storedRecordChanged()).toMatchObject({ level: "info", message: expect.stringContaining("took the new escrow's MAC key (a rekey)") });
    expect(sibling.record).toEqual(here.record);
    const { to } = await sibling.beginRotation();
    await sibling.finishRotation(async () => undefined);
    // A node unsealing now, with the new shares, opens the record the sibling wrote.
    const later = new Barrier(store, new ShamirSeal());
    await later.load();
    for (const s of shares) await later.unseal(s);
    expect(later.ring().ids).toEqual([to]);
    later.sealNow();
  });

  it("a record its escrow keys do not check and with no escrow key it can open is not taken: a change it would make fails Conflict instead of escrowing under stale keys", async () => {
    await here.rekey({ shares: 2, threshold: 2 });
    const stored = (await store.meta.get<Record<string, unknown>>("seal"))!;
    const { escrowHandover: _dropped, ...withoutHandover } = stored;
    await store.transaction(async (tx) => tx.meta.put("seal", withoutHandover));
    const before = sibling.record;
    expect(await sibling.storedRecordChanged()).toEqual({ level: "warn", message: expect.stringMatching(/escrow keys do not check.*seal and unseal/) });
    expect(sibling.record).toEqual(before);
    expect(await codeOf(sibling.beginRotation())).toBe("Conflict");
  });

  it("a server alone on its database (SQLite: its workers are told over IPC) writes no handover: the new root is readable with the old one nowhere", async () => {
    const fresh = new SqliteStore({ path: ":memory:" });
    try {
      await fresh.migrate();
      const single = new Barrier(fresh, new ShamirSeal());
      await single.load();
      const initial = await single.initialize({ shares: 1, threshold: 1 }, async () => undefined);
      await single.unseal(initial[0]!);
      await single.rekey({ shares: 1, threshold: 1 });
      await single.beginRotation();
      const stored = (await fresh.meta.get<Record<string, unknown>>("seal"))!;
      expect(Object.keys(stored)).not.toContain("handover");
      expect(Object.keys(stored)).not.toContain("escrowHandover");
      single.sealNow();
    } finally {
      await fresh.close();
    }
  });

  it("a sealed node only re-reads at its next unseal", async () => {
    sibling.sealNow();
    await here.beginRotation();
    expect(await sibling.storedRecordChanged()).toBeUndefined();
    expect(sibling.sealed).toBe(true);
  });
});
