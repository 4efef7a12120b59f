/**
 * Writes one message: its header, then frames as plaintext arrives. Synchronous and bounded: it
 * keeps at most one frame's plaintext (by reference) until it knows whether that frame is regular
 * (more plaintext follows) or final (`end()`), because the frame's kind and length are in its AAD.
 *
 * Invariants: sequence numbers run 1, 2, …; every frame but the last is exactly `frameLength` long;
 * the last is the single final frame, 0 … `frameLength` long, empty only for an empty plaintext.
 */
import { randomBytes } from "node:crypto";
import { TesseraError } from "@tessera/protocol/core";
import type { EncryptionContext } from "@tessera/protocol";
import { FRAME_FINAL, FRAME_REGULAR, MAX_FRAMES, MESSAGE_ID_LENGTH, encodeFramePrefix, encodeHeaderBody } from "./format.js";
import { headerDigest, sealFrame } from "./frame-cipher.js";
import { deriveMessageKeys, headerTag, type MessageKeys } from "./message-keys.js";

export interface SealerMaterials {
  /** 32 bytes; read only inside the constructor (the caller zeroes it afterwards). */
  dataKey: Uint8Array;
  wrappedDataKey: Buffer;
  keyId: string;
  context: EncryptionContext;
  frameLength: number;
  /** Only test vectors pass one; a fresh random id otherwise. */
  messageId?: Buffer;
}

export class MessageSealer {
  readonly header: Buffer;
  readonly #keys: MessageKeys;
  readonly #digest: Buffer;
  readonly #frameLength: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #sequence = 1;
  #ended = false;

  constructor(m: SealerMaterials) {
    const messageId = m.messageId ?? randomBytes(MESSAGE_ID_LENGTH);
    this.#keys = deriveMessageKeys(m.dataKey, messageId);
    const body = encodeHeaderBody({
      messageId,
      keyId: m.keyId,
      wrappedDataKey: m.wrappedDataKey,
      context: m.context,
      frameLength: m.frameLength,
      commitment: this.#keys.commitment,
    });
    this.header = Buffer.concat([body, headerTag(this.#keys.key, body)]);
    this.#digest = headerDigest(this.header);
    this.#frameLength = m.frameLength;
  }

  /** Takes more plaintext; returns the wire bytes of the regular frames it completed (maybe none). */
  write(chunk: Buffer): Buffer[] {
    if (this.#ended) throw new Error("write after end");
    const out: Buffer[] = [];
    let rest = chunk;
    while (rest.length > 0) {
      // A frame is sealed as regular only once a byte beyond it exists: until then it may be the last.
      const room = this.#frameLength - this.#pendingBytes;
      if (rest.length <= room) {
        this.#pending.push(rest);
        this.#pendingBytes += rest.length;
        break;
      }
      this.#pending.push(rest.subarray(0, room));
      rest = rest.subarray(room);
      out.push(...this.#seal(FRAME_REGULAR, this.#frameLength));
    }
    return out;
  }

  /** The final frame's wire bytes. */
  end(): Buffer[] {
    if (this.#ended) throw new Error("end twice");
    this.#ended = true;
    return this.#seal(FRAME_FINAL, this.#pendingBytes);
  }

  #seal(type: typeof FRAME_REGULAR | typeof FRAME_FINAL, contentLength: number): Buffer[] {
    const sequence = this.#sequence;
    if (type === FRAME_REGULAR && sequence >= MAX_FRAMES) {
      throw new TesseraError("TooLarge", `a message holds at most ${MAX_FRAMES} frames of ${this.#frameLength} bytes`);
    }
    const frame = sealFrame(this.#keys.key, this.#digest, sequence, encodeFramePrefix({ type, sequence, contentLength }), this.#pending);
    this.#sequence = sequence + 1;
    this.#pending = [];
    this.#pendingBytes = 0;
    return frame;
  }
}
