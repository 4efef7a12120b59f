/**
 * How secrets rest in storage: AES-256-GCM under the root key (or, for the root key itself, under
 * the seal's unseal key), with additional data naming what the record is, so a record copied to
 * another row or purpose fails to open.
 *
 * Record layout: 0x01 (record version) ‖ nonce (12) ‖ ciphertext ‖ tag (16).
 */
import { TesseraError } from "@tessera/protocol";
import { GCM_NONCE_LENGTH, aesGcmOpen, aesGcmSeal } from "../crypto/index.js";

const RECORD_VERSION = 0x01;

export function keyVersionAad(keyId: string, version: number): Buffer {
  return Buffer.from(`tessera/keyring/v1|key=${keyId}|version=${version}`, "utf8");
}

export const ROOT_KEY_AAD = Buffer.from("tessera/root-key/v1", "utf8");

export function sealRecord(wrappingKey: Uint8Array, secret: Uint8Array, aad: Uint8Array): Buffer {
  const { nonce, sealed } = aesGcmSeal(wrappingKey, secret, aad);
  return Buffer.concat([Buffer.of(RECORD_VERSION), nonce, sealed]);
}

/** Opens a record; a wrong key, wrong AAD or damaged record throws `InvalidCiphertext`. */
export function openRecord(wrappingKey: Uint8Array, record: Uint8Array, aad: Uint8Array): Buffer {
  if (record.length < 1 + GCM_NONCE_LENGTH + 16 || record[0] !== RECORD_VERSION) throw new TesseraError("InvalidCiphertext");
  return aesGcmOpen(wrappingKey, record.subarray(1, 1 + GCM_NONCE_LENGTH), record.subarray(1 + GCM_NONCE_LENGTH), aad);
}
