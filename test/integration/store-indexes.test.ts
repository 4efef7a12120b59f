/**
 * Scale of state: the scheduled jobs' queries (rotation and destruction due, keys version retention
 * can act on) are answered from migration 14's indexes on both SQLite and PostgreSQL — not by
 * reading every key, which with a million keys held SQLite's one connection (and so every request)
 * for seconds on each unseal and every scheduler tick. Plans are read from a store of 20,000 keys
 * of which a few are due, as each database plans them without hints.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PostgresStore } from "../../packages/server/src/store/postgres-store.js";
import { SqliteStore } from "../../packages/server/src/store/sqlite-store.js";
import { KEY_SQL } from "../../packages/server/src/store/key-queries.js";
import { numbered } from "../../packages/server/src/store/postgres-sql.js";
import { createDatabase, dropDatabase, sharedPostgres } from "../helpers/postgres.js";

const KEYS = 20_000;
/** The index each statement must be answered from. */
const EXPECTED: Record<keyof typeof KEY_SQL, string> = {
  dueForRotation: "keys_rotation_due",
  dueForDeletion: "keys_deletion_due",
  rotatedFirst: "keys_rotated",
  rotatedAfter: "keys_rotated",
};
const ARGS: Record<keyof typeof KEY_SQL, unknown[]> = {
  dueForRotation: [1_000],
  dueForDeletion: [1_000],
  rotatedFirst: [500],
  rotatedAfter: ["00000000-0000-4000-8000-000000000000", 500],
};

/**
 * KEYS keys, as a bulk creation leaves them: most enabled with no rotation period and one version;
 * every 100th rotates yearly, every 1000th is pending deletion, every 500th has a second version.
 * (`n` runs 1..KEYS; ids are UUID-shaped and unique.)
 */
const fill = (series: string) => `
  INSERT INTO keys (id, name, description, tags, key_spec, key_usage, origin, state, prior_state, derived, exportable, created_at,
                    primary_version, min_decryption_version, rotation_period_seconds, last_rotated_at, deletion_date, destroyed_at, revision)
  SELECT printf_id, 'k' || n, '', '{}', 'SYMMETRIC_DEFAULT', 'ENCRYPT_DECRYPT', 'TESSERA',
         CASE WHEN n % 1000 = 0 THEN 'PendingDeletion' ELSE 'Enabled' END,
         CASE WHEN n % 1000 = 0 THEN 'Enabled' END, FALSE, FALSE, n,
         CASE WHEN n % 500 = 0 THEN 2 ELSE 1 END, 1,
         CASE WHEN n % 100 = 0 THEN 31536000 END, n,
         CASE WHEN n % 1000 = 0 THEN 1000000 + n END, NULL, 1
  FROM ${series}`;

describe("SQLite answers the scheduled jobs' queries from indexes", () => {
  let dir: string;
  let db: DatabaseSync;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-indexes-"));
    const store = new SqliteStore({ path: join(dir, "t.db") });
    await store.migrate();
    await store.close();
    db = new DatabaseSync(join(dir, "t.db"));
    db.exec("BEGIN");
    db.exec(
      fill(`(WITH RECURSIVE s(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM s WHERE n < ${KEYS})
             SELECT n, printf('%08x-0000-4000-8000-%012x', n, n) AS printf_id FROM s)`),
    );
    db.exec("COMMIT");
  });
  afterAll(() => {
    db?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  for (const name of Object.keys(EXPECTED) as (keyof typeof KEY_SQL)[]) {
    it(`${name} searches index ${EXPECTED[name]} and scans no table`, () => {
      const plan = (db.prepare(`EXPLAIN QUERY PLAN ${KEY_SQL[name]}`).all(...(ARGS[name] as never[])) as { detail: string }[]).map((r) => r.detail);
      expect(plan.some((d) => d.includes(`USING INDEX ${EXPECTED[name]}`))).toBe(true);
      expect(plan.filter((d) => d.startsWith("SCAN keys") && !d.includes(EXPECTED[name]))).toEqual([]);
    });
  }

  it("finds the due keys among them (the seeded rows are well formed)", () => {
    const due = db.prepare(KEY_SQL.dueForDeletion).all(Number.MAX_SAFE_INTEGER) as { id: string }[];
    expect(due).toHaveLength(KEYS / 1000);
    expect(db.prepare(KEY_SQL.rotatedFirst).all(1000)).toHaveLength(KEYS / 500);
  });
});

describe("PostgreSQL answers the scheduled jobs' queries from indexes", () => {
  const server = sharedPostgres();
  let database = "";
  let store: PostgresStore;
  beforeAll(async () => {
    database = await createDatabase(server, "idx");
    store = new PostgresStore({ url: server.url(database), password: server.password });
    await store.migrate();
    await store.pool.query(fill(`(SELECT n, lpad(to_hex(n), 8, '0') || '-0000-4000-8000-' || lpad(to_hex(n), 12, '0') AS printf_id FROM generate_series(1, ${KEYS}) AS n) s`));
    // As autovacuum would after a bulk load: the planner's statistics.
    await store.pool.query("ANALYZE keys");
  });
  afterAll(async () => {
    await store?.close();
    if (database !== "") await dropDatabase(server, database);
  });

  for (const name of Object.keys(EXPECTED) as (keyof typeof KEY_SQL)[]) {
    it(`${name} uses index ${EXPECTED[name]} and scans no table`, async () => {
      const text = numbered(KEY_SQL[name]).replace(/\$(\d+)/g, (_, i: string) => {
        const v = ARGS[name][Number(i) - 1];
        return typeof v === "string" ? `'${v}'` : String(v);
      });
      const plan = (await store.pool.query<{ "QUERY PLAN": string }>(`EXPLAIN ${text}`)).rows.map((r) => r["QUERY PLAN"]).join("\n");
      expect(plan).toContain(EXPECTED[name]);
      expect(plan).not.toMatch(/Seq Scan on keys/);
    });
  }
});
