/**
 * A seal protects the root key at rest. The root key encrypts the keyring; it lives in memory only
 * while unsealed. Providers: `shamir` (the root escrowed to an unseal key split into shares held by
 * operators) and `pkcs11` (the root encrypted by a key inside an HSM, plus recovery shares). Every
 * record holds an `escrow` (share-escrow.ts): the roots sealed to the operators' shares — unseal
 * shares for Shamir, recovery shares for PKCS#11 — which is what rekey, generate-root and seal
 * migration check a quorum against. The record a seal stores never reveals a root on its own.
 */
import type { RootKey } from "./root-ring.js";
import type { EscrowKeys, EscrowRecord } from "./share-escrow.js";

export type SealType = "shamir" | "pkcs11";

export interface SealRecord {
  type: string;
  [field: string]: unknown;
}

export interface ProtectResult {
  record: SealRecord;
  /** What operators must keep (unseal or recovery shares); shown once, never stored. */
  secrets: string[];
}

/**
 * What opening a record yields: every root it holds (oldest first), and the escrow's verified public
 * key and MAC key. Whoever holds an Opened zeroes its roots and `escrowKey.macKey` when done with them.
 */
export interface Opened {
  roots: RootKey[];
  escrow: EscrowRecord;
  escrowKey: EscrowKeys;
  /** A record to store in place of the one opened (an old layout upgraded, an HSM key label rotated). */
  replacement?: SealRecord;
}

export interface UnsealProgress {
  /** Present once enough input has arrived. The caller owns the roots and zeroes them on seal. */
  opened?: Opened;
  progress: number;
  threshold: number;
}

export interface InitOptions {
  shares: number;
  threshold: number;
}

export interface Seal {
  readonly type: SealType;
  /** True when the seal opens without operator input (the HSM); operator shares are then recovery shares. */
  readonly auto: boolean;
  /** Protects new roots and escrows them to fresh shares; returns the record to store and the shares. */
  protect(roots: readonly RootKey[], options: InitOptions): Promise<ProtectResult>;
  /**
   * Adds operator input (a share) and returns progress, with the roots once complete. `undefined`
   * input asks an auto seal to open by itself (and only reports progress for Shamir). Input that
   * cannot be right throws `InvalidUnsealKey` and resets progress; nothing stored changes.
   */
  submit(record: SealRecord, input: string | undefined): Promise<UnsealProgress>;
  /**
   * A record of this seal's type holding `roots` (oldest first), escrowed with `escrow`'s quorum under
   * its verified keys: used by root rotation, rekey and migration. Needs no operator input.
   */
  reprotect(roots: readonly RootKey[], escrow: EscrowRecord, escrowKey: EscrowKeys): Promise<SealRecord>;
  /** Forgets partial progress (submitted shares). */
  reset(): void;
  /** How many inputs are held towards the threshold right now (0 once unsealed or reset). */
  pending(): number;
  /** Releases what the seal holds open (an HSM session). */
  close(): Promise<void>;
}
