/**
 * Embedded SQLite store (Node's built-in `node:sqlite`, WAL, synchronous=FULL so an acknowledged
 * commit survives a crash or power loss; secure_delete=ON so deleted and overwritten content is
 * zeroed in the page instead of left in its free space — the WAL's older frames still hold it until
 * `eraseDeleted()` resets the log). One connection per process; `node:sqlite` is synchronous,
 * so async transactions are serialised by a queue: while one transaction is open no other statement
 * runs on the connection. The file itself is guarded by SQLite's own locking against other processes.
 */
import { DatabaseSync } from "node:sqlite";
import { TesseraError } from "@tessera/protocol";
import type {
  AccessKeyRepo,
  AliasRepo,
  SecretRepo,
  RetentionRepo,
  GrantRepo,
  AlertRepo,
  AlertRow,
  AuditRepo,
  CertificateRepo,
  ChangeFeed,
  CertificateRow,
  DocumentRepo,
  KeyRepo,
  KeyRow,
  LeaseRepo,
  LeaseRow,
  MetaRepo,
  NodeRepo,
  NodeRow,
  Repositories,
  SpendableRepo,
  SpendableRow,
  Store,
  SnapshotRow,
  StoreSnapshot,
  TokenRepo,
  TokenRow,
  VersionRepo,
  VersionRow,
} from "./store.js";
import { sqliteMigrations } from "./sqlite-migrations.js";
import { KEY_COLUMNS, KEY_SQL } from "./key-queries.js";
import { sqliteSecretRepo } from "./sqlite-secrets.js";
import { sqliteRetentionRepo } from "./retention-repos.js";
import { sqliteGrantRepo } from "./sqlite-grants.js";

type Db = DatabaseSync;

/** BLOB columns come back as Uint8Array; the rest of the server works with Buffers (zeroable, base64). */
const blob = (v: Uint8Array): Buffer => Buffer.from(v.buffer, v.byteOffset, v.byteLength);

interface KeyRecord {
  id: string;
  name: string;
  description: string;
  tags: string;
  key_spec: string;
  key_usage: string;
  origin: string;
  state: string;
  prior_state: string | null;
  derived: number;
  convergent: number;
  exportable: number;
  created_at: number;
  primary_version: number;
  min_decryption_version: number;
  min_encryption_version: number;
  rotation_period_seconds: number | null;
  last_rotated_at: number;
  deletion_date: number | null;
  destroyed_at: number | null;
  revision: number;
}

interface VersionRecord {
  key_id: string;
  version: number;
  state: string;
  created_at: number;
  material: Uint8Array | null;
  last_used_at: number | null;
  use_count: number;
  destroyed_at: number | null;
}

interface TokenRecord {
  hash: string;
  accessor: string;
  display_name: string;
  root: number;
  grants: string;
  created_at: number;
  expires_at: number | null;
  kind: string;
  role: string | null;
  auth_method: string;
  attributes: string;
  source: string;
  subject: string | null;
  certificate_serial: string | null;
  ttl_seconds: number | null;
  max_expires_at: number | null;
}

interface SpendableRecord {
  hash: string;
  accessor: string;
  role: string;
  uses_left: number | null;
  expires_at: number | null;
  created_at: number;
  metadata: string;
}

const spendableFromRecord = (r: SpendableRecord): SpendableRow => ({
  hash: r.hash,
  accessor: r.accessor,
  role: r.role,
  usesLeft: r.uses_left,
  expiresAt: r.expires_at,
  createdAt: r.created_at,
  metadata: JSON.parse(r.metadata) as Record<string, unknown>,
});

const keyFromRecord = (r: KeyRecord): KeyRow => ({
  id: r.id,
  name: r.name,
  description: r.description,
  tags: JSON.parse(r.tags) as Record<string, string>,
  keySpec: r.key_spec as KeyRow["keySpec"],
  keyUsage: r.key_usage as KeyRow["keyUsage"],
  origin: r.origin as KeyRow["origin"],
  state: r.state as KeyRow["state"],
  priorState: r.prior_state as KeyRow["priorState"],
  derived: r.derived === 1,
  convergent: r.convergent === 1,
  exportable: r.exportable === 1,
  createdAt: r.created_at,
  primaryVersion: r.primary_version,
  minDecryptionVersion: r.min_decryption_version,
  minEncryptionVersion: r.min_encryption_version,
  rotationPeriodSeconds: r.rotation_period_seconds,
  lastRotatedAt: r.last_rotated_at,
  deletionDate: r.deletion_date,
  destroyedAt: r.destroyed_at,
  revision: r.revision,
});

const keyParams = (k: KeyRow) => ({
  id: k.id,
  name: k.name,
  description: k.description,
  tags: JSON.stringify(k.tags),
  key_spec: k.keySpec,
  key_usage: k.keyUsage,
  origin: k.origin,
  state: k.state,
  prior_state: k.priorState,
  derived: k.derived ? 1 : 0,
  convergent: k.convergent ? 1 : 0,
  exportable: k.exportable ? 1 : 0,
  created_at: k.createdAt,
  primary_version: k.primaryVersion,
  min_decryption_version: k.minDecryptionVersion,
  min_encryption_version: k.minEncryptionVersion,
  rotation_period_seconds: k.rotationPeriodSeconds,
  last_rotated_at: k.lastRotatedAt,
  deletion_date: k.deletionDate,
  destroyed_at: k.destroyedAt,
  revision: k.revision,
});

/**
 * A version's columns with its unfolded counts added (migration 16): what readers see does not
 * depend on whether a fold has run. MAX(x, NULL) is NULL in SQLite, hence the outer COALESCE.
 */
const VERSION_COLUMNS = `key_id, version, state, created_at, material, destroyed_at,
  use_count + (SELECT COALESCE(SUM(u.use_count), 0) FROM version_uses u WHERE u.key_id = v.key_id AND u.version = v.version) AS use_count,
  COALESCE(MAX(COALESCE(last_used_at, 0), (SELECT MAX(u.last_used_at) FROM version_uses u WHERE u.key_id = v.key_id AND u.version = v.version)), last_used_at) AS last_used_at`;

const versionFromRecord = (r: VersionRecord): VersionRow => ({
  keyId: r.key_id,
  version: r.version,
  state: r.state as VersionRow["state"],
  createdAt: r.created_at,
  material: r.material === null ? null : blob(r.material),
  lastUsedAt: r.last_used_at,
  useCount: r.use_count,
  destroyedAt: r.destroyed_at,
});

