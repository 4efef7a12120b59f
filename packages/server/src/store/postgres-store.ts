/**
 * PostgreSQL store (the `pg` driver, pooled), for several Tessera nodes sharing one database.
 *
 * Semantics, as on SQLite:
 * - `transaction(fn)` runs on one pooled connection at REPEATABLE READ: `fn` sees one snapshot and
 *   its own writes; a write that meets a row changed by a concurrent transaction since that
 *   snapshot fails with `Conflict` (retryable) instead of overwriting it — the revision
 *   compare-and-set on keys, and every read-modify-write, can never lose an update. SQLite
 *   serialises whole transactions; here only genuinely conflicting ones fail, and callers that race
 *   on purpose (KeyService) retry.
 * - Spends and claims are single statements (or a savepoint) whose conditions the database
 *   re-checks under the row lock, so concurrent logins and enrolments cannot both win.
 * - Lock waits, lost connections and a database that is down or restarting become `Unavailable`
 *   (503, retryable) within `statement_timeout` / the pool's connect timeout — a request never hangs.
 *
 * `eraseDeleted()` is `VACUUM FULL` of the tables that hold sealed material (see the method).
 */
import pg from "pg";
import { TesseraError } from "@tessera/protocol";
import type {
  AccessKeyRepo,
  AliasRepo,
  AlertRepo,
  AlertRow,
  AuditRepo,
  CertificateRepo,
  ChangeFeed,
  ChangeSubscriber,
  ChangeSubscription,
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
  TokenRepo,
  TokenRow,
  VersionRepo,
  VersionRow,
  StoreSnapshot,
} from "./store.js";
import { runPostgresMigrations } from "./postgres-migrate.js";
import { PostgresListener } from "./postgres-listener.js";
import { postgresSecretRepo } from "./postgres-secrets.js";
import { postgresRetentionRepo } from "./retention-repos.js";
import { postgresGrantRepo } from "./postgres-grants.js";
import { numberedAll } from "./postgres-sql.js";
import { KEY_COLUMNS, KEY_SQL } from "./key-queries.js";

export interface PostgresStoreOptions {
  /** postgres://user@host:port/database (a password in the URL works, but prefer `password`). */
  url: string;
  password?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** TLS to the database; undefined = whatever the URL says (sslmode), false = none. */
  ssl?: pg.ClientConfig["ssl"];
  /** How long a statement may run, and a request may wait for a connection (default 5000 ms). */
  timeoutMs?: number;
  /** `application_name` the connections show in pg_stat_activity. */
  applicationName?: string;
  /** The audit chain this node appends to: its node id. */
  auditChain?: string;
}

/** int8 (BIGINT) arrives as a string by default; every BIGINT here is a time or a counter well below 2^53. */
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

/**
 * The URL with the password in it: pg lets a connection string's (empty) password override a
 * separate `password` option, so the password travels inside the string (pg keeps it out of its
 * error messages and of the client's enumerable properties).
 */
function connectionString(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = encodeURIComponent(password);
  return u.toString();
}

/** SQLSTATE classes and codes (https://www.postgresql.org/docs/15/errcodes-appendix.html). */
const PG = Object.freeze({
  UNIQUE: "23505",
  SERIALIZATION: "40001",
  DEADLOCK: "40P01",
  LOCK_NOT_AVAILABLE: "55P03",
  QUERY_CANCELED: "57014",
});

/** The tables that hold sealed material or secret data: what `eraseDeleted()` rewrites. */
const ERASED_TABLES = ["key_versions", "access_keys", "meta", "secret_versions"] as const;

const pgCode = (err: unknown): string | undefined =>
  typeof err === "object" && err !== null && typeof (err as { code?: unknown }).code === "string" ? (err as { code: string }).code : undefined;

const isUniqueViolation = (err: unknown): boolean => pgCode(err) === PG.UNIQUE;

/**
 * Driver errors become catalogue errors: a conflicting concurrent write is `Conflict`; anything that
 * says the database cannot answer now (connection refused or lost, shutting down or starting up,
 * out of connections, a statement or lock wait timed out, disk full) is `Unavailable`. Constraint
 * and programming errors pass through unchanged.
 */
export function storageError(err: unknown): unknown {
  if (err instanceof TesseraError) return err;
  const code = pgCode(err);
  if (code === PG.SERIALIZATION || code === PG.DEADLOCK) {
    return new TesseraError("Conflict", "a concurrent change touched the same data; retry", { cause: err });
  }
  const unavailable =
    code === undefined
      ? // Node socket errors (ECONNREFUSED …) carry a code too; pg's own timeouts and closed clients carry none.
        err instanceof Error && /timeout|terminated|Connection terminated|not queryable|ended/i.test(err.message)
      : /^(08|53|57P|58)/.test(code) || code === PG.LOCK_NOT_AVAILABLE || code === PG.QUERY_CANCELED || /^E[A-Z]+$/.test(code);
  if (unavailable) return new TesseraError("Unavailable", "the database cannot be reached or did not answer in time; retry", { cause: err });
  return err;
}

/** What repositories run statements on: the pool (each statement its own transaction) or one transaction's client. */
interface Runner {
  query<R extends pg.QueryResultRow>(name: string, text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
  /** Runs `fn` atomically: in a savepoint inside a transaction, or in a transaction of its own. */
  atomically<T>(fn: (run: Runner) => Promise<T>): Promise<T>;
}

class PoolRunner implements Runner {
  constructor(private readonly pool: pg.Pool) {}

  async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>({ name, text, values });
    } catch (err) {
      throw storageError(err);
    }
  }

  async atomically<T>(fn: (run: Runner) => Promise<T>): Promise<T> {
    // READ COMMITTED: its statements re-check their conditions on the newest row under the row lock.
    return inTransaction(this.pool, "BEGIN", (client) => fn(new ClientRunner(client)));
  }
}

