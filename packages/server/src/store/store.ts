/**
 * Storage: one small repository per aggregate and `transaction(fn)`. The store knows rows, not
 * policies or cryptography: every secret it holds arrives already sealed (keyring records) or hashed
 * (tokens). Concurrency is settled in the database (`revision` compare-and-set), so several nodes
 * sharing one database stay correct.
 *
 * Times are integers: milliseconds since the Unix epoch.
 */
import type { KeyOrigin, KeySpec, KeyState, KeyUsage, VersionState } from "@tessera/protocol";

export interface KeyRow {
  id: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  keySpec: KeySpec;
  /** Fixed at creation; every operation checks it (protocol key-specs.ts). */
  keyUsage: KeyUsage;
  /** TESSERA (material generated here) or EXTERNAL (imported; starts PendingImport). Fixed at creation. */
  origin: KeyOrigin;
  state: KeyState;
  /** The state to return to when a pending deletion is cancelled. */
  priorState: KeyState | null;
  derived: boolean;
  /** Deterministic (convergent) encryption; only with `derived`. Fixed at creation. */
  convergent: boolean;
  exportable: boolean;
  createdAt: number;
  primaryVersion: number;
  minDecryptionVersion: number;
  /** Lowest version an encryption may name; 0 = no minimum (Vault's `min_encryption_version`). */
  minEncryptionVersion: number;
  rotationPeriodSeconds: number | null;
  lastRotatedAt: number;
  deletionDate: number | null;
  destroyedAt: number | null;
  /** Incremented by every update; updates name the revision they read. */
  revision: number;
}

export interface VersionRow {
  keyId: string;
  version: number;
  state: VersionState;
  createdAt: number;
  /**
   * The version's material sealed under the root key (random bytes for symmetric specs, the private
   * key as PKCS#8 DER for asymmetric ones); null once destroyed.
   */
  material: Buffer | null;
  lastUsedAt: number | null;
  useCount: number;
  destroyedAt: number | null;
}

export interface TokenRow {
  /** SHA-256 of the token, hex. The token itself is never stored. */
  hash: string;
  accessor: string;
  displayName: string;
  root: boolean;
  grants: { actions: string[]; resources: string[] }[];
  createdAt: number;
  expiresAt: number | null;
  kind: string;
  role: string | null;
  authMethod: string;
  attributes: Record<string, string>;
  /** Address the token was issued to. */
  source: string;
  /** The VM (or other entity) the token speaks for, so revoking the VM revokes its tokens. */
  subject: string | null;
  /**
   * Serial of the instance certificate the token was obtained with (at join or by certificate
   * login), so revoking that certificate revokes the token; null for every other login.
   */
  certificateSerial: string | null;
  /** Lifetime granted on each renewal, and the latest time renewals may reach; null = not renewable. */
  ttlSeconds: number | null;
  maxExpiresAt: number | null;
}

/** A small named JSON document (policies, roles, JWT issuers). */
export interface DocumentRow<T = unknown> {
  name: string;
  body: T;
  createdAt: number;
  updatedAt: number;
}

export interface DocumentRepo<T = unknown> {
  get(name: string): Promise<DocumentRow<T> | undefined>;
  list(): Promise<DocumentRow<T>[]>;
  /** Inserts or replaces; keeps the original creation time. */
  put(row: DocumentRow<T>): Promise<void>;
  delete(name: string): Promise<boolean>;
}

/** A single-use (or N-use) secret that is spent atomically: join tokens and secret ids. */
export interface SpendableRow {
  hash: string;
  accessor: string;
  role: string;
  /** Remaining uses; null = unlimited. */
  usesLeft: number | null;
  expiresAt: number | null;
  createdAt: number;
  /** Free-form attributes fixed at creation (bound CIDRs, VM id …). */
  metadata: Record<string, unknown>;
}

export interface SpendableRepo {
  insert(row: SpendableRow): Promise<void>;
  getByHash(hash: string): Promise<SpendableRow | undefined>;
  /**
   * Uses one use of the secret if it exists, is unexpired and has uses left, in one statement (so two
   * concurrent logins can never both spend the last use). Returns the row as it was before, or undefined.
   */
  spend(hash: string, now: number): Promise<SpendableRow | undefined>;
  list(role?: string): Promise<SpendableRow[]>;
  deleteByAccessor(accessor: string): Promise<boolean>;
  deleteByRole(role: string): Promise<number>;
  deleteExpired(now: number): Promise<number>;
}

