/**
 * Wire schemas of the asymmetric operations of the native API (docs/api.md): Sign, Verify,
 * GetPublicKey, GenerateDataKeyPair(+WithoutPlaintext), DeriveSharedSecret. Asymmetric Encrypt and
 * Decrypt use the Encrypt/Decrypt schemas (schemas.ts) with `encryptionAlgorithm`. Bytes are standard
 * base64; public keys are DER SubjectPublicKeyInfo.
 */
import { Type, type Static } from "@sinclair/typebox";
import { Base64, Context } from "./schemas.js";
import { DataKeyPairSpec, KeyAgreementAlgorithm, KeySpec, KeyUsage, MessageType, SigningAlgorithm } from "./key-spec-schemas.js";

const strict = { additionalProperties: false } as const;


const KeyVersion = Type.Integer({ minimum: 1, description: "A key version; default: the primary version." });

export const SignRequest = Type.Object(
  {
    message: Base64,
    /** Default RAW. DIGEST: `message` is the hash of the message under the algorithm's hash. */
    messageType: Type.Optional(MessageType),
    signingAlgorithm: SigningAlgorithm,
    /**
     * SM2DSA only, RAW messages only: the signer's distinguishing id (GB/T 32918.2's ID_A, hashed into Z),
     * as UTF-8 text; default `1234567812345678` (GM/T 0009's, AWS's and OpenSSL's `distid`). Verify needs the same id.
     */
    signerId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  strict,
);
export type SignRequest = Static<typeof SignRequest>;
export const SignResponse = Type.Object({
  keyId: Type.String(),
  /** The version that signed: give it to Verify (and keep it with the signature) once the key has rotated. */
  keyVersion: Type.Integer(),
  signingAlgorithm: SigningAlgorithm,
  signature: Type.String(),
});
export type SignResponse = Static<typeof SignResponse>;

export const VerifyRequest = Type.Object(
  {
    message: Base64,
    messageType: Type.Optional(MessageType),
    signingAlgorithm: SigningAlgorithm,
    signature: Base64,
    /** The version that made the signature (SignResponse.keyVersion); default the primary. Only that version is tried. */
    keyVersion: Type.Optional(KeyVersion),
    /**
     * SM2DSA only, RAW messages only: the signer's distinguishing id (GB/T 32918.2's ID_A, hashed into Z),
     * as UTF-8 text; default `1234567812345678` (GM/T 0009's, AWS's and OpenSSL's `distid`). Verify needs the same id.
     */
    signerId: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })),
  },
  strict,
);
export type VerifyRequest = Static<typeof VerifyRequest>;
export const VerifyResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  signingAlgorithm: SigningAlgorithm,
  /** False when the signature does not verify (the AWS API answers KMSInvalidSignatureException instead). */
  signatureValid: Type.Boolean(),
});
export type VerifyResponse = Static<typeof VerifyResponse>;

export const PublicKeyQuery = Type.Object({ version: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,9}$" })) }, strict);
export const PublicKeyResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  keySpec: KeySpec,
  keyUsage: KeyUsage,
  /** The algorithms of the key's usage (encryption, signing or key agreement). */
  algorithms: Type.Array(Type.String()),
  /** DER SubjectPublicKeyInfo (RFC 5280), base64. */
  publicKey: Type.String(),
});
export type PublicKeyResponse = Static<typeof PublicKeyResponse>;

export const GenerateDataKeyPairRequest = Type.Object({ keyPairSpec: DataKeyPairSpec, context: Type.Optional(Context) }, strict);
export type GenerateDataKeyPairRequest = Static<typeof GenerateDataKeyPairRequest>;
export const GenerateDataKeyPairWithoutPlaintextResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  keyPairSpec: DataKeyPairSpec,
  /** The private key (PKCS#8 DER) encrypted under the symmetric key: a ciphertext Decrypt opens. */
  privateKeyCiphertext: Type.String(),
  /** DER SubjectPublicKeyInfo. */
  publicKey: Type.String(),
});
export type GenerateDataKeyPairWithoutPlaintextResponse = Static<typeof GenerateDataKeyPairWithoutPlaintextResponse>;
export const GenerateDataKeyPairResponse = Type.Intersect([
  GenerateDataKeyPairWithoutPlaintextResponse,
  Type.Object({ /** The private key, PKCS#8 DER. */ privateKeyPlaintext: Type.String() }),
]);
export type GenerateDataKeyPairResponse = Static<typeof GenerateDataKeyPairResponse>;

export const DeriveSharedSecretRequest = Type.Object(
  {
    keyAgreementAlgorithm: KeyAgreementAlgorithm,
    /** The peer's public key, DER SubjectPublicKeyInfo, on the key's curve. */
    publicKey: Base64,
    keyVersion: Type.Optional(KeyVersion),
  },
  strict,
);
export type DeriveSharedSecretRequest = Static<typeof DeriveSharedSecretRequest>;
export const DeriveSharedSecretResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  keyAgreementAlgorithm: KeyAgreementAlgorithm,
  /** The raw ECDH shared secret (x-coordinate); derive keys from it with a KDF. */
  sharedSecret: Type.String(),
});
export type DeriveSharedSecretResponse = Static<typeof DeriveSharedSecretResponse>;
