/**
 * Vault's `vault:vN:` values and how they map onto Tessera's (docs/vault-compatibility.md, "Ciphertexts").
 *
 * - A transit ciphertext is `vault:v<N>:<base64>` where the base64 part is, byte for byte, the Tessera
 *   native ciphertext (docs/formats.md) and N is the key version its header names. So the base64 part
 *   decrypts through the native and AWS APIs, and a native ciphertext decrypts here once prefixed.
 * - Vault's `context` (derived keys) and `associated_data` become encryption-context entries under
 *   the reserved names below, their values the base64 text as given; a caller of the native API
 *   passes the same entries to decrypt what this API encrypted, and the reverse.
 * - HMACs and signatures are `vault:v<N>:<base64>` of Tessera's MAC or signature (JWS-marshalled
 *   signatures: base64url), N the version that made them.
 *
 * Invariant: a prefix whose N differs from the version the ciphertext's header names is refused as
 * InvalidCiphertext before any cryptography (tampering with N is tampering).
 */
import { parseCiphertext, TesseraError, type EncryptionContext } from "@tessera/protocol";
import { VaultError } from "./vault-errors.js";
import { base64, str, type Json } from "./vault-input.js";

/** Encryption-context entry holding Vault's `context` (base64 text, as sent). */
export const VAULT_CONTEXT_ENTRY = "vault:context";
/** Encryption-context entry holding Vault's `associated_data` (base64 text, as sent). */
export const VAULT_AAD_ENTRY = "vault:associated_data";

const PREFIXED = /^vault:v([1-9][0-9]{0,9}):(.*)$/s;

export function prefixed(version: number, b64: string): string {
  return `vault:v${version}:${b64}`;
}

const invalid = (message: string) => new VaultError(message, 400, "InvalidCiphertext", "invalid-ciphertext");

/** Splits `vault:vN:rest`; anything else is refused with Vault's complaint. */
export function unprefix(value: string, what: string): { version: number; rest: string } {
  const m = PREFIXED.exec(value);
  if (m === null) throw invalid(value.startsWith("vault:") ? `invalid ${what}: invalid version` : `invalid ${what}: no prefix`);
  return { version: Number(m[1]), rest: m[2]! };
}

/**
 * A `vault:vN:` ciphertext as the native ciphertext (base64) to hand to the service. A base64 part the
 * header parser rejects is passed on as is, so that the door records the failed decryption; one whose
 * header names another version than N is refused here.
 */
export function nativeCiphertext(value: string): string {
  const { version, rest } = unprefix(value, "ciphertext");
  const bytes = Buffer.from(rest, "base64");
  if (bytes.toString("base64") !== rest) throw invalid("invalid ciphertext: not standard base64");
  let named: number | undefined;
  try {
    named = parseCiphertext(bytes).keyVersion;
  } catch (err) {
    if (!(err instanceof TesseraError)) throw err;
  }
  if (named !== undefined && named !== version) throw invalid("invalid ciphertext: the version prefix does not match the ciphertext");
  return rest;
}

/** The encryption context of a Vault item: its `context` and `associated_data`, under the reserved names. */
export function contextOf(item: Json): EncryptionContext | undefined {
  base64(item, "context", false);
  base64(item, "associated_data", false);
  const context = str(item, "context");
  const aad = str(item, "associated_data");
  if (!context && !aad) return undefined;
  return { ...(context && { [VAULT_CONTEXT_ENTRY]: context }), ...(aad && { [VAULT_AAD_ENTRY]: aad }) };
}
