/**
 * Reads one message as its bytes arrive: first the header (`header()`), then — once `unlock` was
 * given the data key and the commitment and header tag checked — frames (`frames()`), then `end()`.
 * Synchronous and bounded: it buffers at most one header or one frame beyond what it was given.
 *
 * Invariants:
 * - a frame's plaintext is returned only after that frame's tag verified;
 * - frames must come in sequence 1, 2, … with the kinds and lengths the header's frame length allows
 *   (format.ts), exactly one final frame, and nothing after it;
 * - `end()` fails unless the final frame arrived: a message cut short between frames is refused — but
 *   only at its end, after the frames before the cut were returned (a streaming reader must treat
 *   what it received as unconfirmed until the stream finishes without error).
 * Every failure is `InvalidCiphertext`.
 */
import type { KeyObject } from "node:crypto";
import { ByteQueue } from "./byte-queue.js";
import { FRAME_FINAL, FRAME_PREFIX_LENGTH, MAX_HEADER_LENGTH, TAG_LENGTH, decodeFramePrefix, decodeHeader, invalidCiphertext, type EnvelopeHeader } from "./format.js";
import { headerDigest, openFrame } from "./frame-cipher.js";
import { checkCommitment, deriveMessageKeys, verifyHeaderTag } from "./message-keys.js";

export class MessageOpener {
  readonly #queue = new ByteQueue();
  #header: EnvelopeHeader | undefined;
  #key: KeyObject | undefined;
  #digest: Buffer | undefined;
  #sequence = 1;
  #finished = false;

  push(chunk: Buffer): void {
    this.#queue.push(chunk);
  }

  /** The header once all its bytes arrived (checks its layout only; `unlock` checks it cryptographically). */
  header(): EnvelopeHeader | undefined {
    if (this.#header !== undefined) return this.#header;
    const header = decodeHeader(this.#queue.peek(Math.min(this.#queue.length, MAX_HEADER_LENGTH)));
    if (header === undefined) {
      if (this.#queue.length >= MAX_HEADER_LENGTH) throw invalidCiphertext();
      return undefined;
    }
    this.#queue.take(header.bytes.length);
    this.#header = header;
    return header;
  }

  /**
   * Derives the message key from the header's data key, then checks the key commitment (constant
   * time) and the header tag. Reads `dataKey` only during the call; the caller zeroes it.
   */
  unlock(dataKey: Uint8Array): void {
    const header = this.#header;
    if (header === undefined || this.#key !== undefined) throw new Error("unlock needs a header, once");
    const keys = deriveMessageKeys(dataKey, header.messageId);
    checkCommitment(keys.commitment, header.commitment);
    verifyHeaderTag(keys.key, header.authenticated, header.tag);
    this.#key = keys.key;
    this.#digest = headerDigest(header.bytes);
  }

  /** Opens every complete frame received so far; returns their verified plaintext, in order, in pieces. */
  frames(): Buffer[] {
    const header = this.#header;
    const key = this.#key;
    const digest = this.#digest;
    if (header === undefined || key === undefined || digest === undefined) throw new Error("frames before unlock");
    const out: Buffer[] = [];
    for (;;) {
      if (this.#finished) {
        if (this.#queue.length > 0) throw invalidCiphertext();
        return out;
      }
      if (this.#queue.length < FRAME_PREFIX_LENGTH) return out;
      const prefixBytes = this.#queue.peek(FRAME_PREFIX_LENGTH);
      const prefix = decodeFramePrefix(prefixBytes, this.#sequence, header.frameLength);
      const frameBytes = FRAME_PREFIX_LENGTH + prefix.contentLength + TAG_LENGTH;
      if (this.#queue.length < frameBytes) return out;
      const prefixCopy = this.#queue.takeJoined(FRAME_PREFIX_LENGTH);
      const body = this.#queue.take(prefix.contentLength);
      const tag = this.#queue.takeJoined(TAG_LENGTH);
      const plaintext = openFrame(key, digest, prefix.sequence, prefixCopy, body, tag);
      this.#sequence += 1;
      if (prefix.type === FRAME_FINAL) this.#finished = true;
      out.push(...plaintext);
    }
  }

  /** Throws `InvalidCiphertext` unless the final frame arrived and nothing followed it. */
  end(): void {
    if (!this.#finished || this.#queue.length > 0) throw invalidCiphertext();
  }
}
