/**
 * What a wrapped export binds to (docs/formats.md, "Wrapped export"): one ASCII string naming the
 * algorithm, key id, version, what is exported, the recipient's public key and the context, used
 * as HPKE `info` and `aad`; for rsa-oaep-aes-kwp only as `info`, the RSA-OAEP label (AES-KWP has no
 * aad); for sm2pke only as `aad`, SM4-GCM's associated data (SM2PKE has no label, so `info` is empty).
 *
 *   tessera/v1/export|alg=<algorithm>|key=<key id>|version=<n>|export=<kind>|recipient=<hex SHA-256 of SPKI>|context=<hex SHA-256 of the encoded context, or ->
 *
 * Every field is from a fixed vocabulary, a UUID, a number or hex, so no value can contain `|` and the
 * string has one parse. A recipient that checks it knows which key and version it holds, and the
 * bytes open for no other recipient key and no other binding.
 */
import { hash } from "node:crypto";
import { encodeContext, type EncryptionContext, type ExportAlgorithm, type ExportKind } from "@tessera/protocol";

export interface ExportBinding {
  algorithm: ExportAlgorithm;
  keyId: string;
  keyVersion: number;
  kind: ExportKind;
  recipientSpkiSha256: string;
  context: EncryptionContext | undefined;
}

export function exportBinding(b: ExportBinding): { info: Buffer; aad: Buffer } {
  const context = b.context === undefined ? "-" : hash("sha256", encodeContext(b.context), "hex");
  const text = `tessera/v1/export|alg=${b.algorithm}|key=${b.keyId}|version=${b.keyVersion}|export=${b.kind}|recipient=${b.recipientSpkiSha256}|context=${context}`;
  const bytes = Buffer.from(text, "ascii");
  if (b.algorithm === "rsa-oaep-aes-kwp") return { info: bytes, aad: Buffer.alloc(0) };
  if (b.algorithm === "sm2pke") return { info: Buffer.alloc(0), aad: bytes };
  return { info: bytes, aad: bytes };
}
