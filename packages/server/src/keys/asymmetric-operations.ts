/**
 * Cryptography with asymmetric keys: Sign, Verify, GetPublicKey, RSA-OAEP Encrypt/Decrypt and ECDH,
 * on a key handle the service has resolved and authorised. Knows nothing of callers or HTTP.
 *
 * Every operation checks, in order: the key is usable (enabled), the key's usage and spec allow the
 * operation and algorithm (`InvalidKeyUsage`), the message fits the algorithm, then the version.
 *
 * Versions: signing, encrypting to and GetPublicKey default to the primary version; Verify, Decrypt
 * and DeriveSharedSecret use the version the caller names, else the primary. Nothing ever tries
 * several versions: one request costs one private- or public-key operation (an ML-DSA-87 verify is
 * expensive, and trying versions would let a caller make the server do any number of them). Sign,
 * Encrypt and DeriveSharedSecret answer with the version they used, so callers keep it with the
 * signature or ciphertext (docs/formats.md, "Signatures and asymmetric ciphertexts").
 */
import type { KeyObject } from "node:crypto";
import {
  isAsymmetricKeySpec,
  TesseraError,
  checkKeyUsage,
  encryptionAlgorithms,
  type DataKeyPairSpec,
  signingAlgorithms,
  type EncryptionAlgorithm,
  type KeyAgreementAlgorithm,
  type MessageType,
  type SigningAlgorithm,
} from "@tessera/protocol";
import {
  ecdhSharedSecret,
  keyPairTypes,
  oaepDecrypt,
  oaepEncrypt,
  parsePublicKeySpki,
  privateKeyFromPkcs8,
  publicKeySpki,
  signers,
  sm2PkeDecrypt,
  sm2PkeEncrypt,
  zero,
  type OaepHash,
} from "../crypto/index.js";
import type { KeyRow, VersionRow } from "../store/index.js";
import * as lifecycle from "./lifecycle.js";
import type { KeyHandle } from "./keyring.js";
import type { UsageRecorder } from "./usage.js";

export interface SignInput {
  message: Uint8Array;
  messageType: MessageType;
  algorithm: SigningAlgorithm;
  /** SM2DSA's distinguishing id for a RAW message; absent means the standard default. Refused for every other algorithm. */
  signerId?: Uint8Array | undefined;
}

type AsymmetricEncryption = Exclude<EncryptionAlgorithm, "SYMMETRIC_DEFAULT">;

/** Public-key encryption per algorithm: RSA-OAEP with its hash, or SM2PKE (GB/T 32918.4, GM/T 0009 DER). */
const PUBLIC_KEY_ENCRYPTION: Record<AsymmetricEncryption, { encrypt(key: KeyObject, plaintext: Uint8Array): Buffer; decrypt(key: KeyObject, ciphertext: Uint8Array): Buffer }> = {
  RSAES_OAEP_SHA_1: oaep("sha1"),
  RSAES_OAEP_SHA_256: oaep("sha256"),
  SM2PKE: { encrypt: sm2PkeEncrypt, decrypt: sm2PkeDecrypt },
};

function oaep(hash: OaepHash): (typeof PUBLIC_KEY_ENCRYPTION)[AsymmetricEncryption] {
  return { encrypt: (key, plaintext) => oaepEncrypt(key, hash, plaintext), decrypt: (key, ciphertext) => oaepDecrypt(key, hash, ciphertext) };
}

export class AsymmetricOperations {
  constructor(private readonly usage: Pick<UsageRecorder, "record">) {}

  sign(handle: KeyHandle, input: SignInput): { keyVersion: number; signature: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "SIGN_VERIFY", input.algorithm);
    checkMessage(input);
    const keyVersion = row.primaryVersion;
    const signature = signers[input.algorithm].sign(privateKeyOf(handle, keyVersion), input.message, input.messageType, input.signerId);
    this.usage.record(row.id, keyVersion, handle);
    return { keyVersion, signature };
  }

  /** Checks one signature against one version; a signature that does not verify is `valid: false`, never an error. */
  verify(handle: KeyHandle, input: SignInput & { signature: Uint8Array; keyVersion: number | undefined }): { keyVersion: number; valid: boolean } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "SIGN_VERIFY", input.algorithm);
    checkMessage(input);
    const keyVersion = usableVersion(handle, input.keyVersion);
    const valid = signers[input.algorithm].verify(publicKeyOf(handle, keyVersion).key, input.message, input.messageType, input.signature, input.signerId);
    this.usage.record(row.id, keyVersion, handle);
    return { keyVersion, valid };
  }

  /** The DER SubjectPublicKeyInfo of a version (the primary by default); any version not destroyed. */
  publicKey(handle: KeyHandle, keyVersion: number | undefined): { keyVersion: number; der: Buffer } {
    const { row } = handle;
    usable(row);
    if (!isAsymmetricKeySpec(row.keySpec)) throw new TesseraError("InvalidKeyUsage", `key ${row.name} is a symmetric key: it has no public key`);
    const v = keyVersion ?? row.primaryVersion;
    const version = versionRow(handle, v);
    if (version.state === "Destroyed") throw new TesseraError("Destroyed", `version ${v} of key ${row.name} has been destroyed`);
    return { keyVersion: v, der: publicKeyOf(handle, v).der };
  }

  /** RSA-OAEP or SM2PKE to the primary version's public key. */
  encrypt(handle: KeyHandle, algorithm: EncryptionAlgorithm, plaintext: Uint8Array): { keyVersion: number; ciphertext: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "ENCRYPT_DECRYPT", algorithm);
    const scheme = publicKeyEncryptionOf(algorithm);
    const keyVersion = row.primaryVersion;
    const publicKey = publicKeyOf(handle, keyVersion).key;
    const max = maxPlaintext(algorithm as AsymmetricEncryption, publicKey);
    if (plaintext.length > max) throw new TesseraError("InvalidInput", `${algorithm} with this key encrypts at most ${max} bytes`, { field: "/plaintext" });
    const ciphertext = scheme.encrypt(publicKey, plaintext);
    this.usage.record(row.id, keyVersion, handle);
    return { keyVersion, ciphertext };
  }

  /** RSA-OAEP or SM2PKE decryption with one version (the caller's, else the primary); the plaintext is the caller's to zero. */
  decrypt(handle: KeyHandle, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array, keyVersion: number | undefined): { keyVersion: number; plaintext: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "ENCRYPT_DECRYPT", algorithm);
    const scheme = publicKeyEncryptionOf(algorithm);
    const v = usableVersion(handle, keyVersion);
    const plaintext = scheme.decrypt(privateKeyOf(handle, v), ciphertext);
    this.usage.record(row.id, v, handle);
    return { keyVersion: v, plaintext };
  }

  /** ECDH of one version's private key (the caller's, else the primary) with the peer's public key (DER SPKI); the secret is the caller's to zero. */
  deriveSharedSecret(
    handle: KeyHandle,
    algorithm: KeyAgreementAlgorithm,
    peerPublicKeyDer: Uint8Array,
    keyVersion: number | undefined,
  ): { keyVersion: number; sharedSecret: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "KEY_AGREEMENT", algorithm);
    const peer = parsePublicKeySpki(peerPublicKeyDer);
    if (peer === undefined) throw new TesseraError("InvalidInput", "publicKey must be a DER SubjectPublicKeyInfo", { field: "/publicKey" });
    const v = usableVersion(handle, keyVersion);
    const sharedSecret = ecdhSharedSecret(privateKeyOf(handle, v), peer, "/publicKey");
    this.usage.record(row.id, v, handle);
    return { keyVersion: v, sharedSecret };
  }
}

