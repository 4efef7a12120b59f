/**
 * Envelope encryption of a buffer or a stream: one data key per message (GenerateDataKey, or a
 * cached one), the message format of docs/formats.md ("SDK envelope message format").
 */
import { Transform } from "node:stream";
import { TesseraError, checkContext } from "@tessera/protocol/core";
import type { EncryptionContext } from "@tessera/protocol";
import type { DataKeyCache } from "./data-key-cache.js";
import { dataKeyForEncrypt, type EnvelopeKms } from "./data-keys.js";
import { DEFAULT_FRAME_LENGTH, MAX_FRAME_LENGTH, validFrameLength } from "./format.js";
import { MessageSealer } from "./message-sealer.js";

export interface EncryptStreamOptions {
  /** The Tessera key (name or id) that wraps the message's data key. */
  keyId: string;
  /**
   * Non-secret strings bound to the message: stored in its header, authenticated, and sent to the KMS
   * as the encryption context of GenerateDataKey and Decrypt (so policy conditions on it apply).
   */
  encryptionContext?: EncryptionContext;
  /** Plaintext bytes per frame, 1 … 16 MiB. Default 256 KiB. */
  frameLength?: number;
  /** Reuse data keys within the cache's limits; off when absent. */
  cache?: DataKeyCache;
}

export interface EncryptOptions extends EncryptStreamOptions {
  plaintext: Uint8Array;
}

interface Checked {
  keyId: string;
  context: EncryptionContext;
  frameLength: number;
}

function check(options: EncryptStreamOptions): Checked {
  if (typeof options.keyId !== "string" || options.keyId === "") throw new TesseraError("InvalidInput", "keyId must name a key", { field: "/keyId" });
  const context = { ...(options.encryptionContext ?? {}) };
  checkContext(context, "/encryptionContext");
  const frameLength = options.frameLength ?? DEFAULT_FRAME_LENGTH;
  if (!validFrameLength(frameLength)) {
    throw new TesseraError("InvalidInput", `frameLength must be an integer in 1 … ${MAX_FRAME_LENGTH}`, { field: "/frameLength" });
  }
  return { keyId: options.keyId, context: Object.freeze(context), frameLength };
}

async function sealer(kms: EnvelopeKms, c: Checked, plaintextLength: number | undefined, cache: DataKeyCache | undefined): Promise<MessageSealer> {
  const key = await dataKeyForEncrypt(kms, { keyId: c.keyId, context: c.context, plaintextLength, cache });
  try {
    return new MessageSealer({ dataKey: key.dataKey, wrappedDataKey: key.wrappedDataKey, keyId: key.keyId, context: c.context, frameLength: c.frameLength });
  } finally {
    key.dataKey.fill(0);
  }
}

/**
 * Encrypts `plaintext` into one self-describing message: header (key id, wrapped data key,
 * encryption context, frame length, key commitment) and authenticated frames.
 *
 * @throws TesseraError `InvalidInput` for bad options; the KMS's own codes (`AccessDenied`,
 * `NotFound`, `Disabled`, `Unavailable` …) when GenerateDataKey fails.
 * @example
 * ```ts
 * const message = await encrypt(tessera, { keyId: "orders", plaintext: Buffer.from("…"), encryptionContext: { tenant: "acme" } });
 * const { plaintext } = await decrypt(tessera, message, { expectedEncryptionContext: { tenant: "acme" } });
 * ```
 */
export async function encrypt(kms: EnvelopeKms, options: EncryptOptions): Promise<Buffer> {
  const c = check(options);
  if (!(options.plaintext instanceof Uint8Array)) throw new TesseraError("InvalidInput", "plaintext must be a Buffer or Uint8Array", { field: "/plaintext" });
  const plaintext = Buffer.from(options.plaintext.buffer, options.plaintext.byteOffset, options.plaintext.byteLength);
  const s = await sealer(kms, c, plaintext.length, options.cache);
  const parts = [s.header, ...s.write(plaintext), ...s.end()];
  return Buffer.concat(parts);
}

export interface EncryptStreamExtraOptions extends EncryptStreamOptions {
  /**
   * The stream's exact length, when known: only then may a cache serve it (the cache must count
   * bytes before encrypting). A stream longer or shorter than declared fails with `InvalidInput`.
   */
  plaintextLength?: number;
}

/**
 * A Transform from plaintext to one message, in constant memory (one frame of plaintext held).
 * Asks the KMS for the data key before the first byte goes out; an error ends the stream.
 *
 * @example
 * ```ts
 * await pipeline(createReadStream("big.tar"), encryptStream(tessera, { keyId: "backups" }), createWriteStream("big.tar.tsev"));
 * ```
 */
export function encryptStream(kms: EnvelopeKms, options: EncryptStreamExtraOptions): Transform {
  const c = check(options);
  const declared = options.plaintextLength;
  if (declared !== undefined && (!Number.isSafeInteger(declared) || declared < 0)) {
    throw new TesseraError("InvalidInput", "plaintextLength must be a non-negative integer", { field: "/plaintextLength" });
  }
  let s: MessageSealer | undefined;
  let headerSent = false;
  let seen = 0;
  const tooLong = () => new TesseraError("InvalidInput", `the stream is not the declared ${declared} bytes long`, { field: "/plaintextLength" });
  return new Transform({
    construct(callback) {
      sealer(kms, c, declared, options.cache).then(
        (made) => {
          s = made;
          callback();
        },
        (err: unknown) => callback(err as Error),
      );
    },
    transform(chunk: Buffer, _encoding, callback) {
      try {
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        seen += bytes.length;
        if (declared !== undefined && seen > declared) throw tooLong();
        const out = sealerOf(s).write(bytes);
        pushHeaderOnce(this);
        for (const piece of out) this.push(piece);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
    flush(callback) {
      try {
        if (declared !== undefined && seen !== declared) throw tooLong();
        pushHeaderOnce(this);
        for (const piece of sealerOf(s).end()) this.push(piece);
        callback();
      } catch (err) {
        callback(err as Error);
      }
    },
  });

  function pushHeaderOnce(stream: Transform): void {
    if (headerSent) return;
    headerSent = true;
    stream.push(sealerOf(s).header);
  }
}

function sealerOf(s: MessageSealer | undefined): MessageSealer {
  if (s === undefined) throw new Error("the stream was not constructed");
  return s;
}
