/** SQLite schema, one numbered migration per change. A published migration is never edited. */
export const sqliteMigrations: readonly { id: number; sql: string }[] = Object.freeze([
  {
    id: 1,
    sql: `
      CREATE TABLE meta (
        name  TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
      CREATE TABLE keys (
        id                      TEXT PRIMARY KEY,
        name                    TEXT NOT NULL UNIQUE,
        description             TEXT NOT NULL,
        tags                    TEXT NOT NULL,
        key_spec                TEXT NOT NULL,
        state                   TEXT NOT NULL,
        prior_state             TEXT,
        derived                 INTEGER NOT NULL,
        exportable              INTEGER NOT NULL,
        created_at              INTEGER NOT NULL,
        primary_version         INTEGER NOT NULL,
        min_decryption_version  INTEGER NOT NULL,
        rotation_period_seconds INTEGER,
        last_rotated_at         INTEGER NOT NULL,
        deletion_date           INTEGER,
        destroyed_at            INTEGER,
        revision                INTEGER NOT NULL
      );
      CREATE INDEX keys_created ON keys (created_at, id);
      CREATE TABLE key_versions (
        key_id       TEXT NOT NULL REFERENCES keys (id),
        version      INTEGER NOT NULL,
        state        TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        material     BLOB,
        last_used_at INTEGER,
        use_count    INTEGER NOT NULL DEFAULT 0,
        destroyed_at INTEGER,
        PRIMARY KEY (key_id, version)
      );
      CREATE TABLE tokens (
        hash         TEXT PRIMARY KEY,
        accessor     TEXT NOT NULL UNIQUE,
        display_name TEXT NOT NULL,
        root         INTEGER NOT NULL,
        grants       TEXT NOT NULL,
        created_at   INTEGER NOT NULL,
        expires_at   INTEGER
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
      ALTER TABLE tokens ADD COLUMN ttl_seconds INTEGER;
      ALTER TABLE tokens ADD COLUMN max_expires_at INTEGER;
      UPDATE tokens SET kind = 'root', auth_method = 'root' WHERE root = 1;
      CREATE INDEX tokens_role ON tokens (role);
      CREATE INDEX tokens_subject ON tokens (subject);
      CREATE TABLE documents (
        collection TEXT NOT NULL,
        name       TEXT NOT NULL,
        body       TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (collection, name)
      );
      CREATE TABLE spendables (
        collection TEXT NOT NULL,
        hash       TEXT NOT NULL,
        accessor   TEXT NOT NULL UNIQUE,
        role       TEXT NOT NULL,
        uses_left  INTEGER,
        expires_at INTEGER,
        created_at INTEGER NOT NULL,
        metadata   TEXT NOT NULL,
        PRIMARY KEY (collection, hash)
      );
      CREATE INDEX spendables_role ON spendables (collection, role);
      CREATE TABLE certificates (
        serial     TEXT PRIMARY KEY,
        vm_id      TEXT NOT NULL,
        role       TEXT NOT NULL,
        not_before INTEGER NOT NULL,
        not_after  INTEGER NOT NULL,
        revoked_at INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX certificates_vm ON certificates (vm_id);
      CREATE INDEX certificates_role ON certificates (role);
      CREATE TABLE access_keys (
        id          TEXT PRIMARY KEY,
        secret      BLOB NOT NULL,
        role        TEXT NOT NULL,
        state       TEXT NOT NULL,
        description TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
    `,
  },
  {
    id: 3,
    sql: `
      CREATE TABLE audit_entries (
        seq    INTEGER PRIMARY KEY,
        time   TEXT NOT NULL,
        record TEXT NOT NULL
      );
      CREATE INDEX audit_entries_time ON audit_entries (time);
    `,
  },
  {
    id: 4,
    sql: `
      CREATE TABLE alerts (
        id        TEXT PRIMARY KEY,
        time      TEXT NOT NULL,
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
        name       TEXT PRIMARY KEY,
        key_id     TEXT NOT NULL REFERENCES keys (id),
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX aliases_key ON aliases (key_id);
    `,
  },
  {
    // Tokens obtained with an instance certificate name it, so revoking the certificate revokes them.
    // Tokens already issued name it in their attributes; those of certificates revoked before this
    // migration are dropped now (they should have died with their certificate).
    id: 6,
    sql: `
      ALTER TABLE tokens ADD COLUMN certificate_serial TEXT;
      UPDATE tokens SET certificate_serial = json_extract(attributes, '$.serial') WHERE auth_method = 'cert';
      DELETE FROM tokens WHERE certificate_serial IN (SELECT serial FROM certificates WHERE revoked_at IS NOT NULL);
      CREATE INDEX tokens_certificate ON tokens (certificate_serial);
    `,
  },
  {
    // One row per VM id ever enrolled: the primary key makes claiming an id atomic. Every id that
    // already has a certificate is claimed by it.
    id: 7,
    sql: `
      CREATE TABLE vm_ids (
        vm_id      TEXT PRIMARY KEY,
        claimed_at INTEGER NOT NULL
      );
      INSERT INTO vm_ids (vm_id, claimed_at) SELECT vm_id, MIN(created_at) FROM certificates GROUP BY vm_id;
    `,
  },
  {
    // Key specs and usages (protocol key-specs.ts): every key so far is a symmetric encryption key.
    // Its spec takes AWS's name; `AES_256` stays accepted on input as an alias.
    id: 8,
    sql: `
      ALTER TABLE keys ADD COLUMN key_usage TEXT NOT NULL DEFAULT 'ENCRYPT_DECRYPT';
      UPDATE keys SET key_spec = 'SYMMETRIC_DEFAULT' WHERE key_spec = 'AES_256';
    `,
  },
  {
    // Where a key's material comes from: generated here, or imported (BYOK, docs/distribution.md).
    // A key of origin EXTERNAL starts PendingImport, with no version until material is imported.
    id: 9,
    sql: `ALTER TABLE keys ADD COLUMN origin TEXT NOT NULL DEFAULT 'TESSERA';`,
  },
  {
    // Several processes or nodes, one truth (docs/cluster.md).
    // - state_changes: a feed of what changed in security state, written by triggers so no code path
    //   can forget it; each process reads it to invalidate its caches (token, policy, role, keyring,
    //   certificate and access-key caches). Usage counters, token issuance and audit rows are not
    //   security state a cache could hold stale, so they write nothing here. Purging expired tokens
    //   writes nothing either: an expired token is refused by its expiry.
    // - leases: background work runs under one lease, timed by the database clock, fenced by epoch.
    // - nodes: every node's state, version and last heartbeat, for `tessera status`.
    // - audit_entries gains the chain (node id) each record belongs to: one hash chain per node.
    id: 10,
    sql: `
      CREATE TABLE state_changes (
        version INTEGER PRIMARY KEY AUTOINCREMENT,
        scope   TEXT NOT NULL,
        at      INTEGER NOT NULL
      );
      CREATE INDEX state_changes_at ON state_changes (at);
      CREATE TRIGGER keys_inserted AFTER INSERT ON keys BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('key:' || NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER keys_updated AFTER UPDATE ON keys BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('key:' || NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER key_versions_inserted AFTER INSERT ON key_versions BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('key:' || NEW.key_id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER key_versions_updated AFTER UPDATE OF state, material, destroyed_at ON key_versions BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('key:' || NEW.key_id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER tokens_deleted AFTER DELETE ON tokens
        WHEN OLD.expires_at IS NULL OR OLD.expires_at > CAST(unixepoch('subsec') * 1000 AS INTEGER) BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('tokens', CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER tokens_updated AFTER UPDATE ON tokens BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('tokens', CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER documents_inserted AFTER INSERT ON documents BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('doc:' || NEW.collection, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER documents_updated AFTER UPDATE ON documents BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('doc:' || NEW.collection, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER documents_deleted AFTER DELETE ON documents BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('doc:' || OLD.collection, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER certificates_updated AFTER UPDATE ON certificates BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('certificates', CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER access_keys_updated AFTER UPDATE ON access_keys BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('access-key:' || NEW.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER access_keys_deleted AFTER DELETE ON access_keys BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('access-key:' || OLD.id, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER meta_inserted AFTER INSERT ON meta BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('meta:' || NEW.name, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER meta_updated AFTER UPDATE ON meta BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('meta:' || NEW.name, CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TABLE leases (
        name       TEXT PRIMARY KEY,
        holder     TEXT NOT NULL,
        epoch      INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE nodes (
        id         TEXT PRIMARY KEY,
        instance   TEXT NOT NULL,
        address    TEXT NOT NULL,
        state      TEXT NOT NULL,
        version    TEXT NOT NULL,
        started_at INTEGER NOT NULL,
        last_seen  INTEGER NOT NULL
      );
      CREATE TABLE audit_chains (
        node   TEXT NOT NULL,
        seq    INTEGER NOT NULL,
        time   TEXT NOT NULL,
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
        mount                 TEXT PRIMARY KEY,
        key_id                TEXT NOT NULL,
        max_versions          INTEGER NOT NULL,
        cas_required          INTEGER NOT NULL,
        delete_version_after  INTEGER NOT NULL,
        created_at            INTEGER NOT NULL
      );
      CREATE TABLE secret_paths (
        mount                 TEXT NOT NULL,
        path                  TEXT NOT NULL,
        current_version       INTEGER NOT NULL,
        oldest_version        INTEGER NOT NULL,
        max_versions          INTEGER NOT NULL,
        cas_required          INTEGER NOT NULL,
        delete_version_after  INTEGER NOT NULL,
        custom_metadata       TEXT NOT NULL,
        created_at            INTEGER NOT NULL,
        updated_at            INTEGER NOT NULL,
        PRIMARY KEY (mount, path)
      );
      CREATE TABLE secret_versions (
        mount        TEXT NOT NULL,
        path         TEXT NOT NULL,
        version      INTEGER NOT NULL,
        created_at   INTEGER NOT NULL,
        deleted_at   INTEGER,
        wrapped_key  BLOB,
        sealed       BLOB,
        read_count   INTEGER NOT NULL,
        last_read_at INTEGER,
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
        disable_after  INTEGER NOT NULL,
        destroy_after  INTEGER NOT NULL,
        keep_at_least  INTEGER NOT NULL
      );
      CREATE TABLE version_retention (
        key_id       TEXT NOT NULL,
        version      INTEGER NOT NULL,
        disabled_at  INTEGER,
        destroy_at   INTEGER,
        restarted_at INTEGER,
        alerted_at   INTEGER,
        PRIMARY KEY (key_id, version)
      );
      CREATE TABLE version_users (
        key_id     TEXT NOT NULL,
        version    INTEGER NOT NULL,
        principal  TEXT NOT NULL,
        source     TEXT NOT NULL,
        uses       INTEGER NOT NULL,
        refused    INTEGER NOT NULL,
        last_at    INTEGER NOT NULL,
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
        created_at         INTEGER NOT NULL
      );
      CREATE INDEX grants_key ON grants (key_id, created_at);
      CREATE INDEX grants_grantee ON grants (grantee_role);
      CREATE INDEX grants_retiring ON grants (retiring_role);
      CREATE TRIGGER grants_inserted AFTER INSERT ON grants BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('grants', CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER grants_updated AFTER UPDATE ON grants BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('grants', CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
      CREATE TRIGGER grants_deleted AFTER DELETE ON grants BEGIN
        INSERT INTO state_changes (scope, at) VALUES ('grants', CAST(unixepoch('subsec') * 1000 AS INTEGER));
      END;
    `,
  },
  {
    // Scale of state (docs/performance.md): the scheduled jobs find what is due through an index
    // instead of reading every key, so their cost follows the keys due, not the keys stored — the
    // queries in the store repeat these expressions and conditions exactly, so the planner can use
    // them (store-indexes.test.ts checks the plans). Keys due for rotation, by due time; keys pending
    // deletion, by deletion date; keys with more than one version (the only ones version retention
    // can act on), by id.
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
      ALTER TABLE keys ADD COLUMN convergent INTEGER NOT NULL DEFAULT 0;
      ALTER TABLE keys ADD COLUMN min_encryption_version INTEGER NOT NULL DEFAULT 0;
    `,
  },
  {
    // Scale of state (docs/performance.md): use counters are flushed into this narrow table of
    // not-yet-folded counts, one row per version, instead of as an update of each used version's wide
    // key_versions row (it holds sealed material: one page per version per flush). A rowid table
    // (backups page through tables by rowid), so a row is a ~40-byte record plus its primary-key entry. A version's counts are its key_versions
    // columns plus its row here; a fold moves the rows into key_versions now and then (keys/usage.ts).
    id: 16,
    sql: `
      CREATE TABLE version_uses (
        key_id       TEXT NOT NULL,
        version      INTEGER NOT NULL,
        use_count    INTEGER NOT NULL,
        last_used_at INTEGER NOT NULL,
        PRIMARY KEY (key_id, version)
      );
    `,
  },
]);
