/**
 * HPKE (RFC 9180) base mode, single-shot seal to a recipient's public key, with HKDF-SHA256 and
 * AES-256-GCM, through @hpke/core:
 * - DHKEM(P-256, HKDF-SHA256), KEM 0x0010;
 * - DHKEM(X25519, HKDF-SHA256), KEM 0x0020;
 * - X-Wing (ML-KEM-768 + X25519, draft-connolly-cfrg-xwing-kem-06 as @hpke/hybridkem-x-wing 0.7.0
 *   implements it), KEM 0x647a — the id draft-ietf-hpke-pq gives MLKEM768-X25519.
 *
 * A recipient opens with any RFC 9180 implementation: `enc` is the encapsulated key, `ct` the
 * ciphertext, and `info` and `aad` are given back beside them.
 */
import { Aes256Gcm, CipherSuite, DhkemP256HkdfSha256, DhkemX25519HkdfSha256, HkdfSha256 } from "@hpke/core";
import { XWing } from "@hpke/hybridkem-x-wing";

export type HpkeKem = "p256" | "x25519" | "xwing";

/** Suites are stateless once built; one per KEM. */
const suites: Record<HpkeKem, CipherSuite> = {
  p256: new CipherSuite({ kem: new DhkemP256HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() }),
  x25519: new CipherSuite({ kem: new DhkemX25519HkdfSha256(), kdf: new HkdfSha256(), aead: new Aes256Gcm() }),
  xwing: new CipherSuite({ kem: new XWing(), kdf: new HkdfSha256(), aead: new Aes256Gcm() }),
};

const view = (b: Uint8Array): ArrayBuffer => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** Seals `plaintext` to the raw public key (as HPKE's SerializePublicKey encodes it) of `kem`. */
export async function hpkeSeal(kem: HpkeKem, recipientRaw: Uint8Array, plaintext: Uint8Array, info: Uint8Array, aad: Uint8Array): Promise<{ enc: Buffer; ct: Buffer }> {
  const suite = suites[kem];
  const recipientPublicKey = await suite.kem.deserializePublicKey(view(recipientRaw));
  const copy = view(plaintext);
  try {
    const { enc, ct } = await suite.seal({ recipientPublicKey, info: view(info) }, copy, view(aad));
    return { enc: Buffer.from(enc), ct: Buffer.from(ct) };
  } finally {
    new Uint8Array(copy).fill(0);
  }
}