class ClientRunner implements Runner {
  private savepoints = 0;

  constructor(private readonly client: pg.PoolClient) {}

  async query<R extends pg.QueryResultRow>(name: string, text: string, values: unknown[] = []): Promise<pg.QueryResult<R>> {
    try {
      return await this.client.query<R>({ name, text, values });
    } catch (err) {
      throw storageError(err);
    }
  }

  async atomically<T>(fn: (run: Runner) => Promise<T>): Promise<T> {
    const name = `tessera_atomic_${this.savepoints++}`;
    await this.client.query(`SAVEPOINT ${name}`);
    try {
      const result = await fn(this);
      await this.client.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    } catch (err) {
      await this.client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
      throw storageError(err);
    }
  }
}

/**
 * BEGIN … COMMIT on a pooled connection. A connection whose transaction could not be rolled back
 * (it broke mid-way) is destroyed rather than returned to the pool.
 */
/**
 * A client checked out of the pool, listening for errors while it is out: pg-pool removes its own
 * listener on checkout, so a connection that dies between two queries (the database restarting
 * while a transaction waits on other work) would emit an unheard 'error' and end the process. The
 * error is kept instead and the client released as broken.
 */
async function checkout(pool: pg.Pool): Promise<{ client: pg.PoolClient; release: (broken?: Error) => void }> {
  let client: pg.PoolClient;
  try {
    client = await pool.connect();
  } catch (err) {
    throw storageError(err);
  }
  let failure: Error | undefined;
  const onError = (err: Error) => (failure ??= err);
  client.on("error", onError);
  return {
    client,
    release: (broken) => {
      client.off("error", onError);
      client.release(broken ?? failure ?? false);
    },
  };
}

async function inTransaction<T>(pool: pg.Pool, begin: string, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const out = await checkout(pool);
  const client = out.client;
  let broken: Error | undefined;
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query("COMMIT");
    return result;
  } catch (err) {
    try {
      await client.query("ROLLBACK");
    } catch (rollbackErr) {
      broken = rollbackErr as Error;
    }
    throw storageError(err);
  } finally {
    out.release(broken);
  }
}

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
  derived: boolean;
  convergent: boolean;
  exportable: boolean;
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

const KEY_QUERIES = numberedAll(KEY_SQL);

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
  derived: r.derived,
  convergent: r.convergent,
  exportable: r.exportable,
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

const keyValues = (k: KeyRow): unknown[] => [
  k.id,
  k.name,
  k.description,
  JSON.stringify(k.tags),
  k.keySpec,
  k.keyUsage,
  k.origin,
  k.state,
  k.priorState,
  k.derived,
  k.exportable,
  k.createdAt,
  k.primaryVersion,
  k.minDecryptionVersion,
  k.rotationPeriodSeconds,
  k.lastRotatedAt,
  k.deletionDate,
  k.destroyedAt,
  k.revision,
  k.convergent,
  k.minEncryptionVersion,
];

interface VersionRecord {
  key_id: string;
  version: number;
  state: string;
  created_at: number;
  material: Buffer | null;
  last_used_at: number | null;
  use_count: number;
  destroyed_at: number | null;
}

const versionFromRecord = (r: VersionRecord): VersionRow => ({
  keyId: r.key_id,
  version: r.version,
  state: r.state as VersionRow["state"],
  createdAt: r.created_at,
  material: r.material,
  lastUsedAt: r.last_used_at,
  useCount: r.use_count,
  destroyedAt: r.destroyed_at,
});

