import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "./sqlite-store.js";
import { sqliteMigrations } from "./sqlite-migrations.js";
import { keyRow, storeContract, versionRow } from "./store-contract.js";
import type { Store } from "./store.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-sqlite-store-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let counter = 0;
const paths = new WeakMap<Store, string>();
function fileStore(): SqliteStore {
  const path = join(dir, `store-${process.pid}-${counter++}.db`);
  const store = new SqliteStore({ path });
  paths.set(store, path);
  return store;
}

storeContract("sqlite (in memory)", () => new SqliteStore({ path: ":memory:" }));

storeContract("sqlite (file)", fileStore, {
  async reopen(store) {
    const path = paths.get(store)!;
    await store.close();
    const reopened = new SqliteStore({ path });
    paths.set(reopened, path);
    return reopened;
  },
});

describe("SqliteStore specifics", () => {
  const open: Store[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.close();
  });
  const track = <S extends Store>(s: S): S => {
    open.push(s);
    return s;
  };

  it("puts a file database in WAL mode and records each migration once", async () => {
    const path = join(dir, "wal.db");
    await new SqliteStore({ path }).close();
    await new SqliteStore({ path }).close();
    const db = new DatabaseSync(path, { readOnly: true });
    try {
      expect(db.prepare("PRAGMA journal_mode").get()).toEqual(expect.objectContaining({ journal_mode: "wal" }));
      const applied = db.prepare("SELECT id FROM schema_migrations ORDER BY id").all() as unknown as { id: number }[];
      expect(applied.map((r) => r.id)).toEqual(sqliteMigrations.map((m) => m.id));
    } finally {
      db.close();
    }
  });

  it("refuses to open a database migrated by a newer Tessera", async () => {
    const path = join(dir, "newer.db");
    await new SqliteStore({ path }).close();
    const db = new DatabaseSync(path);
    db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(9999, Date.now());
    db.close();
    expect(() => new SqliteStore({ path })).toThrow(/newer/);
  });

  it("migrate() is safe to call on every start", async () => {
    const store = track(new SqliteStore({ path: ":memory:" }));
    await store.migrate();
    await store.migrate();
    await store.keys.insert(keyRow());
    expect(await store.keys.list(10)).toHaveLength(1);
  });

  it("enforces that a version belongs to an existing key", async () => {
    const store = track(new SqliteStore({ path: ":memory:" }));
    // SQLITE_CONSTRAINT_FOREIGNKEY (787): the row is refused by the database itself.
    await expect(store.versions.insert(versionRow("00000000-0000-4000-8000-000000000000", 1))).rejects.toMatchObject({ errcode: 787 });
  });

  it("sees data committed through another connection to the same file", async () => {
    const path = join(dir, "two-connections.db");
    const a = track(new SqliteStore({ path }));
    const b = track(new SqliteStore({ path }));
    const key = keyRow();
    await a.transaction(async (tx) => tx.keys.insert(key));
    expect(await b.keys.get(key.id)).toEqual(key);
  });
});