export interface CertificateRow {
  serial: string;
  vmId: string;
  role: string;
  notBefore: number;
  notAfter: number;
  revokedAt: number | null;
  createdAt: number;
}

/**
 * Instance certificates, and the VM ids they were issued to. A VM id is *claimed* by the first
 * certificate recorded for it and stays claimed (revocation does not release it), so an id a VM
 * has used can never be taken by a join that merely asks for it.
 */
export interface CertificateRepo {
  /** Records a certificate (renewal, or re-enrolment the operator bound to the id), claiming its VM id if unclaimed. */
  insert(row: CertificateRow): Promise<void>;
  /**
   * Claims a VM id never claimed before and records its first certificate, in one atomic step
   * settled by the database (a unique VM id), not by a prior read: when the id is already claimed —
   * by an earlier enrolment or a concurrent one — nothing is written and the answer is false. Of
   * any number of concurrent calls for one id, exactly one answers true.
   */
  claimAndInsert(row: CertificateRow): Promise<boolean>;
  get(serial: string): Promise<CertificateRow | undefined>;
  listByVm(vmId: string): Promise<CertificateRow[]>;
  /** Every certificate in serial order, `limit` after `afterSerial` (paging). */
  list(limit: number, afterSerial?: string): Promise<CertificateRow[]>;
  /** Revokes one certificate; false when there is no such serial. */
  revoke(serial: string, now: number): Promise<boolean>;
  /** Revokes every certificate of a VM; returns how many. */
  revokeVm(vmId: string, now: number): Promise<number>;
  revokeRole(role: string, now: number): Promise<number>;
  /** Serials revoked and not yet expired (for the in-memory revocation set). */
  listRevoked(now: number): Promise<string[]>;
}

export interface AccessKeyRow {
  id: string;
  /** Secret sealed under the root key (SigV4 needs the secret itself, so it cannot be hashed). */
  secret: Buffer;
  role: string;
  state: "Active" | "Inactive";
  createdAt: number;
  description: string;
}

export interface AccessKeyRepo {
  insert(row: AccessKeyRow): Promise<void>;
  get(id: string): Promise<AccessKeyRow | undefined>;
  list(): Promise<AccessKeyRow[]>;
  setState(id: string, state: AccessKeyRow["state"]): Promise<boolean>;
  delete(id: string): Promise<boolean>;
  deleteByRole(role: string): Promise<number>;
  /** Sets a key's sealed secret if it is still `expected` (root rotation); false otherwise. */
  replaceSecret(id: string, expected: Buffer, secret: Buffer): Promise<boolean>;
}

export interface KeyRepo {
  insert(row: KeyRow): Promise<void>;
  get(id: string): Promise<KeyRow | undefined>;
  getByName(name: string): Promise<KeyRow | undefined>;
  /** Keys ordered by creation then id, starting after `after` (an id). */
  list(limit: number, after?: string): Promise<KeyRow[]>;
  /** Writes `row` if the stored revision is still `row.revision - 1`; otherwise throws `Conflict`. */
  update(row: KeyRow): Promise<void>;
  /** Enabled keys whose rotation period has elapsed since their last rotation. */
  dueForRotation(now: number): Promise<KeyRow[]>;
  /** Keys pending deletion whose deletion date has passed. */
  dueForDeletion(now: number): Promise<KeyRow[]>;
  /** Keys with more than one version (primary version > 1), by id, starting after `after` (an id): all version retention can act on. */
  listRotated(limit: number, after?: string): Promise<KeyRow[]>;
}

