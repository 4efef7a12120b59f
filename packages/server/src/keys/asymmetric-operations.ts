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
}

const OAEP_HASH: Record<Exclude<EncryptionAlgorithm, "SYMMETRIC_DEFAULT">, OaepHash> = {
  RSAES_OAEP_SHA_1: "sha1",
  RSAES_OAEP_SHA_256: "sha256",
};

export class AsymmetricOperations {
  constructor(private readonly usage: Pick<UsageRecorder, "record">) {}

  sign(handle: KeyHandle, input: SignInput): { keyVersion: number; signature: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "SIGN_VERIFY", input.algorithm);
    checkMessage(input);
    const keyVersion = row.primaryVersion;
    const signature = signers[input.algorithm].sign(privateKeyOf(handle, keyVersion), input.message, input.messageType);
    this.usage.record(row.id, keyVersion);
    return { keyVersion, signature };
  }

  /** Checks one signature against one version; a signature that does not verify is `valid: false`, never an error. */
  verify(handle: KeyHandle, input: SignInput & { signature: Uint8Array; keyVersion: number | undefined }): { keyVersion: number; valid: boolean } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "SIGN_VERIFY", input.algorithm);
    checkMessage(input);
    const keyVersion = usableVersion(handle, input.keyVersion);
    const valid = signers[input.algorithm].verify(publicKeyOf(handle, keyVersion).key, input.message, input.messageType, input.signature);
    this.usage.record(row.id, keyVersion);
    return { keyVersion, valid };
  }

  /** The DER SubjectPublicKeyInfo of a version (the primary by default); any version not destroyed. */
  publicKey(handle: KeyHandle, keyVersion: number | undefined): { keyVersion: number; der: Buffer } {
    const { row } = handle;
    usable(row);
    if (row.keySpec === "SYMMETRIC_DEFAULT") throw new TesseraError("InvalidKeyUsage", `key ${row.name} is a symmetric key: it has no public key`);
    const v = keyVersion ?? row.primaryVersion;
    const version = versionRow(handle, v);
    if (version.state === "Destroyed") throw new TesseraError("Destroyed", `version ${v} of key ${row.name} has been destroyed`);
    return { keyVersion: v, der: publicKeyOf(handle, v).der };
  }

  /** RSA-OAEP to the primary version's public key. */
  encrypt(handle: KeyHandle, algorithm: EncryptionAlgorithm, plaintext: Uint8Array): { keyVersion: number; ciphertext: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "ENCRYPT_DECRYPT", algorithm);
    const hash = oaepHashOf(algorithm);
    const keyVersion = row.primaryVersion;
    const publicKey = publicKeyOf(handle, keyVersion).key;
    const max = maxOaepPlaintext(algorithm as keyof typeof OAEP_HASH, publicKey);
    if (plaintext.length > max) throw new TesseraError("InvalidInput", `${algorithm} with this key encrypts at most ${max} bytes`, { field: "/plaintext" });
    const ciphertext = oaepEncrypt(publicKey, hash, plaintext);
    this.usage.record(row.id, keyVersion);
    return { keyVersion, ciphertext };
  }

  /** RSA-OAEP decryption with one version (the caller's, else the primary); the plaintext is the caller's to zero. */
  decrypt(handle: KeyHandle, algorithm: EncryptionAlgorithm, ciphertext: Uint8Array, keyVersion: number | undefined): { keyVersion: number; plaintext: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "ENCRYPT_DECRYPT", algorithm);
    const hash = oaepHashOf(algorithm);
    const v = usableVersion(handle, keyVersion);
    const plaintext = oaepDecrypt(privateKeyOf(handle, v), hash, ciphertext);
    this.usage.record(row.id, v);
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
    this.usage.record(row.id, v);
    return { keyVersion: v, sharedSecret };
  }
}

function usable(row: KeyRow): void {
  const err = lifecycle.usableKeyError(row);
  if (err !== undefined) throw err;
}

/** A DIGEST message only for an algorithm that signs one, of exactly its hash's length. */
function checkMessage(input: SignInput): void {
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

function oaepHashOf(algorithm: EncryptionAlgorithm): OaepHash {
  if (algorithm === "SYMMETRIC_DEFAULT") throw new TesseraError("InvalidKeyUsage", "SYMMETRIC_DEFAULT is not an asymmetric encryption algorithm");
  return OAEP_HASH[algorithm];
}

function maxOaepPlaintext(algorithm: keyof typeof OAEP_HASH, publicKey: KeyObject): number {
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
