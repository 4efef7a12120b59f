/**
 * Opening envelope messages (docs/formats.md, "SDK envelope message format"). Order of checks:
 * header layout → allowed key ids → expected encryption context → the KMS unwraps the data key
 * (with the header's context, so policy conditions apply) → key commitment → header tag → frames.
 * Nothing of a frame's plaintext is released before its tag verified.
 */
import { Transform } from "node:stream";
import { TesseraError } from "@tessera/protocol/core";
import type { EncryptionContext } from "@tessera/protocol";
import type { DataKeyCache } from "./data-key-cache.js";
import { dataKeyForDecrypt, type EnvelopeKms } from "./data-keys.js";
import { invalidCiphertext, type EnvelopeHeader } from "./format.js";
import { MessageOpener } from "./message-opener.js";

export interface DecryptOptions {
  /**
   * Pairs the message's encryption context must contain, with these values (it may hold more).
   * A message without them is refused with `InvalidCiphertext` before the KMS is asked.
   */
  expectedEncryptionContext?: EncryptionContext;
  /**
   * Keys (ids or names) the message's data key may be wrapped under; any other is refused with
   * `IncorrectKey`. Without it, any key the caller may use for Decrypt is accepted.
   */
  allowedKeyIds?: readonly string[];
  /** Reuse Decrypt answers within the cache's limits; off when absent. */
  cache?: DataKeyCache;
}

/** What a message said about itself, once it was authenticated. */
export interface MessageInfo {
  /** The id of the key that wrapped the data key. */
  keyId: string;
  encryptionContext: EncryptionContext;
}

export interface DecryptResult extends MessageInfo {
  plaintext: Buffer;
}

function checkExpectedContext(header: EnvelopeHeader, expected: EncryptionContext | undefined): void {
  for (const [k, v] of Object.entries(expected ?? {})) {
    if (!Object.hasOwn(header.context, k) || header.context[k] !== v) throw invalidCiphertext();
  }
}

function checkOptions(options: DecryptOptions): void {
  const allowed = options.allowedKeyIds;
  if (allowed !== undefined && (!Array.isArray(allowed) || allowed.some((k) => typeof k !== "string" || k === ""))) {
    throw new TesseraError("InvalidInput", "allowedKeyIds must be a list of key ids or names", { field: "/allowedKeyIds" });
  }
}

/** Runs the header checks and unlocks `opener` with the message's data key (zeroed afterwards). */
async function unlock(kms: EnvelopeKms, opener: MessageOpener, header: EnvelopeHeader, options: DecryptOptions): Promise<MessageInfo> {
  checkExpectedContext(header, options.expectedEncryptionContext);
  const dataKey = await dataKeyForDecrypt(kms, header, { allowedKeyIds: options.allowedKeyIds, cache: options.cache });
  try {
    opener.unlock(dataKey);
  } finally {
    dataKey.fill(0);
  }
  return { keyId: header.keyId, encryptionContext: header.context };
}

/**
 * Decrypts a whole message.
 *
 * @throws TesseraError `InvalidCiphertext` for a malformed, tampered, truncated or extended message
 * or a context other than expected (one code, one message: which check failed is not said);
 * `IncorrectKey` when its key is not in `allowedKeyIds`; the KMS's own codes when Decrypt fails.
 */
export async function decrypt(kms: EnvelopeKms, ciphertext: Uint8Array, options: DecryptOptions = {}): Promise<DecryptResult> {
  checkOptions(options);
  if (!(ciphertext instanceof Uint8Array)) throw new TesseraError("InvalidInput", "ciphertext must be a Buffer or Uint8Array", { field: "/ciphertext" });
  const opener = new MessageOpener();
  opener.push(Buffer.from(ciphertext.buffer, ciphertext.byteOffset, ciphertext.byteLength));
  const header = opener.header();
  if (header === undefined) throw invalidCiphertext();
  const info = await unlock(kms, opener, header, options);
  const plaintext = Buffer.concat(opener.frames());
  opener.end();
  return { ...info, plaintext };
}

/**
 * A Transform from a message to its plaintext, in constant memory (one frame buffered). Each frame's
 * plaintext is pushed only after its tag verified; the stream emits `"header"` with
 * {@link MessageInfo} once the header was authenticated.
 *
 * **A stream cut short is detected only at its end**: a message truncated between frames makes the
 * stream fail when its input ends without a final frame — after the frames before the cut were
 * delivered. Treat the output as unconfirmed until the stream finished without an error (write to a
 * temporary file and rename it on success, for example), as with the AWS Encryption SDK's streaming
 * decryption.
 */
export function decryptStream(kms: EnvelopeKms, options: DecryptOptions = {}): Transform {
  checkOptions(options);
  const opener = new MessageOpener();
  let unlocked = false;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const release = (): void => {
        for (const plaintext of opener.frames()) this.push(plaintext);
      };
      try {
        opener.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
        if (unlocked) {
          release(); // the hot path stays synchronous: no promise per chunk
          callback();
          return;
        }
        const header = opener.header();
        if (header === undefined) {
          callback();
          return;
        }
        unlock(kms, opener, header, options).then(
          (info) => {
            unlocked = true;
            this.emit("header", info);
            try {
              release();
              callback();
            } catch (err) {
              callback(err as Error);
            }
          },
          (err: unknown) => callback(err as Error),
        );
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        if (!unlocked) throw invalidCiphertext();
        for (const plaintext of opener.frames()) this.push(plaintext);
        opener.end();
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });
}
