/**
 * Encrypts exported bytes to a recipient's public key with one of the export algorithms
 * (docs/distribution.md): HPKE base mode for hpke-*, RSA_AES_KEY_WRAP_SHA_256 for rsa-oaep-aes-kwp,
 * an SM2PKE + SM4-GCM envelope for sm2pke.
 *
 * `info` and `aad` are used exactly as given: HPKE's key-schedule info and AEAD associated data; for
 * rsa-oaep-aes-kwp, `info` is the RSA-OAEP label and `aad` must be empty (AES-KWP has none); for
 * sm2pke, `aad` is SM4-GCM's associated data and `info` must be empty (SM2PKE has no label).
 */
import type { ExportAlgorithm } from "@tessera/protocol";
import { hpkeSeal, type HpkeKem } from "./hpke.js";
import { rsaAesKeyWrap } from "./key-wrap.js";
import type { RecipientKey } from "./recipient-key.js";
import { sm2Envelope } from "./sm2-envelope.js";

const KEMS: Record<Exclude<ExportAlgorithm, "rsa-oaep-aes-kwp" | "sm2pke">, HpkeKem> = { "hpke-p256": "p256", "hpke-x25519": "x25519", "hpke-xwing": "xwing" };

export interface Wrapped {
  encapsulatedKey: Buffer;
  wrappedKey: Buffer;
}

export async function wrapToRecipient(recipient: RecipientKey, payload: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<Wrapped> {
  if (recipient.algorithm === "rsa-oaep-aes-kwp") {
    if (aad.length !== 0) throw new RangeError("rsa-oaep-aes-kwp has no associated data");
    return rsaAesKeyWrap(recipient.keyObject!, payload, info);
  }
  if (recipient.algorithm === "sm2pke") {
    if (info.length !== 0) throw new RangeError("sm2pke has no info (SM2PKE takes no label)");
    return sm2Envelope(recipient.sm2!, payload, aad);
  }
  const { enc, ct } = await hpkeSeal(KEMS[recipient.algorithm], recipient.raw!, payload, info, aad);
  return { encapsulatedKey: enc, wrappedKey: ct };
}
