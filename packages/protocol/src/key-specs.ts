/**
 * Key specs, usages and algorithms: the one table that says what each kind of key is and what it
 * may do. Names are AWS KMS's wire names (KeySpec, KeyUsage, EncryptionAlgorithmSpec,
 * SigningAlgorithmSpec, KeyAgreementAlgorithmSpec, MessageType), so both APIs speak one vocabulary.
 *
 * To add a key spec: add its algorithms to the algorithm tables below (with their wire facts), a row
 * to `keySpecs`, and its implementation to the server's registries (server `crypto/key-pairs.ts`
 * for generation, `crypto/signers.ts` and friends for each algorithm). Schemas, usage checks, the
 * AWS adapter's metadata and the CLI read these tables: no logic changes.
 *
 * Invariant: a key's spec and usage are fixed at creation; every operation names the usage it needs
 * and (where the operation has one) its algorithm, and {@link checkKeyUsage} refuses anything else
 * with `InvalidKeyUsage`.
 */
import { TesseraError } from "./errors.js";

export const keyUsages = Object.freeze(["ENCRYPT_DECRYPT", "SIGN_VERIFY", "GENERATE_VERIFY_MAC", "KEY_AGREEMENT"] as const);
export type KeyUsage = (typeof keyUsages)[number];

/** How `Message` is given to Sign and Verify: the message itself, or its digest under the algorithm's hash. */
export const messageTypes = Object.freeze(["RAW", "DIGEST"] as const);
export type MessageType = (typeof messageTypes)[number];

/** What the wire needs to know about an encryption algorithm. */
export interface EncryptionAlgorithmInfo {
  /** Largest plaintext for a key of `modulusBits` (RSA-OAEP: k − 2·hLen − 2 bytes, RFC 8017 §7.1.1); undefined = the format's own limit. */
  maxPlaintextBytes?: (modulusBits: number) => number;
}

export const encryptionAlgorithms = Object.freeze({
  /** Tessera's symmetric envelope (docs/formats.md): XAES-256-GCM, the ciphertext names key and version. */
  SYMMETRIC_DEFAULT: {},
  /** RSAES-OAEP with SHA-1 and MGF1-SHA-1 (RFC 8017 §7.1), empty label. */
  RSAES_OAEP_SHA_1: { maxPlaintextBytes: (bits: number) => bits / 8 - 2 * 20 - 2 },
  /** RSAES-OAEP with SHA-256 and MGF1-SHA-256, empty label. */
  RSAES_OAEP_SHA_256: { maxPlaintextBytes: (bits: number) => bits / 8 - 2 * 32 - 2 },
  /** SM2 public-key encryption (GB/T 32918.4) with SM3; ciphertext GM/T 0009 DER, C1 ‖ C3 ‖ C2. At most 1024 bytes, as AWS. */
  SM2PKE: { maxPlaintextBytes: () => 1024 },
} as const satisfies Record<string, EncryptionAlgorithmInfo>);
export type EncryptionAlgorithm = keyof typeof encryptionAlgorithms;

/** What the wire needs to know about a signing algorithm. */
export interface SigningAlgorithmInfo {
  /** Message types it accepts. DIGEST only where the algorithm signs a precomputed hash. */
  messageTypes: readonly MessageType[];
  /** Length in bytes a DIGEST message must have (the algorithm's hash output). */
  digestLength?: number;
}