const tokenFromRecord = (r: TokenRecord): TokenRow => ({
  hash: r.hash,
  accessor: r.accessor,
  displayName: r.display_name,
  root: r.root === 1,
  grants: JSON.parse(r.grants) as TokenRow["grants"],
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  kind: r.kind,
  role: r.role,
  authMethod: r.auth_method,
  attributes: JSON.parse(r.attributes) as Record<string, string>,
  source: r.source,
  subject: r.subject,
  certificateSerial: r.certificate_serial,
  ttlSeconds: r.ttl_seconds,
  maxExpiresAt: r.max_expires_at,
});

/** SQLite result codes (https://www.sqlite.org/rescode.html); node:sqlite reports the extended code as `errcode`. */
const SQLITE = Object.freeze({ BUSY: 5, LOCKED: 6, READONLY: 8, IOERR: 10, FULL: 13, CANTOPEN: 14, CONSTRAINT_PRIMARYKEY: 1555, CONSTRAINT_UNIQUE: 2067 });

const sqliteCode = (err: unknown): number | undefined =>
  typeof err === "object" && err !== null && typeof (err as { errcode?: unknown }).errcode === "number" ? (err as { errcode: number }).errcode : undefined;

function isUniqueViolation(err: unknown): boolean {
  const code = sqliteCode(err);
  return code === SQLITE.CONSTRAINT_UNIQUE || code === SQLITE.CONSTRAINT_PRIMARYKEY;
}

/** Lock contention and I/O trouble become a retryable catalogue error instead of a raw driver error. */
function storageError(err: unknown): unknown {
  const code = sqliteCode(err);
  if (code === undefined) return err;
  const primary = code & 0xff;
  if (primary === SQLITE.BUSY || primary === SQLITE.LOCKED) {
    return new TesseraError("Unavailable", "the database is locked by another process; retry", { cause: err });
  }
  if (primary === SQLITE.IOERR || primary === SQLITE.FULL || primary === SQLITE.READONLY || primary === SQLITE.CANTOPEN) {
    return new TesseraError("Unavailable", "the database cannot be written", { cause: err });
  }
  return err;
}

/** Repositories over one connection; every statement is prepared once. */
class SqliteRepositories implements Repositories {
  readonly keys: KeyRepo;
  readonly versions: VersionRepo;
  readonly tokens: TokenRepo;
  readonly meta: MetaRepo;
  readonly policies: DocumentRepo;
  readonly roles: DocumentRepo;
  readonly jwtIssuers: DocumentRepo;
  readonly joinTokens: SpendableRepo;
  readonly secretIds: SpendableRepo;
  readonly certificates: CertificateRepo;
  readonly accessKeys: AccessKeyRepo;
  readonly audit: AuditRepo;
  readonly alerts: AlertRepo;
  readonly aliases: AliasRepo;
  readonly secrets: SecretRepo;
  readonly retention: RetentionRepo;
  readonly grants: GrantRepo;
  readonly leases: LeaseRepo;
  readonly nodes: NodeRepo;

