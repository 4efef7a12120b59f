/**
 * The few DER (ITU-T X.690) shapes the SM2 encodings need: SEQUENCE, INTEGER, OCTET STRING, BIT
 * STRING, OBJECT IDENTIFIER and context-specific constructed tags, with definite lengths.
 *
 * The reader is strict: minimal length octets, minimal non-negative INTEGERs, no trailing bytes —
 * so one value has exactly one encoding and a signature or ciphertext cannot be re-encoded into a
 * second valid form. Every malformation is a `DerError`; callers turn it into their own catalogue code.
 */

export class DerError extends Error {
  constructor() {
    super("malformed DER");
    this.name = "DerError";
  }
}

export const TAG_INTEGER = 0x02;
export const TAG_BIT_STRING = 0x03;
export const TAG_OCTET_STRING = 0x04;
export const TAG_OID = 0x06;
export const TAG_SEQUENCE = 0x30;
/** Context-specific, constructed, tag number n: `[n] EXPLICIT`. */
export const contextTag = (n: number): number => 0xa0 | n;

/** A cursor over DER bytes; each read consumes one TLV and checks its tag. */
export class DerReader {
  #at = 0;
  constructor(private readonly bytes: Uint8Array) {}

  get done(): boolean {
    return this.#at === this.bytes.length;
  }

  /** The tag of the next TLV, or -1 at the end. */
  peekTag(): number {
    return this.done ? -1 : this.bytes[this.#at]!;
  }

  /** Reads one TLV with tag `tag` and returns its contents. */
  read(tag: number): Uint8Array {
    const b = this.bytes;
    if (this.#at + 2 > b.length || b[this.#at] !== tag) throw new DerError();
    let at = this.#at + 1;
    let length = b[at++]!;
    if (length & 0x80) {
      const octets = length & 0x7f;
      // Long form only when needed (X.690 §10.1), at most 3 length octets, no leading zero.
      if (octets === 0 || octets > 3 || at + octets > b.length || b[at] === 0) throw new DerError();
      length = 0;
      for (let i = 0; i < octets; i++) length = (length << 8) | b[at++]!;
      if (length < 0x80) throw new DerError();
    }
    if (at + length > b.length) throw new DerError();
    this.#at = at + length;
    return b.subarray(at, at + length);
  }

  /** A reader over the contents of the next constructed TLV with tag `tag`. */
  enter(tag: number): DerReader {
    return new DerReader(this.read(tag));
  }

  /** A non-negative INTEGER's magnitude, big-endian without the sign octet. */
  readUnsigned(): Uint8Array {
    const v = this.read(TAG_INTEGER);
    if (v.length === 0 || (v[0]! & 0x80) !== 0) throw new DerError(); // empty or negative
    if (v.length > 1 && v[0] === 0 && (v[1]! & 0x80) === 0) throw new DerError(); // not minimal
    return v[0] === 0 && v.length > 1 ? v.subarray(1) : v;
  }

  /** A small non-negative INTEGER (a version field). */
  readSmall(): number {
    const v = this.readUnsigned();
    if (v.length > 1) throw new DerError();
    return v[0]!;
  }

  /** A BIT STRING with no unused bits. */
  readBitString(): Uint8Array {
    const v = this.read(TAG_BIT_STRING);
    if (v.length === 0 || v[0] !== 0) throw new DerError();
    return v.subarray(1);
  }

  /** Throws unless every byte was consumed. */
  end(): void {
    if (!this.done) throw new DerError();
  }
}

function lengthOctets(length: number): number[] {
  if (length < 0x80) return [length];
  const out: number[] = [];
  for (let n = length; n > 0; n >>>= 8) out.unshift(n & 0xff);
  return [0x80 | out.length, ...out];
}

/** One TLV. */
export function tlv(tag: number, ...contents: Uint8Array[]): Buffer {
  const body = Buffer.concat(contents);
  return Buffer.concat([Buffer.from([tag, ...lengthOctets(body.length)]), body]);
}

/** A non-negative INTEGER from a big-endian magnitude (leading zeros dropped, a sign octet added when needed). */
export function derUnsigned(magnitude: Uint8Array): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const m = magnitude.subarray(start);
  return (m[0]! & 0x80) !== 0 ? tlv(TAG_INTEGER, Uint8Array.of(0), m) : tlv(TAG_INTEGER, m);
}

/** A BIT STRING with no unused bits. */
export function derBitString(bytes: Uint8Array): Buffer {
  return tlv(TAG_BIT_STRING, Uint8Array.of(0), bytes);
}

/** Left-pads a big-endian magnitude to `length` bytes; throws if it is longer. */
export function padStart(magnitude: Uint8Array, length: number): Buffer {
  if (magnitude.length > length) throw new DerError();
  const out = Buffer.alloc(length);
  out.set(magnitude, length - magnitude.length);
  return out;
}
