/**
 * Recipient public keys for wrapped export: parsed from PEM SubjectPublicKeyInfo, checked against
 * the algorithm they are used with, and named by the SHA-256 of their DER encoding (what export
 * binds into its `info` and `aad`, and what a `wrapToOwnCertificate` condition compares).
 *
 * Invariants: a key is accepted only for the one algorithm it fits — P-256 for hpke-p256, X25519 for
 * hpke-x25519, X-Wing for hpke-xwing, RSA (not RSA-PSS) of at least 3072 bits for rsa-oaep-aes-kwp,
 * an SM2 key (id-ecPublicKey with curve 1.2.156.10197.1.301, a point on the curve) for sm2pke —
 * and the SHA-256 is taken over the DER the key was given in, re-encoded canonically.
 */
import { KeyObject, createPublicKey, hash } from "node:crypto";
import { TesseraError, type ExportAlgorithm } from "@tessera/protocol";
import { Sm2KeyError, Sm2PublicKey } from "./sm2-key.js";

/**
 * id-XWing, the OID draft-connolly-cfrg-xwing-kem gives X-Wing public keys: the SPKI's BIT STRING is
 * the raw 1216-byte public key (ML-KEM-768 ‖ X25519), with no parameters.
 */
export const XWING_OID = "1.3.6.1.4.1.62253.25722";
export const XWING_PUBLIC_KEY_LENGTH = 1216;
/** DER of `AlgorithmIdentifier { id-XWing }` with no parameters. */
const XWING_ALGORITHM_ID = Buffer.from("300d060b2b0601040183e62d81c87a", "hex");
export const MIN_RSA_RECIPIENT_BITS = 3072;
const MAX_RSA_RECIPIENT_BITS = 16384;

export interface RecipientKey {
  algorithm: ExportAlgorithm;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo. */
  spkiSha256: string;
  /** The key as node:crypto uses it (P-256, X25519, RSA). */
  keyObject?: KeyObject;
  /** The raw public key HPKE's SerializePublicKey gives: uncompressed P-256 point, X25519 or X-Wing bytes. */
  raw?: Uint8Array;
  /** The SM2 public key (sm2pke). */
  sm2?: Sm2PublicKey;
}

/** Hex SHA-256 of a public key's DER SubjectPublicKeyInfo. */
export function spkiSha256(key: KeyObject | Uint8Array): string {
  const der = key instanceof KeyObject ? key.export({ type: "spki", format: "der" }) : key;
  return hash("sha256", der, "hex");
}

const invalid = (message: string) => new TesseraError("InvalidInput", message, { field: "/recipientPublicKey" });

/** The DER inside one PEM block labelled PUBLIC KEY. */
function pemPublicKeyDer(pem: string): Buffer {
  const m = /^-----BEGIN PUBLIC KEY-----\r?\n([A-Za-z0-9+/=\r\n]+)-----END PUBLIC KEY-----\s*$/.exec(pem.trim() + "\n");
  if (m === null) throw invalid("recipientPublicKey must be one PEM PUBLIC KEY block (SubjectPublicKeyInfo)");
  return Buffer.from(m[1]!.replace(/\s+/g, ""), "base64");
}

/** Parses and checks a recipient key for `algorithm`; `InvalidInput` names what is wrong with it. */
export function parseRecipientKey(pem: string, algorithm: ExportAlgorithm): RecipientKey {
  const der = pemPublicKeyDer(pem);
  if (algorithm === "hpke-xwing") return { algorithm, spkiSha256: spkiSha256(der), raw: xwingPublicKey(der) };
  if (algorithm === "sm2pke") {
    const sm2 = sm2PublicKey(der);
    return { algorithm, spkiSha256: spkiSha256(sm2.toSpki()), sm2 };
  }
  let key: KeyObject;
  try {
    key = createPublicKey({ key: der, format: "der", type: "spki" });
  } catch {
    throw invalid("recipientPublicKey is not a public key node:crypto can read (SubjectPublicKeyInfo)");
  }
  const type = key.asymmetricKeyType;
  const details = key.asymmetricKeyDetails ?? {};
  switch (algorithm) {
    case "hpke-p256": {
      if (type !== "ec" || details.namedCurve !== "prime256v1") throw invalid(`hpke-p256 needs an EC P-256 key, not ${describe(key)}`);
      const jwk = key.export({ format: "jwk" });
      const raw = Buffer.concat([Buffer.of(0x04), Buffer.from(jwk.x!, "base64url"), Buffer.from(jwk.y!, "base64url")]);
      return { algorithm, spkiSha256: spkiSha256(key), keyObject: key, raw };
    }
    case "hpke-x25519": {
      if (type !== "x25519") throw invalid(`hpke-x25519 needs an X25519 key, not ${describe(key)}`);
      return { algorithm, spkiSha256: spkiSha256(key), keyObject: key, raw: Buffer.from(key.export({ format: "jwk" }).x!, "base64url") };
    }
    case "rsa-oaep-aes-kwp": {
      const bits = details.modulusLength ?? 0;
      if (type !== "rsa") throw invalid(`rsa-oaep-aes-kwp needs an RSA key (rsaEncryption), not ${describe(key)}`);
      if (bits < MIN_RSA_RECIPIENT_BITS || bits > MAX_RSA_RECIPIENT_BITS) throw invalid(`RSA recipient keys must have ${MIN_RSA_RECIPIENT_BITS}–${MAX_RSA_RECIPIENT_BITS} bits, not ${bits}`);
      return { algorithm, spkiSha256: spkiSha256(key), keyObject: key };
    }
  }
}

