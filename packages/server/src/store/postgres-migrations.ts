/**
 * PostgreSQL schema, one numbered migration per change. A published migration is never edited.
 *
 * Migration n here is the counterpart of SQLite's migration n (sqlite-migrations.ts), so both
 * dialects describe the same schema at every number. Types: times and counters are BIGINT
 * (milliseconds since the epoch), flags BOOLEAN, JSON documents TEXT (the adapter parses them, as on
 * SQLite), sealed material BYTEA. Text that is ordered or compared by range is COLLATE "C" (byte order,
 * as SQLite compares), whatever the database's default collation.
 */
/** The transaction-scoped advisory lock that orders security-state changes (migration 9). */
export const STATE_LOCK = 0x7465_7373_6501;

export const postgresMigrations: readonly { id: number; sql: string }[] = Object.freeze([
  {
    id: 1,
    sql: `
      CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE keys (
        id                      TEXT COLLATE "C" PRIMARY KEY,
        name                    TEXT NOT NULL UNIQUE,
        description             TEXT NOT NULL,
        tags                    TEXT NOT NULL,
        key_spec                TEXT NOT NULL,
        state                   TEXT NOT NULL,
        prior_state             TEXT,
        derived                 BOOLEAN NOT NULL,
        exportable              BOOLEAN NOT NULL,
        created_at              BIGINT NOT NULL,
        primary_version         INTEGER NOT NULL,
        min_decryption_version  INTEGER NOT NULL,
        rotation_period_seconds BIGINT,
        last_rotated_at         BIGINT NOT NULL,
        deletion_date           BIGINT,
        destroyed_at            BIGINT,
        revision                BIGINT NOT NULL
      );
      CREATE INDEX keys_created ON keys (created_at, id);
      CREATE TABLE key_versions (
        key_id       TEXT NOT NULL REFERENCES keys (id),
        version      INTEGER NOT NULL,
        state        TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        material     BYTEA,
        last_used_at BIGINT,
        use_count    BIGINT NOT NULL DEFAULT 0,
        destroyed_at BIGINT,
        PRIMARY KEY (key_id, version)
      );
      CREATE TABLE tokens (
        hash         TEXT PRIMARY KEY,
        accessor     TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        root         BOOLEAN NOT NULL,
        grants       TEXT NOT NULL,
        created_at   BIGINT NOT NULL,
        expires_at   BIGINT
      );
    `,
  },
  {
    id: 2,
    sql: `
      ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'token';
      ALTER TABLE tokens ADD COLUMN role TEXT;
      ALTER TABLE tokens ADD COLUMN auth_method TEXT NOT NULL DEFAULT 'token';
      ALTER TABLE tokens ADD COLUMN attributes TEXT NOT NULL DEFAULT '{}';
      ALTER TABLE tokens ADD COLUMN source TEXT NOT NULL DEFAULT '';
      ALTER TABLE tokens ADD COLUMN subject TEXT;
      ALTER TABLE tokens ADD COLUMN ttl_seconds BIGINT;
      ALTER TABLE tokens ADD COLUMN max_expires_at BIGINT;
      UPDATE tokens SET kind = 'root', auth_method = 'root' WHERE root;
      CREATE INDEX tokens_role ON tokens (role);
      CREATE INDEX tokens_subject ON tokens (subject);
      CREATE TABLE documents (
        collection TEXT NOT NULL,
        name       TEXT COLLATE "C" NOT NULL,
        body       TEXT NOT NULL,
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL,
        PRIMARY KEY (collection, name)
      );
      CREATE TABLE spendables (
        collection TEXT NOT NULL,
        hash       TEXT NOT NULL,
        accessor   TEXT NOT NULL UNIQUE,
        role       TEXT NOT NULL,
        uses_left  BIGINT,
        expires_at BIGINT,
        created_at BIGINT NOT NULL,
        metadata   TEXT NOT NULL,
        PRIMARY KEY (collection, hash)
      );
      CREATE INDEX spendables_role ON spendables (collection, role);
      CREATE TABLE certificates (
        serial     TEXT COLLATE "C" PRIMARY KEY,
        vm_id      TEXT NOT NULL,
        role       TEXT NOT NULL,
        not_before BIGINT NOT NULL,
        not_after  BIGINT NOT NULL,
        revoked_at BIGINT,
        created_at BIGINT NOT NULL
      );
      CREATE INDEX certificates_vm ON certificates (vm_id);
      CREATE INDEX certificates_role ON certificates (role);
      CREATE TABLE access_keys (
        id          TEXT COLLATE "C" PRIMARY KEY,
        secret      BYTEA NOT NULL,
        role        TEXT NOT NULL,
        state       TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at  BIGINT NOT NULL
      );
    `,
  },
  {
    id: 3,
    sql: `
      CREATE TABLE audit_entries (
        seq    BIGINT PRIMARY KEY,
        time   TEXT COLLATE "C" NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX audit_entries_time ON audit_entries (time);
    `,
  },
  {
    id: 4,
    sql: `
      CREATE TABLE alerts (
        id        TEXT COLLATE "C" PRIMARY KEY,
        time      TEXT COLLATE "C" NOT NULL,
        detector  TEXT NOT NULL,
        body      TEXT NOT NULL,
        acked_at  TEXT,
        acked_by  TEXT
      );
      CREATE INDEX alerts_time ON alerts (time);
    `,
  },
  {
    id: 5,
    sql: `
      CREATE TABLE aliases (
        name       TEXT COLLATE "C" PRIMARY KEY,
        key_id     TEXT NOT NULL REFERENCES keys (id),
        created_at BIGINT NOT NULL,
        updated_at BIGINT NOT NULL
      );
      CREATE INDEX aliases_key ON aliases (key_id);
    `,
  },
  {
    id: 6,
    sql: `
      ALTER TABLE tokens ADD COLUMN certificate_serial TEXT;
      UPDATE tokens SET certificate_serial = attributes::jsonb ->> 'serial' WHERE auth_method = 'cert';
      DELETE FROM tokens WHERE certificate_serial IN (SELECT serial FROM certificates WHERE revoked_at IS NOT NULL);
      CREATE INDEX tokens_certificate ON tokens (certificate_serial);
    `,
  },
  {
    id: 7,
    sql: `
      CREATE TABLE vm_ids (
        vm_id      TEXT PRIMARY KEY,
        claimed_at BIGINT NOT NULL
      );
      INSERT INTO vm_ids (vm_id, claimed_at) SELECT vm_id, MIN(created_at) FROM certificates GROUP BY vm_id;
    `,
  },
  {
    id: 8,
    sql: `
      ALTER TABLE keys ADD COLUMN key_usage TEXT NOT NULL DEFAULT 'ENCRYPT_DECRYPT';
      UPDATE keys SET key_spec = 'SYMMETRIC_DEFAULT' WHERE key_spec = 'AES_256';
    `,
  },
  {
    // Where a key's material comes from: generated here, or imported (BYOK, docs/distribution.md).
    id: 9,
    sql: `ALTER TABLE keys ADD COLUMN origin TEXT NOT NULL DEFAULT 'TESSERA';`,
  },
  {
    // Counterpart of SQLite's 10: the feed of security-state changes (written by triggers), leases,
    // nodes, and one audit chain per node. Here each change also NOTIFYs channel tessera_state with
    // "<version> <scope>", so listening nodes invalidate their caches without polling.
    //
    // Versions must be commit-ordered, or a reader could pass a version whose transaction commits
    // later: the trigger takes a transaction-scoped advisory lock before drawing the version, so
    // transactions that change security state take turns from their first change to their commit
    // (they wait — never a serialization failure, which a row counter would cause at REPEATABLE READ).
    id: 10,
    sql: `
      CREATE SEQUENCE state_version;
      CREATE TABLE state_changes (
        version BIGINT PRIMARY KEY,
        scope   TEXT NOT NULL,
        at      BIGINT NOT NULL
      );
      CREATE INDEX state_changes_at ON state_changes (at);
      CREATE FUNCTION tessera_note_change(change_scope TEXT) RETURNS void LANGUAGE plpgsql AS $fn$
      DECLARE v BIGINT;
      BEGIN
        PERFORM pg_advisory_xact_lock(${STATE_LOCK});
        v := nextval('state_version');
        INSERT INTO state_changes (version, scope, at) VALUES (v, change_scope, (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT);
        PERFORM pg_notify('tessera_state', v || ' ' || change_scope);
      END $fn$;
      CREATE FUNCTION tessera_row_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
      DECLARE r RECORD;
      BEGIN
        IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
        CASE TG_TABLE_NAME
          WHEN 'keys' THEN PERFORM tessera_note_change('key:' || r.id);
          WHEN 'key_versions' THEN PERFORM tessera_note_change('key:' || r.key_id);
          WHEN 'documents' THEN PERFORM tessera_note_change('doc:' || r.collection);
          WHEN 'access_keys' THEN PERFORM tessera_note_change('access-key:' || r.id);
          WHEN 'meta' THEN PERFORM tessera_note_change('meta:' || r.name);
          ELSE PERFORM tessera_note_change(TG_TABLE_NAME);
        END CASE;
        RETURN NULL;
      END $fn$;
      -- Token deletions and updates: one change per statement, and none when every deleted row had
      -- already expired (the purge).
      CREATE FUNCTION tessera_tokens_deleted() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF EXISTS (SELECT 1 FROM gone WHERE expires_at IS NULL OR expires_at > (extract(epoch FROM clock_timestamp()) * 1000)::BIGINT) THEN
          PERFORM tessera_note_change('tokens');
        END IF;
        RETURN NULL;
      END $fn$;
      CREATE FUNCTION tessera_statement_changed() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF EXISTS (SELECT 1 FROM changed) THEN PERFORM tessera_note_change(TG_ARGV[0]); END IF;
        RETURN NULL;
      END $fn$;
      CREATE TRIGGER keys_changed AFTER INSERT OR UPDATE ON keys FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
      CREATE TRIGGER key_versions_inserted AFTER INSERT ON key_versions FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
      CREATE TRIGGER key_versions_updated AFTER UPDATE OF state, material, destroyed_at ON key_versions FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
      CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION tessera_tokens_deleted();
      CREATE TRIGGER tokens_updated AFTER UPDATE ON tokens REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tessera_statement_changed('tokens');
      CREATE TRIGGER documents_changed AFTER INSERT OR UPDATE OR DELETE ON documents FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
      CREATE TRIGGER certificates_updated AFTER UPDATE ON certificates REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION tessera_statement_changed('certificates');
      CREATE TRIGGER access_keys_changed AFTER UPDATE OR DELETE ON access_keys FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
      CREATE TRIGGER meta_changed AFTER INSERT OR UPDATE ON meta FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
      CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        epoch      BIGINT NOT NULL,
        expires_at BIGINT NOT NULL
      );
      CREATE TABLE nodes (
        id         TEXT COLLATE "C" PRIMARY KEY,
        instance   TEXT NOT NULL,
        address    TEXT NOT NULL,
        state      TEXT NOT NULL,
        version    TEXT NOT NULL,
        started_at BIGINT NOT NULL,
        last_seen  BIGINT NOT NULL
      );
      CREATE TABLE audit_chains (
        node   TEXT COLLATE "C" NOT NULL,
        seq    BIGINT NOT NULL,
        time   TEXT COLLATE "C" NOT NULL,
        record TEXT NOT NULL,
        PRIMARY KEY (node, seq)
      );
      INSERT INTO audit_chains (node, seq, time, record) SELECT '', seq, time, record FROM audit_entries;
      DROP TABLE audit_entries;
      CREATE INDEX audit_chains_time ON audit_chains (node, time);
    `,
  },
  {
    // The versioned secrets store (docs/secrets.md): mounts with their key, paths, versions.
    id: 11,
    sql: `
      CREATE TABLE secret_mounts (
        mount                 TEXT COLLATE "C" PRIMARY KEY,
        key_id                TEXT NOT NULL,
        max_versions          INTEGER NOT NULL,
        cas_required          BOOLEAN NOT NULL,
        delete_version_after  BIGINT NOT NULL,
        created_at            BIGINT NOT NULL
      );
      CREATE TABLE secret_paths (
        mount                 TEXT COLLATE "C" NOT NULL,
        path                  TEXT COLLATE "C" NOT NULL,
        current_version       INTEGER NOT NULL,
        oldest_version        INTEGER NOT NULL,
        max_versions          INTEGER NOT NULL,
        cas_required          BOOLEAN NOT NULL,
        delete_version_after  BIGINT NOT NULL,
        custom_metadata       TEXT NOT NULL,
        created_at            BIGINT NOT NULL,
        updated_at            BIGINT NOT NULL,
        PRIMARY KEY (mount, path)
      );
      CREATE TABLE secret_versions (
        mount        TEXT COLLATE "C" NOT NULL,
        path         TEXT COLLATE "C" NOT NULL,
        version      INTEGER NOT NULL,
        created_at   BIGINT NOT NULL,
        deleted_at   BIGINT,
        wrapped_key  BYTEA,
        sealed       BYTEA,
        read_count   BIGINT NOT NULL,
        last_read_at BIGINT,
        last_reader  TEXT,
        PRIMARY KEY (mount, path, version)
      );
    `,
  },
  {
    // Version retention (docs/retention.md): per-key policies, what retention did to each version, who still uses old versions.
    id: 12,
    sql: `
      CREATE TABLE key_retention (
        key_id         TEXT PRIMARY KEY,
        disable_after  BIGINT NOT NULL,
        destroy_after  BIGINT NOT NULL,
        keep_at_least  INTEGER NOT NULL
      );
      CREATE TABLE version_retention (
        key_id       TEXT NOT NULL,
        version      INTEGER NOT NULL,
        disabled_at  BIGINT,
        destroy_at   BIGINT,
        restarted_at BIGINT,
        alerted_at   BIGINT,
        PRIMARY KEY (key_id, version)
      );
      CREATE TABLE version_users (
        key_id     TEXT NOT NULL,
        version    INTEGER NOT NULL,
        principal  TEXT NOT NULL,
        source     TEXT NOT NULL,
        uses       BIGINT NOT NULL,
        refused    BIGINT NOT NULL,
        last_at    BIGINT NOT NULL,
        PRIMARY KEY (key_id, version, principal, source)
      );
    `,
  },
  {
    // AWS-style grants (docs/aws-compatibility.md, "Grants"). A grant is security state the policy
    // cache holds: every change writes the feed (scope 'grants'), so every process drops its grant cache.
    id: 13,
    sql: `
      CREATE TABLE grants (
        grant_id           TEXT PRIMARY KEY,
        key_id             TEXT NOT NULL,
        name               TEXT NOT NULL,
        grantee_principal  TEXT NOT NULL,
        grantee_role       TEXT NOT NULL,
        retiring_principal TEXT,
        retiring_role      TEXT,
        issuing_account    TEXT NOT NULL,
        operations         TEXT NOT NULL,
        constraints        TEXT,
        created_at         BIGINT NOT NULL
      );
      CREATE INDEX grants_key ON grants (key_id, created_at);
      CREATE INDEX grants_grantee ON grants (grantee_role);
      CREATE INDEX grants_retiring ON grants (retiring_role);
      CREATE TRIGGER grants_changed AFTER INSERT OR UPDATE OR DELETE ON grants FOR EACH ROW EXECUTE FUNCTION tessera_row_changed();
    `,
  },
  {
    // Scale of state: the scheduled jobs' "due" queries use these indexes instead of reading every
    // key (SQLite's migration 14 has the same ones; the queries repeat the expressions exactly).
    id: 14,
    sql: `
      CREATE INDEX keys_rotation_due ON keys ((last_rotated_at + rotation_period_seconds * 1000)) WHERE state = 'Enabled' AND rotation_period_seconds IS NOT NULL;
      CREATE INDEX keys_deletion_due ON keys (deletion_date) WHERE state = 'PendingDeletion';
      CREATE INDEX keys_rotated ON keys (id) WHERE primary_version > 1;
    `,
  },
  {
    // Convergent (deterministic) encryption, fixed at creation, and Vault's min_encryption_version
    // (0 = no minimum) for encryption with an older version (docs/formats.md, format v4).
    id: 15,
    sql: `
      ALTER TABLE keys ADD COLUMN convergent BOOLEAN NOT NULL DEFAULT FALSE;
      ALTER TABLE keys ADD COLUMN min_encryption_version INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    // Scale of state (docs/performance.md): use counters are flushed into this narrow table of
    // not-yet-folded counts, one row per version, instead of as an update of each used version's wide
    // key_versions row (it holds sealed material: one page per version per flush). A version's counts are its key_versions
    // columns plus its row here; a fold moves the rows into key_versions now and then (keys/usage.ts).
    id: 16,
    sql: `
      CREATE TABLE version_uses (
        key_id       TEXT NOT NULL,
        version      INTEGER NOT NULL,
        use_count    BIGINT NOT NULL,
        last_used_at BIGINT NOT NULL,
        PRIMARY KEY (key_id, version)
      );
    `,
  },
]);