export interface VersionRepo {
  insert(row: VersionRow): Promise<void>;
  get(keyId: string, version: number): Promise<VersionRow | undefined>;
  list(keyId: string): Promise<VersionRow[]>;
  /** Updates state / material / destroyedAt of one version. */
  update(row: VersionRow): Promise<void>;
  /**
   * Adds to a version's use counter and moves its last-use time forward, in the version's row of a
   * narrow table of unfolded counts (not its wide row, which holds sealed material). `get` and `list`
   * report the version's folded counters plus that row, so a use is visible as soon as this commits.
   */
  recordUse(keyId: string, version: number, count: number, lastUsedAt: number): Promise<void>;
  /**
   * Moves the unfolded counts of the first `limit` versions after (`afterKeyId`, `afterVersion`), in
   * key order, into those versions' counters and deletes them — in one statement or transaction, so
   * what `get`/`list` report does not change. Returns the last version folded and how many were, or
   * undefined when nothing is unfolded after the position. Counts of versions that no longer exist
   * are dropped.
   */
  foldUses(afterKeyId: string, afterVersion: number, limit: number): Promise<{ keyId: string; version: number; folded: number } | undefined>;
  /** How many versions still hold sealed material. */
  countSealed(): Promise<number>;
  /** Versions holding material, ordered by key id then version, after (`keyId`, `version`). */
  listSealed(afterKeyId: string, afterVersion: number, limit: number): Promise<{ keyId: string; version: number; material: Buffer }[]>;
  /** Sets a version's sealed material if it is still `expected` (root rotation); false otherwise. */
  replaceMaterial(keyId: string, version: number, expected: Buffer, material: Buffer): Promise<boolean>;
}

export interface TokenRepo {
  /**
   * Stores a token. A token bound to a certificate (`certificateSerial`) is stored only if that
   * certificate is recorded and not revoked, checked in the same atomic step as the insert, so a
   * login that races the certificate's revocation cannot leave a live token behind: otherwise it
   * throws `Unauthenticated` and writes nothing.
   */
  insert(row: TokenRow): Promise<void>;
  getByHash(hash: string): Promise<TokenRow | undefined>;
  getByAccessor(accessor: string): Promise<TokenRow | undefined>;
  deleteByAccessor(accessor: string): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
  deleteByRole(role: string): Promise<number>;
  deleteBySubject(subject: string): Promise<number>;
  /** Deletes every token obtained with one certificate; returns how many. */
  deleteByCertificate(serial: string): Promise<number>;
  setExpiry(accessor: string, expiresAt: number): Promise<void>;
}

/** Small named JSON documents: seal configuration, init state. */
export interface MetaRepo {
  get<T>(name: string): Promise<T | undefined>;
  put(name: string, value: unknown): Promise<void>;
}

export interface ChangeSubscriber {
  /** A committed change, in commit order. */
  change(row: ChangeRow): void;
  /**
   * The subscription is live (true: every change from now on will be pushed) or broken (false: a
   * change may be missed until it is live again; read the feed instead).
   */
  live(up: boolean): void;
}

export interface ChangeSubscription {
  close(): Promise<void>;
}

/**
 * The audit trail as stored in the database: each record's canonical JSON line, by sequence number,
 * in the chain of the store's node (`auditChain` of the adapter's options; "" for a single node).
 * Every node appends to its own chain only.
 */
export interface AuditRepo {
  /** Appends records (in one transaction with the caller's other writes, if any). */
  append(records: readonly { seq: number; time: string; line: string }[]): Promise<void>;
  /** Removes records after `seq` (rolling back a batch another sink could not write). */
  truncateAfter(seq: number): Promise<void>;
  /** The last record's line, or undefined for an empty trail. */
  last(): Promise<string | undefined>;
  /** Lines with seq > after, ascending, at most limit (optionally within a time range, ISO strings). */
  list(after: number, limit: number, range?: { from?: string; to?: string }): Promise<{ seq: number; line: string }[]>;
  /** The chains in the database (node ids), sorted. */
  chains(): Promise<string[]>;
  /** Like `list`, in another node's chain. */
  listChain(chain: string, after: number, limit: number): Promise<{ seq: number; line: string }[]>;
}

export interface AlertRow {
  id: string;
  time: string;
  detector: string;
  /** severity, subject, message, seqs (the audit records that triggered it). */
  body: { severity: string; subject: string; message: string; seqs: number[] };
  ackedAt: string | null;
  ackedBy: string | null;
}

export interface AlertRepo {
  insert(row: AlertRow): Promise<void>;
  list(options: { unacknowledgedOnly: boolean; limit: number }): Promise<AlertRow[]>;
  /** Marks an alert acknowledged; false if there is no such alert. */
  ack(id: string, at: string, by: string): Promise<boolean>;
}

/** AWS-style aliases (`alias/…`) pointing at keys; several may point at one key. */
export interface AliasRow {
  name: string;
  keyId: string;
  createdAt: number;
  updatedAt: number;
}

