/**
 * Roots escrowed to the operators' shares. A 256-bit shared secret (the unseal key of the Shamir seal,
 * the recovery key of the PKCS#11 seal) is split into shares and never stored. From it an X-Wing key
 * pair is derived (HKDF-SHA256 → 32-byte seed, X-Wing's seed-based key generation); the record keeps
 * only the public key, and each root is sealed to it: X-Wing encapsulation → HKDF-SHA256 → AES-256-GCM
 * with the root's id in the AAD.
 *
 * Why X-Wing (ML-KEM-768 + X25519): the escrow is in every database copy and backup, forever. With
 * ML-KEM-768 alone, a break of ML-KEM would open every escrowed root ever written; the hybrid needs
 * ML-KEM-768 *and* X25519 broken. `kem` names the scheme (and every HKDF label is v2), so an escrow
 * written by the unreleased ML-KEM-only layout is refused by name rather than opened half-understood.
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
import { createHmac, createSecretKey } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { equalBytes, hkdfSha256, secretBytes, xwingDecapsulate, xwingEncapsulate, xwingPublicKey, zero, XWING_PUBLIC_KEY_LENGTH, XWING_SEED_LENGTH } from "../crypto/index.js";
import { openRecord, sealRecord } from "../format/keyring-record.js";
import type { RootKey } from "./root-ring.js";
import { SHARED_SECRET_LENGTH, splitSecret } from "./shares.js";

/** The escrow's KEM, stored in the record and covered by its MAC. */
export const ESCROW_KEM = "x-wing";
const SEED_INFO = Buffer.from("tessera/share-escrow/x-wing/v2", "utf8");
const MAC_INFO = Buffer.from("tessera/share-escrow/mac/v2", "utf8");
export const ESCROW_MAC_KEY_LENGTH = 32;
const WRAP_INFO = Buffer.from("tessera/escrowed-root/v2", "utf8");
const rootAad = (id: string) => Buffer.from(`tessera/escrowed-root/v2|id=${id}`, "utf8");

export interface EscrowedRoot {
  id: string;
  /** X-Wing ciphertext (1120 bytes), base64. */
  kem: string;
  /** The root as a keyring record under the encapsulated key, base64. */
  sealed: string;
}

export interface EscrowRecord {
  /** Always `x-wing` (ESCROW_KEM); anything else (the unreleased ML-KEM-768-only layout had none) is refused. */
  kem: typeof ESCROW_KEM;
  shares: number;
  threshold: number;
  /** X-Wing public key (raw, 1216 bytes, base64), derived from the shared secret. */
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
  /** Raw X-Wing public key (public; the MAC key is the secret half). */
  publicKey: Buffer;
  macKey: Buffer;
}

/** The escrow's MAC over a canonical encoding (length-prefixed fields, so no two escrows encode alike). */
function escrowMac(macKey: Uint8Array, e: Omit<EscrowRecord, "mac">): string {
  const parts = [MAC_INFO, e.kem, String(e.shares), String(e.threshold), e.publicKey, String(e.roots.length), ...e.roots.flatMap((r) => [r.id, r.kem, r.sealed])];
  const mac = createHmac("sha256", createSecretKey(macKey));
  for (const p of parts) {
    const b = Buffer.from(p);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    mac.update(len).update(b);
  }
  return mac.digest("base64");
}

/** An escrow of another KEM (the unreleased ML-KEM-768-only layout has no `kem`) is `InvalidUnsealKey`, named as such. */
function checkKem(escrow: EscrowRecord): void {
  if (escrow.kem !== ESCROW_KEM) {
    throw new TesseraError("InvalidUnsealKey", `the stored escrow is not an ${ESCROW_KEM} escrow (kem: ${JSON.stringify(escrow.kem ?? null)}; the ML-KEM-768-only escrow of pre-release builds is not supported): initialise again`);
  }
}

