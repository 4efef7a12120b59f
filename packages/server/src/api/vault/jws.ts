/**
 * ECDSA signatures between DER (`Ecdsa-Sig-Value`, RFC 3279 §2.2.3 — Tessera's and Vault's asn1) and
 * JWS's fixed-width `r ‖ s` (RFC 7518 §3.4), base64url without padding — Vault's `marshaling_algorithm=jws`.
 */
import { DerReader, TAG_SEQUENCE, derUnsigned, padStart, tlv } from "../../crypto/der.js";

export function derToJws(der: Uint8Array, fieldBytes: number): string {
  const seq = new DerReader(der).enter(TAG_SEQUENCE);
  const r = seq.readUnsigned();
  const s = seq.readUnsigned();
  seq.end();
  return Buffer.concat([padStart(r, fieldBytes), padStart(s, fieldBytes)]).toString("base64url");
}

export function jwsToDer(raw: Uint8Array): Buffer {
  const half = raw.length / 2;
  return tlv(TAG_SEQUENCE, derUnsigned(raw.subarray(0, half)), derUnsigned(raw.subarray(half)));
}
