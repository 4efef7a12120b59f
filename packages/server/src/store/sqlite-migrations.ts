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
]);