/** Checks the escrow's MAC; an escrow that fails (planted or swapped roots, edited quorum) is `InvalidUnsealKey`. */
function checkMac(escrow: EscrowRecord, macKey: Uint8Array): void {
  checkKem(escrow);
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

/** The X-Wing seed (= private key) of a shared secret; the caller zeroes it. */
function seedOf(shared: Uint8Array): Buffer {
  return hkdfSha256(shared, Buffer.alloc(0), SEED_INFO, XWING_SEED_LENGTH);
}

/** The escrow public key of a shared secret. */
async function publicKeyOf(shared: Uint8Array): Promise<Buffer> {
  const seed = seedOf(shared);
  try {
    return await xwingPublicKey(seed);
  } finally {
    zero(seed);
  }
}

export async function escrowRoot(publicKey: Uint8Array, root: RootKey): Promise<EscrowedRoot> {
  const { sharedKey, ciphertext } = await xwingEncapsulate(publicKey);
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
    return { ...(await escrowForSecret(shared, shares, threshold, roots)), secrets };
  } finally {
    zero(shared);
  }
}

/** The same escrow (shares, public key) holding `roots` instead. `keys` must be verified ones. */
export async function reescrow(escrow: EscrowRecord, keys: EscrowKeys, roots: readonly RootKey[]): Promise<EscrowRecord> {
  if (escrow.kem !== ESCROW_KEM || !equalBytes(keys.publicKey, Buffer.from(escrow.publicKey, "base64"))) throw new TesseraError("Internal", "escrow public key mismatch");
  const next = { kem: ESCROW_KEM, shares: escrow.shares, threshold: escrow.threshold, publicKey: escrow.publicKey, roots: await escrowAll(keys.publicKey, roots) } as const;
  return { ...next, mac: escrowMac(keys.macKey, next) };
}

/**
 * Opens every escrowed root with the combined shared secret. The public key derived from the secret
 * must be the stored one and the escrow's MAC must check (else: wrong shares, or an altered record —
 * both `InvalidUnsealKey`) before any root is opened. Returns the roots and the escrow keys (caller zeroes).
 */
export async function openEscrow(escrow: EscrowRecord, shared: Uint8Array): Promise<{ roots: RootKey[]; escrowKey: EscrowKeys }> {
  checkKem(escrow);
  const publicKey = await publicKeyOf(shared);
  if (!equalBytes(publicKey, Buffer.from(escrow.publicKey, "base64"))) {
    throw new TesseraError("InvalidUnsealKey", "the submitted shares do not unseal this Tessera; progress reset");
  }
  const macKey = macKeyOf(shared);
  const seed = seedOf(shared);
  const roots: RootKey[] = [];
  try {
    checkMac(escrow, macKey);
    for (const r of escrow.roots) {
      const sharedKey = await xwingDecapsulate(seed, Buffer.from(r.kem, "base64"));
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
  } finally {
    zero(seed);
  }
}

/**
 * The escrow keys for a caller that verified the public key another way (the HSM binding) and got the
 * MAC key from the HSM: the escrow's MAC must check, else `InvalidUnsealKey` (an altered escrow).
 */
export function escrowKeysVouched(escrow: EscrowRecord, macKey: Buffer): EscrowKeys {
  checkMac(escrow, macKey);
  const publicKey = Buffer.from(escrow.publicKey, "base64");
  if (publicKey.length !== XWING_PUBLIC_KEY_LENGTH) throw new TesseraError("InvalidUnsealKey", "the stored escrow's public key is not an X-Wing public key (altered seal record)");
  return { publicKey, macKey };
}

/** Each root escrowed to `publicKey`, one after another (each is a few ms of pure-JS X-Wing). */
async function escrowAll(publicKey: Uint8Array, roots: readonly RootKey[]): Promise<EscrowedRoot[]> {
  const out: EscrowedRoot[] = [];
  for (const r of roots) out.push(await escrowRoot(publicKey, r));
  return out;
}

/** An escrow of `roots` for a shared secret (init, rekey, and upgrading a record that predates escrows). */
export async function escrowForSecret(shared: Uint8Array, shares: number, threshold: number, roots: readonly RootKey[]): Promise<{ escrow: EscrowRecord; escrowKey: EscrowKeys }> {
  const publicKey = await publicKeyOf(shared);
  const next = { kem: ESCROW_KEM, shares, threshold, publicKey: publicKey.toString("base64"), roots: await escrowAll(publicKey, roots) } as const;
  const escrowKey = { publicKey, macKey: macKeyOf(shared) };
  return { escrow: { ...next, mac: escrowMac(escrowKey.macKey, next) }, escrowKey };
}
