/**
 * Strict standard base64 (RFC 4648 §4): the standard alphabet, padded, and canonical — the bits the
 * last character carries beyond the data are zero (RFC 4648 §3.5) — so each byte string has exactly
 * one encoding and nothing a lenient decoder would silently skip or reinterpret gets through.
 *
 * @example
 * ```ts
 * isCanonicalBase64("aGVsbG8=")    // true
 * isCanonicalBase64("aGVsbG9=")    // false: non-zero padding bits
 * isCanonicalBase64("hello world") // false
 * ```
 */
/** The standard alphabet, padded — without the canonical padding-bits rule (Vault's Go decoder takes this). */
export const BASE64_SHAPE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

export function isCanonicalBase64(s: string): boolean {
  if (s.length % 4 !== 0 || !BASE64_SHAPE.test(s)) return false;
  if (s.endsWith("==")) return ALPHABET.indexOf(s[s.length - 3]!) % 16 === 0;
  if (s.endsWith("=")) return ALPHABET.indexOf(s[s.length - 2]!) % 4 === 0;
  return true;
}
