import { randomBytes } from "node:crypto";
import { combine } from "shamir-secret-sharing";
import { describe, expect, it } from "vitest";
import { type ErrorCode, TesseraError } from "@tessera/protocol";
import { ROOT_KEY_AAD, sealRecord } from "../format/keyring-record.js";
import { type LegacyShamirRecord, type ShamirRecord, ShamirSeal, openWithShares, quorumOf, validateShamirParameters } from "./shamir-seal.js";
import { escrowRoot } from "./share-escrow.js";

async function init(shares: number, threshold: number, rootKey: Buffer = randomBytes(32)) {
  const seal = new ShamirSeal();
  const { record, secrets } = await seal.protect([{ id: "root-test", key: rootKey }], { shares, threshold });
  return { seal, record: record as ShamirRecord, secrets, rootKey };
}

/** The root a record's escrow yields for an unseal key (InvalidUnsealKey otherwise). */
const rootOf = async (record: ShamirRecord | LegacyShamirRecord, unsealKey: Uint8Array): Promise<Buffer> => (await openWithShares(record, unsealKey)).roots[0]!.key;

async function expectCode(attempt: Promise<unknown> | (() => unknown), code: ErrorCode): Promise<TesseraError> {
  let thrown: unknown;
  try {
    await (typeof attempt === "function" ? attempt() : attempt);
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(TesseraError);
  expect((thrown as TesseraError).code).toBe(code);
  return thrown as TesseraError;
}

/** Submits shares in order; returns the root key from the last submission (if any). */
async function submitAll(seal: ShamirSeal, record: ShamirRecord | LegacyShamirRecord, shares: string[]): Promise<Buffer | undefined> {
  let rootKey: Buffer | undefined;
  for (const [i, share] of shares.entries()) {
    const result = await seal.submit(record, share);
    if (i < shares.length - 1) {
      expect(result.opened).toBeUndefined();
      expect(result.progress).toBe(i + 1);
    }
    expect(result.threshold).toBe(quorumOf(record).threshold);
    rootKey = result.opened?.roots[0]?.key;
  }
  return rootKey;
}

function subsets<T>(items: T[], k: number): T[][] {
  if (k === 0) return [[]];
  if (items.length < k) return [];
  const [first, ...rest] = items;
  return [...subsets(rest, k - 1).map((s) => [first!, ...s]), ...subsets(rest, k)];
}

const progress = async (seal: ShamirSeal, record: ShamirRecord | LegacyShamirRecord): Promise<number> => (await seal.submit(record, undefined)).progress;

describe("validateShamirParameters", () => {
  it.each([
    [1, 1],
    [2, 2],
    [3, 2],
    [5, 3],
    [255, 2],
    [255, 255],
  ])("accepts %i shares with threshold %i", (shares, threshold) => {
    expect(() => validateShamirParameters(shares, threshold)).not.toThrow();
  });

  it.each([
    [0, 0, "/shares"],
    [0, 1, "/shares"],
    [256, 2, "/shares"],
    [2.5, 2, "/shares"],
    [Number.NaN, 1, "/shares"],
    [3, 0, "/threshold"],
    [3, 4, "/threshold"],
    [1, 2, "/threshold"],
    [3, 1.5, "/threshold"],
    [2, 1, "/threshold"],
    [5, 1, "/threshold"],
  ])("rejects %s shares with threshold %s as InvalidInput at %s", async (shares, threshold, field) => {
    const err = await expectCode(() => validateShamirParameters(shares, threshold), "InvalidInput");
    expect(err.field).toBe(field);
  });

  it("is enforced by protect, before anything is produced", async () => {
    await expectCode(new ShamirSeal().protect([{ id: "r", key: randomBytes(32) }], { shares: 3, threshold: 1 }), "InvalidInput");
    await expectCode(new ShamirSeal().protect([{ id: "r", key: randomBytes(32) }], { shares: 2, threshold: 3 }), "InvalidInput");
  });
});

describe("ShamirSeal.protect", () => {
  it("stores only type, version and the escrow: its KEM (X-Wing), share count, threshold, public key, the escrowed roots and their MAC", async () => {
    const { record, secrets, rootKey } = await init(5, 3);
    expect(Object.keys(record).sort()).toEqual(["escrow", "type", "version"]);
    expect(Object.keys(record.escrow).sort()).toEqual(["kem", "mac", "publicKey", "roots", "shares", "threshold"]);
    expect(Buffer.from(record.escrow.mac, "base64")).toHaveLength(32);
    expect(record).toMatchObject({ type: "shamir", version: 2, escrow: { kem: "x-wing", shares: 5, threshold: 3 } });
    expect(Buffer.from(record.escrow.publicKey, "base64")).toHaveLength(1216);
    expect(record.escrow.roots.map((r) => Object.keys(r).sort())).toEqual([["id", "kem", "sealed"]]);
    expect(Buffer.from(record.escrow.roots[0]!.kem, "base64")).toHaveLength(1120);
    expect(quorumOf(record)).toEqual({ shares: 5, threshold: 3 });
    const stored = JSON.stringify(record);
    expect(stored).not.toContain(rootKey.toString("base64"));
    expect(stored).not.toContain(rootKey.toString("hex"));
    for (const s of secrets) expect(stored).not.toContain(s);
  });

  it("does not modify the caller's root key", async () => {
    const rootKey = randomBytes(32);
    const copy = Buffer.from(rootKey);
    await init(3, 2, rootKey);
    expect(rootKey.equals(copy)).toBe(true);
  });

  it("escrows the root to the unseal key, not to itself", async () => {
    const { record, rootKey } = await init(1, 1);
    await expectCode(rootOf(record, rootKey), "InvalidUnsealKey");
  });

  it("1-of-1: the only share is the raw 32-byte unseal key, in standard base64", async () => {
    const { record, secrets, rootKey } = await init(1, 1);
    expect(secrets).toHaveLength(1);
    const unsealKey = Buffer.from(secrets[0]!, "base64");
    expect(unsealKey).toHaveLength(32);
    expect(unsealKey.toString("base64")).toBe(secrets[0]);
    expect((await rootOf(record, unsealKey)).equals(rootKey)).toBe(true);
  });

  it("N-of-M: each share is the library's share (32 secret bytes ‖ 1 distinct non-zero x-coordinate byte)", async () => {
    const { record, secrets, rootKey } = await init(5, 3);
    expect(secrets).toHaveLength(5);
    const decoded = secrets.map((s) => Buffer.from(s, "base64"));
    for (const [i, d] of decoded.entries()) {
      expect(d).toHaveLength(33);
      expect(d.toString("base64")).toBe(secrets[i]);
    }
    const xs = decoded.map((d) => d[32]!);
    expect(new Set(xs).size).toBe(5);
    expect(xs.every((x) => x >= 1 && x <= 255)).toBe(true);
    // The library's own combine recovers the unseal key from any 3.
    const unsealKey = await combine(decoded.slice(1, 4).map((d) => new Uint8Array(d)));
    expect((await rootOf(record, unsealKey)).equals(rootKey)).toBe(true);
  });

  it("gives a different unseal key and different shares on every init", async () => {
    const rootKey = randomBytes(32);
    const a = await init(1, 1, rootKey);
    const b = await init(1, 1, rootKey);
    expect(a.secrets[0]).not.toBe(b.secrets[0]);
    expect(a.record.escrow.publicKey).not.toBe(b.record.escrow.publicKey);
    expect(a.record.escrow.roots[0]!.sealed).not.toBe(b.record.escrow.roots[0]!.sealed);
  });

  it("supports the maximum of 255 shares", async () => {
    const { seal, record, secrets, rootKey } = await init(255, 2);
    expect(secrets).toHaveLength(255);
    expect((await submitAll(seal, record, [secrets[0]!, secrets[254]!]))?.equals(rootKey)).toBe(true);
  });
});

describe("ShamirSeal.submit", () => {
  it("1-of-1 unseals with the single share", async () => {
    const { seal, record, secrets, rootKey } = await init(1, 1);
    const result = await seal.submit(record, secrets[0]);
    expect(result.opened?.roots[0]?.key.equals(rootKey)).toBe(true);
    expect(result.progress).toBe(1);
    expect(result.threshold).toBe(1);
  });

  it("3-of-5 unseals with every 3-subset, in any order, with progress 1, 2 before", async () => {
    const { seal, record, secrets, rootKey } = await init(5, 3);
    const all = subsets(secrets, 3);
    expect(all).toHaveLength(10);
    for (const subset of all) {
      expect((await submitAll(seal, record, subset))?.equals(rootKey)).toBe(true);
      expect((await submitAll(seal, record, [...subset].reverse()))?.equals(rootKey)).toBe(true);
      expect(await progress(seal, record)).toBe(0);
    }
  });

  it("2-of-3 unseals with every pair", async () => {
    const { seal, record, secrets, rootKey } = await init(3, 2);
    for (const pair of subsets(secrets, 2)) {
      expect((await submitAll(seal, record, pair))?.equals(rootKey)).toBe(true);
    }
  });

  it("accepts a share with surrounding whitespace (as pasted from a terminal)", async () => {
    const { seal, record, secrets, rootKey } = await init(3, 2);
    expect((await submitAll(seal, record, [`  ${secrets[0]}\n`, `${secrets[2]}\r\n`]))?.equals(rootKey)).toBe(true);
  });

  it("reports progress without consuming anything when no share is given", async () => {
    const { seal, record, secrets } = await init(5, 3);
    expect(await seal.submit(record, undefined)).toEqual({ progress: 0, threshold: 3 });
    await seal.submit(record, secrets[0]);
    expect(await seal.submit(record, undefined)).toEqual({ progress: 1, threshold: 3 });
  });

  it("reset forgets submitted shares", async () => {
    const { seal, record, secrets, rootKey } = await init(5, 3);
    await submitAll(seal, record, secrets.slice(0, 2));
    seal.reset();
    expect(await progress(seal, record)).toBe(0);
    expect((await submitAll(seal, record, secrets.slice(2, 5)))?.equals(rootKey)).toBe(true);
  });

  it("a wrong share completing the threshold is InvalidUnsealKey and resets progress", async () => {
    const { seal, record, secrets, rootKey } = await init(5, 3);
    await submitAll(seal, record, secrets.slice(0, 2));
    const forged = Buffer.from(secrets[2]!, "base64");
    forged[0]! ^= 0x01;
    await expectCode(seal.submit(record, forged.toString("base64")), "InvalidUnsealKey");
    expect(await progress(seal, record)).toBe(0);
    // Nothing is poisoned: the right shares still unseal afterwards.
    expect((await submitAll(seal, record, secrets.slice(0, 3)))?.equals(rootKey)).toBe(true);
  });

  it("a wrong 1-of-1 key is InvalidUnsealKey and resets progress", async () => {
    const { seal, record } = await init(1, 1);
    await expectCode(seal.submit(record, randomBytes(32).toString("base64")), "InvalidUnsealKey");
    expect(await progress(seal, record)).toBe(0);
  });

  it("a second share with an already-submitted x-coordinate is InvalidUnsealKey and resets progress", async () => {
    const { seal, record, secrets } = await init(3, 2);
    await seal.submit(record, secrets[0]);
    const sameIndex = Buffer.from(secrets[1]!, "base64");
    sameIndex[32] = Buffer.from(secrets[0]!, "base64")[32]!;
    await expectCode(seal.submit(record, sameIndex.toString("base64")), "InvalidUnsealKey");
    expect(await progress(seal, record)).toBe(0);
  });

  it("submitting the same share twice is InvalidInput and keeps the progress already made", async () => {
    const { seal, record, secrets, rootKey } = await init(5, 3);
    await seal.submit(record, secrets[0]);
    await seal.submit(record, secrets[1]);
    await expectCode(seal.submit(record, secrets[1]), "InvalidInput");
    await expectCode(seal.submit(record, ` ${secrets[0]} `), "InvalidInput");
    expect(await progress(seal, record)).toBe(2);
    const result = await seal.submit(record, secrets[4]);
    expect(result.opened?.roots[0]?.key.equals(rootKey)).toBe(true);
  });

  it.each([
    ["an empty string", ""],
    ["whitespace", "   "],
    ["not base64 at all", "this is not a share!"],
    ["base64 of 32 bytes (a 1-of-1 key) for an N-of-M seal", randomBytes(32).toString("base64")],
    ["base64 of 34 bytes", randomBytes(34).toString("base64")],
    ["hex instead of base64", randomBytes(33).toString("hex")],
  ])("rejects %s as a 3-of-5 share with InvalidInput", async (_what, input) => {
    const { seal, record, secrets } = await init(5, 3);
    await seal.submit(record, secrets[0]);
    await expectCode(seal.submit(record, input), "InvalidInput");
    expect(await progress(seal, record)).toBe(1);
  });

  it("rejects non-canonical base64 spellings of a real share with InvalidInput", async () => {
    // A share whose base64 has a '+' or '/', so its URL-safe spelling differs (about 3 inits in 4 have one).
    let seal: ShamirSeal, record: ShamirRecord, share: string | undefined;
    do {
      const made = await init(5, 3);
      [seal, record, share] = [made.seal, made.record, made.secrets.find((s) => /[+/]/.test(s))];
    } while (share === undefined);
    const url = Buffer.from(share, "base64").toString("base64url");
    for (const variant of [`${share.slice(0, 10)} ${share.slice(10)}`, `${share}==`, `${share}A`, url]) {
      await expectCode(seal.submit(record, variant), "InvalidInput");
    }
    expect(await progress(seal, record)).toBe(0);
  });

  it("rejects an unpadded 1-of-1 key with InvalidInput", async () => {
    const { seal, record, secrets, rootKey } = await init(1, 1);
    expect(secrets[0]).toMatch(/=$/);
    await expectCode(seal.submit(record, secrets[0]!.replace(/=+$/, "")), "InvalidInput");
    expect((await seal.submit(record, secrets[0]!)).opened?.roots[0]?.key.equals(rootKey)).toBe(true);
  });

  it("rejects a 33-byte share for a 1-of-1 seal with InvalidInput", async () => {
    const { seal, record } = await init(1, 1);
    await expectCode(seal.submit(record, randomBytes(33).toString("base64")), "InvalidInput");
  });

  it("shares from another initialisation are InvalidUnsealKey, alone or mixed in", async () => {
    const a = await init(5, 3);
    const b = await init(5, 3);
    await expectCode(submitAll(a.seal, a.record, b.secrets.slice(0, 3)), "InvalidUnsealKey");
    expect(await progress(a.seal, a.record)).toBe(0);
    await a.seal.submit(a.record, a.secrets[0]);
    await a.seal.submit(a.record, a.secrets[1]);
    // b's share may or may not share an x-coordinate with a's; either way it must not unseal.
    await expectCode(a.seal.submit(a.record, b.secrets[2]), "InvalidUnsealKey");
    expect(await progress(a.seal, a.record)).toBe(0);
    const one = await init(1, 1);
    const other = await init(1, 1);
    await expectCode(one.seal.submit(one.record, other.secrets[0]), "InvalidUnsealKey");
  });

  it("a damaged stored record is InvalidUnsealKey, not a crash", async () => {
    const { seal, record, secrets } = await init(3, 2);
    const wrapped = Buffer.from(record.escrow.roots[0]!.sealed, "base64");
    wrapped[wrapped.length - 1]! ^= 0x01;
    const damaged: ShamirRecord = { ...record, escrow: { ...record.escrow, roots: [{ ...record.escrow.roots[0]!, sealed: wrapped.toString("base64") }] } };
    await expectCode(submitAll(seal, damaged, secrets.slice(0, 2)), "InvalidUnsealKey");
  });

  it("a record whose public key was swapped for another escrow's is InvalidUnsealKey", async () => {
    const { seal, record, secrets } = await init(3, 2);
    const other = await init(3, 2);
    const swapped: ShamirRecord = { ...record, escrow: { ...record.escrow, publicKey: other.record.escrow.publicKey } };
    await expectCode(submitAll(seal, swapped, secrets.slice(0, 2)), "InvalidUnsealKey");
  });

  it("a root planted by whoever can write the record (escrowed to the public key, which is public) is InvalidUnsealKey", async () => {
    // Anyone who reads the record can encapsulate to its public key: without the escrow's MAC, this
    // root would open with the real shares and become the current one — known to the planter.
    const { seal, record, secrets } = await init(3, 2);
    const planted = await escrowRoot(Buffer.from(record.escrow.publicKey, "base64"), { id: "root-planted", key: randomBytes(32) });
    for (const roots of [[...record.escrow.roots, planted], [planted]]) {
      const altered: ShamirRecord = { ...record, escrow: { ...record.escrow, roots } };
      await expectCode(submitAll(seal, altered, secrets.slice(0, 2)), "InvalidUnsealKey");
    }
    // Editing the quorum, or dropping the MAC, fails the same way.
    const { mac: _dropped, ...noMac } = record.escrow;
    for (const escrow of [{ ...record.escrow, shares: 4 }, noMac as ShamirRecord["escrow"]]) {
      await expectCode(submitAll(seal, { ...record, escrow }, secrets.slice(0, 2)), "InvalidUnsealKey");
    }
    expect((await submitAll(seal, record, secrets.slice(0, 2)))?.length).toBe(32);
  });

  it("an escrow that is not X-Wing (no kem: the pre-release ML-KEM-768-only layout; or kem edited) is InvalidUnsealKey, named as such", async () => {
    const { seal, record, secrets } = await init(3, 2);
    const { kem: _dropped, ...noKem } = record.escrow;
    for (const escrow of [noKem as ShamirRecord["escrow"], { ...record.escrow, kem: "ml-kem-768" } as unknown as ShamirRecord["escrow"]]) {
      const err = await expectCode(submitAll(seal, { ...record, escrow }, secrets.slice(0, 2)), "InvalidUnsealKey");
      expect(err.message).toContain("not an x-wing escrow");
    }
    expect((await submitAll(seal, record, secrets.slice(0, 2)))?.length).toBe(32);
  });

  it("the first layout (root under the unseal key) still unseals, and is upgraded to an escrow the same shares open", async () => {
    const unsealKey = randomBytes(32);
    const rootKey = randomBytes(32);
    const legacy: LegacyShamirRecord = { type: "shamir", shares: 1, threshold: 1, wrappedRootKey: sealRecord(unsealKey, rootKey, ROOT_KEY_AAD).toString("base64") };
    const seal = new ShamirSeal();
    const { opened } = await seal.submit(legacy, unsealKey.toString("base64"));
    expect(opened?.roots[0]?.key.equals(rootKey)).toBe(true);
    const upgraded = opened!.replacement as ShamirRecord;
    expect(upgraded).toMatchObject({ type: "shamir", version: 2, escrow: { shares: 1, threshold: 1 } });
    expect((await rootOf(upgraded, unsealKey)).equals(rootKey)).toBe(true);
    await expectCode(seal.submit(legacy, randomBytes(32).toString("base64")), "InvalidUnsealKey");
  });

  it("reprotect escrows new roots to the same shares without any share present", async () => {
    const { seal, record, secrets } = await init(3, 2);
    const opened = await openWithShares(record, await combine(secrets.slice(0, 2).map((s) => new Uint8Array(Buffer.from(s, "base64")))));
    const next = randomBytes(32);
    const rotated = await new ShamirSeal().reprotect([...opened.roots, { id: "root-next", key: next }], opened.escrow, opened.escrowKey);
    const again = await submitAll(seal, rotated, secrets.slice(1, 3));
    expect(again?.equals(opened.roots[0]!.key)).toBe(true);
    const both = (await openWithShares(rotated, await combine(secrets.slice(0, 2).map((s) => new Uint8Array(Buffer.from(s, "base64")))))).roots;
    expect(both.map((r) => r.id)).toEqual(["root-test", "root-next"]);
    expect(both[1]!.key.equals(next)).toBe(true);
  });
});
