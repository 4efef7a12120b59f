/**
 * A seal protects the root key at rest. The root key encrypts the keyring; it lives in memory only
 * while unsealed. Providers: `shamir` (an unseal key split into shares held by operators), later
 * `pkcs11` (a key inside an HSM). The record a seal stores never reveals the root key on its own.
 */
export interface SealRecord {
  type: string;
  [field: string]: unknown;
}

export interface ProtectResult {
  record: SealRecord;
  /** What operators must keep (e.g. unseal shares); shown once, never stored. */
  secrets: string[];
}

export interface UnsealProgress {
  /** The root key, once enough input has arrived. Caller owns and must zero it on seal. */
  rootKey?: Buffer;
  progress: number;
  threshold: number;
}

export interface InitOptions {
  shares: number;
  threshold: number;
}

export interface Seal {
  readonly type: string;
  /** Protects a new root key; returns the record to store and the secrets to hand to operators. */
  protect(rootKey: Uint8Array, options: InitOptions): Promise<ProtectResult>;
  /**
   * Adds operator input (a share; nothing for seals that unseal on their own) and returns progress,
   * with the root key once complete. Input that cannot be right throws `InvalidUnsealKey` and resets
   * progress; nothing stored changes.
   */
  submit(record: SealRecord, input: string | undefined): Promise<UnsealProgress>;
  /** Forgets partial progress (submitted shares). */
  reset(): void;
  /** How many inputs are held towards the threshold right now (0 once unsealed or reset). */
  pending(): number;
  /** Threshold and share count to report in status. */
  describe(record: SealRecord): { threshold: number; shares: number };
}
