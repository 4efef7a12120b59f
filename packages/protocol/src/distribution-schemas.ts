/**
 * Wire schemas of key distribution (docs/distribution.md): wrapped export to a recipient's public
 * key, pairwise pre-shared keys for TLS-PSK, and bring-your-own-key import.
 */
import { Type, type Static } from "@sinclair/typebox";
import { exportAlgorithms, exportKinds, importWrappingAlgorithms, importWrappingKeySpecs } from "./constants.js";
import { Base64, Context } from "./schemas.js";

const strict = { additionalProperties: false } as const;

export const ExportAlgorithmSchema = Type.Union(exportAlgorithms.map((a) => Type.Literal(a)));


/** A PEM public key (SubjectPublicKeyInfo); certificates are accepted by the CLI, which sends their key. */
const PublicKeyPem = Type.String({ minLength: 1, maxLength: 8192, description: "PEM SubjectPublicKeyInfo (-----BEGIN PUBLIC KEY-----)" });

export const ExportWrappedRequest = Type.Object(
  {
    recipientPublicKey: PublicKeyPem,
    algorithm: ExportAlgorithmSchema,
    /** Default `key-material` (needs a key created `exportable`). */
    export: Type.Optional(Type.Union(exportKinds.map((k) => Type.Literal(k)))),
    /** key-material and derived-key: the version (default: the primary version). */
    keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    /** derived-key: the derivation context (required); data-key: the encryption context of the returned ciphertext. */
    context: Type.Optional(Context),
    /** data-key and derived-key: length in bytes (default 32). */
    length: Type.Optional(Type.Integer({ minimum: 16, maximum: 64 })),
  },
  strict,
);
export type ExportWrappedRequest = Static<typeof ExportWrappedRequest>;

export const ExportWrappedResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  algorithm: ExportAlgorithmSchema,
  export: Type.Union(exportKinds.map((k) => Type.Literal(k))),
  /** Hex SHA-256 of the recipient's DER SubjectPublicKeyInfo, as bound into `info` and `aad`. */
  recipientSpkiSha256: Type.String(),
  /** HPKE `enc`, the RSA-OAEP encryption of the ephemeral AES key, or the SM2PKE (GM/T 0009 DER) encryption of the ephemeral SM4 key (base64). */
  encapsulatedKey: Type.String(),
  /** The exported bytes: HPKE ciphertext, AES-KWP (RFC 5649) under the ephemeral key, or SM4-GCM nonce ‖ ciphertext ‖ tag under it (base64). */
  wrappedKey: Type.String(),
  /** HPKE `info` (key schedule) or RSA-OAEP label, exactly as used (base64); empty for sm2pke (SM2PKE takes no label). */
  info: Type.String(),
  /** HPKE `aad` or SM4-GCM associated data, exactly as used (base64); empty for rsa-oaep-aes-kwp (AES-KWP has no associated data). */
  aad: Type.String(),
  /** data-key: the data key encrypted under the key, for `decrypt` later. */
  ciphertext: Type.Optional(Type.String()),
});
export type ExportWrappedResponse = Static<typeof ExportWrappedResponse>;

/** VM ids as instance certificates name them. */
const VmId = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", description: "the peer's VM id" });
export const PSK_DEFAULT_PURPOSE = "tls";

export const PairwisePskRequest = Type.Object(
  {
    peer: VmId,
    purpose: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description: 'what the key is for (default "tls")' })),
    /** Default: the primary version. A server side passes the version the client's identity names. */
    keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  strict,
);
export type PairwisePskRequest = Static<typeof PairwisePskRequest>;

export const PairwisePskResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  /** The caller's own VM id (from its login, never from the request). */
  self: Type.String(),
  peer: Type.String(),
  purpose: Type.String(),
  /** A TLS PSK identity naming key, version, purpose and the caller, for the client side to send. */
  identity: Type.String(),
  /** The 32-byte pre-shared key (base64). */
  psk: Type.String(),
});
export type PairwisePskResponse = Static<typeof PairwisePskResponse>;

// ── BYOK import ────────────────────────────────────────────────────────────────────────────────


export const GetParametersForImportRequest = Type.Object(
  {
    wrappingAlgorithm: Type.Union(importWrappingAlgorithms.map((a) => Type.Literal(a))),
    wrappingKeySpec: Type.Optional(Type.Union(importWrappingKeySpecs.map((s) => Type.Literal(s)))),
  },
  strict,
);
export type GetParametersForImportRequest = Static<typeof GetParametersForImportRequest>;

export const GetParametersForImportResponse = Type.Object({
  keyId: Type.String(),
  wrappingAlgorithm: Type.Union(importWrappingAlgorithms.map((a) => Type.Literal(a))),
  wrappingKeySpec: Type.Union(importWrappingKeySpecs.map((s) => Type.Literal(s))),
  /** DER SubjectPublicKeyInfo of the one-time RSA wrapping key (base64). */
  publicKey: Type.String(),
  /** Opaque, single use, bound to this key (base64). */
  importToken: Type.String(),
  parametersValidTo: Type.String({ format: "date-time" }),
});
export type GetParametersForImportResponse = Static<typeof GetParametersForImportResponse>;

export const ImportKeyMaterialRequest = Type.Object({ importToken: Base64, encryptedKeyMaterial: Base64 }, strict);
export type ImportKeyMaterialRequest = Static<typeof ImportKeyMaterialRequest>;
