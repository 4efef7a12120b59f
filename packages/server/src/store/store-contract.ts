/**
 * The behaviour every `Store` adapter must show, as a vitest suite any adapter's test file can run:
 *
 * ```ts
 * storeContract("sqlite (memory)", () => new SqliteStore({ path: ":memory:" }));
 * storeContract("postgres", () => makePgStore(url), { reopen: (s) => reopenPg(s) });
 * ```
 *
 * Each test gets a fresh, empty, migrated store from `makeStore` and closes it afterwards.
 * Conflicts are settled in the database: where the contract lets concurrent transactions race it
 * retries on `Conflict` (retryable by the catalogue), so an adapter may serialise with locks or
 * with optimistic checks, but must never lose an update.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type ErrorCode, TesseraError } from "@tessera/protocol";
import { ERASE_DONE, ERASE_REQUESTED, Eraser } from "./eraser.js";
import type { GrantRow, KeyRow, Repositories, SpendableRow, Store, TokenRow, VersionRow } from "./store.js";

export type StoreFactory = () => Store | Promise<Store>;

export interface StoreContractOptions {
  /**
   * Closes `store` and opens a new one over the same database (a restart). When given, the
   * contract checks that committed data survives it.
   */
  reopen?: (store: Store) => Promise<Store>;
  /**
   * The bytes of every file `eraseDeleted()` promises to clear, as a copy of them would have them
   * (SQLite: the database file and its write-ahead log; PostgreSQL: the files of the tables that
   * hold sealed material — not its WAL, see postgres-store.ts). When given, the contract checks that
   * `eraseDeleted()` leaves nothing of destroyed material there.
   */
  rawFiles?: (store: Store) => Buffer[] | Promise<Buffer[]>;
}

const T0 = Date.UTC(2026, 0, 1);
const HOUR = 3_600_000;

export function keyRow(overrides: Partial<KeyRow> = {}): KeyRow {
  const id = overrides.id ?? randomUUID();
  return {
    id,
    name: `key-${id}`,
    description: "",
    tags: {},
    keySpec: "SYMMETRIC_DEFAULT",
    keyUsage: "ENCRYPT_DECRYPT",
    origin: "TESSERA",
    state: "Enabled",
    priorState: null,
    derived: false,
    convergent: false,
    exportable: false,
    createdAt: T0,
    primaryVersion: 1,
    minDecryptionVersion: 1,
    minEncryptionVersion: 0,
    rotationPeriodSeconds: null,
    lastRotatedAt: T0,
    deletionDate: null,
    destroyedAt: null,
    revision: 1,
    ...overrides,
  };
}

export function versionRow(keyId: string, version: number, overrides: Partial<VersionRow> = {}): VersionRow {
  return {
    keyId,
    version,
    state: "Enabled",
    createdAt: T0,
    material: Buffer.from(`sealed material of ${keyId} v${version}`),
    lastUsedAt: null,
    useCount: 0,
    destroyedAt: null,
    ...overrides,
  };
}

export function tokenRow(overrides: Partial<TokenRow> = {}): TokenRow {
  return {
    hash: randomUUID().replaceAll("-", "").repeat(2),
    accessor: randomUUID(),
    displayName: "token",
    root: false,
    grants: [{ actions: ["kms:Encrypt"], resources: ["*"] }],
    createdAt: T0,
    expiresAt: null,
    kind: "vm",
    role: "payment-vm",
    authMethod: "cert",
    attributes: { vm_id: "vm-1" },
    source: "10.0.0.7",
    subject: "vm-1",
    certificateSerial: null,
    ttlSeconds: 3600,
    maxExpiresAt: T0 + 24 * HOUR,
    ...overrides,
  };
}

export function spendableRow(overrides: Partial<SpendableRow> = {}): SpendableRow {
  return {
    hash: randomUUID(),
    accessor: randomUUID(),
    role: "payment-vm",
    usesLeft: 1,
    expiresAt: T0 + HOUR,
    createdAt: T0,
    metadata: { cidrs: ["10.0.0.0/8"] },
    ...overrides,
  };
}

async function expectCode(attempt: Promise<unknown>, code: ErrorCode): Promise<void> {
  let thrown: unknown;
  try {
    await attempt;
  } catch (err) {
    thrown = err;
  }
  expect(thrown, `expected ${code}`).toBeInstanceOf(TesseraError);
  expect((thrown as TesseraError).code).toBe(code);
}

const tick = (ms = 0) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs a transaction, retrying while the store answers `Conflict` (as a service would). */
async function withRetry<T>(store: Store, fn: (tx: Repositories) => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await store.transaction(fn);
    } catch (err) {
      if (!(err instanceof TesseraError && err.code === "Conflict") || attempt > 1000) throw err;
    }
  }
}