export const signingAlgorithms = Object.freeze({
  RSASSA_PSS_SHA_256: { messageTypes: ["RAW", "DIGEST"], digestLength: 32 },
  RSASSA_PSS_SHA_384: { messageTypes: ["RAW", "DIGEST"], digestLength: 48 },
  RSASSA_PSS_SHA_512: { messageTypes: ["RAW", "DIGEST"], digestLength: 64 },
  RSASSA_PKCS1_V1_5_SHA_256: { messageTypes: ["RAW", "DIGEST"], digestLength: 32 },
  RSASSA_PKCS1_V1_5_SHA_384: { messageTypes: ["RAW", "DIGEST"], digestLength: 48 },
  RSASSA_PKCS1_V1_5_SHA_512: { messageTypes: ["RAW", "DIGEST"], digestLength: 64 },
  ECDSA_SHA_256: { messageTypes: ["RAW", "DIGEST"], digestLength: 32 },
  ECDSA_SHA_384: { messageTypes: ["RAW", "DIGEST"], digestLength: 48 },
  ECDSA_SHA_512: { messageTypes: ["RAW", "DIGEST"], digestLength: 64 },
  /** PureEdDSA (RFC 8032 §5.1): the message itself, never a digest. */
  ED25519_SHA_512: { messageTypes: ["RAW"] },
  /**
   * SM2 signatures (GB/T 32918.2) with SM3: RAW signs SM3(Z ‖ M), Z from the signer's distinguishing id
   * (default `1234567812345678`); DIGEST is that 32-byte value computed by the caller (as AWS).
   */
  SM2DSA: { messageTypes: ["RAW", "DIGEST"], digestLength: 32 },
  /** ML-DSA (FIPS 204 §5.2, empty context): the message itself. AWS's EXTERNAL_MU is not offered. */
  ML_DSA_SHAKE_256: { messageTypes: ["RAW"] },
} as const satisfies Record<string, SigningAlgorithmInfo>);
export type SigningAlgorithm = keyof typeof signingAlgorithms;

/** What the wire needs to know about a MAC algorithm. */
export interface MacAlgorithmInfo {
  /** Length in bytes of a MAC (the hash's output; Tessera never truncates a MAC). */
  macLength: number;
}

/** MAC algorithms of HMAC keys (RFC 2104). HMAC_SM3 (GB/T 32905's SM3) is Tessera's; AWS has the SHA-2 four. */
export const macAlgorithms = Object.freeze({
  HMAC_SHA_224: { macLength: 28 },
  HMAC_SHA_256: { macLength: 32 },
  HMAC_SHA_384: { macLength: 48 },
  HMAC_SHA_512: { macLength: 64 },
  HMAC_SM3: { macLength: 32 },
} as const satisfies Record<string, MacAlgorithmInfo>);
export type MacAlgorithm = keyof typeof macAlgorithms;

export const keyAgreementAlgorithms = Object.freeze({
  /** Cofactor ECDH (SP 800-56A §5.7.1.2): the shared secret is the x-coordinate of the shared point. */
  ECDH: {},
} as const satisfies Record<string, object>);
export type KeyAgreementAlgorithm = keyof typeof keyAgreementAlgorithms;

/** The algorithms a usage is exercised with. */
export interface UsageAlgorithms {
  ENCRYPT_DECRYPT: EncryptionAlgorithm;
  SIGN_VERIFY: SigningAlgorithm;
  GENERATE_VERIFY_MAC: MacAlgorithm;
  KEY_AGREEMENT: KeyAgreementAlgorithm;
}

export interface KeySpecInfo {
  /** What a version's material is: random bytes, or a private key (stored as PKCS#8 DER). */
  material: "symmetric" | "asymmetric";
  /** Each usage a key of this spec may be created with, and the algorithms that usage allows. */
  usages: { readonly [U in KeyUsage]?: readonly UsageAlgorithms[U][] };
  /** The usage CreateKey gives when the request names none; absent = the request must name one (as AWS). */
  defaultUsage?: KeyUsage;
  /** May be generated as a data key pair (GenerateDataKeyPair's KeyPairSpec). */
  dataKeyPair?: boolean;
}

const RSA_SIGNING = [
  "RSASSA_PSS_SHA_256",
  "RSASSA_PSS_SHA_384",
  "RSASSA_PSS_SHA_512",
  "RSASSA_PKCS1_V1_5_SHA_256",
  "RSASSA_PKCS1_V1_5_SHA_384",
  "RSASSA_PKCS1_V1_5_SHA_512",
] as const;
const RSA_ENCRYPTION = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const;

const rsa = { material: "asymmetric", usages: { ENCRYPT_DECRYPT: RSA_ENCRYPTION, SIGN_VERIFY: RSA_SIGNING }, dataKeyPair: true } as const;

