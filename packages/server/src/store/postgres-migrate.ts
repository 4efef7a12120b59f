/**
 * Applies PostgreSQL migrations. Several nodes may start at once against one database: a session
 * advisory lock makes them take turns, so each migration is applied exactly once (the second node
 * finds it recorded and skips it). Each migration commits with its record, or not at all.
 */
import type pg from "pg";
import { postgresMigrations } from "./postgres-migrations.js";

/** Arbitrary but fixed: the advisory lock every Tessera node takes to migrate ("tessera" in ASCII, truncated). */
export const MIGRATION_LOCK = 0x7465_7373_6572;

export async function runPostgresMigrations(client: pg.ClientBase, migrations: readonly { id: number; sql: string }[] = postgresMigrations): Promise<void> {
  // Waits for another node's migration to finish, however long it takes (not bound by lock_timeout,
  // which applies to table locks): the statement timeout is lifted for this session while it waits.
  await client.query("SET statement_timeout = 0");
  await client.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK]);
  try {
    await client.query("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)");
    const applied = new Set((await client.query<{ id: number }>("SELECT id FROM schema_migrations")).rows.map((r) => r.id));
    const known = new Set(migrations.map((m) => m.id));
    for (const id of applied) {
      if (!known.has(id)) throw new Error(`database schema version ${id} is newer than this Tessera; upgrade Tessera`);
    }
    for (const m of migrations) {
      if (applied.has(m.id)) continue;
      await client.query("BEGIN");
      try {
        await client.query(m.sql);
        await client.query("INSERT INTO schema_migrations (id, applied_at) VALUES ($1, $2)", [m.id, Date.now()]);
        await client.query("COMMIT");
      } catch (err) {
        await client.query("ROLLBACK").catch(() => undefined);
        throw err;
      }
    }
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK]).catch(() => undefined);
    await client.query("RESET statement_timeout").catch(() => undefined);
  }
}
