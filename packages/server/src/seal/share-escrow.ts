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
 *
 * Why a MAC: the public key is public, so anyone who reads it (a database copy, a backup header) can
 * escrow a root *they* chose to it. Unauthenticated, such a planted root would open with the real
 * shares and become the current root — everything sealed afterwards (and a rotation "resumed") under a
 * key the planter knows — and a forged backup would restore with the real shares. So the whole escrow
 * (quorum, public key, every root entry) carries HMAC-SHA256 under a MAC key derived from the shared
 * secret, checked before any root is used. The node keeps the MAC key (like the verified public key)
 * while unsealed, so a rotation re-authenticates the escrow without any share; the PKCS#11 seal keeps an
 * HSM-encrypted copy so an auto-unsealed node has it too.
 */
import { createHmac, createSecretKey, type KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { equalBytes, hkdfSha256, kemDecapsulate, kemEncapsulate, mlKem768FromSeed, mlKem768PublicKey, secretBytes, spki, zero, ML_KEM_SEED_LENGTH } from "../crypto/index.js";
import { openRecord, sealRecord } from "../format/keyring-record.js";
import type { RootKey } from "./root-ring.js";
import { SHARED_SECRET_LENGTH, splitSecret } from "./shares.js";

const SEED_INFO = Buffer.from("tessera/share-escrow/ml-kem-768/v1", "utf8");
const MAC_INFO = Buffer.from("tessera/share-escrow/mac/v1", "utf8");
export const ESCROW_MAC_KEY_LENGTH = 32;
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
  /** HMAC-SHA256 (base64) of everything above under the shares' MAC key (`escrowMac`). */
  mac: string;
}

/**
 * What a node may hold of the escrow while unsealed: the verified public key (to escrow new roots)
 * and the MAC key (to authenticate the escrow it writes). The MAC key is secret: zero it with the roots.
 */
export interface EscrowKeys {
  publicKey: KeyObject;
  macKey: Buffer;
}

/** The escrow's MAC over a canonical encoding (length-prefixed fields, so no two escrows encode alike). */
function escrowMac(macKey: Uint8Array, e: Omit<EscrowRecord, "mac">): string {
  const parts = [MAC_INFO, String(e.shares), String(e.threshold), e.publicKey, String(e.roots.length), ...e.roots.flatMap((r) => [r.id, r.kem, r.sealed])];
  const mac = createHmac("sha256", createSecretKey(macKey));
  for (const p of parts) {
    const b = Buffer.from(p);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    mac.update(len).update(b);
  }
  return mac.digest("base64");
}

/** Checks the escrow's MAC; an escrow that fails (planted or swapped roots, edited quorum) is `InvalidUnsealKey`. */
function checkMac(escrow: EscrowRecord, macKey: Uint8Array): void {
  const { mac, ...rest } = escrow;
  if (typeof mac !== "string" || !equalBytes(Buffer.from(mac, "base64"), Buffer.from(escrowMac(macKey, rest), "base64"))) {
    throw new TesseraError("InvalidUnsealKey", "the stored escrow does not authenticate with these shares (altered seal record); progress reset");
  }
}

export function zeroEscrowKeys(keys: EscrowKeys | undefined): void {
  if (keys !== undefined) zero(keys.macKey);
}

function macKeyOf(shared: Uint8Array): Buffer {
  return hkdfSha256(shared, Buffer.alloc(0), MAC_INFO, ESCROW_MAC_KEY_LENGTH);
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

/** A new shared secret, its shares, and the escrow of `roots` to it (the caller zeroes `escrowKey.macKey`). */
export async function createEscrow(roots: readonly RootKey[], shares: number, threshold: number): Promise<{ escrow: EscrowRecord; secrets: string[]; escrowKey: EscrowKeys }> {
  const shared = secretBytes(SHARED_SECRET_LENGTH);
  try {
    const secrets = await splitSecret(shared, shares, threshold);
    return { ...escrowForSecret(shared, shares, threshold, roots), secrets };
  } finally {
    zero(shared);
  }
}

/** The same escrow (shares, public key) holding `roots` instead. `keys` must be verified ones. */
export function reescrow(escrow: EscrowRecord, keys: EscrowKeys, roots: readonly RootKey[]): EscrowRecord {
  if (!equalBytes(spki(keys.publicKey), Buffer.from(escrow.publicKey, "base64"))) throw new TesseraError("Internal", "escrow public key mismatch");
  const next = { shares: escrow.shares, threshold: escrow.threshold, publicKey: escrow.publicKey, roots: roots.map((r) => escrowRoot(keys.publicKey, r)) };
  return { ...next, mac: escrowMac(keys.macKey, next) };
}

/**
 * Opens every escrowed root with the combined shared secret. The public key derived from the secret
 * must be the stored one and the escrow's MAC must check (else: wrong shares, or an altered record —
 * both `InvalidUnsealKey`) before any root is opened. Returns the roots and the escrow keys (caller zeroes).
 */
export function openEscrow(escrow: EscrowRecord, shared: Uint8Array): { roots: RootKey[]; escrowKey: EscrowKeys } {
  const { publicKey, privateKey } = keyPair(shared);
  if (!equalBytes(spki(publicKey), Buffer.from(escrow.publicKey, "base64"))) {
    throw new TesseraError("InvalidUnsealKey", "the submitted shares do not unseal this Tessera; progress reset");
  }
  const macKey = macKeyOf(shared);
  const roots: RootKey[] = [];
  try {
    checkMac(escrow, macKey);
    for (const r of escrow.roots) {
      const sharedKey = kemDecapsulate(privateKey, Buffer.from(r.kem, "base64"));
      const wrapping = hkdfSha256(sharedKey, Buffer.alloc(0), WRAP_INFO, 32);
      try {
        roots.push({ id: r.id, key: openRecord(wrapping, Buffer.from(r.sealed, "base64"), rootAad(r.id)) });
      } finally {
        zero(sharedKey, wrapping);
      }
    }
    return { roots, escrowKey: { publicKey, macKey } };
  } catch (err) {
    for (const r of roots) zero(r.key);
    zero(macKey);
    if (err instanceof TesseraError && err.code === "InvalidUnsealKey") throw err;
    throw new TesseraError("InvalidUnsealKey", "the stored root keys do not open with these shares (altered seal record); progress reset", { cause: err });
  }
}

/**
 * The escrow keys for a caller that verified the public key another way (the HSM binding) and got the
 * MAC key from the HSM: the escrow's MAC must check, else `InvalidUnsealKey` (an altered escrow).
 */
export function escrowKeysVouched(escrow: EscrowRecord, macKey: Buffer): EscrowKeys {
  checkMac(escrow, macKey);
  return { publicKey: mlKem768PublicKey(Buffer.from(escrow.publicKey, "base64")), macKey };
}

/** An escrow of `roots` for a shared secret (init, rekey, and upgrading a record that predates escrows). */
export function escrowForSecret(shared: Uint8Array, shares: number, threshold: number, roots: readonly RootKey[]): { escrow: EscrowRecord; escrowKey: EscrowKeys } {
  const { publicKey } = keyPair(shared);
  const escrowKey = { publicKey, macKey: macKeyOf(shared) };
  const next = { shares, threshold, publicKey: spki(publicKey).toString("base64"), roots: roots.map((r) => escrowRoot(publicKey, r)) };
  return { escrow: { ...next, mac: escrowMac(escrowKey.macKey, next) }, escrowKey };
}
