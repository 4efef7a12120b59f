import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  rawFiles(store) {
    const path = paths.get(store)!;
    return [path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => readFileSync(p));
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

  it("binds existing certificate tokens to their serial and claims enrolled VM ids when upgrading", async () => {
    const path = join(dir, "upgrade-identity.db");
    const old = new DatabaseSync(path);
    old.exec("CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (const m of sqliteMigrations.filter((m) => m.id <= 5)) {
      old.exec(m.sql);
      old.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(m.id, 0);
    }
    const cert = old.prepare("INSERT INTO certificates (serial, vm_id, role, not_before, not_after, revoked_at, created_at) VALUES (?, ?, 'r', 0, 9e12, ?, ?)");
    cert.run("0a", "vm-live", null, 5);
    cert.run("0b", "vm-live", null, 3);
    cert.run("0c", "vm-gone", 7, 1);
    const token = old.prepare(
      "INSERT INTO tokens (hash, accessor, display_name, root, grants, created_at, expires_at, kind, role, auth_method, attributes, subject) VALUES (?, ?, 'vm', 0, '[]', 0, 9e12, 'vm', 'r', ?, ?, ?)",
    );
    token.run("h1", "a-live", "cert", JSON.stringify({ vm_id: "vm-live", serial: "0a" }), "vm-live");
    token.run("h2", "a-revoked", "cert", JSON.stringify({ vm_id: "vm-gone", serial: "0c" }), "vm-gone");
    token.run("h3", "a-approle", "approle", "{}", null);
    old.close();

    const store = track(new SqliteStore({ path }));
    expect((await store.tokens.getByAccessor("a-live"))?.certificateSerial).toBe("0a");
    // A token of a certificate revoked before the upgrade should have died with it.
    expect(await store.tokens.getByAccessor("a-revoked")).toBeUndefined();
    expect((await store.tokens.getByAccessor("a-approle"))?.certificateSerial).toBeNull();
    expect(await store.tokens.deleteByCertificate("0a")).toBe(1);
    // Every VM id that had a certificate is claimed, revoked or not.
    const cert2 = (vmId: string) => ({ serial: `n-${vmId}`, vmId, role: "r", notBefore: 0, notAfter: 1, revokedAt: null, createdAt: 9 });
    expect(await store.certificates.claimAndInsert(cert2("vm-live"))).toBe(false);
    expect(await store.certificates.claimAndInsert(cert2("vm-gone"))).toBe(false);
    expect(await store.certificates.claimAndInsert(cert2("vm-new"))).toBe(true);
  });

  it("renames AES_256 keys to SYMMETRIC_DEFAULT with usage ENCRYPT_DECRYPT when upgrading to key specs", async () => {
    const path = join(dir, "upgrade-key-specs.db");
    const old = new DatabaseSync(path);
    old.exec("CREATE TABLE schema_migrations (id INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    for (const m of sqliteMigrations.filter((m) => m.id <= 7)) {
      old.exec(m.sql);
      old.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(m.id, 0);
    }
    old
      .prepare(
        "INSERT INTO keys (id, name, description, tags, key_spec, state, derived, exportable, created_at, primary_version, min_decryption_version, last_rotated_at, revision) VALUES (?, 'old', '', '{}', 'AES_256', 'Enabled', 0, 0, 1, 1, 1, 1, 1)",
      )
      .run("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11");
    old.close();

    const store = track(new SqliteStore({ path }));
    expect(await store.keys.get("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11")).toMatchObject({ keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT" });
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