const hmacKey = <A extends MacAlgorithm>(algorithm: A) =>
  ({ material: "symmetric", usages: { GENERATE_VERIFY_MAC: [algorithm] }, defaultUsage: "GENERATE_VERIFY_MAC" }) as const;

export const keySpecs = Object.freeze({
  /** AES-256 material, encrypted as Tessera's envelope (XAES-256-GCM). Tessera's older name: `AES_256`. */
  SYMMETRIC_DEFAULT: { material: "symmetric", usages: { ENCRYPT_DECRYPT: ["SYMMETRIC_DEFAULT"] }, defaultUsage: "ENCRYPT_DECRYPT" },
  /**
   * SM4 (GB/T 32907) 128-bit material, encrypted as Tessera's envelope format v3 (SM4-GCM, RFC 8998).
   * Tessera's name: AWS has no SM4 spec — in its China Regions SYMMETRIC_DEFAULT itself is SM4 — so
   * the encryption algorithm is SYMMETRIC_DEFAULT, as there.
   */
  SM4: { material: "symmetric", usages: { ENCRYPT_DECRYPT: ["SYMMETRIC_DEFAULT"] }, defaultUsage: "ENCRYPT_DECRYPT" },
  /** HMAC keys (AWS's names): material as long as the hash's output, GenerateMac and VerifyMac only. */
  HMAC_224: hmacKey("HMAC_SHA_224"),
  HMAC_256: hmacKey("HMAC_SHA_256"),
  HMAC_384: hmacKey("HMAC_SHA_384"),
  HMAC_512: hmacKey("HMAC_SHA_512"),
  /** HMAC with SM3 (Tessera only): 256-bit material. */
  HMAC_SM3: hmacKey("HMAC_SM3"),
  RSA_2048: rsa,
  RSA_3072: rsa,
  RSA_4096: rsa,
  ECC_NIST_P256: { material: "asymmetric", usages: { SIGN_VERIFY: ["ECDSA_SHA_256"], KEY_AGREEMENT: ["ECDH"] }, dataKeyPair: true },
  ECC_NIST_P384: { material: "asymmetric", usages: { SIGN_VERIFY: ["ECDSA_SHA_384"], KEY_AGREEMENT: ["ECDH"] }, dataKeyPair: true },
  ECC_NIST_P521: { material: "asymmetric", usages: { SIGN_VERIFY: ["ECDSA_SHA_512"], KEY_AGREEMENT: ["ECDH"] }, dataKeyPair: true },
  /** secp256k1 (SEC 2 §2.4.1): signing only, as AWS. */
  ECC_SECG_P256K1: { material: "asymmetric", usages: { SIGN_VERIFY: ["ECDSA_SHA_256"] }, dataKeyPair: true },
  /** Ed25519 (AWS's name): signing only. */
  ECC_NIST_EDWARDS25519: { material: "asymmetric", usages: { SIGN_VERIFY: ["ED25519_SHA_512"] }, dataKeyPair: true },
  /** SM2 (GB/T 32918, curve sm2p256v1): signing (SM2DSA) or encryption (SM2PKE), as AWS in its China Regions. */
  SM2: { material: "asymmetric", usages: { SIGN_VERIFY: ["SM2DSA"], ENCRYPT_DECRYPT: ["SM2PKE"] }, dataKeyPair: true },
  ML_DSA_44: { material: "asymmetric", usages: { SIGN_VERIFY: ["ML_DSA_SHAKE_256"] } },
  ML_DSA_65: { material: "asymmetric", usages: { SIGN_VERIFY: ["ML_DSA_SHAKE_256"] } },
  ML_DSA_87: { material: "asymmetric", usages: { SIGN_VERIFY: ["ML_DSA_SHAKE_256"] } },
} as const satisfies Record<string, KeySpecInfo>);
export type KeySpec = keyof typeof keySpecs;
export const keySpecNames: readonly KeySpec[] = Object.freeze(Object.keys(keySpecs) as KeySpec[]);