export interface AliasRepo {
  /** Inserts; `AlreadyExists` if the name is taken. */
  insert(row: AliasRow): Promise<void>;
  get(name: string): Promise<AliasRow | undefined>;
  /** Points an existing alias at another key; false if there is no such alias. */
  update(name: string, keyId: string, now: number): Promise<boolean>;
  delete(name: string): Promise<boolean>;
  list(keyId?: string): Promise<AliasRow[]>;
}

/**
 * A lease on a named piece of background work, timed by the database's clock (never a node's): a
 * holder keeps it by renewing before `expiresAt`; once expired anyone may take it, which bumps
 * `epoch`. Work done under a lease commits only while `holds(name, holder, epoch)` is true inside the
 * same transaction (fencing): a node that lost its lease cannot commit what it did under it.
 */
export interface LeaseRow {
  name: string;
  holder: string;
  epoch: number;
  /** Database time, ms since the epoch. */
  expiresAt: number;
}

export interface LeaseRepo {
  /**
   * Takes the lease if it is free or expired (new epoch), or renews it if `holder` holds it (same
   * epoch), for `ttlMs` from the database's now. Returns the lease as now held, or undefined when
   * someone else holds it.
   */
  acquire(name: string, holder: string, ttlMs: number): Promise<LeaseRow | undefined>;
  /** Gives the lease up (it expires now) if `holder` holds it at `epoch`. */
  release(name: string, holder: string, epoch: number): Promise<void>;
  /**
   * True while `holder` holds the lease at `epoch` and it has not expired by the database's clock.
   * Inside a transaction it also keeps the lease from being taken over until that transaction ends.
   */
  holds(name: string, holder: string, epoch: number): Promise<boolean>;
  get(name: string): Promise<LeaseRow | undefined>;
}

/** One Tessera node (process) as it last reported itself. */
export interface NodeRow {
  id: string;
  /** Random per process start: two live processes claiming one node id are told apart. */
  instance: string;
  /** Where the node listens (as configured), for operators. */
  address: string;
  /** "uninitialized" | "sealed" | "unsealed" | "stopped". */
  state: string;
  version: string;
  startedAt: number;
  /** Database time of the last heartbeat, ms since the epoch. */
  lastSeen: number;
}

export interface NodeRepo {
  /** Inserts or replaces the node's row, stamping `lastSeen` with the database's now. */
  heartbeat(row: Omit<NodeRow, "lastSeen">): Promise<NodeRow>;
  get(id: string): Promise<NodeRow | undefined>;
  list(): Promise<NodeRow[]>;
  /** The database's clock, ms since the epoch. */
  now(): Promise<number>;
}

/** One committed change to security state: what a cache of it must drop (`key:<id>`, `tokens`, `doc:roles` …). */
export interface ChangeRow {
  version: number;
  scope: string;
}

/**
 * The feed of security-state changes, written by the database itself (triggers) in commit order.
 * Each process reads it to invalidate its caches; versions only grow.
 */
export interface ChangeFeed {
  /** Changes committed with version > `after`, ascending (at most `limit`), and the oldest version still kept (0 if none). */
  since(after: number, limit: number): Promise<{ changes: ChangeRow[]; oldest: number }>;
  /** The newest committed version (0 if none). */
  latest(): Promise<number>;
  /**
   * The newest committed version, answered synchronously where the store can (one SQLite process:
   * an O(1) rowid lookup), or undefined when it cannot now (a transaction is open, or the store is
   * remote). Lets a reader skip the feed read when nothing changed, without a promise.
   */
  latestNow?(): number | undefined;
  /** Drops changes recorded before `before` (database ms), keeping the newest. Returns how many. */
  prune(before: number): Promise<number>;
}

/** A mount of the secrets store: its key and defaults (docs/secrets.md). */
export interface SecretMountRow {
  mount: string;
  keyId: string;
  /** Versions a path keeps when it says 0; 0 here = DEFAULT_MAX_SECRET_VERSIONS. */
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterSeconds: number;
  createdAt: number;
}

