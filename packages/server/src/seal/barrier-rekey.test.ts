/**
 * A rekey seen from a sibling worker: two barriers on one store, as two workers on one database. The
 * one that did not rekey takes in the new record with the MAC key it is given, only if that key
 * checks the stored escrow.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { SqliteStore } from "../store/index.js";
import { Barrier } from "./barrier.js";
import { ShamirSeal } from "./shamir-seal.js";

let store: SqliteStore;
let here: Barrier;
let sibling: Barrier;
let shares: string[];

async function opened(withShares: string[]): Promise<Barrier> {
  const b = new Barrier(store, new ShamirSeal());
  await b.load();
  for (const s of withShares) await b.unseal(s);
  return b;
}

beforeEach(async () => {
  store = new SqliteStore({ path: ":memory:" });
  await store.migrate();
  here = new Barrier(store, new ShamirSeal());
  await here.load();
  shares = await here.initialize({ shares: 3, threshold: 2 }, async () => undefined);
  await here.unseal(shares[0]);
  await here.unseal(shares[1]);
  sibling = await opened(shares.slice(1, 3));
});
afterEach(async () => {
  here.sealNow();
  sibling.sealNow();
  await store.close();
});

describe("Barrier.rekeyedElsewhere", () => {
  it("takes the new record and escrow MAC key: the sibling's next rotation escrows the new root to the new shares", async () => {
    const { shares: fresh, macKey } = await here.rekey({ shares: 2, threshold: 2 });
    const given = Buffer.from(macKey);
    await sibling.rekeyedElsewhere(given);
    expect(sibling.record).toEqual(here.record);
    // The sibling writes the next change of the record (compare-and-set from the record it now holds).
    const rotation = await sibling.beginRotation();
    const reopened = await opened(fresh);
    expect(reopened.sealed).toBe(false);
    expect(reopened.ring().all().map((r) => r.id)).toEqual([rotation.from, rotation.to]);
    reopened.sealNow();
    await expect(opened(shares.slice(0, 2))).rejects.toMatchObject({ code: "InvalidUnsealKey" });
  });

  it("refuses a MAC key that does not check the stored escrow, keeping its record, and zeroes it", async () => {
    const before = sibling.record;
    await here.rekey({ shares: 2, threshold: 2 });
    const wrong = Buffer.alloc(32, 7);
    const err = await sibling.rekeyedElsewhere(wrong).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TesseraError);
    expect((err as TesseraError).code).toBe("InvalidUnsealKey");
    expect(sibling.record).toBe(before);
    expect(wrong.every((b) => b === 0)).toBe(true);
  });

  it("while sealed, only reads the new record", async () => {
    sibling.sealNow();
    const { shares: fresh, macKey } = await here.rekey({ shares: 2, threshold: 2 });
    await sibling.rekeyedElsewhere(macKey);
    expect(sibling.record).toEqual(here.record);
    expect(macKey.every((b) => b === 0)).toBe(true);
    await sibling.unseal(fresh[0]);
    expect((await sibling.unseal(fresh[1])).sealed).toBe(false);
  });
});
