/**
 * Roots escrowed to the operators' shares. A 256-bit shared secret (the unseal key of the Shamir seal,
 * the recovery key of the PKCS#11 seal) is split into shares and never stored. From it an ML-KEM-768
 * key pair is derived (HKDF-SHA256 → 64-byte seed, FIPS 203 KeyGen); the record keeps only the public
 * key, and each root is sealed to it: ML-KEM encapsulation → HKDF-SHA256 → AES-256-GCM with the root's
 * id in the AAD.
 *
 * Why a public key: a new root (rotation) can be escrowed without any share present, yet only a quorum
 * can open it. The stored public key is trusted only after the shares re-derive it (`open`) or the HSM
 * vouches for it (pkcs11-seal.ts binds its hash into the HSM-protected record): a database writer who
 * swaps it cannot make the next rotation seal the root to a key of theirs.
 */
import type { KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { equalBytes, hkdfSha256, kemDecapsulate, kemEncapsulate, mlKem768FromSeed, mlKem768PublicKey, secretBytes, spki, zero, ML_KEM_SEED_LENGTH } from "../crypto/index.js";
import { openRecord, sealRecord } from "../format/keyring-record.js";
import type { RootKey } from "./root-ring.js";
import { SHARED_SECRET_LENGTH, splitSecret } from "./shares.js";

const SEED_INFO = Buffer.from("tessera/share-escrow/ml-kem-768/v1", "utf8");
const WRAP_INFO = Buffer.from("tessera/escrowed-root/v1", "utf8");
const rootAad = (id: string) => Buffer.from(`tessera/escrowed-root/v1|id=${id}`, "utf8");

export interface EscrowedRoot {
  id: string;
  /** ML-KEM-768 ciphertext, base64. */
  kem: string;
  /** The root as a keyring record under the encapsulated key, base64. */
  sealed: string;
}

export interface EscrowRecord {
  shares: number;
  threshold: number;
  /** ML-KEM-768 SubjectPublicKeyInfo (DER, base64), derived from the shared secret. */
  publicKey: string;
  roots: EscrowedRoot[];
}

/** The escrow key pair of a shared secret. */
function keyPair(shared: Uint8Array): { publicKey: KeyObject; privateKey: KeyObject } {
  const seed = hkdfSha256(shared, Buffer.alloc(0), SEED_INFO, ML_KEM_SEED_LENGTH);
  try {
    return mlKem768FromSeed(seed);
  } finally {
    zero(seed);
  }
}

export function escrowRoot(publicKey: KeyObject, root: RootKey): EscrowedRoot {
  const { sharedKey, ciphertext } = kemEncapsulate(publicKey);
  const wrapping = hkdfSha256(sharedKey, Buffer.alloc(0), WRAP_INFO, 32);
  try {
    return { id: root.id, kem: ciphertext.toString("base64"), sealed: sealRecord(wrapping, root.key, rootAad(root.id)).toString("base64") };
  } finally {
    zero(sharedKey, wrapping);
  }
}

/** A new shared secret, its shares, and the escrow of `roots` to it. */
export async function createEscrow(roots: readonly RootKey[], shares: number, threshold: number): Promise<{ escrow: EscrowRecord; secrets: string[]; publicKey: KeyObject }> {
  const shared = secretBytes(SHARED_SECRET_LENGTH);
  try {
    const secrets = await splitSecret(shared, shares, threshold);
    const { publicKey } = keyPair(shared);
    return { escrow: { shares, threshold, publicKey: spki(publicKey).toString("base64"), roots: roots.map((r) => escrowRoot(publicKey, r)) }, secrets, publicKey };
  } finally {
    zero(shared);
  }
}

/** The same escrow (shares, public key) holding `roots` instead. `publicKey` must be a verified one. */
export function reescrow(escrow: EscrowRecord, publicKey: KeyObject, roots: readonly RootKey[]): EscrowRecord {
  if (!equalBytes(spki(publicKey), Buffer.from(escrow.publicKey, "base64"))) throw new TesseraError("Internal", "escrow public key mismatch");
  return { ...escrow, roots: roots.map((r) => escrowRoot(publicKey, r)) };
}

/**
 * Opens every escrowed root with the combined shared secret. The public key derived from the secret
 * must be the stored one (else: wrong shares, or an altered record) — both read as `InvalidUnsealKey`.
 * Returns the roots (caller zeroes) and the verified public key.
 */
export function openEscrow(escrow: EscrowRecord, shared: Uint8Array): { roots: RootKey[]; publicKey: KeyObject } {
  const { publicKey, privateKey } = keyPair(shared);
  if (!equalBytes(spki(publicKey), Buffer.from(escrow.publicKey, "base64"))) {
    throw new TesseraError("InvalidUnsealKey", "the submitted shares do not unseal this Tessera; progress reset");
  }
  const roots: RootKey[] = [];
  try {
    for (const r of escrow.roots) {
      const sharedKey = kemDecapsulate(privateKey, Buffer.from(r.kem, "base64"));
      const wrapping = hkdfSha256(sharedKey, Buffer.alloc(0), WRAP_INFO, 32);
      try {
        roots.push({ id: r.id, key: openRecord(wrapping, Buffer.from(r.sealed, "base64"), rootAad(r.id)) });
      } finally {
        zero(sharedKey, wrapping);
      }
    }
    return { roots, publicKey };
  } catch (err) {
    for (const r of roots) zero(r.key);
    throw new TesseraError("InvalidUnsealKey", "the stored root keys do not open with these shares (altered seal record); progress reset", { cause: err });
  }
}

/** The stored public key, for a caller that verified it another way (the HSM binding). */
export function escrowPublicKey(escrow: EscrowRecord): KeyObject {
  return mlKem768PublicKey(Buffer.from(escrow.publicKey, "base64"));
}

/** An escrow for an existing shared secret (upgrading a record that predates escrows). */
export function escrowForSecret(shared: Uint8Array, shares: number, threshold: number, roots: readonly RootKey[]): { escrow: EscrowRecord; publicKey: KeyObject } {
  const { publicKey } = keyPair(shared);
  return { escrow: { shares, threshold, publicKey: spki(publicKey).toString("base64"), roots: roots.map((r) => escrowRoot(publicKey, r)) }, publicKey };
}
