/** Version retention's tables on SQLite and PostgreSQL (store.ts RetentionRepo; migration 12). */
import type { DatabaseSync } from "node:sqlite";
import type { KeyRetentionRow, RetentionRepo, VersionRetentionRow, VersionUserRow } from "./store.js";
import { numberedAll, type PgRunner } from "./postgres-sql.js";

type PolicyRec = { key_id: string; disable_after: number; destroy_after: number; keep_at_least: number };
type VersionRec = { key_id: string; version: number; disabled_at: number | null; destroy_at: number | null; restarted_at: number | null; alerted_at: number | null };
type UserRec = { key_id: string; version: number; principal: string; source: string; uses: number; refused: number; last_at: number };

const n = (v: number | null): number | null => (v === null ? null : Number(v));
const policy = (r: PolicyRec): KeyRetentionRow => ({ keyId: r.key_id, disableAfterSeconds: Number(r.disable_after), destroyAfterSeconds: Number(r.destroy_after), keepAtLeast: Number(r.keep_at_least) });
const version = (r: VersionRec): VersionRetentionRow => ({ keyId: r.key_id, version: Number(r.version), disabledAt: n(r.disabled_at), destroyAt: n(r.destroy_at), restartedAt: n(r.restarted_at), alertedAt: n(r.alerted_at) });
const user = (r: UserRec): VersionUserRow => ({ keyId: r.key_id, version: Number(r.version), principal: r.principal, source: r.source, uses: Number(r.uses), refused: Number(r.refused), lastAt: Number(r.last_at) });

/** The statements, in `?` placeholders; PostgreSQL's adapter numbers them. Both dialects take the same SQL otherwise. */
export const RETENTION_SQL = Object.freeze({
  policyGet: `SELECT * FROM key_retention WHERE key_id = ?`,
  policyPut: `INSERT INTO key_retention (key_id, disable_after, destroy_after, keep_at_least) VALUES (?, ?, ?, ?)
              ON CONFLICT (key_id) DO UPDATE SET disable_after = excluded.disable_after, destroy_after = excluded.destroy_after, keep_at_least = excluded.keep_at_least`,
  policyDelete: `DELETE FROM key_retention WHERE key_id = ?`,
  policyList: `SELECT * FROM key_retention ORDER BY key_id`,
  versionList: `SELECT * FROM version_retention WHERE key_id = ? ORDER BY version`,
  versionPut: `INSERT INTO version_retention (key_id, version, disabled_at, destroy_at, restarted_at, alerted_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (key_id, version) DO UPDATE SET disabled_at = excluded.disabled_at, destroy_at = excluded.destroy_at, restarted_at = excluded.restarted_at, alerted_at = excluded.alerted_at`,
  userAdd: `INSERT INTO version_users (key_id, version, principal, source, uses, refused, last_at) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (key_id, version, principal, source) DO UPDATE SET uses = version_users.uses + excluded.uses,
              refused = version_users.refused + excluded.refused,
              last_at = CASE WHEN excluded.last_at > version_users.last_at THEN excluded.last_at ELSE version_users.last_at END`,
  userList: `SELECT * FROM version_users WHERE key_id = ? ORDER BY version, last_at DESC`,
});

export const retentionRows = { policy, version, user };

export function sqliteRetentionRepo(db: DatabaseSync): RetentionRepo {
  const q = Object.fromEntries(Object.entries(RETENTION_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<keyof typeof RETENTION_SQL, ReturnType<DatabaseSync["prepare"]>>;
  return {
    async getPolicy(keyId) {
      const r = q.policyGet.get(keyId) as PolicyRec | undefined;
      return r && policy(r);
    },
    async putPolicy(p) {
      q.policyPut.run(p.keyId, p.disableAfterSeconds, p.destroyAfterSeconds, p.keepAtLeast);
    },
    async deletePolicy(keyId) {
      return q.policyDelete.run(keyId).changes > 0;
    },
    async listPolicies() {
      return (q.policyList.all() as PolicyRec[]).map(policy);
    },
    async listVersions(keyId) {
      return (q.versionList.all(keyId) as VersionRec[]).map(version);
    },
    async putVersion(v) {
      q.versionPut.run(v.keyId, v.version, v.disabledAt, v.destroyAt, v.restartedAt, v.alertedAt);
    },
    async addUses(rows) {
      for (const u of rows) q.userAdd.run(u.keyId, u.version, u.principal, u.source, u.uses, u.refused, u.lastAt);
    },
    async users(keyId) {
      return (q.userList.all(keyId) as UserRec[]).map(user);
    },
  };
}

export function postgresRetentionRepo(run: PgRunner): RetentionRepo {
  const sql = numberedAll(RETENTION_SQL);
  const query = <R extends Record<string, unknown>>(name: keyof typeof RETENTION_SQL, values: unknown[]) => run.query<R>(`retention_${name}`, sql[name], values);
  return {
    async getPolicy(keyId) {
      const r = (await query<PolicyRec>("policyGet", [keyId])).rows[0];
      return r && policy(r);
    },
    async putPolicy(p) {
      await query("policyPut", [p.keyId, p.disableAfterSeconds, p.destroyAfterSeconds, p.keepAtLeast]);
    },
    async deletePolicy(keyId) {
      return ((await query("policyDelete", [keyId])).rowCount ?? 0) > 0;
    },
    async listPolicies() {
      return (await query<PolicyRec>("policyList", [])).rows.map(policy);
    },
    async listVersions(keyId) {
      return (await query<VersionRec>("versionList", [keyId])).rows.map(version);
    },
    async putVersion(v) {
      await query("versionPut", [v.keyId, v.version, v.disabledAt, v.destroyAt, v.restartedAt, v.alertedAt]);
    },
    async addUses(rows) {
      for (const u of rows) await query("userAdd", [u.keyId, u.version, u.principal, u.source, u.uses, u.refused, u.lastAt]);
    },
    async users(keyId) {
      return (await query<UserRec>("userList", [keyId])).rows.map(user);
    },
  };
}
