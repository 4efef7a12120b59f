/**
 * Where a message's data key comes from: the KMS (GenerateDataKey to encrypt, Decrypt to open) or a
 * {@link DataKeyCache}. The encryption context goes to the KMS with every call, so the server's
 * policy conditions on context apply and its audit names them.
 *
 * Invariants:
 * - Every data key returned here is a fresh buffer the caller zeroes.
 * - A data key for decryption is used only if the KMS unwrapped it under the key the header names:
 *   Decrypt is asked with `keyId` (the server answers `IncorrectKey` otherwise) and its answer's key
 *   id must equal the header's.
 * - A wrapped data key in a native ciphertext format this SDK knows names its key: it must be the
 *   header's key id, or the message is `InvalidCiphertext` before the KMS is asked (a format this SDK
 *   does not know is left to the server).
 * - `allowedKeyIds` is checked before the KMS is asked: ids (UUIDs) are compared locally; names are
 *   resolved by the server (Decrypt with `keyId` = the name), tried in the order given.
 */
import { TesseraError, isTesseraError, isUuid, parseCiphertext } from "@tessera/protocol/core";
import type { EncryptionContext } from "@tessera/protocol";
import type { TesseraClient } from "../client.js";
import type { DataKeyCache } from "./data-key-cache.js";
import { DATA_KEY_LENGTH, MAX_KEY_ID_BYTES, MAX_WRAPPED_KEY_BYTES, type EnvelopeHeader } from "./format.js";

/**
 * What envelope encryption needs of a client: the native API's GenerateDataKey and Decrypt. A
 * {@link TesseraClient} has both, whatever its transport (HTTPS, or the agent's Unix socket).
 */
export type EnvelopeKms = Pick<TesseraClient, "generateDataKey" | "decrypt">;

export interface DataKey {
  dataKey: Buffer;
  wrappedDataKey: Buffer;
  keyId: string;
}

function badAnswer(what: string): TesseraError {
  return new TesseraError("Internal", `the KMS answered ${what}`);
}

function dataKeyFrom(base64: unknown): Buffer {
  const key = typeof base64 === "string" ? Buffer.from(base64, "base64") : Buffer.alloc(0);
  if (key.length !== DATA_KEY_LENGTH) {
    key.fill(0);
    throw badAnswer("a data key that is not 32 bytes");
  }
  return key;
}

/**
 * A data key to encrypt one message: from `cache` when an entry may serve `plaintextLength` more
 * bytes (an unknown length never uses the cache), else from GenerateDataKey — then kept in `cache`.
 */
export async function dataKeyForEncrypt(
  kms: EnvelopeKms,
  request: { keyId: string; context: EncryptionContext; plaintextLength: number | undefined; cache: DataKeyCache | undefined },
): Promise<DataKey> {
  const { keyId, context, plaintextLength, cache } = request;
  if (cache !== undefined && plaintextLength !== undefined) {
    const cached = cache.takeForEncrypt(keyId, context, plaintextLength);
    if (cached !== undefined) return cached;
  }
  const answer = await kms.generateDataKey(keyId, { keySpec: "AES_256", ...(Object.keys(context).length > 0 && { context }) });
  const wrappedDataKey = typeof answer.ciphertext === "string" ? Buffer.from(answer.ciphertext, "base64") : Buffer.alloc(0);
  if (wrappedDataKey.length === 0 || wrappedDataKey.length > MAX_WRAPPED_KEY_BYTES) throw badAnswer("a wrapped data key of unexpected size");
  if (typeof answer.keyId !== "string" || answer.keyId === "" || Buffer.byteLength(answer.keyId) > MAX_KEY_ID_BYTES) throw badAnswer("no usable key id");
  const key = { dataKey: dataKeyFrom(answer.plaintext), wrappedDataKey, keyId: answer.keyId };
  if (cache !== undefined && plaintextLength !== undefined) cache.putEncrypt(keyId, context, plaintextLength, key);
  return key;
}

/** The data key of a message whose header decoded, after the allow-list check. */
export async function dataKeyForDecrypt(
  kms: EnvelopeKms,
  header: EnvelopeHeader,
  options: { allowedKeyIds: readonly string[] | undefined; cache: DataKeyCache | undefined },
): Promise<Buffer> {
  const { allowedKeyIds, cache } = options;
  const named = namedKeyId(header.wrappedDataKey);
  if (named !== undefined && named !== header.keyId) throw new TesseraError("InvalidCiphertext");
  const matchedLocally = allowedKeyIds === undefined || allowedKeyIds.includes(header.keyId);
  if (matchedLocally) {
    const cached = cache?.takeForDecrypt(header.wrappedDataKey, header.context);
    if (cached !== undefined) return cached.dataKey;
    const dataKey = await unwrap(kms, header, header.keyId);
    cache?.putDecrypt(header.wrappedDataKey, header.context, { dataKey, wrappedDataKey: header.wrappedDataKey, keyId: header.keyId });
    return dataKey;
  }
  // Names are not comparable with the header's key id here: the server resolves each one.
  for (const name of allowedKeyIds.filter((k) => !isUuid(k))) {
    try {
      return await unwrap(kms, header, name);
    } catch (err) {
      if (isTesseraError(err) && (err.code === "IncorrectKey" || err.code === "NotFound")) continue;
      throw err;
    }
  }
  throw new TesseraError("IncorrectKey", "the message's data key is not wrapped under any of the allowed keys");
}

/** The key id a native ciphertext names, or `undefined` for bytes that are not one this SDK can parse. */
function namedKeyId(wrapped: Buffer): string | undefined {
  try {
    return parseCiphertext(wrapped).keyId;
  } catch {
    return undefined;
  }
}

async function unwrap(kms: EnvelopeKms, header: EnvelopeHeader, keyId: string): Promise<Buffer> {
  const context = header.context;
  const answer = await kms.decrypt({
    ciphertext: header.wrappedDataKey.toString("base64"),
    keyId,
    ...(Object.keys(context).length > 0 && { context: { ...context } }),
  });
  const dataKey = dataKeyFrom(answer.plaintext);
  if (answer.keyId !== header.keyId) {
    dataKey.fill(0);
    throw new TesseraError("InvalidCiphertext");
  }
  return dataKey;
}
