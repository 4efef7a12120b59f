/**
 * The asymmetric operations through the door: Sign, Verify, GetPublicKey, GenerateDataKeyPair
 * (+WithoutPlaintext) and DeriveSharedSecret. Each resolves its key, authorises the caller on it,
 * checks the key's usage (keys/asymmetric-operations.ts) and notes key id and version for the audit
 * record — never the message, the signature's subject or any plaintext. Asymmetric Encrypt and
 * Decrypt are KmsService's encrypt/decrypt with an RSAES_OAEP algorithm.
 */
import {
  MAX_SIGN_MESSAGE_BYTES,
  TesseraError,
  algorithmsFor,
  checkContext,
  checkKeyUsage,
  type DeriveSharedSecretRequest,
  type DeriveSharedSecretResponse,
  type GenerateDataKeyPairRequest,
  type GenerateDataKeyPairResponse,
  type GenerateDataKeyPairWithoutPlaintextResponse,
  type KeySpec,
  type KeyUsage,
  type PublicKeyResponse,
  type SigningAlgorithm,
  type SignRequest,
  type SignResponse,
  type VerifyRequest,
  type VerifyResponse,
} from "@tessera/protocol";
import { zero } from "../crypto/index.js";
import { lifecycle, newDataKeyPair, type KeyService } from "../keys/index.js";
import type { CallContext, Door, Scope } from "./door.js";
import { b64, b64AndZero, decodeBytes } from "./bytes.js";

/** Largest peer public key DeriveSharedSecret reads (a P-521 SPKI is 158 bytes). */
const MAX_PUBLIC_KEY_BYTES = 1024;
/** Largest signature Verify reads (ML-DSA-87: 4627 bytes). */
const MAX_SIGNATURE_BYTES = 8192;

/**
 * A signing algorithm, or how to choose one from the key's spec and usage once the key is resolved
 * (the Vault API names a hash and a padding, not an algorithm). Either way the key's usage check
 * decides whether the key may use it.
 */
export type SigningAlgorithmChoice = SigningAlgorithm | ((key: { keySpec: KeySpec; keyUsage: KeyUsage }) => SigningAlgorithm);
type WithChoice<R> = Omit<R, "signingAlgorithm"> & { signingAlgorithm: SigningAlgorithmChoice };
const choose = (choice: SigningAlgorithmChoice, key: { keySpec: KeySpec; keyUsage: KeyUsage }): SigningAlgorithm =>
  typeof choice === "function" ? choice(key) : choice;

export interface AsymmetricServiceDeps {
  door: Door;
  keys: Pick<KeyService, "asymmetric" | "encrypt">;
}

export class AsymmetricService {
  constructor(private readonly d: AsymmetricServiceDeps) {}

