/**
 * What `tessera server` hands the server: the one contract between the CLI (which must not depend on
 * the server package) and the server's `runServer`.
 */
export interface ServerRunOptions {
  dev: boolean;
  listen?: string;
  devRootToken?: string;
  data?: string;
  config?: string;
  /** Also write the audit trail to this JSON-lines file (any mode). */
  auditFile?: string;
  /**
   * Dev only: serve HTTPS with a certificate for 127.0.0.1/localhost issued by Tessera's own CA, and
   * request client certificates (so instance certificates work). The CA certificate goes to DATA/ca.pem.
   */
  devTls?: boolean;
  /**
   * Shut down (cleanly) when the process that started the server exits, even by SIGKILL — `npm start`
   * uses it so that killing npm never leaves an orphaned dev server holding the port.
   */
  exitWithParent?: boolean;
}

/** The options of `tessera operator migrate-storage` (the CLI's contract with the server package). */
export interface MigrateStorageOptions {
  /** `sqlite:PATH` — the database file of a stopped single node. */
  from: string;
  /** `postgres://…` or `postgres:postgres://…` — an empty database; no password in it. */
  to: string;
  /** The target's password (first line); else PGPASSWORD. */
  passwordFile?: string;
}

export interface MigrateStorageReport {
  tables: { name: string; rows: number }[];
}