/** Specs whose versions hold a private key. */
export type AsymmetricKeySpec = { [K in KeySpec]: (typeof keySpecs)[K]["material"] extends "asymmetric" ? K : never }[KeySpec];
export const asymmetricKeySpecs: readonly AsymmetricKeySpec[] = Object.freeze(
  keySpecNames.filter((s): s is AsymmetricKeySpec => keySpecs[s].material === "asymmetric"),
);

/** Specs whose versions hold random bytes. */
export type SymmetricKeySpec = Exclude<KeySpec, AsymmetricKeySpec>;

export function isAsymmetricKeySpec(spec: KeySpec): spec is AsymmetricKeySpec {
  return keySpecs[spec].material === "asymmetric";
}

/** Specs GenerateDataKeyPair makes (AWS's DataKeyPairSpec, as far as Tessera has the spec). */
export type DataKeyPairSpec = { [K in KeySpec]: (typeof keySpecs)[K] extends { dataKeyPair: true } ? K : never }[KeySpec];
export const dataKeyPairSpecs: readonly DataKeyPairSpec[] = Object.freeze(
  keySpecNames.filter((s): s is DataKeyPairSpec => (keySpecs[s] as KeySpecInfo).dataKeyPair === true),
);

/**
 * Older names a request may still use, and the spec each means. `AES_256` was Tessera's only key
 * spec before asymmetric keys; it is accepted on input and stored rows were renamed (migration 8).
 */
export const keySpecAliases = Object.freeze({ AES_256: "SYMMETRIC_DEFAULT" } as const satisfies Record<string, KeySpec>);
export type KeySpecAlias = keyof typeof keySpecAliases;

export function canonicalKeySpec(spec: KeySpec | KeySpecAlias): KeySpec {
  return Object.hasOwn(keySpecAliases, spec) ? keySpecAliases[spec as KeySpecAlias] : (spec as KeySpec);
}

export function isKeySpec(value: unknown): value is KeySpec {
  return typeof value === "string" && Object.hasOwn(keySpecs, value);
}

/** The algorithms a key of `spec` created for `usage` allows (empty when the spec has no such usage). */
export function algorithmsFor<U extends KeyUsage>(spec: KeySpec, usage: U): readonly UsageAlgorithms[U][] {
  return ((keySpecs[spec] as KeySpecInfo).usages[usage] ?? []) as readonly UsageAlgorithms[U][];
}

/** The usage a new key gets: the one asked for, else the spec's default; `InvalidInput` when the spec has no such usage. */
export function creationUsage(spec: KeySpec, requested: KeyUsage | undefined): KeyUsage {
  const info: KeySpecInfo = keySpecs[spec];
  const usage = requested ?? info.defaultUsage;
  if (usage === undefined) {
    throw new TesseraError("InvalidInput", `keyUsage is required for ${spec} keys (one of ${Object.keys(info.usages).join(", ")})`, { field: "/keyUsage" });
  }
  if (info.usages[usage] === undefined) {
    throw new TesseraError("InvalidInput", `a ${spec} key may be created for ${Object.keys(info.usages).join(" or ")}, not ${usage}`, { field: "/keyUsage" });
  }
  return usage;
}

/**
 * Refuses, with `InvalidKeyUsage`, an operation that needs `needed` (and, when given, `algorithm`)
 * on a key of `spec` created for `usage`.
 */
export function checkKeyUsage<U extends KeyUsage>(
  key: { keySpec: KeySpec; keyUsage: KeyUsage; name?: string },
  needed: U,
  algorithm?: UsageAlgorithms[U] | string,
): void {
  const label = key.name === undefined ? `this ${key.keySpec} key` : `key ${key.name} (${key.keySpec})`;
  if (key.keyUsage !== needed) throw new TesseraError("InvalidKeyUsage", `${label} is for ${key.keyUsage}, not ${needed}`);
  if (algorithm === undefined) return;
  const allowed = algorithmsFor(key.keySpec, needed) as readonly string[];
  if (!allowed.includes(algorithm)) {
    throw new TesseraError("InvalidKeyUsage", `${label} does not support ${algorithm}; it supports ${allowed.join(", ")}`);
  }
}