  sign(ctx: CallContext, ref: string, req: SignRequest | WithChoice<SignRequest>): Promise<SignResponse> {
    return this.d.door.run(ctx, "kms:Sign", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const algorithm = choose(req.signingAlgorithm, handle.row);
      const message = decodeBytes(req.message, "/message", MAX_SIGN_MESSAGE_BYTES);
      try {
        const out = this.d.keys.asymmetric.sign(handle, { message, messageType: req.messageType ?? "RAW", algorithm, signerId: signerIdOf(req) });
        s.note(handle.row.id, out.keyVersion);
        return { keyId: handle.row.id, keyVersion: out.keyVersion, signingAlgorithm: algorithm, signature: b64(out.signature) };
      } finally {
        zero(message);
      }
    });
  }

  verify(ctx: CallContext, ref: string, req: VerifyRequest | WithChoice<VerifyRequest>): Promise<VerifyResponse> {
    return this.d.door.run(ctx, "kms:Verify", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const algorithm = choose(req.signingAlgorithm, handle.row);
      const message = decodeBytes(req.message, "/message", MAX_SIGN_MESSAGE_BYTES);
      try {
        const signature = decodeBytes(req.signature, "/signature", MAX_SIGNATURE_BYTES);
        const out = this.d.keys.asymmetric.verify(handle, {
          message,
          messageType: req.messageType ?? "RAW",
          algorithm,
          signature,
          keyVersion: req.keyVersion,
          signerId: signerIdOf(req),
        });
        s.note(handle.row.id, out.keyVersion);
        return { keyId: handle.row.id, keyVersion: out.keyVersion, signingAlgorithm: algorithm, signatureValid: out.valid };
      } finally {
        zero(message);
      }
    });
  }

  getPublicKey(ctx: CallContext, ref: string, keyVersion: number | undefined): Promise<PublicKeyResponse> {
    return this.d.door.run(ctx, "kms:GetPublicKey", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const out = this.d.keys.asymmetric.publicKey(handle, keyVersion);
      s.note(handle.row.id, out.keyVersion);
      const { row } = handle;
      return {
        keyId: row.id,
        keyVersion: out.keyVersion,
        keySpec: row.keySpec,
        keyUsage: row.keyUsage,
        algorithms: [...algorithmsFor(row.keySpec, row.keyUsage)],
        publicKey: b64(out.der),
      };
    });
  }

  generateDataKeyPair(ctx: CallContext, ref: string, req: GenerateDataKeyPairRequest): Promise<GenerateDataKeyPairResponse> {
    return this.d.door.run(ctx, "kms:GenerateDataKeyPair", async (s) => {
      const { out, privateKey } = await this.makeDataKeyPair(s, ref, req);
      return { ...out, privateKeyPlaintext: b64AndZero(privateKey) };
    });
  }

  generateDataKeyPairWithoutPlaintext(ctx: CallContext, ref: string, req: GenerateDataKeyPairRequest): Promise<GenerateDataKeyPairWithoutPlaintextResponse> {
    return this.d.door.run(ctx, "kms:GenerateDataKeyPairWithoutPlaintext", async (s) => {
      const { out, privateKey } = await this.makeDataKeyPair(s, ref, req);
      zero(privateKey);
      return out;
    });
  }

  /** A new key pair whose private key is encrypted under the symmetric key `ref` (checked before the pair is generated). */
  private async makeDataKeyPair(s: Scope, ref: string, req: GenerateDataKeyPairRequest) {
    checkContext(req.context);
    const handle = await s.resolveKey(ref);
    await s.authorize(handle, { context: req.context });
    const refusal = lifecycle.usableKeyError(handle.row);
    if (refusal !== undefined) throw refusal;
    checkKeyUsage(handle.row, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT");
    const pair = await newDataKeyPair(req.keyPairSpec);
    try {
      const enc = this.d.keys.encrypt(handle, pair.privateKey, req.context);
      s.note(enc.keyId, enc.keyVersion);
      const out = {
        keyId: enc.keyId,
        keyVersion: enc.keyVersion,
        keyPairSpec: req.keyPairSpec,
        privateKeyCiphertext: b64(enc.ciphertext),
        publicKey: b64(pair.publicKey),
      };
      return { out, privateKey: pair.privateKey };
    } catch (err) {
      zero(pair.privateKey);
      throw err;
    }
  }

  deriveSharedSecret(ctx: CallContext, ref: string, req: DeriveSharedSecretRequest): Promise<DeriveSharedSecretResponse> {
    return this.d.door.run(ctx, "kms:DeriveSharedSecret", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const peer = decodeBytes(req.publicKey, "/publicKey", MAX_PUBLIC_KEY_BYTES);
      if (peer.length === 0) throw new TesseraError("InvalidInput", "publicKey is empty", { field: "/publicKey" });
      const out = this.d.keys.asymmetric.deriveSharedSecret(handle, req.keyAgreementAlgorithm, peer, req.keyVersion);
      s.note(handle.row.id, out.keyVersion);
      return { keyId: handle.row.id, keyVersion: out.keyVersion, keyAgreementAlgorithm: req.keyAgreementAlgorithm, sharedSecret: b64AndZero(out.sharedSecret) };
    });
  }
}

/** The SM2 distinguishing id as bytes (UTF-8), or undefined for the standard default. */
function signerIdOf(req: { signerId?: string | undefined }): Uint8Array | undefined {
  return req.signerId === undefined ? undefined : Buffer.from(req.signerId, "utf8");
}