export function storeContract(name: string, makeStore: StoreFactory, options: StoreContractOptions = {}): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await makeStore();
      await store.migrate();
    });

    afterEach(async () => {
      await store.close();
    });

    describe("keys", () => {
      it("returns an inserted key exactly as written, by id and by name", async () => {
        const row = keyRow({
          description: "payments – ключ",
          tags: { team: "payments", "cost-centre": "42" },
          derived: true,
          exportable: true,
          rotationPeriodSeconds: 86_400,
          priorState: "Disabled",
          state: "PendingDeletion",
          deletionDate: T0 + 7 * 24 * HOUR,
        });
        await store.keys.insert(row);
        expect(await store.keys.get(row.id)).toEqual(row);
        expect(await store.keys.getByName(row.name)).toEqual(row);
      });

      it("answers undefined for an unknown id or name", async () => {
        expect(await store.keys.get(randomUUID())).toBeUndefined();
        expect(await store.keys.getByName("no-such-key")).toBeUndefined();
      });

      it("rejects a second key with the same name as AlreadyExists and keeps the first", async () => {
        const first = keyRow({ name: "shared-name" });
        await store.keys.insert(first);
        await expectCode(store.keys.insert(keyRow({ name: "shared-name" })), "AlreadyExists");
        expect(await store.keys.getByName("shared-name")).toEqual(first);
        expect(await store.keys.list(10)).toHaveLength(1);
      });

      it("lists keys by creation time then id, in pages that neither skip nor repeat", async () => {
        const rows: KeyRow[] = [];
        // Several keys share a creation time, so the id tie-break matters.
        for (let i = 0; i < 11; i++) rows.push(keyRow({ createdAt: T0 + Math.floor(i / 3) * 1000 }));
        for (const r of [...rows].reverse()) await store.keys.insert(r);
        const expected = [...rows].sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((r) => r.id);

        expect((await store.keys.list(100)).map((r) => r.id)).toEqual(expected);
        const seen: string[] = [];
        let after: string | undefined;
        for (;;) {
          const page = await store.keys.list(4, after);
          expect(page.length).toBeLessThanOrEqual(4);
          if (page.length === 0) break;
          seen.push(...page.map((r) => r.id));
          after = page[page.length - 1]!.id;
        }
        expect(seen).toEqual(expected);
        expect(await store.keys.list(4, expected[expected.length - 1])).toEqual([]);
        expect(await store.keys.list(4, expected[9])).toHaveLength(1);
      });

      it("lists nothing from an empty store", async () => {
        expect(await store.keys.list(10)).toEqual([]);
      });

      it("updates every mutable field when the revision is the next one", async () => {
        const row = keyRow();
        await store.keys.insert(row);
        const next: KeyRow = {
          ...row,
          description: "changed",
          tags: { a: "b" },
          state: "PendingDeletion",
          priorState: "Enabled",
          primaryVersion: 3,
          minDecryptionVersion: 2,
          rotationPeriodSeconds: 3600,
          lastRotatedAt: T0 + HOUR,
          deletionDate: T0 + 30 * 24 * HOUR,
          destroyedAt: null,
          revision: 2,
        };
        await store.keys.update(next);
        expect(await store.keys.get(row.id)).toEqual(next);
      });

      it("never changes a key's id, spec, usage, origin, derivation, convergence, exportability or creation time on update", async () => {
        const row = keyRow({ keySpec: "RSA_2048", keyUsage: "SIGN_VERIFY", origin: "EXTERNAL" });
        await store.keys.insert(row);
        await store.keys.update({ ...row, keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT", origin: "TESSERA", derived: true, convergent: true, exportable: true, createdAt: T0 + 1, revision: 2 });
        const stored = await store.keys.get(row.id);
        expect(stored).toMatchObject({ derived: false, convergent: false, exportable: false, createdAt: T0, keySpec: "RSA_2048", keyUsage: "SIGN_VERIFY", origin: "EXTERNAL", revision: 2 });
      });

      it("keeps a convergent key's flag and a key's minEncryptionVersion, which an update may change", async () => {
        const row = keyRow({ keySpec: "CHACHA20_POLY1305", derived: true, convergent: true, primaryVersion: 3 });
        await store.keys.insert(row);
        expect(await store.keys.get(row.id)).toMatchObject({ keySpec: "CHACHA20_POLY1305", derived: true, convergent: true, minEncryptionVersion: 0 });
        await store.keys.update({ ...row, minEncryptionVersion: 2, revision: 2 });
        expect(await store.keys.get(row.id)).toMatchObject({ convergent: true, minEncryptionVersion: 2, revision: 2 });
      });

      it("answers Conflict to an update from a stale or skipped revision and keeps the stored row", async () => {
        const row = keyRow();
        await store.keys.insert(row);
        await store.keys.update({ ...row, description: "winner", revision: 2 });
        await expectCode(store.keys.update({ ...row, description: "stale", revision: 2 }), "Conflict");
        await expectCode(store.keys.update({ ...row, description: "same", revision: 1 }), "Conflict");
        await expectCode(store.keys.update({ ...row, description: "skipped", revision: 4 }), "Conflict");
        expect(await store.keys.get(row.id)).toMatchObject({ description: "winner", revision: 2 });
      });

      it("lets exactly one of two racing updates from the same revision win", async () => {
        const row = keyRow();
        await store.keys.insert(row);
        const results = await Promise.allSettled([
          store.keys.update({ ...row, description: "a", revision: 2 }),
          store.keys.update({ ...row, description: "b", revision: 2 }),
        ]);
        expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
        const rejected = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
        expect(rejected.reason).toBeInstanceOf(TesseraError);
        expect((rejected.reason as TesseraError).code).toBe("Conflict");
        expect((await store.keys.get(row.id))?.revision).toBe(2);
      });

      it("finds keys due for rotation from the instant the period has elapsed", async () => {
        const period = 86_400;
        const due = keyRow({ rotationPeriodSeconds: period, lastRotatedAt: T0 });
        const later = keyRow({ rotationPeriodSeconds: period, lastRotatedAt: T0 + HOUR });
        const never = keyRow({ rotationPeriodSeconds: null });
        const disabled = keyRow({ rotationPeriodSeconds: period, state: "Disabled" });
        const pending = keyRow({ rotationPeriodSeconds: period, state: "PendingDeletion", priorState: "Enabled", deletionDate: T0 + 1e10 });
        const destroyed = keyRow({ rotationPeriodSeconds: period, state: "Destroyed", destroyedAt: T0 });
        for (const r of [due, later, never, disabled, pending, destroyed]) await store.keys.insert(r);

        const at = async (now: number) => (await store.keys.dueForRotation(now)).map((r) => r.id).sort();
        expect(await at(T0 + period * 1000 - 1)).toEqual([]);
        expect(await at(T0 + period * 1000)).toEqual([due.id]);
        expect(await at(T0 + period * 1000 + HOUR)).toEqual([due.id, later.id].sort());
        expect(await at(T0 + 1e12)).toEqual([due.id, later.id].sort());
      });

      it("finds keys due for deletion from their deletion date on, and only pending ones", async () => {
        const date = T0 + 7 * 24 * HOUR;
        const pending = keyRow({ state: "PendingDeletion", priorState: "Enabled", deletionDate: date });
        const pendingLater = keyRow({ state: "PendingDeletion", priorState: "Disabled", deletionDate: date + 1 });
        const enabled = keyRow({ deletionDate: date });
        const destroyed = keyRow({ state: "Destroyed", deletionDate: date, destroyedAt: date });
        for (const r of [pending, pendingLater, enabled, destroyed]) await store.keys.insert(r);

        const at = async (now: number) => (await store.keys.dueForDeletion(now)).map((r) => r.id).sort();
        expect(await at(date - 1)).toEqual([]);
        expect(await at(date)).toEqual([pending.id]);
        expect(await at(date + 1)).toEqual([pending.id, pendingLater.id].sort());
      });

      it("lists the keys with more than one version by id, page after page, and no other key", async () => {
        const rotated = Array.from({ length: 5 }, (_, i) => keyRow({ primaryVersion: 2 + i }));
        const single = Array.from({ length: 4 }, () => keyRow());
        for (const r of [...rotated, ...single]) await store.keys.insert(r);
        const ids = rotated.map((r) => r.id).sort();
        const first = await store.keys.listRotated(2);
        expect(first.map((r) => r.id)).toEqual(ids.slice(0, 2));
        expect((await store.keys.listRotated(2, first[1]!.id)).map((r) => r.id)).toEqual(ids.slice(2, 4));
        expect((await store.keys.listRotated(10, ids[3])).map((r) => r.id)).toEqual(ids.slice(4));
      });

      it("pages keys created in the same millisecond by id after the marker", async () => {
        const same = Array.from({ length: 6 }, () => keyRow({ createdAt: T0 + 1 }));
        const before = keyRow({ createdAt: T0 });
        const after = keyRow({ createdAt: T0 + 2 });
        for (const r of [after, ...same, before]) await store.keys.insert(r);
        const order = [before.id, ...same.map((r) => r.id).sort(), after.id];
        expect((await store.keys.list(3, order[2])).map((r) => r.id)).toEqual(order.slice(3, 6));
        expect((await store.keys.list(10, order[6])).map((r) => r.id)).toEqual([after.id]);
        expect(await store.keys.list(10, randomUUID())).toEqual([]);
      });
    });

    describe("versions", () => {
      it("returns inserted versions exactly, material byte for byte, listed in version order", async () => {
        const key = keyRow();
        await store.keys.insert(key);
        const material = Buffer.from(Array.from({ length: 61 }, (_, i) => (i * 37) & 0xff));
        const v = [
          versionRow(key.id, 3, { material }),
          versionRow(key.id, 1, { state: "Disabled", lastUsedAt: T0 + 5, useCount: 9 }),
          versionRow(key.id, 2, { state: "Destroyed", material: null, destroyedAt: T0 + 7 }),
        ];
        for (const row of v) await store.versions.insert(row);
        const got = await store.versions.get(key.id, 3);
        expect(got).toEqual(v[0]);
        expect(Buffer.isBuffer(got?.material)).toBe(true);
        expect((await store.versions.list(key.id)).map((r) => r.version)).toEqual([1, 2, 3]);
        expect(await store.versions.list(key.id)).toEqual([v[1], v[2], v[0]]);
      });

      it("answers undefined / empty for unknown keys and versions", async () => {
        const key = keyRow();
        await store.keys.insert(key);
        await store.versions.insert(versionRow(key.id, 1));
        expect(await store.versions.get(key.id, 2)).toBeUndefined();
        expect(await store.versions.get(randomUUID(), 1)).toBeUndefined();
        expect(await store.versions.list(randomUUID())).toEqual([]);
      });

      it("keeps each key's versions apart", async () => {
        const a = keyRow();
        const b = keyRow();
        await store.keys.insert(a);
        await store.keys.insert(b);
        await store.versions.insert(versionRow(a.id, 1));
        await store.versions.insert(versionRow(b.id, 1, { material: Buffer.from("b") }));
        expect((await store.versions.get(a.id, 1))?.material?.toString()).toBe(`sealed material of ${a.id} v1`);
        expect((await store.versions.get(b.id, 1))?.material?.toString()).toBe("b");
      });

      it("updates state, material and destruction time, and nothing else", async () => {
        const key = keyRow();
        await store.keys.insert(key);
        const v = versionRow(key.id, 1);
        await store.versions.insert(v);
        await store.versions.recordUse(key.id, 1, 5, T0 + 10);
        // `v` is stale: its use counter was read before the recordUse above.
        await store.versions.update({ ...v, state: "Destroyed", material: null, destroyedAt: T0 + 20, createdAt: T0 + 99 });
        expect(await store.versions.get(key.id, 1)).toEqual({
          ...v,
          state: "Destroyed",
          material: null,
          destroyedAt: T0 + 20,
          useCount: 5,
          lastUsedAt: T0 + 10,
        });
      });

      it("accumulates recorded use and never moves the last-use time backwards", async () => {
        const key = keyRow();
        await store.keys.insert(key);
        await store.versions.insert(versionRow(key.id, 1));
        await store.versions.insert(versionRow(key.id, 2));
        await store.versions.recordUse(key.id, 1, 3, T0 + 100);
        await store.versions.recordUse(key.id, 1, 2, T0 + 50);
        await Promise.all(Array.from({ length: 20 }, (_, i) => store.versions.recordUse(key.id, 1, 1, T0 + i)));
        expect(await store.versions.get(key.id, 1)).toMatchObject({ useCount: 25, lastUsedAt: T0 + 100 });
        await store.versions.recordUse(key.id, 1, 1, T0 + 200);
        expect(await store.versions.get(key.id, 1)).toMatchObject({ useCount: 26, lastUsedAt: T0 + 200 });
        expect(await store.versions.get(key.id, 2)).toMatchObject({ useCount: 0, lastUsedAt: null });
      });

      it("folds the unfolded counts into the counters in key order, slice by slice, without changing a count", async () => {
        const keys = [keyRow(), keyRow(), keyRow()];
        for (const k of keys) {
          await store.keys.insert(k);
          await store.versions.insert(versionRow(k.id, 1, { useCount: 7, lastUsedAt: T0 + 500 }));
          await store.versions.insert(versionRow(k.id, 2));
        }
        // Several flush intervals' counts per version, some older than the folded last use.
        for (let round = 0; round < 3; round++) {
          for (const [i, k] of keys.entries()) {
            await store.versions.recordUse(k.id, 1, i + 1, T0 + 100 * round);
            await store.versions.recordUse(k.id, 2, 10 * (i + 1), T0 + 1000 + round);
          }
        }
        const read = async () => Promise.all(keys.map((k) => store.versions.list(k.id)));
        const before = await read();
        expect(before.map((vs) => vs.map((v) => [v.useCount, v.lastUsedAt]))).toEqual([
          [[7 + 3, T0 + 500], [30, T0 + 1002]],
          [[7 + 6, T0 + 500], [60, T0 + 1002]],
          [[7 + 9, T0 + 500], [90, T0 + 1002]],
        ]);
        // Two versions a slice, from the start, until nothing is left after the last position.
        const positions: string[] = [];
        let after = { keyId: "", version: 0 };
        for (;;) {
          const done = await store.transaction((tx) => tx.versions.foldUses(after.keyId, after.version, 2));
          if (done === undefined) break;
          expect(done.folded).toBeGreaterThan(0);
          positions.push(`${done.keyId}/${done.version}`);
          after = done;
        }
        expect(positions).toEqual([...positions].sort());
        expect(await read()).toEqual(before);
        expect(await store.versions.get(keys[2]!.id, 2)).toEqual(before[2]![1]);
        // Nothing is left unfolded: a second fold finds nothing, and new uses add to the folded counters.
        expect(await store.transaction((tx) => tx.versions.foldUses("", 0, 1000))).toBeUndefined();
        await store.versions.recordUse(keys[0]!.id, 1, 1, T0 + 2000);
        expect(await store.versions.get(keys[0]!.id, 1)).toMatchObject({ useCount: 11, lastUsedAt: T0 + 2000 });
        expect(await store.transaction((tx) => tx.versions.foldUses("", 0, 1000))).toMatchObject({ keyId: keys[0]!.id, version: 1, folded: 1 });
        expect(await store.versions.get(keys[0]!.id, 1)).toMatchObject({ useCount: 11, lastUsedAt: T0 + 2000 });
      });

      it("drops the unfolded counts of a version that no longer exists when folding", async () => {
        const key = keyRow();
        await store.keys.insert(key);
        await store.versions.recordUse(key.id, 9, 4, T0 + 1);
        expect(await store.transaction((tx) => tx.versions.foldUses("", 0, 1000))).toMatchObject({ folded: 1 });
        expect(await store.transaction((tx) => tx.versions.foldUses("", 0, 1000))).toBeUndefined();
        expect(await store.versions.get(key.id, 9)).toBeUndefined();
      });
    });

    describe("erasing deleted data", () => {
      it("keeps every committed row, and may be called again and again", async () => {
        const key = keyRow();
        await store.keys.insert(key);
        await store.versions.insert(versionRow(key.id, 1));
        expect(await eraseUntilDone(store)).toBe(true);
        expect(await eraseUntilDone(store)).toBe(true);
        expect(await store.keys.get(key.id)).toEqual(key);
        expect(await store.versions.get(key.id, 1)).toEqual(versionRow(key.id, 1));
      });

      if (options.rawFiles !== undefined) {
        const rawFiles = options.rawFiles;
        it("leaves no 16-byte piece of destroyed material in the store's files", async () => {
          // Many keys on shared pages, used (each use rewrites the row) and then half destroyed.
          const keys = Array.from({ length: 24 }, () => ({ row: keyRow(), material: randomBytes(61) }));
          for (const k of keys) {
            await store.keys.insert(k.row);
            await store.versions.insert(versionRow(k.row.id, 1, { material: k.material }));
          }
          for (const k of keys) await store.versions.recordUse(k.row.id, 1, 1, T0 + 1);
          await store.transaction((tx) => tx.versions.foldUses("", 0, 1000));
          const destroyed = keys.filter((_, i) => i % 2 === 0);
          await store.transaction(async (tx) => {
            for (const k of destroyed) {
              const v = (await tx.versions.get(k.row.id, 1))!;
              await tx.versions.update({ ...v, state: "Destroyed", material: null, destroyedAt: T0 + 2 });
            }
          });
          expect(await eraseUntilDone(store)).toBe(true);

          const files = await rawFiles(store);
          const held = (secret: Buffer) =>
            Array.from({ length: secret.length - 15 }, (_, i) => secret.subarray(i, i + 16)).some((w) => files.some((f) => f.includes(w)));
          expect(destroyed.filter((k) => held(k.material))).toEqual([]);
          expect(keys.filter((k) => !destroyed.includes(k)).every((k) => held(k.material))).toBe(true);
        });
      }

      it("an erase refused after a destruction on one node is owed, and done by the lease holder's next run (eraser.ts)", async () => {
        // Two nodes' erasers over one database; the first node's erase is refused (another session held a snapshot).
        const node = new Eraser({ store: { meta: store.meta, eraseDeleted: async () => false } });
        const holder = new Eraser({ store });
        // What each owes from its start (a crash may have come between a destruction and its record).
        expect(await node.retry(false)).toBe(true);
        expect(await retryUntilDone(holder)).toBe(true);

        const key = keyRow();
        const doomed = randomBytes(61);
        const kept = randomBytes(61);
        const secret = randomBytes(61);
        await store.keys.insert(key);
        await store.versions.insert(versionRow(key.id, 1, { material: doomed }));
        await store.versions.insert(versionRow(key.id, 2, { material: kept }));
        await store.secrets.insertPath({ mount: "secret", path: "p", currentVersion: 1, oldestVersion: 1, maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0, customMetadata: {}, createdAt: T0, updatedAt: T0 });
        await store.secrets.insertVersion({ mount: "secret", path: "p", version: 1, createdAt: T0, deletedAt: null, wrappedKey: randomBytes(40), sealed: secret, readCount: 0, lastReadAt: null, lastReader: null });
        expect(await retryUntilDone(holder)).toBe(true);

        const v1 = (await store.versions.get(key.id, 1))!;
        await store.versions.update({ ...v1, state: "Destroyed", material: null, destroyedAt: T0 + 1 });
        expect(await store.secrets.destroyVersion("secret", "p", 1)).toBe(true);
        await node.destroyed();
        const owed = await store.meta.get<string>(ERASE_REQUESTED);
        expect(await store.meta.get<string>(ERASE_DONE)).not.toBe(owed);
        // A node without the lease erases nothing of what is owed.
        expect(await node.retry(false)).toBe(true);
        expect(await store.meta.get<string>(ERASE_DONE)).not.toBe(owed);

        expect(await retryUntilDone(holder)).toBe(true);
        expect(await store.meta.get<string>(ERASE_DONE)).toBe(owed);
        if (options.rawFiles !== undefined) {
          const files = await options.rawFiles(store);
          const held = (b: Buffer) => Array.from({ length: b.length - 15 }, (_, i) => b.subarray(i, i + 16)).some((w) => files.some((f) => f.includes(w)));
          expect([held(doomed), held(secret), held(kept)]).toEqual([false, false, true]);
        }
      });
    });

    describe("tokens", () => {
      it("returns an inserted token by hash and by accessor", async () => {
        const t = tokenRow({ root: true, expiresAt: T0 + HOUR, grants: [{ actions: ["kms:*"], resources: ["key/*", "alias/x"] }, { actions: [], resources: [] }] });
        await store.tokens.insert(t);
        expect(await store.tokens.getByHash(t.hash)).toEqual(t);
        expect(await store.tokens.getByAccessor(t.accessor)).toEqual(t);
        expect(await store.tokens.getByHash("0".repeat(64))).toBeUndefined();
        expect(await store.tokens.getByAccessor(randomUUID())).toBeUndefined();
      });

      it("deletes by accessor, reporting whether a token was there", async () => {
        const t = tokenRow();
        const other = tokenRow();
        await store.tokens.insert(t);
        await store.tokens.insert(other);
        expect(await store.tokens.deleteByAccessor(t.accessor)).toBe(true);
        expect(await store.tokens.deleteByAccessor(t.accessor)).toBe(false);
        expect(await store.tokens.getByHash(t.hash)).toBeUndefined();
        expect(await store.tokens.getByAccessor(t.accessor)).toBeUndefined();
        expect(await store.tokens.getByHash(other.hash)).toEqual(other);
      });

      it("deletes tokens that expire at or before now, keeps later and non-expiring ones, and counts them", async () => {
        const now = T0 + HOUR;
        const past = tokenRow({ expiresAt: now - 1 });
        const exact = tokenRow({ expiresAt: now });
        const future = tokenRow({ expiresAt: now + 1 });
        const forever = tokenRow({ expiresAt: null });
        for (const t of [past, exact, future, forever]) await store.tokens.insert(t);
        expect(await store.tokens.deleteExpired(now)).toBe(2);
        expect(await store.tokens.getByHash(past.hash)).toBeUndefined();
        expect(await store.tokens.getByHash(exact.hash)).toBeUndefined();
        expect(await store.tokens.getByHash(future.hash)).toEqual(future);
        expect(await store.tokens.getByHash(forever.hash)).toEqual(forever);
        expect(await store.tokens.deleteExpired(now)).toBe(0);
      });
    });

    describe("meta", () => {
      it("answers undefined for a name never written", async () => {
        expect(await store.meta.get("missing")).toBeUndefined();
      });

      it("stores JSON documents and overwrites them", async () => {
        const seal = { type: "shamir", shares: 5, threshold: 3, wrappedRootKey: "AAAA", nested: { list: [1, "two", null] } };
        await store.meta.put("seal", seal);
        expect(await store.meta.get("seal")).toEqual(seal);
        await store.meta.put("seal", { type: "dev" });
        expect(await store.meta.get("seal")).toEqual({ type: "dev" });
        await store.meta.put("n", 7);
        await store.meta.put("s", "text");
        await store.meta.put("f", false);
        expect([await store.meta.get("n"), await store.meta.get("s"), await store.meta.get("f")]).toEqual([7, "text", false]);
        expect(await store.meta.get("seal")).toEqual({ type: "dev" });
      });
    });

    describe("transactions", () => {
      it("commit every write together and return the function's value", async () => {
        const key = keyRow();
        const token = tokenRow();
        const result = await store.transaction(async (tx) => {
          await tx.keys.insert(key);
          await tx.versions.insert(versionRow(key.id, 1));
          await tx.tokens.insert(token);
          await tx.meta.put("init", { done: true });
          // Reads inside the transaction see its own writes.
          expect(await tx.keys.get(key.id)).toEqual(key);
          return "committed";
        });
        expect(result).toBe("committed");
        expect(await store.keys.get(key.id)).toEqual(key);
        expect(await store.versions.get(key.id, 1)).toBeDefined();
        expect(await store.tokens.getByHash(token.hash)).toEqual(token);
        expect(await store.meta.get("init")).toEqual({ done: true });
      });

      it("roll back every write when the function throws, and rethrow the same error", async () => {
        const existing = keyRow();
        await store.keys.insert(existing);
        const key = keyRow();
        const token = tokenRow();
        const boom = new Error("boom");
        let thrown: unknown;
        try {
          await store.transaction(async (tx) => {
            await tx.keys.insert(key);
            await tx.versions.insert(versionRow(key.id, 1));
            await tx.tokens.insert(token);
            await tx.meta.put("init", true);
            await tx.keys.update({ ...existing, description: "changed", revision: 2 });
            await tx.versions.insert(versionRow(existing.id, 1));
            await tick();
            throw boom;
          });
        } catch (err) {
          thrown = err;
        }
        expect(thrown).toBe(boom);
        expect(await store.keys.get(key.id)).toBeUndefined();
        expect(await store.keys.list(10)).toEqual([existing]);
        expect(await store.versions.list(key.id)).toEqual([]);
        expect(await store.versions.list(existing.id)).toEqual([]);
        expect(await store.tokens.getByHash(token.hash)).toBeUndefined();
        expect(await store.meta.get("init")).toBeUndefined();
      });

      it("roll back earlier writes when a later statement fails with a store error", async () => {
        await store.keys.insert(keyRow({ name: "taken" }));
        const key = keyRow();
        await expectCode(
          store.transaction(async (tx) => {
            await tx.keys.insert(key);
            await tx.keys.insert(keyRow({ name: "taken" }));
          }),
          "AlreadyExists",
        );
        expect(await store.keys.get(key.id)).toBeUndefined();
      });

      it("keep working after a rolled-back transaction", async () => {
        await expect(store.transaction(async () => Promise.reject(new Error("first fails")))).rejects.toThrow("first fails");
        const key = keyRow();
        await store.transaction(async (tx) => tx.keys.insert(key));
        expect(await store.keys.get(key.id)).toEqual(key);
      });

      it("never expose a half-done transaction to concurrent readers", async () => {
        const a = keyRow();
        const b = keyRow();
        let firstWritten!: () => void;
        const halfDone = new Promise<void>((resolve) => (firstWritten = resolve));
        const writing = store.transaction(async (tx) => {
          await tx.keys.insert(a);
          firstWritten();
          await tick(20);
          await tx.keys.insert(b);
        });
        // Read only once the transaction holds one of its two rows (an adapter may make the read wait for it).
        await halfDone;
        const seen = await store.keys.list(10);
        await writing;
        expect([0, 2]).toContain(seen.length);
        expect(await store.keys.list(10)).toHaveLength(2);
      });

      it("serialise 50 concurrent read-modify-write transactions without losing an update", async () => {
        await store.meta.put("counter", 0);
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            withRetry(store, async (tx) => {
              const n = (await tx.meta.get<number>("counter")) ?? 0;
              if (i % 3 === 0) await tick(1);
              await tx.meta.put("counter", n + 1);
            }),
          ),
        );
        expect(await store.meta.get("counter")).toBe(50);
      });

      it("serialise 50 concurrent revisioned key updates, each applied exactly once", async () => {
        const key = keyRow({ description: "0" });
        await store.keys.insert(key);
        await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            withRetry(store, async (tx) => {
              const row = (await tx.keys.get(key.id))!;
              if (i % 5 === 0) await tick(1);
              await tx.keys.update({ ...row, description: String(Number(row.description) + 1), revision: row.revision + 1 });
            }),
          ),
        );
        expect(await store.keys.get(key.id)).toMatchObject({ description: "50", revision: 51 });
      });
    });

    describe("identity tables", () => {
      it("tokens are revoked by role and by subject, and renewals move the expiry", async () => {
        const a = tokenRow({ role: "r1", subject: "vm-a" });
        const b = tokenRow({ role: "r1", subject: "vm-b" });
        const c = tokenRow({ role: "r2", subject: "vm-a" });
        for (const t of [a, b, c]) await store.tokens.insert(t);
        await store.tokens.setExpiry(b.accessor, T0 + 5);
        expect((await store.tokens.getByAccessor(b.accessor))?.expiresAt).toBe(T0 + 5);
        expect(await store.tokens.deleteBySubject("vm-a")).toBe(2);
        expect(await store.tokens.deleteByRole("r1")).toBe(1);
        for (const t of [a, b, c]) expect(await store.tokens.getByAccessor(t.accessor)).toBeUndefined();
      });

      it("documents are kept per collection, replaced with their creation time, listed by name and deleted", async () => {
        await store.policies.put({ name: "b", body: { statements: [] }, createdAt: T0, updatedAt: T0 });
        await store.policies.put({ name: "a", body: { v: 1 }, createdAt: T0, updatedAt: T0 });
        await store.policies.put({ name: "a", body: { v: 2 }, createdAt: T0 + 9, updatedAt: T0 + 9 });
        await store.roles.put({ name: "a", body: { role: true }, createdAt: T0, updatedAt: T0 });
        expect((await store.policies.list()).map((d) => d.name)).toEqual(["a", "b"]);
        expect(await store.policies.get("a")).toEqual({ name: "a", body: { v: 2 }, createdAt: T0, updatedAt: T0 + 9 });
        expect((await store.roles.get("a"))?.body).toEqual({ role: true });
        expect(await store.jwtIssuers.get("a")).toBeUndefined();
        expect(await store.policies.delete("a")).toBe(true);
        expect(await store.policies.delete("a")).toBe(false);
        expect(await store.roles.get("a")).toBeDefined();
      });

      it("a single-use secret is spent exactly once, even by concurrent logins", async () => {
        const once = spendableRow({ usesLeft: 1 });
        await store.joinTokens.insert(once);
        const results = await Promise.all(Array.from({ length: 10 }, () => store.joinTokens.spend(once.hash, T0)));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
        expect(results.find((r) => r !== undefined)).toEqual(once);
        expect((await store.joinTokens.getByHash(once.hash))?.usesLeft).toBe(0);
        expect(await store.joinTokens.spend(once.hash, T0)).toBeUndefined();
      });

      it("spending respects expiry and unlimited uses; collections are separate", async () => {
        const expired = spendableRow({ expiresAt: T0 });
        const unlimited = spendableRow({ usesLeft: null, expiresAt: null });
        await store.secretIds.insert(expired);
        await store.secretIds.insert(unlimited);
        expect(await store.secretIds.spend(expired.hash, T0)).toBeUndefined();
        for (let i = 0; i < 3; i++) expect(await store.secretIds.spend(unlimited.hash, T0)).toBeDefined();
        expect(await store.joinTokens.getByHash(unlimited.hash)).toBeUndefined();
        expect((await store.secretIds.list("payment-vm")).length).toBe(2);
        expect(await store.secretIds.deleteExpired(T0)).toBe(1);
        expect(await store.secretIds.deleteByAccessor(unlimited.accessor)).toBe(true);
        expect(await store.secretIds.deleteByRole("payment-vm")).toBe(0);
      });

      it("certificates are revoked by serial, by VM and by role; the revoked list skips expired ones", async () => {
        const cert = (serial: string, vmId: string, role: string, notAfter = T0 + HOUR) => ({
          serial,
          vmId,
          role,
          notBefore: T0,
          notAfter,
          revokedAt: null,
          createdAt: T0,
        });
        await store.certificates.insert(cert("01", "vm-a", "r1"));
        await store.certificates.insert(cert("02", "vm-a", "r1"));
        await store.certificates.insert(cert("03", "vm-b", "r2"));
        await store.certificates.insert(cert("04", "vm-c", "r2", T0 + 1));
        expect(await store.certificates.revoke("01", T0)).toBe(true);
        expect(await store.certificates.revoke("99", T0)).toBe(false);
        expect(await store.certificates.revokeVm("vm-a", T0 + 1)).toBe(1);
        expect((await store.certificates.get("01"))?.revokedAt).toBe(T0);
        expect(await store.certificates.revokeRole("r2", T0 + 2)).toBe(2);
        expect((await store.certificates.listRevoked(T0 + 10)).sort()).toEqual(["01", "02", "03"]);
        expect((await store.certificates.listByVm("vm-a")).map((c) => c.serial)).toEqual(["01", "02"]);
        expect((await store.certificates.list(3)).map((c) => [c.serial, c.vmId, c.revokedAt !== null])).toEqual([["01", "vm-a", true], ["02", "vm-a", true], ["03", "vm-b", true]]);
        expect((await store.certificates.list(10, "03")).map((c) => c.serial)).toEqual(["04"]);
      });

      it("claims a VM id once: of many concurrent first enrolments exactly one is recorded", async () => {
        const cert = (serial: string, vmId = "vm-contested") => ({ serial, vmId, role: "r1", notBefore: T0, notAfter: T0 + HOUR, revokedAt: null, createdAt: T0 });
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.certificates.claimAndInsert(cert(`c${i}`))));
        expect(results.filter((won) => won)).toHaveLength(1);
        const winner = `c${results.indexOf(true)}`;
        // No certificate row for any loser.
        expect((await store.certificates.listByVm("vm-contested")).map((c) => c.serial)).toEqual([winner]);
        for (let i = 0; i < 20; i++) if (`c${i}` !== winner) expect(await store.certificates.get(`c${i}`)).toBeUndefined();
        // Still claimed after revocation; a recorded renewal neither needs nor changes the claim.
        await store.certificates.revokeVm("vm-contested", T0 + 1);
        expect(await store.certificates.claimAndInsert(cert("late"))).toBe(false);
        await store.certificates.insert(cert("renewed"));
        expect((await store.certificates.listByVm("vm-contested")).map((c) => c.serial)).toEqual([winner, "renewed"]);
      });

      it("a certificate recorded with insert claims its VM id too", async () => {
        const cert = (serial: string) => ({ serial, vmId: "vm-bound", role: "r1", notBefore: T0, notAfter: T0 + HOUR, revokedAt: null, createdAt: T0 });
        await store.certificates.insert(cert("b1"));
        expect(await store.certificates.claimAndInsert(cert("b2"))).toBe(false);
        expect(await store.certificates.get("b2")).toBeUndefined();
        expect(await store.certificates.claimAndInsert({ ...cert("f1"), vmId: "vm-free" })).toBe(true);
      });

      it("a token bound to a certificate is stored only while that certificate is unrevoked, and dies with it", async () => {
        const cert = { serial: "0c", vmId: "vm-t", role: "r1", notBefore: T0, notAfter: T0 + HOUR, revokedAt: null, createdAt: T0 };
        await store.certificates.insert(cert);
        const bound = tokenRow({ subject: "vm-t", certificateSerial: "0c", attributes: { vm_id: "vm-t", serial: "0c" } });
        const other = tokenRow({ subject: "vm-t", certificateSerial: null });
        await store.tokens.insert(bound);
        await store.tokens.insert(other);
        expect(await store.tokens.getByHash(bound.hash)).toEqual(bound);
        await expectCode(store.tokens.insert(tokenRow({ certificateSerial: "unknown" })), "Unauthenticated");

        expect(await store.certificates.revoke("0c", T0 + 1)).toBe(true);
        const late = tokenRow({ certificateSerial: "0c" });
        await expectCode(store.tokens.insert(late), "Unauthenticated");
        expect(await store.tokens.getByAccessor(late.accessor)).toBeUndefined();
        // The same holds inside a transaction, which then rolls back as a whole.
        const key = keyRow();
        await expectCode(
          store.transaction(async (tx) => {
            await tx.keys.insert(key);
            await tx.tokens.insert(tokenRow({ certificateSerial: "0c" }));
          }),
          "Unauthenticated",
        );
        expect(await store.keys.get(key.id)).toBeUndefined();

        expect(await store.tokens.deleteByCertificate("0c")).toBe(1);
        expect(await store.tokens.getByHash(bound.hash)).toBeUndefined();
        expect(await store.tokens.getByHash(other.hash)).toEqual(other);
        expect(await store.tokens.deleteByCertificate("0c")).toBe(0);
      });

      it("aliases point at keys, are unique, move between keys and are listed per key", async () => {
        const a = keyRow();
        const b = keyRow();
        await store.keys.insert(a);
        await store.keys.insert(b);
        await store.aliases.insert({ name: "alias/x", keyId: a.id, createdAt: T0, updatedAt: T0 });
        await expectCode(store.aliases.insert({ name: "alias/x", keyId: b.id, createdAt: T0, updatedAt: T0 }), "AlreadyExists");
        expect(await store.aliases.update("alias/x", b.id, T0 + 1)).toBe(true);
        expect(await store.aliases.update("alias/none", b.id, T0 + 1)).toBe(false);
        expect(await store.aliases.get("alias/x")).toEqual({ name: "alias/x", keyId: b.id, createdAt: T0, updatedAt: T0 + 1 });
        expect((await store.aliases.list(a.id)).length).toBe(0);
        expect((await store.aliases.list(b.id)).map((x) => x.name)).toEqual(["alias/x"]);
        expect(await store.aliases.delete("alias/x")).toBe(true);
        expect(await store.aliases.list()).toEqual([]);
      });

      it("access keys keep their sealed secret, change state and are deleted by id or role", async () => {
        const k = { id: "TSRAKEXAMPLE", secret: Buffer.from("sealed"), role: "r1", state: "Active" as const, createdAt: T0, description: "ci" };
        await store.accessKeys.insert(k);
        await store.accessKeys.insert({ ...k, id: "TSRAKOTHER", role: "r2" });
        expect(await store.accessKeys.get(k.id)).toEqual(k);
        expect(await store.accessKeys.setState(k.id, "Inactive")).toBe(true);
        expect((await store.accessKeys.get(k.id))?.state).toBe("Inactive");
        expect((await store.accessKeys.list()).map((a) => a.id)).toEqual(["TSRAKEXAMPLE", "TSRAKOTHER"]);
        expect(await store.accessKeys.deleteByRole("r2")).toBe(1);
        expect(await store.accessKeys.delete(k.id)).toBe(true);
        expect(await store.accessKeys.list()).toEqual([]);
      });
    });

    describe("grants", () => {
      const grant = (overrides: Partial<GrantRow> = {}): GrantRow => ({
        grantId: "a".repeat(64),
        keyId: "k1",
        name: "payments",
        granteePrincipal: "arn:aws:iam::000000000000:role/app",
        granteeRole: "app",
        retiringPrincipal: "arn:aws:iam::000000000000:role/ops",
        retiringRole: "ops",
        issuingAccount: "arn:aws:iam::000000000000:root",
        operations: ["Decrypt", "Encrypt"],
        constraints: { encryptionContextSubset: { tenant: "t1" } },
        createdAt: T0,
        ...overrides,
      });

      it("keeps a grant as written, lists it by key, grantee and retiring role, refuses a taken id, deletes it", async () => {
        const g = grant();
        const other = grant({ grantId: "b".repeat(64), keyId: "k2", granteeRole: "ops", retiringPrincipal: null, retiringRole: null, constraints: null, createdAt: T0 + 1 });
        await store.grants.insert(g);
        await store.grants.insert(other);
        expect(await store.grants.get(g.grantId)).toEqual(g);
        await expect(store.grants.insert(g)).rejects.toMatchObject({ code: "AlreadyExists" });
        expect((await store.grants.listForKey("k1")).map((x) => x.grantId)).toEqual([g.grantId]);
        expect((await store.grants.listForGrantee("ops")).map((x) => x.grantId)).toEqual([other.grantId]);
        expect((await store.grants.listForRetiring("ops")).map((x) => x.grantId)).toEqual([g.grantId]);
        expect(await store.grants.delete(g.grantId)).toBe(true);
        expect(await store.grants.delete(g.grantId)).toBe(false);
        expect(await store.grants.deleteForGrantee("ops")).toBe(1);
        expect(await store.grants.get(other.grantId)).toBeUndefined();
      });

      it("writes every grant change to the feed, so other processes drop their grant caches", async () => {
        const start = await store.changes.latest();
        await store.grants.insert(grant());
        await store.grants.delete("a".repeat(64));
        expect((await store.changes.since(start, 10)).changes.map((c) => c.scope)).toEqual(["grants", "grants"]);
      });
    });

    describe("several nodes", () => {
      it("lets one holder at a time take a lease; renewals keep its epoch, a takeover after expiry bumps it", async () => {
        const a = (await store.leases.acquire("jobs", "node-a", 60_000))!;
        expect(a).toMatchObject({ name: "jobs", holder: "node-a", epoch: 1 });
        expect(await store.leases.acquire("jobs", "node-b", 60_000)).toBeUndefined();
        const renewed = (await store.leases.acquire("jobs", "node-a", 60_000))!;
        expect(renewed.epoch).toBe(1);
        expect(renewed.expiresAt).toBeGreaterThanOrEqual(a.expiresAt);
        expect(await store.leases.holds("jobs", "node-a", 1)).toBe(true);
        expect(await store.leases.holds("jobs", "node-b", 1)).toBe(false);

        await store.leases.release("jobs", "node-a", 1);
        expect(await store.leases.holds("jobs", "node-a", 1)).toBe(false);
        const b = (await store.leases.acquire("jobs", "node-b", 60_000))!;
        expect(b).toMatchObject({ holder: "node-b", epoch: 2 });
        // The old holder is fenced: its epoch no longer holds, and it cannot take the lease back.
        expect(await store.leases.holds("jobs", "node-a", 1)).toBe(false);
        expect(await store.leases.acquire("jobs", "node-a", 60_000)).toBeUndefined();
        expect(await store.leases.get("jobs")).toMatchObject({ holder: "node-b", epoch: 2 });
      });

      it("expires a lease by the database's clock", async () => {
        await store.leases.acquire("short", "node-a", 1);
        await tick(20);
        expect(await store.leases.holds("short", "node-a", 1)).toBe(false);
        expect(await store.leases.acquire("short", "node-b", 60_000)).toMatchObject({ holder: "node-b", epoch: 2 });
      });

      it("of many nodes racing for a free lease, exactly one gets it", async () => {
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.leases.acquire("race", `node-${i}`, 60_000)));
        expect(results.filter((r) => r !== undefined)).toHaveLength(1);
      });

      it("records each node's heartbeat with the database's time and lists the nodes", async () => {
        const before = await store.nodes.now();
        const row = await store.nodes.heartbeat({ id: "node-b", instance: "i1", address: "127.0.0.1:1", state: "sealed", version: "1.0.0", startedAt: T0 });
        expect(row.lastSeen).toBeGreaterThanOrEqual(before);
        await store.nodes.heartbeat({ id: "node-a", instance: "i2", address: "127.0.0.1:2", state: "unsealed", version: "1.0.0", startedAt: T0 });
        await store.nodes.heartbeat({ id: "node-b", instance: "i3", address: "127.0.0.1:1", state: "unsealed", version: "1.0.1", startedAt: T0 + 1 });
        expect((await store.nodes.list()).map((n) => [n.id, n.instance, n.state, n.version])).toEqual([
          ["node-a", "i2", "unsealed", "1.0.0"],
          ["node-b", "i3", "unsealed", "1.0.1"],
        ]);
        expect(await store.nodes.get("node-c")).toBeUndefined();
      });

      it("keeps secrets: mounts, paths with a compare-and-set on the current version, versions, listing by prefix", async () => {
        const mount = { mount: "secret", keyId: "k1", maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0, createdAt: T0 };
        await store.secrets.insertMount(mount);
        await expectCode(store.secrets.insertMount(mount), "AlreadyExists");
        await store.secrets.updateMount({ ...mount, keyId: "k2", casRequired: true });
        expect(await store.secrets.getMount("secret")).toEqual({ ...mount, keyId: "k2", casRequired: true });
        const path = { mount: "secret", path: "a/b", currentVersion: 1, oldestVersion: 1, maxVersions: 3, casRequired: false, deleteVersionAfterSeconds: 60, customMetadata: { o: "x" }, createdAt: T0, updatedAt: T0 };
        const wrapped = randomBytes(40);
        const version = { mount: "secret", path: "a/b", version: 1, createdAt: T0, deletedAt: null, wrappedKey: wrapped, sealed: randomBytes(30), readCount: 0, lastReadAt: null, lastReader: null };
        await store.transaction(async (tx) => {
          await tx.secrets.insertPath(path);
          await tx.secrets.insertVersion(version);
          await tx.secrets.insertVersion({ ...version, version: 2 });
        });
        await expectCode(store.secrets.insertPath(path), "AlreadyExists");
        await store.secrets.insertPath({ ...path, path: "a/c" });
        await store.secrets.insertPath({ ...path, path: "ab" });
        expect(await store.secrets.getPath("secret", "a/b")).toEqual(path);
        expect(await store.secrets.updatePath({ ...path, currentVersion: 2, updatedAt: T0 + 1 }, 1)).toBe(true);
        expect(await store.secrets.updatePath({ ...path, currentVersion: 3 }, 1)).toBe(false);
        expect(await store.secrets.listPaths("secret", "a/", 10)).toEqual(["a/b", "a/c"]);
        expect(await store.secrets.listPaths("secret", "", 2)).toEqual(["a/b", "a/c"]);
        expect(await store.secrets.getVersion("secret", "a/b", 1)).toEqual(version);

        await store.secrets.recordRead("secret", "a/b", 1, T0 + 5, "vm-1");
        expect(await store.secrets.rewrapKey("secret", "a/b", 1, randomBytes(40), randomBytes(40))).toBe(false);
        const rewrapped = randomBytes(41);
        expect(await store.secrets.rewrapKey("secret", "a/b", 1, wrapped, rewrapped)).toBe(true);
        expect(await store.secrets.setDeleted("secret", "a/b", 2, T0 + 9)).toBe(true);
        expect(await store.secrets.destroyVersion("secret", "a/b", 1)).toBe(true);
        expect(await store.secrets.destroyVersion("secret", "a/b", 1)).toBe(false);
        expect(await store.secrets.setDeleted("secret", "a/b", 1, null)).toBe(false);
        expect(await store.secrets.getVersion("secret", "a/b", 1)).toEqual({ ...version, wrappedKey: null, sealed: null, readCount: 1, lastReadAt: T0 + 5, lastReader: "vm-1" });
        expect((await store.secrets.listVersions("secret", "a/b")).map((v) => [v.version, v.destroyed, v.deletedAt, v.readCount])).toEqual([
          [1, true, null, 1],
          [2, false, T0 + 9, 0],
        ]);
        expect(await store.secrets.deleteVersionsBelow("secret", "a/b", 2)).toBe(1);
        expect(await store.secrets.deletePath("secret", "a/b")).toBe(true);
        expect(await store.secrets.getVersion("secret", "a/b", 2)).toBeUndefined();
        expect(await store.secrets.listPaths("secret", "a/", 10)).toEqual(["a/c"]);
      });

      it("feeds every security-state change, in order, and nothing else", async () => {
        const start = await store.changes.latest();
        const key = keyRow();
        await store.keys.insert(key);
        await store.versions.insert(versionRow(key.id, 1));
        await store.versions.recordUse(key.id, 1, 3, T0 + 1);
        const live = tokenRow({ expiresAt: null });
        const expired = tokenRow({ expiresAt: T0 });
        await store.tokens.insert(live);
        await store.tokens.insert(expired);
        // Purging a token that had expired anyway changes nothing a cache could hold.
        await store.tokens.deleteExpired(Date.now());
        await store.audit.append([{ seq: 1, time: "2026-01-01T00:00:00.000Z", line: "{}" }]);
        await store.roles.put({ name: "r", body: {}, createdAt: T0, updatedAt: T0 });
        await store.tokens.deleteByAccessor(live.accessor);
        await store.keys.update({ ...key, state: "Disabled", revision: 2 });
        const { changes } = await store.changes.since(start, 100);
        expect(changes.map((c) => c.scope)).toEqual([`key:${key.id}`, `key:${key.id}`, "doc:roles", "tokens", `key:${key.id}`]);
        const versions = changes.map((c) => c.version);
        expect([...versions].sort((x, y) => x - y)).toEqual(versions);
        expect(await store.changes.latest()).toBe(versions[versions.length - 1]);
        expect((await store.changes.since(versions[2]!, 1)).changes.map((c) => c.scope)).toEqual(["tokens"]);
      });

      it("feeds nothing of a rolled-back transaction", async () => {
        const start = await store.changes.latest();
        await store
          .transaction(async (tx) => {
            await tx.policies.put({ name: "p", body: {}, createdAt: T0, updatedAt: T0 });
            throw new Error("no");
          })
          .catch(() => undefined);
        await store.policies.put({ name: "q", body: {}, createdAt: T0, updatedAt: T0 });
        expect((await store.changes.since(start, 10)).changes.map((c) => c.scope)).toEqual(["doc:policies"]);
      });

      it("prunes old changes but always keeps the newest", async () => {
        await store.meta.put("x", 1);
        await store.meta.put("x", 2);
        const latest = await store.changes.latest();
        await store.changes.prune(Date.now() + 60_000);
        expect(await store.changes.latest()).toBe(latest);
        expect((await store.changes.since(0, 10)).oldest).toBe(latest);
      });

      it("keeps each node's audit chain apart", async () => {
        await store.audit.append([
          { seq: 1, time: "2026-01-01T00:00:00.000Z", line: '{"seq":1}' },
          { seq: 2, time: "2026-01-01T00:00:01.000Z", line: '{"seq":2}' },
        ]);
        const chains = await store.audit.chains();
        expect(chains).toHaveLength(1);
        expect(await store.audit.listChain(chains[0]!, 1, 10)).toEqual([{ seq: 2, line: '{"seq":2}' }]);
        expect(await store.audit.listChain("some-other-node", 0, 10)).toEqual([]);
      });
    });

    if (options.reopen !== undefined) {
      const reopen = options.reopen;
      it("keeps committed data, and only committed data, across a reopen", async () => {
        const key = keyRow({ tags: { env: "prod" } });
        const version = versionRow(key.id, 1);
        const token = tokenRow({ expiresAt: T0 + HOUR });
        await store.transaction(async (tx) => {
          await tx.keys.insert(key);
          await tx.versions.insert(version);
          await tx.tokens.insert(token);
          await tx.meta.put("seal", { type: "shamir", threshold: 2 });
        });
        await store.versions.recordUse(key.id, 1, 4, T0 + 1);
        await store.transaction(async (tx) => {
          await tx.keys.insert(keyRow({ name: "rolled-back" }));
          throw new Error("no");
        }).catch(() => undefined);

        store = await reopen(store);
        await store.migrate();
        expect(await store.keys.get(key.id)).toEqual(key);
        expect(await store.keys.getByName("rolled-back")).toBeUndefined();
        // The use was flushed and never folded (a crash between flush and fold): kept, and
        // a fold after the restart moves it into the counter unchanged.
        expect(await store.versions.get(key.id, 1)).toEqual({ ...version, useCount: 4, lastUsedAt: T0 + 1 });
        await store.transaction((tx) => tx.versions.foldUses("", 0, 1000));
        expect(await store.versions.get(key.id, 1)).toEqual({ ...version, useCount: 4, lastUsedAt: T0 + 1 });
        expect(await store.tokens.getByAccessor(token.accessor)).toEqual(token);
        expect(await store.meta.get("seal")).toEqual({ type: "shamir", threshold: 2 });
      });
    }
  });
}

/**
 * `eraseDeleted()` as the destroy job calls it: again until it answers that nothing could have kept a
 * deleted row (false while another transaction of the database — on PostgreSQL also an autovacuum
 * worker's ANALYZE — holds a snapshot from before it began).
 */
async function eraseUntilDone(store: Store): Promise<boolean> {
  return until(() => store.eraseDeleted());
}

/** The lease holder's destroy-job run (`Eraser.retry`), again until nothing is owed (as `eraseUntilDone`). */
function retryUntilDone(eraser: Eraser): Promise<boolean> {
  return until(() => eraser.retry(true));
}

async function until(done: () => Promise<boolean>): Promise<boolean> {
  for (let attempt = 0; attempt < 50; attempt++) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return false;
}