function usable(row: KeyRow): void {
  const err = lifecycle.usableKeyError(row);
  if (err !== undefined) throw err;
}

/** A DIGEST message only for an algorithm that signs one, of exactly its hash's length; a signer id only for SM2DSA over a RAW message. */
function checkMessage(input: SignInput): void {
  if (input.signerId !== undefined && (input.algorithm !== "SM2DSA" || input.messageType === "DIGEST")) {
    const why = input.algorithm === "SM2DSA" ? "a DIGEST already includes the signer id (Z)" : `${input.algorithm} has no signer id`;
    throw new TesseraError("InvalidInput", `signerId applies only to SM2DSA over a RAW message: ${why}`, { field: "/signerId" });
  }
  const info = signingAlgorithms[input.algorithm] as { messageTypes: readonly MessageType[]; digestLength?: number };
  if (!info.messageTypes.includes(input.messageType)) {
    throw new TesseraError("InvalidInput", `${input.algorithm} signs ${info.messageTypes.join(" or ")} messages, not ${input.messageType}`, { field: "/messageType" });
  }
  if (input.messageType === "DIGEST" && input.message.length !== info.digestLength) {
    throw new TesseraError("InvalidInput", `a DIGEST message for ${input.algorithm} is ${info.digestLength} bytes`, { field: "/message" });
  }
}

function versionRow(handle: KeyHandle, v: number): VersionRow {
  const version = handle.versions.get(v);
  if (version === undefined) throw new TesseraError("NotFound", `key ${handle.row.name} has no version ${v}`);
  return version;
}

/** A version that may be used: it exists, is enabled and not retired below minDecryptionVersion. */
function usableVersion(handle: KeyHandle, keyVersion: number | undefined): number {
  const v = keyVersion ?? handle.row.primaryVersion;
  const refusal = lifecycle.versionUseError(handle.row, versionRow(handle, v));
  if (refusal !== undefined) throw refusal;
  return v;
}

function privateKeyOf(handle: KeyHandle, v: number): KeyObject {
  const key = handle.privateKey(v);
  if (key === undefined) throw new TesseraError("Destroyed", `version ${v} of key ${handle.row.name} has been destroyed`);
  return key;
}

function publicKeyOf(handle: KeyHandle, v: number): { key: KeyObject; der: Buffer } {
  const pub = handle.publicKey(v);
  if (pub === undefined) throw new TesseraError("Destroyed", `version ${v} of key ${handle.row.name} has been destroyed`);
  return pub;
}

function publicKeyEncryptionOf(algorithm: EncryptionAlgorithm): (typeof PUBLIC_KEY_ENCRYPTION)[AsymmetricEncryption] {
  if (algorithm === "SYMMETRIC_DEFAULT") throw new TesseraError("InvalidKeyUsage", "SYMMETRIC_DEFAULT is not an asymmetric encryption algorithm");
  return PUBLIC_KEY_ENCRYPTION[algorithm];
}

function maxPlaintext(algorithm: AsymmetricEncryption, publicKey: KeyObject): number {
  return encryptionAlgorithms[algorithm].maxPlaintextBytes(publicKey.asymmetricKeyDetails?.modulusLength ?? 0);
}

/**
 * A fresh key pair for GenerateDataKeyPair: the private key as PKCS#8 DER (the caller encrypts it
 * and zeroes the buffer) and the public key as DER SubjectPublicKeyInfo. Never stored.
 */
export async function newDataKeyPair(spec: DataKeyPairSpec): Promise<{ privateKey: Buffer; publicKey: Buffer }> {
  const privateKey = await keyPairTypes[spec].generate();
  try {
    return { privateKey, publicKey: publicKeySpki(privateKeyFromPkcs8(privateKey)).der };
  } catch (err) {
    zero(privateKey);
    throw err;
  }
}
