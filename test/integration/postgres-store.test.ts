/**
 * The store contract against a real PostgreSQL (the run's shared server): every test gets a fresh
 * database cloned from a migrated template. Plus what only PostgreSQL has: migrations under an
 * advisory lock when nodes start together, and errors that say the database is unavailable.
 */
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { PostgresStore } from "../../packages/server/src/store/postgres-store.js";
import { postgresMigrations } from "../../packages/server/src/store/postgres-migrations.js";
import { storeContract } from "../../packages/server/src/store/store-contract.js";
import type { Store } from "../../packages/server/src/store/store.js";
import { createDatabase, dropDatabase, sharedPostgres } from "../helpers/postgres.js";

const server = sharedPostgres();
const databases: string[] = [];
let template = "";

beforeAll(async () => {
  template = await createDatabase(server, "tpl");
  const store = new PostgresStore({ url: server.url(template), password: server.password });
  await store.migrate();
  await store.close();
});
afterAll(async () => {
  for (const name of [...databases, template]) await dropDatabase(server, name);
});

const names = new WeakMap<Store, string>();
/**
 * A fresh, empty, migrated store: the contract database with every table emptied (cheaper than a
 * database per test, which costs a checkpoint each).
 */
async function freshStore(): Promise<PostgresStore> {
  const store = new PostgresStore({ url: server.url(template), password: server.password, poolSize: 8 });
  await store.migrate();
  const tables = await store.pool.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'schema_migrations'");
  await store.pool.query(`TRUNCATE ${tables.rows.map((t) => t.tablename).join(", ")}`);
  names.set(store, template);
  return store;
}

storeContract("postgres", freshStore, {
  async reopen(store) {
    const name = names.get(store)!;
    await store.close();
    const reopened = new PostgresStore({ url: server.url(name), password: server.password });
    names.set(reopened, name);
    return reopened;
  },
  async rawFiles(store) {
    // The heap, TOAST and index files of the tables eraseDeleted() rewrites, after a checkpoint has
    // written every dirty page to them. (The WAL still holds destroyed rows: postgres-store.ts.)
    const pool = (store as PostgresStore).pool;
    await pool.query("CHECKPOINT");
    const r = await pool.query<{ path: string }>(`
      WITH t AS (SELECT oid, reltoastrelid FROM pg_class WHERE relname IN ('key_versions', 'access_keys', 'meta', 'secret_versions'))
      SELECT pg_relation_filepath(c.oid) AS path FROM pg_class c
      WHERE c.oid IN (SELECT oid FROM t UNION SELECT reltoastrelid FROM t WHERE reltoastrelid <> 0
                      UNION SELECT indexrelid FROM pg_index WHERE indrelid IN (SELECT oid FROM t UNION SELECT reltoastrelid FROM t))`);
    const files: Buffer[] = [];
    for (const { path } of r.rows) {
      for (const suffix of ["", ".1", "_fsm", "_vm"]) {
        const file = join(server.dataDir, path + suffix);
        if (existsSync(file)) files.push(readFileSync(file));
      }
    }
    expect(files.length).toBeGreaterThan(0);
    return files;
  },
});

describe("PostgresStore specifics", () => {
  it("applies each migration once when several nodes migrate one database at the same moment", async () => {
    const name = await createDatabase(server, "race");
    databases.push(name);
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ url: server.url(name), password: server.password, poolSize: 2 }));
    try {
      await Promise.all(stores.map((s) => s.migrate()));
      const applied = await stores[0]!.pool.query<{ id: number }>("SELECT id FROM schema_migrations ORDER BY id");
      expect(applied.rows.map((r) => r.id)).toEqual(postgresMigrations.map((m) => m.id));
    } finally {
      for (const s of stores) await s.close();
    }
  });

  it("an erase answers false while another session could still see destroyed rows: a snapshot, or a writing transaction idle between statements", async () => {
    const name = await createDatabase(server, "holders");
    databases.push(name);
    const store = new PostgresStore({ url: server.url(name), password: server.password });
    const withPassword = new URL(server.url(name));
    withPassword.password = encodeURIComponent(server.password);
    const other = new pg.Client({ connectionString: withPassword.toString() });
    const until = async (want: boolean) => {
      // Autovacuum's own workers hold snapshots now and then: ask a few times.
      for (let i = 0; i < 50; i++) if ((await store.eraseDeleted()) === want) return want;
      return !want;
    };
    try {
      await store.migrate();
      await other.connect();
      expect(await until(true)).toBe(true);
      // READ COMMITTED, idle between statements after a write: no snapshot (backend_xmin is null), but
      // its transaction id holds the horizon (the check before only looked at snapshots).
      await other.query("BEGIN");
      await other.query("CREATE TEMP TABLE scratch (x int); INSERT INTO scratch VALUES (1)");
      const pid = (await other.query<{ pid: number }>("SELECT pg_backend_pid() AS pid")).rows[0]!.pid;
      const row = await store.pool.query("SELECT backend_xmin, backend_xid FROM pg_stat_activity WHERE pid = $1", [pid]);
      expect(row.rows[0]).toMatchObject({ backend_xmin: null, backend_xid: expect.any(String) });
      // A destruction (any write) commits after that transaction began: its rows are what it holds back.
      await store.pool.query("SELECT pg_current_xact_id()");
      expect(await store.eraseDeleted()).toBe(false);
      await other.query("COMMIT");
      expect(await until(true)).toBe(true);
      // A snapshot from before the erase.
      await other.query("BEGIN ISOLATION LEVEL REPEATABLE READ");
      await other.query("SELECT 1");
      await store.pool.query("SELECT pg_current_xact_id()");
      expect(await store.eraseDeleted()).toBe(false);
      await other.query("COMMIT");
      expect(await until(true)).toBe(true);
    } finally {
      await other.end().catch(() => undefined);
      await store.close();
    }
  });

  it("refuses a database whose schema is newer than this Tessera", async () => {
    const name = await createDatabase(server, "newer");
    databases.push(name);
    const store = new PostgresStore({ url: server.url(name), password: server.password });
    try {
      await store.migrate();
      await store.pool.query("INSERT INTO schema_migrations (id, applied_at) VALUES (9999, 0)");
      await expect(store.migrate()).rejects.toThrow(/schema version 9999 is newer/);
    } finally {
      await store.close();
    }
  });

  it("answers Unavailable, not a hang, when the database cannot be reached", async () => {
    // A port nothing listens on: the connection is refused at once.
    const store = new PostgresStore({ url: `postgres://tessera@127.0.0.1:1/none`, password: "x", timeoutMs: 1000 });
    try {
      const err = await store.keys.get("x").catch((e: unknown) => e);
      expect(err).toBeInstanceOf(TesseraError);
      expect((err as TesseraError).code).toBe("Unavailable");
    } finally {
      await store.close();
    }
  });

  it("refuses a wrong password as Unavailable naming no secret", async () => {
    const store = new PostgresStore({ url: server.url(template), password: "wrong-password", timeoutMs: 2000 });
    try {
      const err = await store.keys.get("x").catch((e: unknown) => e);
      expect((err as Error).message).not.toContain("wrong-password");
      expect(err).toBeInstanceOf(Error);
    } finally {
      await store.close();
    }
  });
});