  constructor(db: Db, auditChain: string) {
    const keyColumns = KEY_COLUMNS;
    const s = {
      keyInsert: db.prepare(
        `INSERT INTO keys (${keyColumns}) VALUES (@id, @name, @description, @tags, @key_spec, @key_usage, @origin, @state, @prior_state, @derived, @exportable, @created_at, @primary_version, @min_decryption_version, @rotation_period_seconds, @last_rotated_at, @deletion_date, @destroyed_at, @revision, @convergent, @min_encryption_version)`,
      ),
      keyGet: db.prepare(`SELECT ${keyColumns} FROM keys WHERE id = ?`),
      keyByName: db.prepare(`SELECT ${keyColumns} FROM keys WHERE name = ?`),
      keyListFirst: db.prepare(`SELECT ${keyColumns} FROM keys ORDER BY created_at, id LIMIT ?`),
      // The marker's position as values, not a subquery: then the planner seeks keys_created to
      // (created_at, id) at once instead of scanning every key created in the marker's millisecond.
      keyCreatedAt: db.prepare(`SELECT created_at FROM keys WHERE id = ?`),
      keyListAfter: db.prepare(`SELECT ${keyColumns} FROM keys WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`),
      keyUpdate: db.prepare(
        `UPDATE keys SET name=@name, description=@description, tags=@tags, state=@state, prior_state=@prior_state, primary_version=@primary_version, min_decryption_version=@min_decryption_version, min_encryption_version=@min_encryption_version, rotation_period_seconds=@rotation_period_seconds, last_rotated_at=@last_rotated_at, deletion_date=@deletion_date, destroyed_at=@destroyed_at, revision=@revision WHERE id=@id AND revision=@revision - 1`,
      ),
      keyDueRotation: db.prepare(KEY_SQL.dueForRotation),
      keyDueDeletion: db.prepare(KEY_SQL.dueForDeletion),
      keyRotatedFirst: db.prepare(KEY_SQL.rotatedFirst),
      keyRotatedAfter: db.prepare(KEY_SQL.rotatedAfter),
      versionInsert: db.prepare(
        `INSERT INTO key_versions (key_id, version, state, created_at, material, last_used_at, use_count, destroyed_at) VALUES (@key_id, @version, @state, @created_at, @material, @last_used_at, @use_count, @destroyed_at)`,
      ),
      versionGet: db.prepare(`SELECT ${VERSION_COLUMNS} FROM key_versions v WHERE key_id = ? AND version = ?`),
      versionList: db.prepare(`SELECT ${VERSION_COLUMNS} FROM key_versions v WHERE key_id = ? ORDER BY version`),
      versionUpdate: db.prepare(
        `UPDATE key_versions SET state=@state, material=@material, destroyed_at=@destroyed_at WHERE key_id=@key_id AND version=@version`,
      ),
      versionCountSealed: db.prepare(`SELECT COUNT(*) AS n FROM key_versions WHERE material IS NOT NULL`),
      versionListSealed: db.prepare(
        `SELECT key_id, version, material FROM key_versions WHERE material IS NOT NULL AND (key_id > ? OR (key_id = ? AND version > ?)) ORDER BY key_id, version LIMIT ?`,
      ),
      versionReplaceMaterial: db.prepare(`UPDATE key_versions SET material = ? WHERE key_id = ? AND version = ? AND material = ?`),
      versionUse: db.prepare(
        `INSERT INTO version_uses (key_id, version, use_count, last_used_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (key_id, version) DO UPDATE SET use_count = use_count + excluded.use_count, last_used_at = MAX(last_used_at, excluded.last_used_at)`,
      ),
      versionUsesPending: db.prepare(
        `SELECT key_id, version, SUM(use_count) AS c, MAX(last_used_at) AS l FROM version_uses WHERE (key_id, version) > (?, ?) GROUP BY key_id, version ORDER BY key_id, version LIMIT ?`,
      ),
      versionUseFold: db.prepare(
        `UPDATE key_versions SET use_count = use_count + ?, last_used_at = MAX(COALESCE(last_used_at, 0), ?) WHERE key_id = ? AND version = ?`,
      ),
      versionUsesDelete: db.prepare(`DELETE FROM version_uses WHERE key_id = ? AND version = ?`),
      // One statement: a token bound to a certificate is written only while that certificate is
      // recorded and unrevoked, so no revocation can slip between a check and the insert.
      tokenInsert: db.prepare(
        `INSERT INTO tokens (hash, accessor, display_name, root, grants, created_at, expires_at, kind, role, auth_method, attributes, source, subject, certificate_serial, ttl_seconds, max_expires_at)
         SELECT @hash, @accessor, @display_name, @root, @grants, @created_at, @expires_at, @kind, @role, @auth_method, @attributes, @source, @subject, @certificate_serial, @ttl_seconds, @max_expires_at
         WHERE @certificate_serial IS NULL OR EXISTS (SELECT 1 FROM certificates WHERE serial = @certificate_serial AND revoked_at IS NULL)`,
      ),
      tokenDeleteRole: db.prepare(`DELETE FROM tokens WHERE role = ?`),
      tokenDeleteSubject: db.prepare(`DELETE FROM tokens WHERE subject = ?`),
      tokenDeleteCertificate: db.prepare(`DELETE FROM tokens WHERE certificate_serial = ?`),
      tokenSetExpiry: db.prepare(`UPDATE tokens SET expires_at = ? WHERE accessor = ?`),
      tokenByHash: db.prepare(`SELECT * FROM tokens WHERE hash = ?`),
      tokenByAccessor: db.prepare(`SELECT * FROM tokens WHERE accessor = ?`),
      tokenDelete: db.prepare(`DELETE FROM tokens WHERE accessor = ?`),
      tokenDeleteExpired: db.prepare(`DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ?`),
      metaGet: db.prepare(`SELECT value FROM meta WHERE name = ?`),
      metaPut: db.prepare(`INSERT INTO meta (name, value) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`),
    };
    // keyUpdate binds a whole row; the columns it never changes (spec, created_at …) are simply unused.
    s.keyUpdate.setAllowUnknownNamedParameters(true);

    this.keys = {
      async insert(row) {
        try {
          s.keyInsert.run(keyParams(row));
        } catch (err) {
          if (isUniqueViolation(err)) throw new TesseraError("AlreadyExists", `a key named "${row.name}" already exists`);
          throw err;
        }
      },
      async get(id) {
        const r = s.keyGet.get(id) as KeyRecord | undefined;
        return r && keyFromRecord(r);
      },
      async getByName(name) {
        const r = s.keyByName.get(name) as KeyRecord | undefined;
        return r && keyFromRecord(r);
      },
      async list(limit, after) {
        if (after === undefined) return (s.keyListFirst.all(limit) as unknown as KeyRecord[]).map(keyFromRecord);
        const marker = s.keyCreatedAt.get(after) as { created_at: number } | undefined;
        if (marker === undefined) return [];
        return (s.keyListAfter.all(marker.created_at, after, limit) as unknown as KeyRecord[]).map(keyFromRecord);
      },
      async update(row) {
        const result = s.keyUpdate.run(keyParams(row));
        if (result.changes !== 1) throw new TesseraError("Conflict", "the key changed concurrently; retry");
      },
      async dueForRotation(now) {
        return (s.keyDueRotation.all(now) as unknown as KeyRecord[]).map(keyFromRecord);
      },
      async dueForDeletion(now) {
        return (s.keyDueDeletion.all(now) as unknown as KeyRecord[]).map(keyFromRecord);
      },
      async listRotated(limit, after) {
        return ((after === undefined ? s.keyRotatedFirst.all(limit) : s.keyRotatedAfter.all(after, limit)) as unknown as KeyRecord[]).map(keyFromRecord);
      },
    };

    this.versions = {
      async insert(v) {
        s.versionInsert.run({
          key_id: v.keyId,
          version: v.version,
          state: v.state,
          created_at: v.createdAt,
          material: v.material,
          last_used_at: v.lastUsedAt,
          use_count: v.useCount,
          destroyed_at: v.destroyedAt,
        });
      },
      async get(keyId, version) {
        const r = s.versionGet.get(keyId, version) as VersionRecord | undefined;
        return r && versionFromRecord(r);
      },
      async list(keyId) {
        return (s.versionList.all(keyId) as unknown as VersionRecord[]).map(versionFromRecord);
      },
      async update(v) {
        s.versionUpdate.run({ key_id: v.keyId, version: v.version, state: v.state, material: v.material, destroyed_at: v.destroyedAt });
      },
      async recordUse(keyId, version, count, lastUsedAt) {
        s.versionUse.run(keyId, version, count, lastUsedAt);
      },
      async foldUses(afterKeyId, afterVersion, limit) {
        // Synchronous from the SELECT to the last DELETE, inside the caller's transaction: no other
        // writer can add a row between the sum and the delete.
        const rows = s.versionUsesPending.all(afterKeyId, afterVersion, limit) as unknown as { key_id: string; version: number; c: number; l: number }[];
        for (const r of rows) {
          s.versionUseFold.run(r.c, r.l, r.key_id, r.version);
          s.versionUsesDelete.run(r.key_id, r.version);
        }
        const last = rows.at(-1);
        return last && { keyId: last.key_id, version: last.version, folded: rows.length };
      },
      async countSealed() {
        return Number((s.versionCountSealed.get() as { n: number }).n);
      },
      async listSealed(afterKeyId, afterVersion, limit) {
        const rows = s.versionListSealed.all(afterKeyId, afterKeyId, afterVersion, limit) as unknown as { key_id: string; version: number; material: Uint8Array }[];
        return rows.map((r) => ({ keyId: r.key_id, version: r.version, material: blob(r.material) }));
      },
      async replaceMaterial(keyId, version, expected, material) {
        return s.versionReplaceMaterial.run(material, keyId, version, expected).changes === 1;
      },
    };

    this.tokens = {
      async insert(t) {
        const written = s.tokenInsert.run({
          hash: t.hash,
          accessor: t.accessor,
          display_name: t.displayName,
          root: t.root ? 1 : 0,
          grants: JSON.stringify(t.grants),
          created_at: t.createdAt,
          expires_at: t.expiresAt,
          kind: t.kind,
          role: t.role,
          auth_method: t.authMethod,
          attributes: JSON.stringify(t.attributes),
          source: t.source,
          subject: t.subject,
          certificate_serial: t.certificateSerial,
          ttl_seconds: t.ttlSeconds,
          max_expires_at: t.maxExpiresAt,
        });
        if (written.changes === 0) throw new TesseraError("Unauthenticated", "client certificate refused: revoked");
      },
      async getByHash(hash) {
        const r = s.tokenByHash.get(hash) as TokenRecord | undefined;
        return r && tokenFromRecord(r);
      },
      async getByAccessor(accessor) {
        const r = s.tokenByAccessor.get(accessor) as TokenRecord | undefined;
        return r && tokenFromRecord(r);
      },
      async deleteByAccessor(accessor) {
        return s.tokenDelete.run(accessor).changes > 0;
      },
      async deleteExpired(now) {
        return Number(s.tokenDeleteExpired.run(now).changes);
      },
      async deleteByRole(role) {
        return Number(s.tokenDeleteRole.run(role).changes);
      },
      async deleteBySubject(subject) {
        return Number(s.tokenDeleteSubject.run(subject).changes);
      },
      async deleteByCertificate(serial) {
        return Number(s.tokenDeleteCertificate.run(serial).changes);
      },
      async setExpiry(accessor, expiresAt) {
        s.tokenSetExpiry.run(expiresAt, accessor);
      },
    };

    this.policies = documentRepo(db, "policies");
    this.roles = documentRepo(db, "roles");
    this.jwtIssuers = documentRepo(db, "jwt-issuers");
    this.joinTokens = spendableRepo(db, "join-tokens");
    this.secretIds = spendableRepo(db, "secret-ids");
    this.certificates = certificateRepo(db);
    this.accessKeys = accessKeyRepo(db);
    this.audit = auditRepo(db, auditChain);
    this.leases = leaseRepo(db);
    this.nodes = nodeRepo(db);
    this.alerts = alertRepo(db);
    this.aliases = aliasRepo(db);
    this.secrets = sqliteSecretRepo(db);
    this.retention = sqliteRetentionRepo(db);
    this.grants = sqliteGrantRepo(db);
    this.secrets = sqliteSecretRepo(db);
    this.retention = sqliteRetentionRepo(db);
    this.grants = sqliteGrantRepo(db);

    this.meta = {
      async get<T>(name: string) {
        const r = s.metaGet.get(name) as { value: string } | undefined;
        return r === undefined ? undefined : (JSON.parse(r.value) as T);
      },
      async put(name, value) {
        s.metaPut.run(name, JSON.stringify(value));
      },
    };
  }
}

