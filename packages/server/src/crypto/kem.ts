/**
 * X-Wing (draft-connolly-cfrg-xwing-kem-06: ML-KEM-768 + X25519 under X-Wing's SHA3-256 combiner),
 * through `@hpke/hybridkem-x-wing` — the vetted implementation crypto/hpke.ts uses for `hpke-xwing`.
 * Breaking it needs breaking both ML-KEM-768 and X25519.
 *
 * Key pairs come from a 32-byte seed (X-Wing's GenerateKeyPairDerand: SHAKE256 expands it into the
 * ML-KEM-768 seed and the X25519 scalar), so a key pair can be rebuilt from a secret that is itself
 * never stored. The seed *is* the X-Wing private key: callers hold it only while decapsulating.
 *
 * Invariants: every buffer handed out is a copy the caller owns (the library returns views of its
 * key objects); the copies of the seed this module makes are zeroed before it returns. The library's
 * own intermediates (the expanded ML-KEM secret, X25519 scalars) are pure-JS buffers it does not
 * expose and we cannot zero — they are left to the garbage collector.
 */
import { XWing } from "@hpke/hybridkem-x-wing";
import { XWING_PUBLIC_KEY_LENGTH } from "./recipient-key.js";

export const XWING_SEED_LENGTH = 32;
export const XWING_CIPHERTEXT_LENGTH = 1120;

/** Stateless once set up; its WebCrypto handle is loaded lazily on first use. */
const xwing = new XWing();
type XWingKey = Awaited<ReturnType<XWing["deserializePrivateKey"]>>;

/** A copy of `b` that owns its whole ArrayBuffer (the library passes `.buffer` on, so a view into a pool would leak the pool). */
const own = (b: Uint8Array): Uint8Array => new Uint8Array(b);

/** The key object's bytes (XCryptoKey keeps them in `key`), to zero a private key after use. */
const keyBytes = (k: XWingKey): Uint8Array | undefined => (k as unknown as { key?: unknown }).key instanceof Uint8Array ? (k as unknown as { key: Uint8Array }).key : undefined;

function checkSeed(seed: Uint8Array): void {
  if (seed.length !== XWING_SEED_LENGTH) throw new RangeError("an X-Wing seed is 32 bytes");
}

/** The X-Wing public key (raw, 1216 bytes: ML-KEM-768 encapsulation key ‖ X25519 point) of a seed: the same seed always gives the same key. */
export async function xwingPublicKey(seed: Uint8Array): Promise<Buffer> {
  checkSeed(seed);
  const sk = own(seed);
  try {
    const { publicKey, privateKey } = await xwing.generateKeyPairDerand(sk);
    keyBytes(privateKey)?.fill(0);
    return Buffer.from(new Uint8Array(await xwing.serializePublicKey(publicKey)));
  } finally {
    sk.fill(0);
  }
}

/** A fresh 32-byte shared secret and the 1120-byte ciphertext that carries it to the seed's holder. */
export async function xwingEncapsulate(publicKey: Uint8Array): Promise<{ sharedKey: Buffer; ciphertext: Buffer }> {
  if (publicKey.length !== XWING_PUBLIC_KEY_LENGTH) throw new RangeError("an X-Wing public key is 1216 bytes");
  const { sharedSecret, enc } = await xwing.encap({ recipientPublicKey: await xwing.deserializePublicKey(own(publicKey)) });
  const ss = new Uint8Array(sharedSecret);
  try {
    return { sharedKey: Buffer.from(ss), ciphertext: Buffer.from(new Uint8Array(enc)) };
  } finally {
    ss.fill(0);
  }
}

/**
 * The shared secret a ciphertext carries, for the seed's key pair. A wrong or altered ciphertext of the
 * right length yields an unrelated secret (ML-KEM's implicit rejection), so callers detect it downstream
 * (an AEAD tag); a wrong length throws.
 */
export async function xwingDecapsulate(seed: Uint8Array, ciphertext: Uint8Array): Promise<Buffer> {
  checkSeed(seed);
  if (ciphertext.length !== XWING_CIPHERTEXT_LENGTH) throw new RangeError("an X-Wing ciphertext is 1120 bytes");
  const sk = own(seed);
  let recipientKey: XWingKey | undefined;
  try {
    recipientKey = await xwing.deserializePrivateKey(sk);
    const ss = new Uint8Array(await xwing.decap({ recipientKey, enc: own(ciphertext) }));
    try {
      return Buffer.from(ss);
    } finally {
      ss.fill(0);
    }
  } finally {
    sk.fill(0);
    if (recipientKey !== undefined) keyBytes(recipientKey)?.fill(0);
  }
}