function describe(key: KeyObject): string {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === "ec") return `an EC key on ${d.namedCurve ?? "an unknown curve"}`;
  if (key.asymmetricKeyType === "rsa") return `an RSA key of ${d.modulusLength ?? 0} bits`;
  return `a key of type ${key.asymmetricKeyType ?? "unknown"}`;
}

/**
 * Recently used SM2 recipient keys by DER. An Sm2PublicKey precomputes multiples of its point on first
 * use (about 13 ms, six times the encryption itself), so a VM exporting to its own key again reuses
 * them. Public keys only; at most SM2_RECIPIENT_CACHE entries (each some tens of kB), oldest out first.
 */
const SM2_RECIPIENT_CACHE = 64;
const sm2Recipients = new Map<string, Sm2PublicKey>();

/** An SM2 public key from its SubjectPublicKeyInfo (node:crypto reads SM2 keys but cannot encrypt with them). */
function sm2PublicKey(der: Buffer): Sm2PublicKey {
  const id = der.toString("base64");
  const cached = sm2Recipients.get(id);
  if (cached !== undefined) {
    sm2Recipients.delete(id);
    sm2Recipients.set(id, cached);
    return cached;
  }
  try {
    const key = Sm2PublicKey.fromSpki(der);
    sm2Recipients.set(id, key);
    if (sm2Recipients.size > SM2_RECIPIENT_CACHE) sm2Recipients.delete(sm2Recipients.keys().next().value!);
    return key;
  } catch (err) {
    if (!(err instanceof Sm2KeyError)) throw err;
    throw invalid(`sm2pke needs an SM2 public key (id-ecPublicKey on curve 1.2.156.10197.1.301, as openssl genpkey -algorithm SM2 writes): ${err.message}`);
  }
}

/**
 * The raw X-Wing public key from its SubjectPublicKeyInfo: exactly
 * SEQUENCE { AlgorithmIdentifier { id-XWing }, BIT STRING (0 unused bits) ‖ 1216 bytes }.
 */
function xwingPublicKey(der: Buffer): Buffer {
  // 30 82 04d4 | 300d 060b <oid> | 03 82 04c1 00 | 1216 bytes
  const bitString = Buffer.from([0x03, 0x82, 0x04, 0xc1, 0x00]);
  const expectedLength = 4 + XWING_ALGORITHM_ID.length + bitString.length + XWING_PUBLIC_KEY_LENGTH;
  const ok =
    der.length === expectedLength &&
    der[0] === 0x30 &&
    der.readUInt16BE(2) === expectedLength - 4 &&
    der[1] === 0x82 &&
    der.subarray(4, 4 + XWING_ALGORITHM_ID.length).equals(XWING_ALGORITHM_ID) &&
    der.subarray(4 + XWING_ALGORITHM_ID.length, 4 + XWING_ALGORITHM_ID.length + bitString.length).equals(bitString);
  if (!ok) throw invalid(`hpke-xwing needs an X-Wing public key: SubjectPublicKeyInfo with algorithm ${XWING_OID} and a ${XWING_PUBLIC_KEY_LENGTH}-byte key`);
  return der.subarray(expectedLength - XWING_PUBLIC_KEY_LENGTH);
}

/** The SubjectPublicKeyInfo (DER) of a raw X-Wing public key — for recipients and tests that make one. */
export function xwingSpki(raw: Uint8Array): Buffer {
  if (raw.length !== XWING_PUBLIC_KEY_LENGTH) throw new RangeError(`an X-Wing public key has ${XWING_PUBLIC_KEY_LENGTH} bytes`);
  const body = Buffer.concat([XWING_ALGORITHM_ID, Buffer.from([0x03, 0x82, 0x04, 0xc1, 0x00]), raw]);
  return Buffer.concat([Buffer.from([0x30, 0x82, body.length >> 8, body.length & 0xff]), body]);
}
