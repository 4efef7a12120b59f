/** The secrets store's tables on SQLite (store.ts SecretRepo; migration 11). */
import type { DatabaseSync } from "node:sqlite";
import { TesseraError } from "@tessera/protocol";
import type { SecretMountRow, SecretPathRow, SecretRepo, SecretVersionInfo, SecretVersionRow } from "./store.js";

type MountRec = { mount: string; key_id: string; max_versions: number; cas_required: number; delete_version_after: number; created_at: number };
type PathRec = {
  mount: string;
  path: string;
  current_version: number;
  oldest_version: number;
  max_versions: number;
  cas_required: number;
  delete_version_after: number;
  custom_metadata: string;
  created_at: number;
  updated_at: number;
};
type VersionRec = {
  mount: string;
  path: string;
  version: number;
  created_at: number;
  deleted_at: number | null;
  wrapped_key?: Uint8Array | null;
  sealed?: Uint8Array | null;
  read_count: number;
  last_read_at: number | null;
  last_reader: string | null;
  destroyed?: number | boolean;
};

const buf = (b: Uint8Array | null | undefined): Buffer | null => (b == null ? null : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export const mountRow = (r: MountRec): SecretMountRow => ({
  mount: r.mount,
  keyId: r.key_id,
  maxVersions: Number(r.max_versions),
  casRequired: Boolean(r.cas_required),
  deleteVersionAfterSeconds: Number(r.delete_version_after),
  createdAt: Number(r.created_at),
});

export const pathRow = (r: PathRec): SecretPathRow => ({
  mount: r.mount,
  path: r.path,
  currentVersion: Number(r.current_version),
  oldestVersion: Number(r.oldest_version),
  maxVersions: Number(r.max_versions),
  casRequired: Boolean(r.cas_required),
  deleteVersionAfterSeconds: Number(r.delete_version_after),
  customMetadata: JSON.parse(r.custom_metadata) as Record<string, string>,
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

export const versionInfo = (r: VersionRec): SecretVersionInfo => ({
  mount: r.mount,
  path: r.path,
  version: Number(r.version),
  createdAt: Number(r.created_at),
  deletedAt: r.deleted_at === null ? null : Number(r.deleted_at),
  readCount: Number(r.read_count),
  lastReadAt: r.last_read_at === null ? null : Number(r.last_read_at),
  lastReader: r.last_reader,
  destroyed: r.destroyed === undefined ? r.sealed == null : Boolean(r.destroyed),
});

function versionRow(r: VersionRec): SecretVersionRow {
  const { destroyed: _destroyed, ...info } = versionInfo(r);
  return { ...info, wrappedKey: buf(r.wrapped_key), sealed: buf(r.sealed) };
}

/** The end of a prefix range: paths are ASCII below DEL (protocol SECRET_SEGMENT), so prefix‖DEL is above all of them. */
export const prefixEnd = (prefix: string): string => prefix + "\u007f";

export function sqliteSecretRepo(db: DatabaseSync): SecretRepo {
  const infoCols = "mount, path, version, created_at, deleted_at, read_count, last_read_at, last_reader, (sealed IS NULL) AS destroyed";
  const q = {
    mountGet: db.prepare(`SELECT * FROM secret_mounts WHERE mount = ?`),
    mountInsert: db.prepare(
      `INSERT INTO secret_mounts (mount, key_id, max_versions, cas_required, delete_version_after, created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    mountUpdate: db.prepare(`UPDATE secret_mounts SET key_id = ?, max_versions = ?, cas_required = ?, delete_version_after = ? WHERE mount = ?`),
    pathGet: db.prepare(`SELECT * FROM secret_paths WHERE mount = ? AND path = ?`),
    pathInsert: db.prepare(
      `INSERT INTO secret_paths (mount, path, current_version, oldest_version, max_versions, cas_required, delete_version_after, custom_metadata, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
    ),
    pathUpdate: db.prepare(
      `UPDATE secret_paths SET current_version = ?, oldest_version = ?, max_versions = ?, cas_required = ?, delete_version_after = ?, custom_metadata = ?, updated_at = ?
       WHERE mount = ? AND path = ? AND current_version = ?`,
    ),
    pathDelete: db.prepare(`DELETE FROM secret_paths WHERE mount = ? AND path = ?`),
    versionsDeleteAll: db.prepare(`DELETE FROM secret_versions WHERE mount = ? AND path = ?`),
    pathList: db.prepare(`SELECT path FROM secret_paths WHERE mount = ? AND path >= ? AND path < ? ORDER BY path LIMIT ?`),
    versionInsert: db.prepare(
      `INSERT INTO secret_versions (mount, path, version, created_at, deleted_at, wrapped_key, sealed, read_count, last_read_at, last_reader) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    versionGet: db.prepare(`SELECT * FROM secret_versions WHERE mount = ? AND path = ? AND version = ?`),
    versionList: db.prepare(`SELECT ${infoCols} FROM secret_versions WHERE mount = ? AND path = ? ORDER BY version`),
    setDeleted: db.prepare(`UPDATE secret_versions SET deleted_at = ? WHERE mount = ? AND path = ? AND version = ? AND sealed IS NOT NULL`),
    destroy: db.prepare(`UPDATE secret_versions SET wrapped_key = NULL, sealed = NULL WHERE mount = ? AND path = ? AND version = ? AND sealed IS NOT NULL`),
    rewrap: db.prepare(`UPDATE secret_versions SET wrapped_key = ? WHERE mount = ? AND path = ? AND version = ? AND wrapped_key = ?`),
    read: db.prepare(`UPDATE secret_versions SET read_count = read_count + 1, last_read_at = ?, last_reader = ? WHERE mount = ? AND path = ? AND version = ?`),
    trim: db.prepare(`DELETE FROM secret_versions WHERE mount = ? AND path = ? AND version < ?`),
  };
  return {
    async getMount(mount) {
      const r = q.mountGet.get(mount) as MountRec | undefined;
      return r && mountRow(r);
    },
    async insertMount(m) {
      const done = q.mountInsert.run(m.mount, m.keyId, m.maxVersions, m.casRequired ? 1 : 0, m.deleteVersionAfterSeconds, m.createdAt);
      if (done.changes === 0) throw new TesseraError("AlreadyExists", `secrets mount ${m.mount} already exists`);
    },
    async updateMount(m) {
      q.mountUpdate.run(m.keyId, m.maxVersions, m.casRequired ? 1 : 0, m.deleteVersionAfterSeconds, m.mount);
    },
    async getPath(mount, path) {
      const r = q.pathGet.get(mount, path) as PathRec | undefined;
      return r && pathRow(r);
    },
    async insertPath(p) {
      const done = q.pathInsert.run(
        p.mount,
        p.path,
        p.currentVersion,
        p.oldestVersion,
        p.maxVersions,
        p.casRequired ? 1 : 0,
        p.deleteVersionAfterSeconds,
        JSON.stringify(p.customMetadata),
        p.createdAt,
        p.updatedAt,
      );
      if (done.changes === 0) throw new TesseraError("AlreadyExists", `secret ${p.mount}/${p.path} already exists`);
    },
    async updatePath(p, expectedCurrent) {
      const done = q.pathUpdate.run(
        p.currentVersion,
        p.oldestVersion,
        p.maxVersions,
        p.casRequired ? 1 : 0,
        p.deleteVersionAfterSeconds,
        JSON.stringify(p.customMetadata),
        p.updatedAt,
        p.mount,
        p.path,
        expectedCurrent,
      );
      return done.changes === 1;
    },
    async deletePath(mount, path) {
      q.versionsDeleteAll.run(mount, path);
      return q.pathDelete.run(mount, path).changes > 0;
    },
    async listPaths(mount, prefix, limit) {
      return (q.pathList.all(mount, prefix, prefixEnd(prefix), limit) as { path: string }[]).map((r) => r.path);
    },
    async insertVersion(v) {
      q.versionInsert.run(v.mount, v.path, v.version, v.createdAt, v.deletedAt, v.wrappedKey, v.sealed, v.readCount, v.lastReadAt, v.lastReader);
    },
    async getVersion(mount, path, version) {
      const r = q.versionGet.get(mount, path, version) as VersionRec | undefined;
      return r && versionRow(r);
    },
    async listVersions(mount, path) {
      return (q.versionList.all(mount, path) as VersionRec[]).map(versionInfo);
    },
    async setDeleted(mount, path, version, deletedAt) {
      return q.setDeleted.run(deletedAt, mount, path, version).changes > 0;
    },
    async destroyVersion(mount, path, version) {
      return q.destroy.run(mount, path, version).changes > 0;
    },
    async rewrapKey(mount, path, version, expected, wrappedKey) {
      return q.rewrap.run(wrappedKey, mount, path, version, expected).changes === 1;
    },
    async recordRead(mount, path, version, at, reader) {
      q.read.run(at, reader, mount, path, version);
    },
    async deleteVersionsBelow(mount, path, version) {
      return Number(q.trim.run(mount, path, version).changes);
    },
  };
}
