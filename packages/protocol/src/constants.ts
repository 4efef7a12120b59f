/**
 * Constants that clients need at run time, kept out of the schema modules so that importing them does
 * not build every TypeBox schema (the CLI starts a process per command: see core.ts).
 */

/** The largest plaintext Encrypt accepts, in bytes (AWS KMS's limit). */
export const MAX_PLAINTEXT_BYTES = 4096;

/** Algorithms a JWT issuer may allow: asymmetric only, so a public key can never act as an HMAC secret. */
export const JWT_ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"] as const;
export type JwtAlgorithm = (typeof JWT_ALGORITHMS)[number];
export const DEFAULT_JWT_ALGORITHMS: readonly JwtAlgorithm[] = ["RS256", "ES256", "EdDSA", "PS256"];

/** The default secrets mount, as Vault's dev server mounts KV v2 at `secret/`. */
export const DEFAULT_SECRET_MOUNT = "secret";

/** Largest message Sign and Verify take, as AWS (larger messages: sign a digest). */
export const MAX_SIGN_MESSAGE_BYTES = 4096;

/** How exported bytes are encrypted to the recipient. Values go on the wire and never change. */
export const exportAlgorithms = Object.freeze(["hpke-p256", "hpke-x25519", "hpke-xwing", "rsa-oaep-aes-kwp", "sm2pke"] as const);
export type ExportAlgorithm = (typeof exportAlgorithms)[number];

/** What is exported: a version's material, a fresh data key, or a key derived for a context. */
export const exportKinds = Object.freeze(["key-material", "data-key", "derived-key"] as const);
export type ExportKind = (typeof exportKinds)[number];

export const importWrappingAlgorithms = Object.freeze(["RSAES_OAEP_SHA_256", "RSA_AES_KEY_WRAP_SHA_256"] as const);
export type ImportWrappingAlgorithm = (typeof importWrappingAlgorithms)[number];
export const importWrappingKeySpecs = Object.freeze(["RSA_3072", "RSA_4096"] as const);
export type ImportWrappingKeySpec = (typeof importWrappingKeySpecs)[number];

export const TESSERA_VERSION = "0.1.0";
