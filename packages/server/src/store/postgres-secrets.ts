/** The secrets store's tables on PostgreSQL (store.ts SecretRepo; migration 11). */
import { TesseraError } from "@tessera/protocol";
import { mountRow, pathRow, prefixEnd, versionInfo } from "./sqlite-secrets.js";
import type { SecretRepo } from "./store.js";
import { type PgRunner } from "./postgres-sql.js";

export function postgresSecretRepo(run: PgRunner): SecretRepo {
  const count = async (name: string, text: string, values: unknown[]) => (await run.query(name, text, values)).rowCount ?? 0;
  const infoCols = "mount, path, version, created_at, deleted_at, read_count, last_read_at, last_reader, (sealed IS NULL) AS destroyed";
  return {
    async getMount(mount) {
      const r = await run.query("secret_mount_get", `SELECT * FROM secret_mounts WHERE mount = $1`, [mount]);
      return r.rows[0] && mountRow(r.rows[0] as Parameters<typeof mountRow>[0]);
    },
    async insertMount(m) {
      const n = await count(
        "secret_mount_insert",
        `INSERT INTO secret_mounts (mount, key_id, max_versions, cas_required, delete_version_after, created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`,
        [m.mount, m.keyId, m.maxVersions, m.casRequired, m.deleteVersionAfterSeconds, m.createdAt],
      );
      if (n === 0) throw new TesseraError("AlreadyExists", `secrets mount ${m.mount} already exists`);
    },
    async updateMount(m) {
      await run.query(
        "secret_mount_update",
        `UPDATE secret_mounts SET key_id = $2, max_versions = $3, cas_required = $4, delete_version_after = $5 WHERE mount = $1`,
        [m.mount, m.keyId, m.maxVersions, m.casRequired, m.deleteVersionAfterSeconds],
      );
    },
    async getPath(mount, path) {
      const r = await run.query("secret_path_get", `SELECT * FROM secret_paths WHERE mount = $1 AND path = $2`, [mount, path]);
      return r.rows[0] && pathRow(r.rows[0] as Parameters<typeof pathRow>[0]);
    },
    async insertPath(p) {
      const n = await count(
        "secret_path_insert",
        `INSERT INTO secret_paths (mount, path, current_version, oldest_version, max_versions, cas_required, delete_version_after, custom_metadata, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT DO NOTHING`,
        [p.mount, p.path, p.currentVersion, p.oldestVersion, p.maxVersions, p.casRequired, p.deleteVersionAfterSeconds, JSON.stringify(p.customMetadata), p.createdAt, p.updatedAt],
      );
      if (n === 0) throw new TesseraError("AlreadyExists", `secret ${p.mount}/${p.path} already exists`);
    },
    async updatePath(p, expectedCurrent) {
      const n = await count(
        "secret_path_update",
        `UPDATE secret_paths SET current_version = $3, oldest_version = $4, max_versions = $5, cas_required = $6, delete_version_after = $7, custom_metadata = $8, updated_at = $9
         WHERE mount = $1 AND path = $2 AND current_version = $10`,
        [p.mount, p.path, p.currentVersion, p.oldestVersion, p.maxVersions, p.casRequired, p.deleteVersionAfterSeconds, JSON.stringify(p.customMetadata), p.updatedAt, expectedCurrent],
      );
      return n === 1;
    },
    async deletePath(mount, path) {
      await run.query("secret_versions_delete_all", `DELETE FROM secret_versions WHERE mount = $1 AND path = $2`, [mount, path]);
      return (await count("secret_path_delete", `DELETE FROM secret_paths WHERE mount = $1 AND path = $2`, [mount, path])) > 0;
    },
    async listPaths(mount, prefix, limit) {
      const r = await run.query<{ path: string }>(
        "secret_path_list",
        `SELECT path FROM secret_paths WHERE mount = $1 AND path >= $2 AND path < $3 ORDER BY path LIMIT $4`,
        [mount, prefix, prefixEnd(prefix), limit],
      );
      return r.rows.map((x) => x.path);
    },
    async insertVersion(v) {
      await run.query(
        "secret_version_insert",
        `INSERT INTO secret_versions (mount, path, version, created_at, deleted_at, wrapped_key, sealed, read_count, last_read_at, last_reader) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [v.mount, v.path, v.version, v.createdAt, v.deletedAt, v.wrappedKey, v.sealed, v.readCount, v.lastReadAt, v.lastReader],
      );
    },
    async getVersion(mount, path, version) {
      const r = await run.query("secret_version_get", `SELECT * FROM secret_versions WHERE mount = $1 AND path = $2 AND version = $3`, [mount, path, version]);
      const rec = r.rows[0] as (Parameters<typeof versionInfo>[0] & { wrapped_key: Buffer | null; sealed: Buffer | null }) | undefined;
      if (rec === undefined) return undefined;
      const { destroyed: _destroyed, ...info } = versionInfo(rec);
      return { ...info, wrappedKey: rec.wrapped_key, sealed: rec.sealed };
    },
    async listVersions(mount, path) {
      const r = await run.query("secret_version_list", `SELECT ${infoCols} FROM secret_versions WHERE mount = $1 AND path = $2 ORDER BY version`, [mount, path]);
      return r.rows.map((x) => versionInfo(x as Parameters<typeof versionInfo>[0]));
    },
    async setDeleted(mount, path, version, deletedAt) {
      return (await count("secret_version_deleted", `UPDATE secret_versions SET deleted_at = $4 WHERE mount = $1 AND path = $2 AND version = $3 AND sealed IS NOT NULL`, [mount, path, version, deletedAt])) > 0;
    },
    async destroyVersion(mount, path, version) {
      return (await count("secret_version_destroy", `UPDATE secret_versions SET wrapped_key = NULL, sealed = NULL WHERE mount = $1 AND path = $2 AND version = $3 AND sealed IS NOT NULL`, [mount, path, version])) > 0;
    },
    async rewrapKey(mount, path, version, expected, wrappedKey) {
      return (await count("secret_version_rewrap", `UPDATE secret_versions SET wrapped_key = $5 WHERE mount = $1 AND path = $2 AND version = $3 AND wrapped_key = $4`, [mount, path, version, expected, wrappedKey])) === 1;
    },
    async recordRead(mount, path, version, at, reader) {
      await run.query(
        "secret_version_read",
        `UPDATE secret_versions SET read_count = read_count + 1, last_read_at = $4, last_reader = $5 WHERE mount = $1 AND path = $2 AND version = $3`,
        [mount, path, version, at, reader],
      );
    },
    deleteVersionsBelow: (mount, path, version) => count("secret_versions_trim", `DELETE FROM secret_versions WHERE mount = $1 AND path = $2 AND version < $3`, [mount, path, version]),
  };
}
