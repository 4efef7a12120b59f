/**
 * The key-spec tables (key-specs.ts) plus their wire schemas. Each schema has the name of its type, so
 * `KeySpec` is both what a key spec is and the schema that accepts one. Kept apart from the tables so
 * that clients can read the tables (`@tessera/protocol/core`) without loading TypeBox.
 */
import {
  dataKeyPairSpecs,
  encryptionAlgorithms,
  keyAgreementAlgorithms,
  keySpecAliases,
  keySpecNames,
  keyUsages,
  macAlgorithms,
  messageTypes,
  signingAlgorithms,
  type KeySpec as KeySpecName,
  type KeyUsage as KeyUsageName,
  type MessageType as MessageTypeName,
  type EncryptionAlgorithm as EncryptionAlgorithmName,
  type SigningAlgorithm as SigningAlgorithmName,
  type MacAlgorithm as MacAlgorithmName,
  type KeyAgreementAlgorithm as KeyAgreementAlgorithmName,
  type DataKeyPairSpec as DataKeyPairSpecName,
  type KeySpecAlias,
} from "./key-specs.js";
import { literalUnion } from "./literal-union.js";

export * from "./key-specs.js";

/** A key spec (docs/api.md, "Key specs and usages"). */
export const KeySpec = literalUnion<KeySpecName>(keySpecNames);
/** What CreateKey accepts: a key spec, or an older name of one (`AES_256` means `SYMMETRIC_DEFAULT`). */
export const KeySpecInput = literalUnion<KeySpecName | KeySpecAlias>([...keySpecNames, ...(Object.keys(keySpecAliases) as KeySpecAlias[])]);
export const KeyUsage = literalUnion<KeyUsageName>(keyUsages);
export const MessageType = literalUnion<MessageTypeName>(messageTypes);
export const EncryptionAlgorithm = literalUnion<EncryptionAlgorithmName>(Object.keys(encryptionAlgorithms) as EncryptionAlgorithmName[]);
export const SigningAlgorithm = literalUnion<SigningAlgorithmName>(Object.keys(signingAlgorithms) as SigningAlgorithmName[]);
export const MacAlgorithm = literalUnion<MacAlgorithmName>(Object.keys(macAlgorithms) as MacAlgorithmName[]);
export const KeyAgreementAlgorithm = literalUnion<KeyAgreementAlgorithmName>(Object.keys(keyAgreementAlgorithms) as KeyAgreementAlgorithmName[]);
export const DataKeyPairSpec = literalUnion<DataKeyPairSpecName>(dataKeyPairSpecs);

export type KeySpec = KeySpecName;
export type KeyUsage = KeyUsageName;
export type MessageType = MessageTypeName;
export type EncryptionAlgorithm = EncryptionAlgorithmName;
export type SigningAlgorithm = SigningAlgorithmName;
export type MacAlgorithm = MacAlgorithmName;
export type KeyAgreementAlgorithm = KeyAgreementAlgorithmName;
export type DataKeyPairSpec = DataKeyPairSpecName;
