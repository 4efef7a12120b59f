/**
 * ECDSA signatures between DER (`Ecdsa-Sig-Value`, RFC 3279 §2.2.3 — Tessera's and Vault's asn1) and
 * JWS's fixed-width `r ‖ s` (RFC 7518 §3.4), base64url without padding — Vault's `marshaling_algorithm=jws`.
 * A wire-format conversion only (api/ imports no crypto/): a signature that does not parse is the
 * service's to refuse, so a malformed one is passed through unchanged.
 */

/** Reads one DER length at `at` (short form, or long form of one or two octets): [length, next offset]. */
function derLength(b: Uint8Array, at: number): [number, number] {
  const first = b[at]!;
  if (first < 0x80) return [first, at + 1];
  const octets = first & 0x7f;
  if (octets < 1 || octets > 2 || at + 1 + octets > b.length) throw new RangeError("bad DER length");
  let n = 0;
  for (let i = 0; i < octets; i++) n = (n << 8) | b[at + 1 + i]!;
  return [n, at + 1 + octets];
}

function readInteger(b: Uint8Array, at: number): [Uint8Array, number] {
  if (b[at] !== 0x02) throw new RangeError("not an INTEGER");
  const [length, start] = derLength(b, at + 1);
  if (length === 0 || start + length > b.length) throw new RangeError("bad INTEGER");
  let value = b.subarray(start, start + length);
  while (value.length > 1 && value[0] === 0) value = value.subarray(1);
  return [value, start + length];
}

/** DER → base64url(r ‖ s), each padded to `fieldBytes`; a signature that is not DER ECDSA is returned as base64. */
export function derToJws(der: Uint8Array, fieldBytes: number): string {
  try {
    if (der[0] !== 0x30) throw new RangeError("not a SEQUENCE");
    const [, body] = derLength(der, 1);
    const [r, afterR] = readInteger(der, body);
    const [s, end] = readInteger(der, afterR);
    if (end !== der.length || r.length > fieldBytes || s.length > fieldBytes) throw new RangeError("trailing bytes");
    const out = Buffer.alloc(2 * fieldBytes);
    out.set(r, fieldBytes - r.length);
    out.set(s, 2 * fieldBytes - s.length);
    return out.toString("base64url");
  } catch {
    return Buffer.from(der).toString("base64");
  }
}

function derInteger(magnitude: Uint8Array): Buffer {
  let m = magnitude;
  while (m.length > 1 && m[0] === 0) m = m.subarray(1);
  const body = m[0]! & 0x80 ? Buffer.concat([Buffer.of(0), m]) : Buffer.from(m);
  return Buffer.concat([Buffer.of(0x02, body.length), body]);
}

/** `r ‖ s` → DER. */
export function jwsToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  const body = Buffer.concat([derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half))]);
  return Buffer.concat([body.length < 0x80 ? Buffer.of(0x30, body.length) : Buffer.of(0x30, 0x81, body.length), body]);
}
