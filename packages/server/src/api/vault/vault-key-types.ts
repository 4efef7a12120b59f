/**
 * Vault's transit key types and Tessera's key specs, both ways (docs/vault-compatibility.md, "Key
 * types"). A type Tessera cannot honour is refused with the reason, never approximated by another.
 */
import type { KeyMetadata, KeySpec, KeyUsage, MacAlgorithm } from "@tessera/protocol";
import { refused } from "./vault-errors.js";

interface Mapping {
  spec: KeySpec;
  usage: KeyUsage;
}

const created: Readonly<Record<string, Mapping>> = Object.freeze({
  "aes256-gcm96": { spec: "SYMMETRIC_DEFAULT", usage: "ENCRYPT_DECRYPT" },
  "aes128-gcm96": { spec: "AES_128", usage: "ENCRYPT_DECRYPT" },
  "chacha20-poly1305": { spec: "CHACHA20_POLY1305", usage: "ENCRYPT_DECRYPT" },
  // Vault's RSA keys both sign and encrypt; a Tessera key has one usage, and signing is what Vault
  // callers use RSA transit keys for.
  "rsa-2048": { spec: "RSA_2048", usage: "SIGN_VERIFY" },
  "rsa-3072": { spec: "RSA_3072", usage: "SIGN_VERIFY" },
  "rsa-4096": { spec: "RSA_4096", usage: "SIGN_VERIFY" },
  "ecdsa-p256": { spec: "ECC_NIST_P256", usage: "SIGN_VERIFY" },
  "ecdsa-p384": { spec: "ECC_NIST_P384", usage: "SIGN_VERIFY" },
  "ecdsa-p521": { spec: "ECC_NIST_P521", usage: "SIGN_VERIFY" },
  ed25519: { spec: "ECC_NIST_EDWARDS25519", usage: "SIGN_VERIFY" },
  hmac: { spec: "HMAC_256", usage: "GENERATE_VERIFY_MAC" },
  // Tessera's own names for the Chinese commercial algorithms.
  sm2: { spec: "SM2", usage: "SIGN_VERIFY" },
  sm4: { spec: "SM4", usage: "ENCRYPT_DECRYPT" },
});

const refusedTypes: Readonly<Record<string, string>> = Object.freeze({
  "xchacha20-poly1305":
    "Tessera has no XChaCha20-Poly1305 keys (Node's crypto has no XChaCha20, and Tessera does not build HChaCha20 itself): use chacha20-poly1305, or aes256-gcm96 (XAES-256-GCM, also a 192-bit nonce)",
  "aes128-cmac": "Tessera has no CMAC keys: use hmac",
  "aes256-cmac": "Tessera has no CMAC keys: use hmac",
  managed_key: "Tessera has no managed keys",
});

/** HMAC keys by `key_size` (bytes): Tessera's HMAC material is as long as its hash, which fixes the algorithm. */
const hmacBySize: Readonly<Record<number, KeySpec>> = Object.freeze({ 28: "HMAC_224", 32: "HMAC_256", 48: "HMAC_384", 64: "HMAC_512" });

/** The Tessera spec and usage a Vault `type` (and, for hmac, `key_size`) creates. */
export function specFor(type: string, keySize: number | undefined): Mapping {
  if (Object.hasOwn(refusedTypes, type)) throw refused(`key type ${type} is not supported: ${refusedTypes[type]!}`);
  if (!Object.hasOwn(created, type)) throw refused(`unknown key type ${type}`);
  const m = created[type]!;
  if (keySize !== undefined) {
    if (type !== "hmac") throw refused("key_size applies to hmac keys only");
    const spec = hmacBySize[keySize];
    if (spec === undefined) throw refused("key_size must be 28, 32, 48 or 64 bytes for a Tessera hmac key (its material is as long as its hash)");
    return { spec, usage: m.usage };
  }
  return m;
}

const typeBySpec: Readonly<Record<KeySpec, string>> = Object.freeze({
  SYMMETRIC_DEFAULT: "aes256-gcm96",
  SM4: "sm4",
  AES_128: "aes128-gcm96",
  CHACHA20_POLY1305: "chacha20-poly1305",
  HMAC_224: "hmac",
  HMAC_256: "hmac",
  HMAC_384: "hmac",
  HMAC_512: "hmac",
  HMAC_SM3: "hmac",
  RSA_2048: "rsa-2048",
  RSA_3072: "rsa-3072",
  RSA_4096: "rsa-4096",
  ECC_NIST_P256: "ecdsa-p256",
  ECC_NIST_P384: "ecdsa-p384",
  ECC_NIST_P521: "ecdsa-p521",
  ECC_SECG_P256K1: "ecdsa-secp256k1",
  ECC_NIST_EDWARDS25519: "ed25519",
  SM2: "sm2",
  ML_DSA_44: "ml-dsa-44",
  ML_DSA_65: "ml-dsa-65",
  ML_DSA_87: "ml-dsa-87",
});

/** The Vault `type` a Tessera key reads as (Tessera's name, lower case, where Vault has none). */
export function vaultType(k: Pick<KeyMetadata, "keySpec">): string {
  return typeBySpec[k.keySpec];
}

/** Vault's per-version `name` of an asymmetric key (the curve or modulus). */
export function versionName(spec: KeySpec): string {
  const names: Partial<Record<KeySpec, string>> = { ECC_NIST_P256: "P-256", ECC_NIST_P384: "P-384", ECC_NIST_P521: "P-521", ECC_SECG_P256K1: "secp256k1", ECC_NIST_EDWARDS25519: "ed25519", SM2: "sm2" };
  return names[spec] ?? typeBySpec[spec];
}

/** Vault's HMAC algorithm names (`hmac/:name/:algorithm`, `algorithm`). */
export const macAlgorithmOf: Readonly<Record<string, MacAlgorithm>> = Object.freeze({
  "sha2-224": "HMAC_SHA_224",
  "sha2-256": "HMAC_SHA_256",
  "sha2-384": "HMAC_SHA_384",
  "sha2-512": "HMAC_SHA_512",
  sm3: "HMAC_SM3",
});
