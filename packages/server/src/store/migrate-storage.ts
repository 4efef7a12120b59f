/**
 * `tessera operator migrate-storage --from sqlite:PATH --to postgres:URL`: the upgrade path from one
 * node to many. Copies every row of a (stopped) node's SQLite database into an empty PostgreSQL
 * database, table by table, column by column: both dialects describe the same schema at every
 * migration number (sqlite-migrations.ts, postgres-migrations.ts), so the copy is exact. Sealed
 * material is copied as the ciphertext it is — nothing is unsealed or decrypted on the way, and the
 * same unseal shares (or HSM seal) open the copy.
 *
 * Invariants:
 * - The target must hold no Tessera data (any copied table with a row is refused): a copy never
 *   merges into, or overwrites, a database nodes already use.
 * - One transaction: the target ends with all rows or none; row counts are compared per table before
 *   commit. The migration advisory lock is held throughout, so a node started against the target
 *   meanwhile waits instead of initialising a database of its own.
 * - Not copied: what is per process or per database, not state — the change feed (state_changes,
 *   rebuilt by the target's triggers), leases and the node registry.
 */
import { DatabaseSync } from "node:sqlite";
import pg from "pg";
import { MIGRATION_LOCK, runPostgresMigrations } from "./postgres-migrate.js";
import { PostgresStore, type PostgresStoreOptions } from "./postgres-store.js";
import { SqliteStore } from "./sqlite-store.js";

/** Per-database bookkeeping, rebuilt or re-made by the nodes on the target. */
const NOT_COPIED = new Set(["schema_migrations", "state_changes", "leases", "nodes"]);

export interface MigrateStorageResult {
  tables: { name: string; rows: number }[];
}

export class MigrateStorageError extends Error {
  override name = "MigrateStorageError";
}

type PgType = "boolean" | "bytea" | "integer" | "bigint" | "text";

/** Parameter conversion from SQLite's storage classes to the PostgreSQL column's type. */
function convert(value: unknown, type: PgType): unknown {
  if (value === null || value === undefined) return null;
  if (type === "boolean") return value !== 0 && value !== 0n;
  if (type === "bytea") return Buffer.from(value as Uint8Array);
  if (typeof value === "bigint") return value.toString();
  return value;
}

export async function migrateStorage(from: { sqlitePath: string }, to: PostgresStoreOptions): Promise<MigrateStorageResult> {
  // Brings the source to this version's schema (a no-op when the node ran this version), then reads it.
  await new SqliteStore({ path: from.sqlitePath }).close();
  const source = new DatabaseSync(from.sqlitePath, { readOnly: true });
  const store = new PostgresStore(to);
  const target = new pg.Client(store.clientConfig());
  // A connection lost mid-copy fails the query under way; without a listener it would also end the process.
  target.on("error", () => undefined);
  await store.close();
  try {
    await target.connect();
    await target.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
    await runPostgresMigrations(target);
    await target.query("SET statement_timeout = 0");

    const columns = await target.query<{ table_name: string; column_name: string; data_type: string }>(
      `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
         JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
        WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`,
    );
    const pgTables = new Map<string, Map<string, PgType>>();
    for (const c of columns.rows) {
      if (NOT_COPIED.has(c.table_name)) continue;
      if (!pgTables.has(c.table_name)) pgTables.set(c.table_name, new Map());
      pgTables.get(c.table_name)!.set(c.column_name, c.data_type as PgType);
    }
    const sqliteTables = (source.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as { name: string }[])
      .map((r) => r.name)
      .filter((n) => !NOT_COPIED.has(n));
    const missing = [...sqliteTables.filter((t) => !pgTables.has(t)), ...[...pgTables.keys()].filter((t) => !sqliteTables.includes(t))];
    if (missing.length > 0) throw new MigrateStorageError(`the two schemas differ (tables ${missing.join(", ")}); run the same Tessera version on both`);

    // Refuse a target that holds anything: never merge into a database nodes use.
    for (const table of pgTables.keys()) {
      if ((await target.query(`SELECT 1 FROM ${table} LIMIT 1`)).rowCount !== 0) {
        throw new MigrateStorageError(`the target database is not empty (table ${table} has rows); migrate into a new, empty database`);
      }
    }

    const result: MigrateStorageResult = { tables: [] };
    await target.query("BEGIN");
    try {
      // Parents before children (key_versions references keys).
      const order = [...pgTables.keys()].sort((a, b) => (a === "keys" ? -1 : b === "keys" ? 1 : a.localeCompare(b)));
      for (const table of order) {
        const types = pgTables.get(table)!;
        const sqliteColumns = (source.prepare(`SELECT name FROM pragma_table_info('${table}')`).all() as { name: string }[]).map((r) => r.name);
        const extra = sqliteColumns.filter((c) => !types.has(c));
        if (extra.length > 0) throw new MigrateStorageError(`the two schemas differ (${table}.${extra.join(`, ${table}.`)}); run the same Tessera version on both`);
        const names = sqliteColumns;
        const perStatement = Math.max(1, Math.floor(5000 / names.length));
        let copied = 0;
        let batch: unknown[][] = [];
        const flush = async () => {
          if (batch.length === 0) return;
          const params: unknown[] = [];
          const tuples = batch.map((row) => `(${row.map((v) => `$${params.push(v)}`).join(", ")})`);
          await target.query(`INSERT INTO ${table} (${names.join(", ")}) VALUES ${tuples.join(", ")}`, params);
          copied += batch.length;
          batch = [];
        };
        for (const row of source.prepare(`SELECT ${names.join(", ")} FROM ${table}`).iterate() as Iterable<Record<string, unknown>>) {
          batch.push(names.map((n) => convert(row[n], types.get(n)!)));
          if (batch.length >= perStatement) await flush();
        }
        await flush();
        const counted = Number((await target.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
        if (counted !== copied) throw new MigrateStorageError(`${table}: copied ${copied} rows but the target holds ${counted}`);
        result.tables.push({ name: table, rows: copied });
      }
      await target.query("COMMIT");
    } catch (err) {
      await target.query("ROLLBACK").catch(() => undefined);
      throw err;
    }
    result.tables.sort((a, b) => a.name.localeCompare(b.name));
    return result;
  } finally {
    source.close();
    await target.end().catch(() => undefined);
  }
}