/** One secret path's settings and version counters. */
export interface SecretPathRow {
  mount: string;
  path: string;
  currentVersion: number;
  oldestVersion: number;
  maxVersions: number;
  casRequired: boolean;
  deleteVersionAfterSeconds: number;
  customMetadata: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

/** One version of a secret: its data encrypted under a data key, the data key wrapped under the mount's key. */
export interface SecretVersionRow {
  mount: string;
  path: string;
  version: number;
  createdAt: number;
  deletedAt: number | null;
  /** The data key as a Tessera ciphertext under the mount's key (re-wrapped lazily after rotation); null once destroyed. */
  wrappedKey: Buffer | null;
  /** nonce ‖ AES-256-GCM(data key, JSON) ‖ tag; null once destroyed. */
  sealed: Buffer | null;
  readCount: number;
  lastReadAt: number | null;
  lastReader: string | null;
}

/** A version as its metadata shows it. */
export type SecretVersionInfo = Omit<SecretVersionRow, "wrappedKey" | "sealed"> & { destroyed: boolean };

export interface SecretRepo {
  getMount(mount: string): Promise<SecretMountRow | undefined>;
  /** Inserts the mount; `AlreadyExists` if another request created it first. */
  insertMount(row: SecretMountRow): Promise<void>;
  updateMount(row: SecretMountRow): Promise<void>;
  getPath(mount: string, path: string): Promise<SecretPathRow | undefined>;
  /** Inserts the path; `AlreadyExists` if it exists (a concurrent first write). */
  insertPath(row: SecretPathRow): Promise<void>;
  /**
   * Updates the path if its current version is still `expectedCurrent` (compare-and-set; the
   * writers of one path are ordered by it). False when another write got there first.
   */
  updatePath(row: SecretPathRow, expectedCurrent: number): Promise<boolean>;
  /** Deletes the path with every version. */
  deletePath(mount: string, path: string): Promise<boolean>;
  /** Paths of the mount that start with `prefix`, in byte order, at most `limit`. */
  listPaths(mount: string, prefix: string, limit: number): Promise<string[]>;
  insertVersion(row: SecretVersionRow): Promise<void>;
  getVersion(mount: string, path: string, version: number): Promise<SecretVersionRow | undefined>;
  /** Every version of the path, oldest first, without their encrypted data. */
  listVersions(mount: string, path: string): Promise<SecretVersionInfo[]>;
  /** Sets deletedAt (soft delete; null undeletes). Destroyed versions are unchanged. */
  setDeleted(mount: string, path: string, version: number, deletedAt: number | null): Promise<boolean>;
  /** Drops a version's data for good (the row stays, destroyed). */
  destroyVersion(mount: string, path: string, version: number): Promise<boolean>;
  /** Replaces the wrapped data key if it is still `expected` (lazy re-wrap after the mount key rotated). */
  rewrapKey(mount: string, path: string, version: number, expected: Buffer, wrappedKey: Buffer): Promise<boolean>;
  recordRead(mount: string, path: string, version: number, at: number, reader: string): Promise<void>;
  /** Removes versions below `version` (max-versions trimming). */
  deleteVersionsBelow(mount: string, path: string, version: number): Promise<number>;
}

/** A key's own retention policy (docs/retention.md). */
export interface KeyRetentionRow {
  keyId: string;
  disableAfterSeconds: number;
  destroyAfterSeconds: number;
  keepAtLeast: number;
}

/** What retention did to a version: disabled it (and when it destroys it), or saw an operator enable it again. */
export interface VersionRetentionRow {
  keyId: string;
  version: number;
  disabledAt: number | null;
  destroyAt: number | null;
  /** An operator enabled the version after retention disabled it: its disable clock restarts from then. */
  restartedAt: number | null;
  /** When an alert last said the version is still in use (one a day at most). */
  alertedAt: number | null;
}

/** Who used (or was refused) a version after it stopped being primary, per principal and source. */
export interface VersionUserRow {
  keyId: string;
  version: number;
  principal: string;
  source: string;
  uses: number;
  refused: number;
  lastAt: number;
}

export interface RetentionRepo {
  getPolicy(keyId: string): Promise<KeyRetentionRow | undefined>;
  putPolicy(row: KeyRetentionRow): Promise<void>;
  deletePolicy(keyId: string): Promise<boolean>;
  listPolicies(): Promise<KeyRetentionRow[]>;
  listVersions(keyId: string): Promise<VersionRetentionRow[]>;
  putVersion(row: VersionRetentionRow): Promise<void>;
  /** Adds counts to each (key, version, principal, source), keeping the latest `lastAt`. */
  addUses(rows: readonly VersionUserRow[]): Promise<void>;
  users(keyId: string): Promise<VersionUserRow[]>;
}

/**
 * An AWS-style grant (docs/aws-compatibility.md, "Grants"): operations on one key for one role, with
 * an optional encryption-context constraint; retired or revoked grants are deleted (the audit trail
 * keeps their history).
 */
export interface GrantRow {
  /** 64 hex digits, as AWS's. */
  grantId: string;
  keyId: string;
  /** The caller's name for it ("" when none); CreateGrant with the same name and parameters returns it again. */
  name: string;
  /** The ARN the creator gave, and the Tessera role it names. */
  granteePrincipal: string;
  granteeRole: string;
  retiringPrincipal: string | null;
  retiringRole: string | null;
  /** Who created it, as AWS's IssuingAccount shows it. */
  issuingAccount: string;
  /** AWS grant operation names (Decrypt, Encrypt, DescribeKey, RetireGrant …). */
  operations: string[];
  constraints: GrantConstraints | null;
  createdAt: number;
}

export interface GrantConstraints {
  encryptionContextEquals?: Record<string, string>;
  encryptionContextSubset?: Record<string, string>;
}

export interface GrantRepo {
  /** Inserts the grant; `AlreadyExists` if its id is taken. */
  insert(row: GrantRow): Promise<void>;
  get(grantId: string): Promise<GrantRow | undefined>;
  /** The key's grants, oldest first. */
  listForKey(keyId: string): Promise<GrantRow[]>;
  /** Grants whose grantee is the role, oldest first. */
  listForGrantee(role: string): Promise<GrantRow[]>;
  /** Grants the role may retire (as their retiring principal), oldest first. */
  listForRetiring(role: string): Promise<GrantRow[]>;
  delete(grantId: string): Promise<boolean>;
  /** Deletes every grant to the role (the role is being deleted). */
  deleteForGrantee(role: string): Promise<number>;
}

export interface Repositories {
  keys: KeyRepo;
  versions: VersionRepo;
  tokens: TokenRepo;
  meta: MetaRepo;
  policies: DocumentRepo;
  roles: DocumentRepo;
  jwtIssuers: DocumentRepo;
  joinTokens: SpendableRepo;
  secretIds: SpendableRepo;
  certificates: CertificateRepo;
  accessKeys: AccessKeyRepo;
  audit: AuditRepo;
  alerts: AlertRepo;
  aliases: AliasRepo;
  leases: LeaseRepo;
  nodes: NodeRepo;
  secrets: SecretRepo;
  retention: RetentionRepo;
  grants: GrantRepo;
}

export interface Store extends Repositories {
  readonly kind: string;
  readonly changes: ChangeFeed;
  /**
   * Pushes each committed change as it happens, where the database can (PostgreSQL LISTEN/NOTIFY).
   * Absent when it cannot: readers then poll `changes` before every request.
   */
  subscribe?(handlers: ChangeSubscriber): ChangeSubscription;
  /** Applies pending schema migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Runs `fn` with repositories bound to one transaction: all of its writes commit together or
   * none do. A thrown error rolls back and is rethrown.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  /**
   * Makes what was deleted or overwritten before the call unrecoverable from the store's own files:
   * no byte of it remains in free space or in a write-ahead log, so a copy of the files taken
   * afterwards cannot hold destroyed key material. Called after key material is destroyed. Resolves
   * false when it cannot finish now (another reader still holds the log); call it again later.
   */
  eraseDeleted(): Promise<boolean>;
  /**
   * A consistent read-only view of all state (every table but the audit trail) taken now, while
   * the store keeps serving writes; close it when done.
   */
  snapshot(): Promise<StoreSnapshot>;
  /**
   * Replaces all state (every table but the audit trail) with `rows`, in one transaction: either
   * every row is in place, or — if `rows` throws (a backup that fails authentication) or a row does
   * not fit — nothing changed. `schema` must be this store's schema version.
   */
  replaceAll(schema: number, rows: AsyncIterable<SnapshotRow>): Promise<number>;
  close(): Promise<void>;
}

/** One stored row as plain JSON (byte columns as `{"$bytes": base64}`), named by its table. */
export interface SnapshotRow {
  table: string;
  row: Record<string, unknown>;
}

export interface StoreSnapshot {
  /** The schema version the rows are in (the adapter's last migration). */
  readonly schema: number;
  /** Table names, in the order to restore them. */
  readonly tables: readonly string[];
  count(table: string): Promise<number>;
  rows(table: string, batch: number): AsyncIterable<Record<string, unknown>>;
  close(): Promise<void>;
}
