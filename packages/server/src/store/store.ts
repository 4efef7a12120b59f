/**
 * Storage: one small repository per aggregate and `transaction(fn)`. The store knows rows, not
 * policies or cryptography: every secret it holds arrives already sealed (keyring records) or hashed
 * (tokens). Concurrency is settled in the database (`revision` compare-and-set), so several nodes
 * sharing one database stay correct.
 *
 * Times are integers: milliseconds since the Unix epoch.
 */
import type { KeySpec, KeyState, VersionState } from "@tessera/protocol";

export interface KeyRow {
  id: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  keySpec: KeySpec;
  state: KeyState;
  /** The state to return to when a pending deletion is cancelled. */
  priorState: KeyState | null;
  derived: boolean;
  exportable: boolean;
  createdAt: number;
  primaryVersion: number;
  minDecryptionVersion: number;
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
  /** The version's material sealed under the root key; null once destroyed. */
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
}

export interface VersionRepo {
  insert(row: VersionRow): Promise<void>;
  get(keyId: string, version: number): Promise<VersionRow | undefined>;
  list(keyId: string): Promise<VersionRow[]>;
  /** Updates state / material / destroyedAt of one version. */
  update(row: VersionRow): Promise<void>;
  /** Adds to a version's use counter and moves its last-use time forward. */
  recordUse(keyId: string, version: number, count: number, lastUsedAt: number): Promise<void>;
}

export interface TokenRepo {
  insert(row: TokenRow): Promise<void>;
  getByHash(hash: string): Promise<TokenRow | undefined>;
  getByAccessor(accessor: string): Promise<TokenRow | undefined>;
  deleteByAccessor(accessor: string): Promise<boolean>;
  deleteExpired(now: number): Promise<number>;
}

/** Small named JSON documents: seal configuration, init state. */
export interface MetaRepo {
  get<T>(name: string): Promise<T | undefined>;
  put(name: string, value: unknown): Promise<void>;
}

export interface Repositories {
  keys: KeyRepo;
  versions: VersionRepo;
  tokens: TokenRepo;
  meta: MetaRepo;
}

export interface Store extends Repositories {
  readonly kind: string;
  /** Applies pending schema migrations; safe to call on every start. */
  migrate(): Promise<void>;
  /**
   * Runs `fn` with repositories bound to one transaction: all of its writes commit together or
   * none do. A thrown error rolls back and is rethrown.
   */
  transaction<T>(fn: (tx: Repositories) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