interface TokenRecord {
  hash: string;
  accessor: string;
  display_name: string;
  root: boolean;
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

const TOKEN_COLUMNS =
  "hash, accessor, display_name, root, grants, created_at, expires_at, kind, role, auth_method, attributes, source, subject, certificate_serial, ttl_seconds, max_expires_at";

const tokenFromRecord = (r: TokenRecord): TokenRow => ({
  hash: r.hash,
  accessor: r.accessor,
  displayName: r.display_name,
  root: r.root,
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

function keyRepo(run: Runner): KeyRepo {
  return {
    async insert(row) {
      try {
        await run.query(
          "key_insert",
          `INSERT INTO keys (${KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)`,
          keyValues(row),
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw new TesseraError("AlreadyExists", `a key named "${row.name}" already exists`);
        throw err;
      }
    },
    async get(id) {
      const r = await run.query<KeyRecord>("key_get", `SELECT ${KEY_COLUMNS} FROM keys WHERE id = $1`, [id]);
      return r.rows[0] && keyFromRecord(r.rows[0]);
    },
    async getByName(name) {
      const r = await run.query<KeyRecord>("key_by_name", `SELECT ${KEY_COLUMNS} FROM keys WHERE name = $1`, [name]);
      return r.rows[0] && keyFromRecord(r.rows[0]);
    },
    async list(limit, after) {
      const r =
        after === undefined
          ? await run.query<KeyRecord>("key_list_first", `SELECT ${KEY_COLUMNS} FROM keys ORDER BY created_at, id LIMIT $1`, [limit])
          : await run.query<KeyRecord>(
              "key_list_after",
              `SELECT ${KEY_COLUMNS} FROM keys WHERE (created_at, id) > (SELECT created_at, id FROM keys WHERE id = $1) ORDER BY created_at, id LIMIT $2`,
              [after, limit],
            );
      return r.rows.map(keyFromRecord);
    },
    async update(row) {
      // Spec, usage, origin, derivation, exportability and creation time never change: they are not in the SET list.
      const r = await run.query(
        "key_update",
        `UPDATE keys SET name = $2, description = $3, tags = $4, state = $5, prior_state = $6, primary_version = $7, min_decryption_version = $8,
           rotation_period_seconds = $9, last_rotated_at = $10, deletion_date = $11, destroyed_at = $12, revision = $13,
           min_encryption_version = $14
         WHERE id = $1 AND revision = $13 - 1`,
        [
          row.id,
          row.name,
          row.description,
          JSON.stringify(row.tags),
          row.state,
          row.priorState,
          row.primaryVersion,
          row.minDecryptionVersion,
          row.rotationPeriodSeconds,
          row.lastRotatedAt,
          row.deletionDate,
          row.destroyedAt,
          row.revision,
          row.minEncryptionVersion,
        ],
      );
      if (r.rowCount !== 1) throw new TesseraError("Conflict", "the key changed concurrently; retry");
    },
    async dueForRotation(now) {
      return (await run.query<KeyRecord>("key_due_rotation", KEY_QUERIES.dueForRotation, [now])).rows.map(keyFromRecord);
    },
    async dueForDeletion(now) {
      return (await run.query<KeyRecord>("key_due_deletion", KEY_QUERIES.dueForDeletion, [now])).rows.map(keyFromRecord);
    },
    async listRotated(limit, after) {
      const r =
        after === undefined
          ? await run.query<KeyRecord>("key_rotated_first", KEY_QUERIES.rotatedFirst, [limit])
          : await run.query<KeyRecord>("key_rotated_after", KEY_QUERIES.rotatedAfter, [after, limit]);
      return r.rows.map(keyFromRecord);
    },
  };
}

/**
 * A version's columns with its unfolded counts added (migration 16): what readers see does not
 * depend on whether a fold has run. GREATEST ignores NULLs.
 */
const VERSION_READ_COLUMNS = `key_id, version, state, created_at, material, destroyed_at,
  use_count + (SELECT COALESCE(SUM(u.use_count), 0)::BIGINT FROM version_uses u WHERE u.key_id = v.key_id AND u.version = v.version) AS use_count,
  GREATEST(last_used_at, (SELECT MAX(u.last_used_at) FROM version_uses u WHERE u.key_id = v.key_id AND u.version = v.version)) AS last_used_at`;

/**
 * One statement: the DELETE removes only rows in its snapshot and returns exactly those, and the
 * UPDATE adds exactly their counts — a count added meanwhile (a new row, once this DELETE commits)
 * stays unfolded for the next fold, and one added to a row after this snapshot fails the fold.
 */
const FOLD_USES = `WITH picked AS (
    SELECT DISTINCT key_id, version FROM version_uses WHERE (key_id, version) > ($1, $2) ORDER BY key_id, version LIMIT $3
  ), gone AS (
    DELETE FROM version_uses u USING picked p WHERE u.key_id = p.key_id AND u.version = p.version RETURNING u.key_id, u.version, u.use_count, u.last_used_at
  ), sums AS (
    SELECT key_id, version, SUM(use_count)::BIGINT AS c, MAX(last_used_at) AS l FROM gone GROUP BY key_id, version
  ), folded AS (
    UPDATE key_versions kv SET use_count = kv.use_count + s.c, last_used_at = GREATEST(COALESCE(kv.last_used_at, 0), s.l)
    FROM sums s WHERE kv.key_id = s.key_id AND kv.version = s.version
  )
  SELECT key_id, version, (SELECT count(*) FROM picked)::INTEGER AS folded FROM picked ORDER BY key_id DESC, version DESC LIMIT 1`;

function versionRepo(run: Runner): VersionRepo {
  const cols = "key_id, version, state, created_at, material, last_used_at, use_count, destroyed_at";
  return {
    async insert(v) {
      await run.query("version_insert", `INSERT INTO key_versions (${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        v.keyId,
        v.version,
        v.state,
        v.createdAt,
        v.material,
        v.lastUsedAt,
        v.useCount,
        v.destroyedAt,
      ]);
    },
    async get(keyId, version) {
      const r = await run.query<VersionRecord>("version_get", `SELECT ${VERSION_READ_COLUMNS} FROM key_versions v WHERE key_id = $1 AND version = $2`, [keyId, version]);
      return r.rows[0] && versionFromRecord(r.rows[0]);
    },
    async list(keyId) {
      const r = await run.query<VersionRecord>("version_list", `SELECT ${VERSION_READ_COLUMNS} FROM key_versions v WHERE key_id = $1 ORDER BY version`, [keyId]);
      return r.rows.map(versionFromRecord);
    },
    async update(v) {
      await run.query("version_update", `UPDATE key_versions SET state = $3, material = $4, destroyed_at = $5 WHERE key_id = $1 AND version = $2`, [
        v.keyId,
        v.version,
        v.state,
        v.material,
        v.destroyedAt,
      ]);
    },
    async recordUse(keyId, version, count, lastUsedAt) {
      await run.query("version_use", `INSERT INTO version_uses (key_id, version, use_count, last_used_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (key_id, version) DO UPDATE SET use_count = version_uses.use_count + EXCLUDED.use_count, last_used_at = GREATEST(version_uses.last_used_at, EXCLUDED.last_used_at)`, [keyId, version, count, lastUsedAt]);
    },
    async foldUses(afterKeyId, afterVersion, limit) {
      const r = await run.query<{ key_id: string; version: number; folded: number }>("version_fold_uses", FOLD_USES, [afterKeyId, afterVersion, limit]);
      const last = r.rows[0];
      return last && { keyId: last.key_id, version: last.version, folded: last.folded };
    },
    async countSealed() {
      return Number((await run.query<{ n: number }>("version_count_sealed", `SELECT count(*)::BIGINT AS n FROM key_versions WHERE material IS NOT NULL`)).rows[0]!.n);
    },
    async listSealed(afterKeyId, afterVersion, limit) {
      const r = await run.query<{ key_id: string; version: number; material: Buffer }>(
        "version_list_sealed",
        `SELECT key_id, version, material FROM key_versions WHERE material IS NOT NULL AND (key_id, version) > ($1, $2) ORDER BY key_id, version LIMIT $3`,
        [afterKeyId, afterVersion, limit],
      );
      return r.rows.map((x) => ({ keyId: x.key_id, version: x.version, material: x.material }));
    },
    async replaceMaterial(keyId, version, expected, material) {
      const r = await run.query("version_replace_material", `UPDATE key_versions SET material = $4 WHERE key_id = $1 AND version = $2 AND material = $3`, [keyId, version, expected, material]);
      return r.rowCount === 1;
    },
  };
}

function tokenRepo(run: Runner): TokenRepo {
  const one = async (name: string, text: string, value: unknown) => {
    const r = await run.query<TokenRecord>(name, text, [value]);
    return r.rows[0] && tokenFromRecord(r.rows[0]);
  };
  const count = async (name: string, text: string, values: unknown[]) => (await run.query(name, text, values)).rowCount ?? 0;
  return {
    async insert(t) {
      // One statement: a token bound to a certificate is written only while that certificate is
      // recorded and unrevoked. FOR SHARE makes a concurrent revocation wait for this insert (then
      // its token deletion sees the token) or this insert wait for the revocation (then it re-checks
      // the row and writes nothing): no revocation slips between the check and the insert.
      const r = await run.query(
        "token_insert",
        `INSERT INTO tokens (${TOKEN_COLUMNS})
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::text, $15, $16
         WHERE $14::text IS NULL OR EXISTS (SELECT 1 FROM certificates WHERE serial = $14::text AND revoked_at IS NULL FOR SHARE)`,
        [
          t.hash,
          t.accessor,
          t.displayName,
          t.root,
          JSON.stringify(t.grants),
          t.createdAt,
          t.expiresAt,
          t.kind,
          t.role,
          t.authMethod,
          JSON.stringify(t.attributes),
          t.source,
          t.subject,
          t.certificateSerial,
          t.ttlSeconds,
          t.maxExpiresAt,
        ],
      );
      if (r.rowCount === 0) throw new TesseraError("Unauthenticated", "client certificate refused: revoked");
    },
    getByHash: (hash) => one("token_by_hash", `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = $1`, hash),
    getByAccessor: (accessor) => one("token_by_accessor", `SELECT ${TOKEN_COLUMNS} FROM tokens WHERE accessor = $1`, accessor),
    async deleteByAccessor(accessor) {
      return (await count("token_delete", `DELETE FROM tokens WHERE accessor = $1`, [accessor])) > 0;
    },
    deleteExpired: (now) => count("token_delete_expired", `DELETE FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1`, [now]),
    deleteByRole: (role) => count("token_delete_role", `DELETE FROM tokens WHERE role = $1`, [role]),
    deleteBySubject: (subject) => count("token_delete_subject", `DELETE FROM tokens WHERE subject = $1`, [subject]),
    deleteByCertificate: (serial) => count("token_delete_certificate", `DELETE FROM tokens WHERE certificate_serial = $1`, [serial]),
    async setExpiry(accessor, expiresAt) {
      await run.query("token_set_expiry", `UPDATE tokens SET expires_at = $2 WHERE accessor = $1`, [accessor, expiresAt]);
    },
  };
}

function metaRepo(run: Runner): MetaRepo {
  return {
    async get<T>(name: string) {
      const r = await run.query<{ value: string }>("meta_get", `SELECT value FROM meta WHERE name = $1`, [name]);
      return r.rows[0] === undefined ? undefined : (JSON.parse(r.rows[0].value) as T);
    },
    async put(name, value) {
      await run.query("meta_put", `INSERT INTO meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, [name, JSON.stringify(value)]);
    },
  };
}

function documentRepo(run: Runner, collection: string): DocumentRepo {
  type Rec = { name: string; body: string; created_at: number; updated_at: number };
  const row = (r: Rec) => ({ name: r.name, body: JSON.parse(r.body) as unknown, createdAt: r.created_at, updatedAt: r.updated_at });
  return {
    async get(name) {
      const r = await run.query<Rec>("document_get", `SELECT name, body, created_at, updated_at FROM documents WHERE collection = $1 AND name = $2`, [collection, name]);
      return r.rows[0] && row(r.rows[0]);
    },
    async list() {
      const r = await run.query<Rec>("document_list", `SELECT name, body, created_at, updated_at FROM documents WHERE collection = $1 ORDER BY name`, [collection]);
      return r.rows.map(row);
    },
    async put(d) {
      await run.query(
        "document_put",
        `INSERT INTO documents (collection, name, body, created_at, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (collection, name) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`,
        [collection, d.name, JSON.stringify(d.body), d.createdAt, d.updatedAt],
      );
    },
    async delete(name) {
      return ((await run.query("document_delete", `DELETE FROM documents WHERE collection = $1 AND name = $2`, [collection, name])).rowCount ?? 0) > 0;
    },
  };
}

function spendableRepo(run: Runner, collection: string): SpendableRepo {
  const cols = "hash, accessor, role, uses_left, expires_at, created_at, metadata";
  type Rec = { hash: string; accessor: string; role: string; uses_left: number | null; expires_at: number | null; created_at: number; metadata: string };
  const row = (r: Rec): SpendableRow => ({
    hash: r.hash,
    accessor: r.accessor,
    role: r.role,
    usesLeft: r.uses_left,
    expiresAt: r.expires_at,
    createdAt: r.created_at,
    metadata: JSON.parse(r.metadata) as Record<string, unknown>,
  });
  const count = async (name: string, text: string, values: unknown[]) => (await run.query(name, text, values)).rowCount ?? 0;
  return {
    async insert(r) {
      await run.query("spendable_insert", `INSERT INTO spendables (collection, ${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, [
        collection,
        r.hash,
        r.accessor,
        r.role,
        r.usesLeft,
        r.expiresAt,
        r.createdAt,
        JSON.stringify(r.metadata),
      ]);
    },
    async getByHash(hash) {
      const r = await run.query<Rec>("spendable_get", `SELECT ${cols} FROM spendables WHERE collection = $1 AND hash = $2`, [collection, hash]);
      return r.rows[0] && row(r.rows[0]);
    },
    async spend(hash, now) {
      // One statement: PostgreSQL re-checks the WHERE clause on the newest row once it holds the row
      // lock, so of concurrent spends of the last use exactly one matches. RETURNING gives the row
      // after the update; the row before it had one more use.
      const r = await run.query<Rec>(
        "spendable_spend",
        `UPDATE spendables SET uses_left = CASE WHEN uses_left IS NULL THEN NULL ELSE uses_left - 1 END
         WHERE collection = $1 AND hash = $2 AND (uses_left IS NULL OR uses_left > 0) AND (expires_at IS NULL OR expires_at > $3)
         RETURNING ${cols}`,
        [collection, hash, now],
      );
      const after = r.rows[0];
      if (after === undefined) return undefined;
      return row({ ...after, uses_left: after.uses_left === null ? null : after.uses_left + 1 });
    },
    async list(role) {
      const r =
        role === undefined
          ? await run.query<Rec>("spendable_list", `SELECT ${cols} FROM spendables WHERE collection = $1 ORDER BY created_at`, [collection])
          : await run.query<Rec>("spendable_list_role", `SELECT ${cols} FROM spendables WHERE collection = $1 AND role = $2 ORDER BY created_at`, [collection, role]);
      return r.rows.map(row);
    },
    async deleteByAccessor(accessor) {
      return (await count("spendable_delete", `DELETE FROM spendables WHERE collection = $1 AND accessor = $2`, [collection, accessor])) > 0;
    },
    deleteByRole: (role) => count("spendable_delete_role", `DELETE FROM spendables WHERE collection = $1 AND role = $2`, [collection, role]),
    deleteExpired: (now) =>
      count("spendable_delete_expired", `DELETE FROM spendables WHERE collection = $1 AND ((expires_at IS NOT NULL AND expires_at <= $2) OR uses_left = 0)`, [collection, now]),
  };
}

function certificateRepo(run: Runner): CertificateRepo {
  type Rec = { serial: string; vm_id: string; role: string; not_before: number; not_after: number; revoked_at: number | null; created_at: number };
  const cols = "serial, vm_id, role, not_before, not_after, revoked_at, created_at";
  const row = (r: Rec): CertificateRow => ({
    serial: r.serial,
    vmId: r.vm_id,
    role: r.role,
    notBefore: r.not_before,
    notAfter: r.not_after,
    revokedAt: r.revoked_at,
    createdAt: r.created_at,
  });
  const values = (c: CertificateRow) => [c.serial, c.vmId, c.role, c.notBefore, c.notAfter, c.revokedAt, c.createdAt];
  const insert = (r: Runner, c: CertificateRow) => r.query("certificate_insert", `INSERT INTO certificates (${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7)`, values(c));
  // The primary key of vm_ids settles a contested claim: a concurrent claimant waits for the first to
  // commit, then inserts nothing; rowCount says who got it.
  const claim = (r: Runner, c: CertificateRow) =>
    r.query("vm_id_claim", `INSERT INTO vm_ids (vm_id, claimed_at) VALUES ($1, $2) ON CONFLICT (vm_id) DO NOTHING`, [c.vmId, c.createdAt]);
  const count = async (name: string, text: string, v: unknown[]) => (await run.query(name, text, v)).rowCount ?? 0;
  return {
    async insert(c) {
      await run.atomically(async (r) => {
        await claim(r, c);
        await insert(r, c);
      });
    },
    async claimAndInsert(c) {
      return run.atomically(async (r) => {
        if (((await claim(r, c)).rowCount ?? 0) === 0) return false;
        await insert(r, c);
        return true;
      });
    },
    async get(serial) {
      const r = await run.query<Rec>("certificate_get", `SELECT ${cols} FROM certificates WHERE serial = $1`, [serial]);
      return r.rows[0] && row(r.rows[0]);
    },
    async listByVm(vmId) {
      const r = await run.query<Rec>("certificate_by_vm", `SELECT ${cols} FROM certificates WHERE vm_id = $1 ORDER BY created_at, serial`, [vmId]);
      return r.rows.map(row);
    },
    async list(limit, afterSerial = "") {
      const r = await run.query<Rec>("certificate_list", `SELECT ${cols} FROM certificates WHERE serial COLLATE "C" > $1 ORDER BY serial COLLATE "C" LIMIT $2`, [afterSerial, limit]);
      return r.rows.map(row);
    },
    async revoke(serial, now) {
      return (await count("certificate_revoke", `UPDATE certificates SET revoked_at = COALESCE(revoked_at, $1) WHERE serial = $2`, [now, serial])) > 0;
    },
    revokeVm: (vmId, now) => count("certificate_revoke_vm", `UPDATE certificates SET revoked_at = $1 WHERE vm_id = $2 AND revoked_at IS NULL`, [now, vmId]),
    revokeRole: (role, now) => count("certificate_revoke_role", `UPDATE certificates SET revoked_at = $1 WHERE role = $2 AND revoked_at IS NULL`, [now, role]),
    async listRevoked(now) {
      const r = await run.query<{ serial: string }>("certificate_revoked", `SELECT serial FROM certificates WHERE revoked_at IS NOT NULL AND not_after > $1`, [now]);
      return r.rows.map((x) => x.serial);
    },
  };
}

function accessKeyRepo(run: Runner): AccessKeyRepo {
  type Rec = { id: string; secret: Buffer; role: string; state: string; description: string; created_at: number };
  const cols = "id, secret, role, state, description, created_at";
  const row = (r: Rec) => ({ id: r.id, secret: r.secret, role: r.role, state: r.state as "Active" | "Inactive", description: r.description, createdAt: r.created_at });
  const count = async (name: string, text: string, v: unknown[]) => (await run.query(name, text, v)).rowCount ?? 0;
  return {
    async insert(k) {
      await run.query("access_key_insert", `INSERT INTO access_keys (${cols}) VALUES ($1, $2, $3, $4, $5, $6)`, [k.id, k.secret, k.role, k.state, k.description, k.createdAt]);
    },
    async get(id) {
      const r = await run.query<Rec>("access_key_get", `SELECT ${cols} FROM access_keys WHERE id = $1`, [id]);
      return r.rows[0] && row(r.rows[0]);
    },
    async list() {
      return (await run.query<Rec>("access_key_list", `SELECT ${cols} FROM access_keys ORDER BY created_at, id`)).rows.map(row);
    },
    async replaceSecret(id, expected, secret) {
      return (await count("access_key_replace_secret", `UPDATE access_keys SET secret = $3 WHERE id = $1 AND secret = $2`, [id, expected, secret])) === 1;
    },
    async setState(id, state) {
      return (await count("access_key_state", `UPDATE access_keys SET state = $2 WHERE id = $1`, [id, state])) > 0;
    },
    async delete(id) {
      return (await count("access_key_delete", `DELETE FROM access_keys WHERE id = $1`, [id])) > 0;
    },
    deleteByRole: (role) => count("access_key_delete_role", `DELETE FROM access_keys WHERE role = $1`, [role]),
  };
}

function aliasRepo(run: Runner): AliasRepo {
  type Rec = { name: string; key_id: string; created_at: number; updated_at: number };
  const row = (r: Rec) => ({ name: r.name, keyId: r.key_id, createdAt: r.created_at, updatedAt: r.updated_at });
  const cols = "name, key_id, created_at, updated_at";
  return {
    async insert(a) {
      try {
        await run.query("alias_insert", `INSERT INTO aliases (${cols}) VALUES ($1, $2, $3, $4)`, [a.name, a.keyId, a.createdAt, a.updatedAt]);
      } catch (err) {
        if (isUniqueViolation(err)) throw new TesseraError("AlreadyExists", `alias ${a.name} already exists`);
        throw err;
      }
    },
    async get(name) {
      const r = await run.query<Rec>("alias_get", `SELECT ${cols} FROM aliases WHERE name = $1`, [name]);
      return r.rows[0] && row(r.rows[0]);
    },
    async update(name, keyId, now) {
      return ((await run.query("alias_update", `UPDATE aliases SET key_id = $2, updated_at = $3 WHERE name = $1`, [name, keyId, now])).rowCount ?? 0) > 0;
    },
    async delete(name) {
      return ((await run.query("alias_delete", `DELETE FROM aliases WHERE name = $1`, [name])).rowCount ?? 0) > 0;
    },
    async list(keyId) {
      const r =
        keyId === undefined
          ? await run.query<Rec>("alias_list", `SELECT ${cols} FROM aliases ORDER BY name`)
          : await run.query<Rec>("alias_list_key", `SELECT ${cols} FROM aliases WHERE key_id = $1 ORDER BY name`, [keyId]);
      return r.rows.map(row);
    },
  };
}

function alertRepo(run: Runner): AlertRepo {
  type Rec = { id: string; time: string; detector: string; body: string; acked_at: string | null; acked_by: string | null };
  const cols = "id, time, detector, body, acked_at, acked_by";
  const row = (r: Rec): AlertRow => ({ id: r.id, time: r.time, detector: r.detector, body: JSON.parse(r.body) as AlertRow["body"], ackedAt: r.acked_at, ackedBy: r.acked_by });
  return {
    async insert(a) {
      await run.query("alert_insert", `INSERT INTO alerts (${cols}) VALUES ($1, $2, $3, $4, $5, $6)`, [a.id, a.time, a.detector, JSON.stringify(a.body), a.ackedAt, a.ackedBy]);
    },
    async list({ unacknowledgedOnly, limit }) {
      const r = unacknowledgedOnly
        ? await run.query<Rec>("alert_list_open", `SELECT ${cols} FROM alerts WHERE acked_at IS NULL ORDER BY time DESC, id LIMIT $1`, [limit])
        : await run.query<Rec>("alert_list", `SELECT ${cols} FROM alerts ORDER BY time DESC, id LIMIT $1`, [limit]);
      return r.rows.map(row);
    },
    async ack(id, at, by) {
      return (
        ((await run.query("alert_ack", `UPDATE alerts SET acked_at = COALESCE(acked_at, $2), acked_by = COALESCE(acked_by, $3) WHERE id = $1`, [id, at, by])).rowCount ?? 0) > 0
      );
    },
  };
}

function auditRepo(run: Runner, chain: string): AuditRepo {
  const list = (other: string, after: number, limit: number, from: string, to: string) =>
    run
      .query<{ seq: number; record: string }>(
        "audit_list",
        `SELECT seq, record FROM audit_chains WHERE node = $1 AND seq > $2 AND time >= $3 AND time <= $4 ORDER BY seq LIMIT $5`,
        [other, after, from, to, limit],
      )
      .then((r) => r.rows.map((x) => ({ seq: x.seq, line: x.record })));
  return {
    async append(records) {
      if (records.length === 0) return;
      // One statement for the batch: unnest keeps it a single round trip whatever its size.
      await run.query("audit_append", `INSERT INTO audit_chains (node, seq, time, record) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[])`, [
        chain,
        records.map((r) => r.seq),
        records.map((r) => r.time),
        records.map((r) => r.line),
      ]);
    },
    async truncateAfter(seq) {
      await run.query("audit_truncate", `DELETE FROM audit_chains WHERE node = $1 AND seq > $2`, [chain, seq]);
    },
    async last() {
      return (await run.query<{ record: string }>("audit_last", `SELECT record FROM audit_chains WHERE node = $1 ORDER BY seq DESC LIMIT 1`, [chain])).rows[0]?.record;
    },
    list: (after, limit, range = {}) => list(chain, after, limit, range.from ?? "", range.to ?? "\uffff"),
    async chains() {
      return (await run.query<{ node: string }>("audit_chains", `SELECT DISTINCT node FROM audit_chains ORDER BY node`)).rows.map((r) => r.node);
    },
    listChain: (other, after, limit) => list(other, after, limit, "", "\uffff"),
  };
}

/** The database's clock in ms since the epoch, read once per statement (clock_timestamp, not the transaction's start). */
const DB_NOW = "(extract(epoch FROM clock_timestamp()) * 1000)::BIGINT";

function leaseRepo(run: Runner): LeaseRepo {
  type Rec = { name: string; holder: string; epoch: number; expires_at: number };
  const row = (r: Rec): LeaseRow => ({ name: r.name, holder: r.holder, epoch: r.epoch, expiresAt: r.expires_at });
  return {
    async acquire(name, holder, ttlMs) {
      const r = await run.query<Rec>(
        "lease_acquire",
        `WITH t AS (SELECT ${DB_NOW} AS now)
         INSERT INTO leases (name, holder, epoch, expires_at) SELECT $1, $2, 1, t.now + $3 FROM t
         ON CONFLICT (name) DO UPDATE SET
           epoch = CASE WHEN leases.holder = excluded.holder AND leases.expires_at > (SELECT now FROM t) THEN leases.epoch ELSE leases.epoch + 1 END,
           holder = excluded.holder, expires_at = excluded.expires_at
         WHERE leases.holder = excluded.holder OR leases.expires_at <= (SELECT now FROM t)
         RETURNING name, holder, epoch, expires_at`,
        [name, holder, ttlMs],
      );
      return r.rows[0] && row(r.rows[0]);
    },
    async release(name, holder, epoch) {
      await run.query("lease_release", `UPDATE leases SET expires_at = ${DB_NOW} WHERE name = $1 AND holder = $2 AND epoch = $3`, [name, holder, epoch]);
    },
    async holds(name, holder, epoch) {
      // FOR SHARE: a takeover (an UPDATE of this row) waits until this transaction ends, so work
      // fenced by this check commits before anyone else can hold the lease. Called first in a
      // transaction, the lock is taken with its snapshot.
      const r = await run.query("lease_holds", `SELECT 1 FROM leases WHERE name = $1 AND holder = $2 AND epoch = $3 AND expires_at > ${DB_NOW} FOR SHARE`, [
        name,
        holder,
        epoch,
      ]);
      return (r.rowCount ?? 0) > 0;
    },
    async get(name) {
      const r = await run.query<Rec>("lease_get", `SELECT name, holder, epoch, expires_at FROM leases WHERE name = $1`, [name]);
      return r.rows[0] && row(r.rows[0]);
    },
  };
}

function nodeRepo(run: Runner): NodeRepo {
  type Rec = { id: string; instance: string; address: string; state: string; version: string; started_at: number; last_seen: number };
  const cols = "id, instance, address, state, version, started_at, last_seen";
  const row = (r: Rec): NodeRow => ({ id: r.id, instance: r.instance, address: r.address, state: r.state, version: r.version, startedAt: r.started_at, lastSeen: r.last_seen });
  return {
    async heartbeat(n) {
      const r = await run.query<Rec>(
        "node_heartbeat",
        `INSERT INTO nodes (${cols}) VALUES ($1, $2, $3, $4, $5, $6, ${DB_NOW})
         ON CONFLICT (id) DO UPDATE SET instance = excluded.instance, address = excluded.address, state = excluded.state, version = excluded.version,
           started_at = excluded.started_at, last_seen = excluded.last_seen
         RETURNING ${cols}`,
        [n.id, n.instance, n.address, n.state, n.version, n.startedAt],
      );
      return row(r.rows[0]!);
    },
    async get(id) {
      const r = await run.query<Rec>("node_get", `SELECT ${cols} FROM nodes WHERE id = $1`, [id]);
      return r.rows[0] && row(r.rows[0]);
    },
    async list() {
      return (await run.query<Rec>("node_list", `SELECT ${cols} FROM nodes ORDER BY id`)).rows.map(row);
    },
    async now() {
      return (await run.query<{ now: number }>("db_now", `SELECT ${DB_NOW} AS now`)).rows[0]!.now;
    },
  };
}

function changeFeed(run: Runner): ChangeFeed {
  return {
    async since(after, limit) {
      const r = await run.query<{ version: number; scope: string; oldest: number }>(
        "changes_since",
        `SELECT c.version, c.scope, o.oldest FROM (SELECT COALESCE(MIN(version), 0) AS oldest FROM state_changes) o
         LEFT JOIN LATERAL (SELECT version, scope FROM state_changes WHERE version > $1 ORDER BY version LIMIT $2) c ON true`,
        [after, limit],
      );
      return { changes: r.rows.filter((x) => x.version !== null).map((x) => ({ version: x.version, scope: x.scope })), oldest: r.rows[0]?.oldest ?? 0 };
    },
    async latest() {
      return (await run.query<{ v: number }>("changes_latest", `SELECT COALESCE(MAX(version), 0) AS v FROM state_changes`)).rows[0]!.v;
    },
    async prune(before) {
      return (await run.query("changes_prune", `DELETE FROM state_changes WHERE at < $1 AND version < (SELECT MAX(version) FROM state_changes)`, [before])).rowCount ?? 0;
    },
  };
}

function repositories(run: Runner, auditChain: string): Repositories {
  return {
    keys: keyRepo(run),
    versions: versionRepo(run),
    tokens: tokenRepo(run),
    meta: metaRepo(run),
    policies: documentRepo(run, "policies"),
    roles: documentRepo(run, "roles"),
    jwtIssuers: documentRepo(run, "jwt-issuers"),
    joinTokens: spendableRepo(run, "join-tokens"),
    secretIds: spendableRepo(run, "secret-ids"),
    certificates: certificateRepo(run),
    accessKeys: accessKeyRepo(run),
    audit: auditRepo(run, auditChain),
    alerts: alertRepo(run),
    aliases: aliasRepo(run),
    secrets: postgresSecretRepo(run),
    retention: postgresRetentionRepo(run),
    grants: postgresGrantRepo(run),
    leases: leaseRepo(run),
    nodes: nodeRepo(run),
  };
}

/** The repositories are the pool-bound ones assigned in the constructor (declaration merging). */
export interface PostgresStore extends Repositories {}

export class PostgresStore implements Store {
  readonly kind = "postgres";
  /** The pool: exposed for the parts of a node that need their own statements (coherence, leases). */
  readonly pool: pg.Pool;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(readonly options: PostgresStoreOptions) {
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.pool = new pg.Pool({
      connectionString: connectionString(options.url, options.password),
      ...(options.ssl !== undefined && { ssl: options.ssl }),
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: this.timeoutMs,
      // Server-side limits, so a statement stuck behind a lock or a dying server ends as Unavailable.
      statement_timeout: this.timeoutMs,
      lock_timeout: this.timeoutMs,
      idle_in_transaction_session_timeout: 60_000,
      application_name: options.applicationName ?? "tessera",
      keepAlive: true,
      types,
    });
    // An idle pooled connection that dies (database restart) is dropped by the pool; the error is not ours to throw.
    this.pool.on("error", () => undefined);
    const runner = new PoolRunner(this.pool);
    Object.assign(this, repositories(runner, options.auditChain ?? ""));
    this.changes = changeFeed(runner);
  }

  readonly changes: ChangeFeed;

  /** LISTENs on a dedicated connection (reconnecting with backoff) and pushes every committed change. */
  subscribe(handlers: ChangeSubscriber): ChangeSubscription {
    const listener = new PostgresListener(() => this.clientConfig(), handlers);
    listener.start();
    return listener;
  }

  /** Connection settings for a dedicated client (the notification listener), the same as the pool's. */
  clientConfig(): pg.ClientConfig {
    return {
      connectionString: connectionString(this.options.url, this.options.password),
      ...(this.options.ssl !== undefined && { ssl: this.options.ssl }),
      connectionTimeoutMillis: this.timeoutMs,
      application_name: `${this.options.applicationName ?? "tessera"}-listener`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 5000,
      types,
    };
  }

  /** Applies pending migrations under an advisory lock, so nodes starting together apply each once. */
  async migrate(): Promise<void> {
    const { client, release } = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      await runPostgresMigrations(client);
    } catch (err) {
      broken = err as Error;
      throw err;
    } finally {
      release(broken);
    }
  }

  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, "BEGIN ISOLATION LEVEL REPEATABLE READ", (client) => fn(repositories(new ClientRunner(client), this.options.auditChain ?? "")));
  }

  /**
   * `VACUUM FULL` of the tables that hold sealed material (key versions, access keys, meta, secret versions): each is
   * rewritten into new files that hold only live rows, and the old files are unlinked. That removes
   * destroyed material from the table and index files — but PostgreSQL never zeroes: the unlinked
   * files' blocks stay on the disk until reused, and the write-ahead log, WAL archives, replicas and
   * base backups keep the old rows until they are recycled or expire (docs/backup-and-storage.md).
   * A row version that an open transaction may still see is copied along, so when another session
   * may have held one back, this resolves false and the destroy job calls again later.
   *
   * "May have held one back": a session of this database whose snapshot (`backend_xmin`) or own
   * transaction id (`backend_xid`: a writing transaction idle between statements holds no snapshot
   * but holds the horizon all the same) is older than the first transaction id not yet begun when
   * the call started — every destruction committed before the call has an id below it. Checked
   * before and after the VACUUMs, so a session that ended during them is not missed; xids have no
   * order operator, so "older" is compared by age.
   */
  async eraseDeleted(): Promise<boolean> {
    const { client, release } = await checkout(this.pool);
    let broken: Error | undefined;
    try {
      const start = (await client.query<{ xmax: string }>("SELECT xid(pg_snapshot_xmax(pg_current_snapshot()))::text AS xmax")).rows[0]!.xmax;
      const heldBack = async (): Promise<boolean> => {
        const holders = await client.query(
          `SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
             AND ((backend_xmin IS NOT NULL AND age(backend_xmin) > age($1::xid)) OR (backend_xid IS NOT NULL AND age(backend_xid) > age($1::xid)))
           UNION ALL SELECT 1 FROM pg_replication_slots WHERE xmin IS NOT NULL OR catalog_xmin IS NOT NULL`,
          [start],
        );
        return holders.rowCount !== 0;
      };
      const before = await heldBack();
      for (const table of ERASED_TABLES) await client.query(`VACUUM (FULL) ${table}`);
      return !before && !(await heldBack());
    } catch (err) {
      const mapped = storageError(err);
      if (mapped instanceof TesseraError && mapped.code === "Unavailable" && pgCode(err) === PG.LOCK_NOT_AVAILABLE) return false;
      broken = err as Error;
      throw mapped;
    } finally {
      release(broken);
    }
  }

  /**
   * Tessera's own backups (`tessera operator backup`) are of a single node's SQLite store. A
   * PostgreSQL cluster is backed up by PostgreSQL (base backups and WAL archiving, or the managed
   * service's snapshots), which also covers every node's audit chain (docs/cluster.md).
   */
  async snapshot(): Promise<StoreSnapshot> {
    throw new TesseraError("InvalidState", "backups of a PostgreSQL store are PostgreSQL's own (base backups and WAL archiving); see docs/cluster.md");
  }

  async replaceAll(): Promise<number> {
    throw new TesseraError("InvalidState", "restore a PostgreSQL store with PostgreSQL's own tools (point-in-time recovery); see docs/cluster.md");
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
