/**
 * ECDH key agreement (AWS's KeyAgreementAlgorithm ECDH; SP 800-56A §5.7.1.2): the shared secret is the
 * x-coordinate of d·Q, from OpenSSL via `crypto.diffieHellman`. The peer's public key must be on the
 * same curve as the private key; OpenSSL checks the point is on it.
 */
import { diffieHellman, type KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";

/** The raw shared secret (the caller zeroes it); a peer key of another curve or type is `InvalidInput` at `field`. */
export function ecdhSharedSecret(privateKey: KeyObject, peerPublicKey: KeyObject, field: string): Buffer {
  const curve = privateKey.asymmetricKeyDetails?.namedCurve;
  if (peerPublicKey.asymmetricKeyType !== "ec" || peerPublicKey.asymmetricKeyDetails?.namedCurve !== curve) {
    throw new TesseraError("InvalidInput", `the public key must be an EC key on the key's curve (${curve})`, { field });
  }
  try {
    return diffieHellman({ privateKey, publicKey: peerPublicKey });
  } catch (cause) {
    throw new TesseraError("InvalidInput", "the public key is not a valid point of the key's curve", { field, cause });
  }
}
