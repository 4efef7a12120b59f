/**
 * The AWS API's asymmetric operations — Sign, Verify, GetPublicKey, GenerateDataKeyPair(+WithoutPlaintext),
 * DeriveSharedSecret — as thin mappings onto AsymmetricService, with AWS's field names and values.
 * Verify answers KMSInvalidSignatureException for a signature that does not verify, as AWS does
 * (the native API answers `signatureValid: false`); both are the same audited request.
 */
import {
  TesseraError,
  dataKeyPairSpecs,
  keyAgreementAlgorithms,
  messageTypes,
  signingAlgorithms,
  type DataKeyPairSpec,
  type KeyAgreementAlgorithm,
  type KeyUsage,
  type MessageType,
  type SigningAlgorithm,
} from "@tessera/protocol";
import type { CallContext } from "../../service/door.js";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import { validation } from "./aws-errors.js";
import { blob, context, identifier, str, type Json } from "./aws-input.js";

type Op = (ctx: CallContext, b: Json) => Promise<Json>;

/** AWS's field for the algorithm list of each key usage (DescribeKey, GetPublicKey). */
export const algorithmListField: Readonly<Record<KeyUsage, string>> = Object.freeze({
  ENCRYPT_DECRYPT: "EncryptionAlgorithms",
  SIGN_VERIFY: "SigningAlgorithms",
  GENERATE_VERIFY_MAC: "MacAlgorithms",
  KEY_AGREEMENT: "KeyAgreementAlgorithms",
});

/** A required or optional field whose value must be one of `allowed` (ValidationException naming them otherwise). */
export function oneOf<T extends string>(b: Json, field: string, allowed: readonly T[], required: true): T;
export function oneOf<T extends string>(b: Json, field: string, allowed: readonly T[], required?: false): T | undefined;
export function oneOf<T extends string>(b: Json, field: string, allowed: readonly T[], required = false): T | undefined {
  const v = required ? str(b, field, true) : str(b, field);
  if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw validation(`${field} must be one of: ${allowed.join(", ")}`);
  return v as T | undefined;
}

export function asymmetricOps(o: { asymmetric: AsymmetricService }, arn: (keyId: string) => string, keyRef: (id: string) => string): Record<string, Op> {
  const signing = Object.keys(signingAlgorithms) as SigningAlgorithm[];
  const signInput = (b: Json) => ({
    message: blob(b, "Message", 1),
    messageType: oneOf<MessageType>(b, "MessageType", messageTypes) ?? "RAW",
    signingAlgorithm: oneOf(b, "SigningAlgorithm", signing, true),
  });
  const pairInput = (b: Json) => {
    if (b["Recipient"] !== undefined && b["Recipient"] !== null) throw validation("Recipient (Nitro attestation) is not supported");
    const c = context(b, "EncryptionContext");
    return { keyPairSpec: oneOf<DataKeyPairSpec>(b, "KeyPairSpec", dataKeyPairSpecs, true), ...(c !== undefined && { context: c }) };
  };

  return {
    async Sign(ctx, b) {
      const r = await o.asymmetric.sign(ctx, keyRef(identifier(b, "KeyId")), signInput(b));
      return { KeyId: arn(r.keyId), Signature: r.signature, SigningAlgorithm: r.signingAlgorithm };
    },
    async Verify(ctx, b) {
      const r = await o.asymmetric.verify(ctx, keyRef(identifier(b, "KeyId")), { ...signInput(b), signature: blob(b, "Signature", 1) });
      if (!r.signatureValid) {
        throw new TesseraError("InvalidInput", "the signature is not valid for this message, key and algorithm", { cause: { awsType: "KMSInvalidSignatureException" } });
      }
      return { KeyId: arn(r.keyId), SignatureValid: true, SigningAlgorithm: r.signingAlgorithm };
    },
    async GetPublicKey(ctx, b) {
      const r = await o.asymmetric.getPublicKey(ctx, keyRef(identifier(b, "KeyId")), undefined);
      return {
        KeyId: arn(r.keyId),
        PublicKey: r.publicKey,
        CustomerMasterKeySpec: r.keySpec,
        KeySpec: r.keySpec,
        KeyUsage: r.keyUsage,
        [algorithmListField[r.keyUsage]]: r.algorithms,
      };
    },
    async GenerateDataKeyPair(ctx, b) {
      const r = await o.asymmetric.generateDataKeyPair(ctx, keyRef(identifier(b, "KeyId")), pairInput(b));
      return { KeyId: arn(r.keyId), KeyPairSpec: r.keyPairSpec, PrivateKeyCiphertextBlob: r.privateKeyCiphertext, PrivateKeyPlaintext: r.privateKeyPlaintext, PublicKey: r.publicKey };
    },
    async GenerateDataKeyPairWithoutPlaintext(ctx, b) {
      const r = await o.asymmetric.generateDataKeyPairWithoutPlaintext(ctx, keyRef(identifier(b, "KeyId")), pairInput(b));
      return { KeyId: arn(r.keyId), KeyPairSpec: r.keyPairSpec, PrivateKeyCiphertextBlob: r.privateKeyCiphertext, PublicKey: r.publicKey };
    },
    async DeriveSharedSecret(ctx, b) {
      if (b["Recipient"] !== undefined && b["Recipient"] !== null) throw validation("Recipient (Nitro attestation) is not supported");
      const r = await o.asymmetric.deriveSharedSecret(ctx, keyRef(identifier(b, "KeyId")), {
        keyAgreementAlgorithm: oneOf(b, "KeyAgreementAlgorithm", Object.keys(keyAgreementAlgorithms) as KeyAgreementAlgorithm[], true),
        publicKey: blob(b, "PublicKey", 1),
      });
      return { KeyId: arn(r.keyId), SharedSecret: r.sharedSecret, KeyAgreementAlgorithm: r.keyAgreementAlgorithm, KeyOrigin: "AWS_KMS" };
    },
  };
}