function documentRepo(db: Db, collection: string): DocumentRepo {
  const get = db.prepare(`SELECT name, body, created_at, updated_at FROM documents WHERE collection = ? AND name = ?`);
  const list = db.prepare(`SELECT name, body, created_at, updated_at FROM documents WHERE collection = ? ORDER BY name`);
  const put = db.prepare(
    `INSERT INTO documents (collection, name, body, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
     ON CONFLICT (collection, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
  );
  const del = db.prepare(`DELETE FROM documents WHERE collection = ? AND name = ?`);
  type Rec = { name: string; body: string; created_at: number; updated_at: number };
  const row = (r: Rec) => ({ name: r.name, body: JSON.parse(r.body) as unknown, createdAt: r.created_at, updatedAt: r.updated_at });
  return {
    async get(name) {
      const r = get.get(collection, name) as Rec | undefined;
      return r && row(r);
    },
    async list() {
      return (list.all(collection) as unknown as Rec[]).map(row);
    },
    async put(d) {
      put.run(collection, d.name, JSON.stringify(d.body), d.createdAt, d.updatedAt);
    },
    async delete(name) {
      return del.run(collection, name).changes > 0;
    },
  };
}

function spendableRepo(db: Db, collection: string): SpendableRepo {
  const cols = "hash, accessor, role, uses_left, expires_at, created_at, metadata";
  const insert = db.prepare(`INSERT INTO spendables (collection, ${cols}) VALUES (@collection, @hash, @accessor, @role, @uses_left, @expires_at, @created_at, @metadata)`);
  const get = db.prepare(`SELECT ${cols} FROM spendables WHERE collection = ? AND hash = ?`);
  // One statement: the row is spent only if it is still valid, so concurrent logins cannot both win.
  const spend = db.prepare(
    `UPDATE spendables SET uses_left = CASE WHEN uses_left IS NULL THEN NULL ELSE uses_left - 1 END
     WHERE collection = ? AND hash = ? AND (uses_left IS NULL OR uses_left > 0) AND (expires_at IS NULL OR expires_at > ?)`,
  );
  const listAll = db.prepare(`SELECT ${cols} FROM spendables WHERE collection = ? ORDER BY created_at`);
  const listRole = db.prepare(`SELECT ${cols} FROM spendables WHERE collection = ? AND role = ? ORDER BY created_at`);
  const delAccessor = db.prepare(`DELETE FROM spendables WHERE collection = ? AND accessor = ?`);
  const delRole = db.prepare(`DELETE FROM spendables WHERE collection = ? AND role = ?`);
  const delExpired = db.prepare(`DELETE FROM spendables WHERE collection = ? AND ((expires_at IS NOT NULL AND expires_at <= ?) OR uses_left = 0)`);
  return {
    async insert(r) {
      insert.run({
        collection,
        hash: r.hash,
        accessor: r.accessor,
        role: r.role,
        uses_left: r.usesLeft,
        expires_at: r.expiresAt,
        created_at: r.createdAt,
        metadata: JSON.stringify(r.metadata),
      });
    },
    async getByHash(hash) {
      const r = get.get(collection, hash) as SpendableRecord | undefined;
      return r && spendableFromRecord(r);
    },
    async spend(hash, now) {
      const before = get.get(collection, hash) as SpendableRecord | undefined;
      if (before === undefined) return undefined;
      return spend.run(collection, hash, now).changes === 1 ? spendableFromRecord(before) : undefined;
    },
    async list(role) {
      return ((role === undefined ? listAll.all(collection) : listRole.all(collection, role)) as unknown as SpendableRecord[]).map(spendableFromRecord);
    },
    async deleteByAccessor(accessor) {
      return delAccessor.run(collection, accessor).changes > 0;
    },
    async deleteByRole(role) {
      return Number(delRole.run(collection, role).changes);
    },
    async deleteExpired(now) {
      return Number(delExpired.run(collection, now).changes);
    },
  };
}

function certificateRepo(db: Db): CertificateRepo {
  type Rec = { serial: string; vm_id: string; role: string; not_before: number; not_after: number; revoked_at: number | null; created_at: number };
  const row = (r: Rec) => ({
    serial: r.serial,
    vmId: r.vm_id,
    role: r.role,
    notBefore: r.not_before,
    notAfter: r.not_after,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
  });
  const insert = db.prepare(
    `INSERT INTO certificates (serial, vm_id, role, not_before, not_after, revoked_at, created_at) VALUES (@serial, @vm_id, @role, @not_before, @not_after, @revoked_at, @created_at)`,
  );
  // The primary key of vm_ids is what settles a contested claim; `changes` says who got it.
  const claim = db.prepare(`INSERT INTO vm_ids (vm_id, claimed_at) VALUES (?, ?) ON CONFLICT (vm_id) DO NOTHING`);
  /** Claim and certificate commit together or not at all: a savepoint nests in an open transaction too. */
  const atomically = <T>(fn: () => T): T => {
    db.exec("SAVEPOINT certificate_claim");
    try {
      const result = fn();
      db.exec("RELEASE certificate_claim");
      return result;
    } catch (err) {
      db.exec("ROLLBACK TO certificate_claim");
      db.exec("RELEASE certificate_claim");
      throw err;
    }
  };
  const params = (c: CertificateRow) => ({ serial: c.serial, vm_id: c.vmId, role: c.role, not_before: c.notBefore, not_after: c.notAfter, revoked_at: c.revokedAt, created_at: c.createdAt });
  const get = db.prepare(`SELECT * FROM certificates WHERE serial = ?`);
  const byVm = db.prepare(`SELECT * FROM certificates WHERE vm_id = ? ORDER BY created_at`);
  const list = db.prepare(`SELECT * FROM certificates WHERE serial > ? ORDER BY serial LIMIT ?`);
  const revoke = db.prepare(`UPDATE certificates SET revoked_at = COALESCE(revoked_at, ?) WHERE serial = ?`);
  const revokeVm = db.prepare(`UPDATE certificates SET revoked_at = ? WHERE vm_id = ? AND revoked_at IS NULL`);
  const revokeRole = db.prepare(`UPDATE certificates SET revoked_at = ? WHERE role = ? AND revoked_at IS NULL`);
  const revoked = db.prepare(`SELECT serial FROM certificates WHERE revoked_at IS NOT NULL AND not_after > ?`);
  return {
    async insert(c) {
      atomically(() => {
        claim.run(c.vmId, c.createdAt);
        insert.run(params(c));
      });
    },
    async claimAndInsert(c) {
      return atomically(() => {
        if (claim.run(c.vmId, c.createdAt).changes === 0) return false;
        insert.run(params(c));
        return true;
      });
    },
    async get(serial) {
      const r = get.get(serial) as Rec | undefined;
      return r && row(r);
    },
    async listByVm(vmId) {
      return (byVm.all(vmId) as unknown as Rec[]).map(row);
    },
    async list(limit, afterSerial = "") {
      return (list.all(afterSerial, limit) as unknown as Rec[]).map(row);
    },
    async revoke(serial, now) {
      return revoke.run(now, serial).changes > 0;
    },
    async revokeVm(vmId, now) {
      return Number(revokeVm.run(now, vmId).changes);
    },
    async revokeRole(role, now) {
      return Number(revokeRole.run(now, role).changes);
    },
    async listRevoked(now) {
      return (revoked.all(now) as unknown as { serial: string }[]).map((r) => r.serial);
    },
  };
}

function accessKeyRepo(db: Db): AccessKeyRepo {
  type Rec = { id: string; secret: Uint8Array; role: string; state: string; description: string; created_at: number };
  const row = (r: Rec) => ({ id: r.id, secret: blob(r.secret), role: r.role, state: r.state as "Active" | "Inactive", description: r.description, createdAt: r.created_at });
  const insert = db.prepare(`INSERT INTO access_keys (id, secret, role, state, description, created_at) VALUES (@id, @secret, @role, @state, @description, @created_at)`);
  const get = db.prepare(`SELECT * FROM access_keys WHERE id = ?`);
  const list = db.prepare(`SELECT * FROM access_keys ORDER BY created_at, id`);
  const setState = db.prepare(`UPDATE access_keys SET state = ? WHERE id = ?`);
  const del = db.prepare(`DELETE FROM access_keys WHERE id = ?`);
  const delRole = db.prepare(`DELETE FROM access_keys WHERE role = ?`);
  const replace = db.prepare(`UPDATE access_keys SET secret = ? WHERE id = ? AND secret = ?`);
  return {
    async replaceSecret(id, expected, secret) {
      return replace.run(secret, id, expected).changes === 1;
    },
    async insert(k) {
      insert.run({ id: k.id, secret: k.secret, role: k.role, state: k.state, description: k.description, created_at: k.createdAt });
    },
    async get(id) {
      const r = get.get(id) as Rec | undefined;
      return r && row(r);
    },
    async list() {
      return (list.all() as unknown as Rec[]).map(row);
    },
    async setState(id, state) {
      return setState.run(state, id).changes > 0;
    },
    async delete(id) {
      return del.run(id).changes > 0;
    },
    async deleteByRole(role) {
      return Number(delRole.run(role).changes);
    },
  };
}

function aliasRepo(db: Db): AliasRepo {
  type Rec = { name: string; key_id: string; created_at: number; updated_at: number };
  const row = (r: Rec) => ({ name: r.name, keyId: r.key_id, createdAt: r.created_at, updatedAt: r.updated_at });
  const insert = db.prepare(`INSERT INTO aliases (name, key_id, created_at, updated_at) VALUES (?, ?, ?, ?)`);
  const get = db.prepare(`SELECT * FROM aliases WHERE name = ?`);
  const update = db.prepare(`UPDATE aliases SET key_id = ?, updated_at = ? WHERE name = ?`);
  const del = db.prepare(`DELETE FROM aliases WHERE name = ?`);
  const all = db.prepare(`SELECT * FROM aliases ORDER BY name`);
  const byKey = db.prepare(`SELECT * FROM aliases WHERE key_id = ? ORDER BY name`);
  return {
    async insert(a) {
      try {
        insert.run(a.name, a.keyId, a.createdAt, a.updatedAt);
      } catch (err) {
        if (isUniqueViolation(err)) throw new TesseraError("AlreadyExists", `alias ${a.name} already exists`);
        throw err;
      }
    },
    async get(name) {
      const r = get.get(name) as Rec | undefined;
      return r && row(r);
    },
    async update(name, keyId, now) {
      return update.run(keyId, now, name).changes > 0;
    },
    async delete(name) {
      return del.run(name).changes > 0;
    },
    async list(keyId) {
      return ((keyId === undefined ? all.all() : byKey.all(keyId)) as unknown as Rec[]).map(row);
    },
  };
}

function alertRepo(db: Db): AlertRepo {
  type Rec = { id: string; time: string; detector: string; body: string; acked_at: string | null; acked_by: string | null };
  const row = (r: Rec): AlertRow => ({ id: r.id, time: r.time, detector: r.detector, body: JSON.parse(r.body) as AlertRow["body"], ackedAt: r.acked_at, ackedBy: r.acked_by });
  const insert = db.prepare(`INSERT INTO alerts (id, time, detector, body, acked_at, acked_by) VALUES (?, ?, ?, ?, ?, ?)`);
  const all = db.prepare(`SELECT * FROM alerts ORDER BY time DESC, id LIMIT ?`);
  const open = db.prepare(`SELECT * FROM alerts WHERE acked_at IS NULL ORDER BY time DESC, id LIMIT ?`);
  const ack = db.prepare(`UPDATE alerts SET acked_at = COALESCE(acked_at, ?), acked_by = COALESCE(acked_by, ?) WHERE id = ?`);
  return {
    async insert(a) {
      insert.run(a.id, a.time, a.detector, JSON.stringify(a.body), a.ackedAt, a.ackedBy);
    },
    async list({ unacknowledgedOnly, limit }) {
      return ((unacknowledgedOnly ? open : all).all(limit) as unknown as Rec[]).map(row);
    },
    async ack(id, at, by) {
      return ack.run(at, by, id).changes > 0;
    },
  };
}

function auditRepo(db: Db, chain: string): AuditRepo {
  const insert = db.prepare(`INSERT INTO audit_chains (node, seq, time, record) VALUES (?, ?, ?, ?)`);
  const truncate = db.prepare(`DELETE FROM audit_chains WHERE node = ? AND seq > ?`);
  const last = db.prepare(`SELECT record FROM audit_chains WHERE node = ? ORDER BY seq DESC LIMIT 1`);
  const list = db.prepare(`SELECT seq, record FROM audit_chains WHERE node = ? AND seq > ? AND time >= ? AND time <= ? ORDER BY seq LIMIT ?`);
  const chains = db.prepare(`SELECT DISTINCT node FROM audit_chains ORDER BY node`);
  const lines = (rows: unknown) => (rows as { seq: number; record: string }[]).map((r) => ({ seq: r.seq, line: r.record }));
  return {
    async append(records) {
      for (const r of records) insert.run(chain, r.seq, r.time, r.line);
    },
    async truncateAfter(seq) {
      truncate.run(chain, seq);
    },
    async last() {
      return (last.get(chain) as { record: string } | undefined)?.record;
    },
    async list(after, limit, range = {}) {
      return lines(list.all(chain, after, range.from ?? "", range.to ?? "\uffff", limit));
    },
    async chains() {
      return (chains.all() as unknown as { node: string }[]).map((r) => r.node);
    },
    async listChain(other, after, limit) {
      return lines(list.all(other, after, "", "\uffff", limit));
    },
  };
}

/** SQLite's clock is the machine's; one expression so every statement reads it the same way. */
const DB_NOW = "CAST(unixepoch('subsec') * 1000 AS INTEGER)";

function leaseRepo(db: Db): LeaseRepo {
  type Rec = { name: string; holder: string; epoch: number; expires_at: number };
  const row = (r: Rec): LeaseRow => ({ name: r.name, holder: r.holder, epoch: r.epoch, expiresAt: r.expires_at });
  // 'now' is the same for the whole statement in SQLite.
  const acquire = db.prepare(
    `INSERT INTO leases (name, holder, epoch, expires_at) VALUES (?1, ?2, 1, ${DB_NOW} + ?3)
     ON CONFLICT (name) DO UPDATE SET
       epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > ${DB_NOW} THEN leases.epoch ELSE leases.epoch + 1 END,
       holder = excluded.holder, expires_at = excluded.expires_at
     WHERE leases.holder = excluded.holder OR leases.expires_at <= ${DB_NOW}
     RETURNING name, holder, epoch, expires_at`,
  );
  const release = db.prepare(`UPDATE leases SET expires_at = ${DB_NOW} WHERE name = ? AND holder = ? AND epoch = ?`);
  const holds = db.prepare(`SELECT 1 AS held FROM leases WHERE name = ? AND holder = ? AND epoch = ? AND expires_at > ${DB_NOW}`);
  const get = db.prepare(`SELECT name, holder, epoch, expires_at FROM leases WHERE name = ?`);
  return {
    async acquire(name, holder, ttlMs) {
      const r = acquire.get(name, holder, ttlMs) as Rec | undefined;
      return r && row(r);
    },
    async release(name, holder, epoch) {
      release.run(name, holder, epoch);
    },
    async holds(name, holder, epoch) {
      // SQLite transactions are exclusive: nobody can take the lease over until this one ends.
      return holds.get(name, holder, epoch) !== undefined;
    },
    async get(name) {
      const r = get.get(name) as Rec | undefined;
      return r && row(r);
    },
  };
}

function nodeRepo(db: Db): NodeRepo {
  type Rec = { id: string; instance: string; address: string; state: string; version: string; started_at: number; last_seen: number };
  const cols = "id, instance, address, state, version, started_at, last_seen";
  const row = (r: Rec): NodeRow => ({ id: r.id, instance: r.instance, address: r.address, state: r.state, version: r.version, startedAt: r.started_at, lastSeen: r.last_seen });
  const beat = db.prepare(
    `INSERT INTO nodes (${cols}) VALUES (?, ?, ?, ?, ?, ?, ${DB_NOW})
     ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, address = excluded.address, state = excluded.state, version = excluded.version,
       started_at = excluded.started_at, last_seen = excluded.last_seen
     RETURNING ${cols}`,
  );
  const get = db.prepare(`SELECT ${cols} FROM nodes WHERE id = ?`);
  const list = db.prepare(`SELECT ${cols} FROM nodes ORDER BY id`);
  const now = db.prepare(`SELECT ${DB_NOW} AS now`);
  return {
    async heartbeat(n) {
      return row(beat.get(n.id, n.instance, n.address, n.state, n.version, n.startedAt) as Rec);
    },
    async get(id) {
      const r = get.get(id) as Rec | undefined;
      return r && row(r);
    },
    async list() {
      return (list.all() as unknown as Rec[]).map(row);
    },
    async now() {
      return (now.get() as { now: number }).now;
    },
  };
}

function changeFeed(db: Db): ChangeFeed & { sinceNow(after: number, limit: number): { changes: { version: number; scope: string }[]; oldest: number }; latestNow(): number } {
  const since = db.prepare(`SELECT version, scope FROM state_changes WHERE version > ? ORDER BY version LIMIT ?`);
  const oldest = db.prepare(`SELECT COALESCE(MIN(version), 0) AS v FROM state_changes`);
  const latest = db.prepare(`SELECT COALESCE(MAX(version), 0) AS v FROM state_changes`);
  const prune = db.prepare(
    `DELETE FROM state_changes WHERE version IN (SELECT version FROM state_changes WHERE at < ? AND version < (SELECT MAX(version) FROM state_changes) ORDER BY version LIMIT ?)`,
  );
  const sinceNow = (after: number, limit: number) => ({
    changes: since.all(after, limit) as unknown as { version: number; scope: string }[],
    oldest: (oldest.get() as { v: number }).v,
  });
  const latestNow = () => (latest.get() as { v: number }).v;
  return {
    sinceNow,
    latestNow,
    async since(after, limit) {
      return sinceNow(after, limit);
    },
    async latest() {
      return latestNow();
    },
    async prune(before) {
      return Number(prune.run(before, PRUNE_BATCH).changes);
    },
  };
}

/**
 * Rows of the change feed deleted per statement. node:sqlite is synchronous: one DELETE of the
 * million rows a bulk creation of keys wrote would hold the event loop (and every request) for
 * seconds, so pruning goes in slices with other work between them.
 */
const PRUNE_BATCH = 5000;

/** Serialises access to the one connection so a transaction's awaits never interleave with other statements. */
class Queue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const guarded = () =>
      fn().catch((err: unknown) => {
        throw storageError(err);
      });
    const next = this.tail.then(guarded, guarded);
    this.tail = next.catch(() => undefined);
    return next;
  }
}

export interface SqliteStoreOptions {
  /** Database file path, or ":memory:". */
  path: string;
  /** The audit chain this process appends to (default "": the one chain of a single node). */
  auditChain?: string;
  /** How long a statement waits for another connection's write lock (default 1000 ms). */
  busyTimeoutMs?: number;
}

/** The repositories are the serialised wrappers assigned in the constructor (declaration merging). */
export interface SqliteStore extends Repositories {}

export class SqliteStore implements Store {
  readonly kind = "sqlite";
  private readonly db: Db;
  private readonly repos: SqliteRepositories;
  private readonly feed: ReturnType<typeof changeFeed>;
  readonly changes: ChangeFeed;
  private readonly queue = new Queue();
  /**
   * Set around every repository call and transaction that may write security state (all but the
   * audit trail's appends), before it starts and after it ends; cleared when the feed's newest
   * version is read. While clear, `knownLatest` is the newest version committed.
   */
  private maybeChanged = true;
  private knownLatest: number | undefined;
  private ready = false;
  private readonly path: string;

  constructor(options: SqliteStoreOptions) {
    this.path = options.path;
    // One Tessera server opens a database file: one process, or its workers (which wait for each
    // other's write transactions, so they get longer); a short wait covers backup tools.
    this.db = new DatabaseSync(options.path, { timeout: options.busyTimeoutMs ?? 1000 });
    this.db.exec("PRAGMA journal_mode = WAL");
    this.db.exec("PRAGMA synchronous = FULL");
    // Per connection: every connection this store opens must set it, or its deletes leave remnants.
    this.db.exec("PRAGMA secure_delete = ON");
    this.db.exec("PRAGMA foreign_keys = ON");
    this.migrateSync();
    this.repos = new SqliteRepositories(this.db, options.auditChain ?? "");
    this.feed = changeFeed(this.db);
    this.changes = {
      // Outside a transaction the feed is read at once (node:sqlite is synchronous, so nothing can
      // interleave); while one is open the read waits for it, so it never sees uncommitted changes.
      since: (after, limit) => (this.db.isTransaction ? this.queue.run(() => this.feed.since(after, limit)) : Promise.resolve(this.feed.sinceNow(after, limit))),
      latest: () => this.queue.run(() => this.feed.latest()),
      // Inside an open transaction this connection would see uncommitted changes: no answer then.
      // When nothing but the audit trail was written since the last look — by this process, or by a
      // sibling worker, which says so through `changedElsewhere` before its writer answers — the
      // newest version is the one seen then: no statement (a WAL read transaction costs 7–25 µs) on
      // a request's path.
      latestNow: () => {
        if (this.db.isTransaction) return undefined;
        if (!this.maybeChanged && this.knownLatest !== undefined) return this.knownLatest;
        this.maybeChanged = false;
        this.knownLatest = this.feed.latestNow();
        return this.knownLatest;
      },
      prune: async (before) => {
        let total = 0;
        for (;;) {
          const n = await this.queue.run(() => this.feed.prune(before));
          total += n;
          if (n < PRUNE_BATCH) return total;
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
      },
    };
    for (const name of Object.keys(this.repos) as (keyof Repositories)[]) {
      Object.defineProperty(this, name, { value: this.serialised(this.repos[name], name !== "audit"), enumerable: true });
    }
  }

  /**
   * Another process on this database file (a sibling worker) committed security state: the next
   * look at the feed reads it instead of trusting `knownLatest` (workers/README.md).
   */
  changedElsewhere(): void {
    this.maybeChanged = true;
  }

  /** Wraps every method of a repository so it waits for any open transaction (and, but for the audit trail, marks a possible change). */
  private serialised<R extends object>(repo: R, writesState: boolean): R {
    const out: Record<string, unknown> = {};
    for (const [name, fn] of Object.entries(repo)) {
      out[name] = !writesState
        ? (...args: unknown[]) => this.queue.run(() => (fn as (...a: unknown[]) => Promise<unknown>)(...args))
        : (...args: unknown[]) => {
            this.maybeChanged = true;
            return this.queue.run(() => (fn as (...a: unknown[]) => Promise<unknown>)(...args)).finally(() => (this.maybeChanged = true));
          };
    }
    return out as R;
  }

  async migrate(): Promise<void> {
    // Migrations run synchronously in the constructor so the repositories can prepare statements.
  }

  private migrateSync(): void {
    if (this.ready) return;
    this.db.exec("CREATE TABLE IF NOT EXISTS schema_migrations (id INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)");
    const applied = new Set((this.db.prepare("SELECT id FROM schema_migrations").all() as unknown as { id: number }[]).map((r) => r.id));
    const known = new Set(sqliteMigrations.map((m) => m.id));
    for (const id of applied) {
      if (!known.has(id)) throw new Error(`database schema version ${id} is newer than this Tessera; upgrade Tessera`);
    }
    for (const m of sqliteMigrations) {
      if (applied.has(m.id)) continue;
      this.db.exec("BEGIN IMMEDIATE");
      try {
        this.db.exec(m.sql);
        this.db.prepare("INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)").run(m.id, Date.now());
        this.db.exec("COMMIT");
      } catch (err) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw err;
      }
    }
    this.ready = true;
  }

  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    this.maybeChanged = true;
    return this.queue.run(async () => {
      this.db.exec("BEGIN IMMEDIATE");
      try {
        // Inside fn, use the repositories passed to it: the store's own methods wait for this
        // transaction to end and would never run. (An AsyncLocalStorage guard for that mistake
        // cost every request of the process a promise hook; see docs/performance.md.)
        const result = await fn(this.repos);
        this.db.exec("COMMIT");
        return result;
      } catch (err) {
        if (this.db.isTransaction) this.db.exec("ROLLBACK");
        throw err;
      } finally {
        this.maybeChanged = true;
      }
    });
  }

  /**
   * `wal_checkpoint(TRUNCATE)`: copies every committed page (already zeroed where content was
   * deleted, by secure_delete) into the database file, then truncates the WAL to zero bytes, so
   * neither file keeps an older page image. `busy` = 1 means a reader of another connection kept
   * it from finishing. An in-memory database has no files: nothing to do.
   */
  eraseDeleted(): Promise<boolean> {
    return this.queue.run(async () => {
      const result = this.db.prepare("PRAGMA wal_checkpoint(TRUNCATE)").get() as { busy: number } | undefined;
      return result === undefined || result.busy === 0;
    });
  }

  /**
   * A second, read-only connection in a read transaction: under WAL it sees the database as of its
   * first read while this connection keeps committing, so a backup is consistent and never blocks
   * requests. (The destroy job's WAL reset waits for it, and retries.)
   */
  async snapshot(): Promise<StoreSnapshot> {
    if (this.path === ":memory:") throw new TesseraError("InvalidState", "an in-memory database cannot be snapshotted");
    const db = new DatabaseSync(this.path, { readOnly: true, timeout: 1000 });
    db.exec("BEGIN");
    const tables = stateTables(db);
    const schema = SCHEMA_VERSION;
    return {
      schema,
      tables,
      async count(table) {
        if (!tables.includes(table)) throw new RangeError(`no table ${table}`);
        return Number((db.prepare(`SELECT COUNT(*) AS n FROM "${table}"`).get() as { n: number }).n);
      },
      async *rows(table, batch) {
        if (!tables.includes(table)) throw new RangeError(`no table ${table}`);
        const page = db.prepare(`SELECT rowid AS "$rowid", * FROM "${table}" WHERE rowid > ? ORDER BY rowid LIMIT ?`);
        let after = -Infinity as number;
        for (;;) {
          const rows = page.all(after === -Infinity ? Number.MIN_SAFE_INTEGER : after, batch) as Record<string, unknown>[];
          for (const r of rows) {
            after = r["$rowid"] as number;
            delete r["$rowid"];
            yield toJsonRow(r);
          }
          if (rows.length < batch) return;
          // Let requests run between pages.
          await new Promise((resolve) => setImmediate(resolve));
        }
      },
      async close() {
        if (db.isOpen) {
          if (db.isTransaction) db.exec("COMMIT");
          db.close();
        }
      },
    };
  }

  replaceAll(schema: number, rows: AsyncIterable<SnapshotRow>): Promise<number> {
    if (schema !== SCHEMA_VERSION) {
      return Promise.reject(new TesseraError("InvalidInput", `the backup is of database schema ${schema}, this Tessera's is ${SCHEMA_VERSION}: restore it with the Tessera version that made it, then upgrade`));
    }
    this.maybeChanged = true;
    return this.queue.run(async () => {
      // Everything changes: the next look reads the feed (set again when this ends, below).
      this.maybeChanged = true;
      const db = this.db;
      db.exec("BEGIN IMMEDIATE");
      try {
        db.exec("PRAGMA defer_foreign_keys = ON");
        const tables = stateTables(db);
        for (const t of tables) db.exec(`DELETE FROM "${t}"`);
        const columns = new Map(tables.map((t) => [t, new Set((db.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => c.name))]));
        const inserts = new Map<string, ReturnType<Db["prepare"]>>();
        let n = 0;
        for await (const { table, row } of rows) {
          const allowed = columns.get(table);
          const names = Object.keys(row);
          if (allowed === undefined || names.some((c) => !allowed.has(c))) throw new TesseraError("InvalidInput", `the backup holds a row this database has no place for (${table})`);
          const key = `${table}|${names.join(",")}`;
          let insert = inserts.get(key);
          if (insert === undefined) {
            insert = db.prepare(`INSERT INTO "${table}" (${names.map((c) => `"${c}"`).join(", ")}) VALUES (${names.map(() => "?").join(", ")})`);
            inserts.set(key, insert);
          }
          insert.run(...(names.map((c) => fromJsonValue(row[c])) as never[]));
          n++;
        }
        db.exec("COMMIT");
        return n;
      } catch (err) {
        if (db.isTransaction) db.exec("ROLLBACK");
        throw err;
      }
    }).finally(() => (this.maybeChanged = true));
  }

  async close(): Promise<void> {
    await this.queue.run(async () => {
      if (this.db.isOpen) this.db.close();
    });
  }
}

/** The schema version rows are in: the last migration. */
const SCHEMA_VERSION = Math.max(...sqliteMigrations.map((m) => m.id));

/**
 * Every table that holds state: not the migration log, not the audit trail (the trail is evidence a
 * node appends to, not state to restore), not the per-database bookkeeping of migration 10 — the
 * change feed (the restore's own writes add to it, so caches follow), leases and the node list.
 */
function stateTables(db: Db): string[] {
  const excluded = new Set(["schema_migrations", "audit_entries", "audit_chains", "state_changes", "leases", "nodes"]);
  return (db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`).all() as { name: string }[])
    .map((t) => t.name)
    .filter((t) => !excluded.has(t));
}

function toJsonRow(r: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r)) out[k] = v instanceof Uint8Array ? { $bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") } : v;
  return out;
}

function fromJsonValue(v: unknown): unknown {
  if (v !== null && typeof v === "object") {
    const bytes = (v as { $bytes?: unknown }).$bytes;
    if (typeof bytes === "string") return Buffer.from(bytes, "base64");
    throw new TesseraError("InvalidInput", "the backup holds a value of an unknown kind");
  }
  return v;
}
