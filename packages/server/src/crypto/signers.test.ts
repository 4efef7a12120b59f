/**
 * Every signing algorithm signs and verifies RAW messages and, where allowed, DIGESTs; a DIGEST
 * signature is the same standard signature node:crypto verifies over the message it was computed from
 * (and the other way round); anything tampered, or another key, is simply invalid.
 */
import { createHash, generateKeyPairSync, verify as nodeVerify, constants, type KeyObject } from "node:crypto";
import { describe, expect, it } from "vitest";
import { signingAlgorithms, type MessageType, type SigningAlgorithm } from "@tessera/protocol";
import { signers } from "./signers.js";
import { generateSm2Pkcs8 } from "./sm2-keyobject.js";
import { createPrivateKey, createPublicKey } from "node:crypto";

type Pair = { privateKey: KeyObject; publicKey: KeyObject };
const rsa2048 = generateKeyPairSync("rsa", { modulusLength: 2048 });
const keyFor: Record<SigningAlgorithm, () => Pair> = {
  RSASSA_PSS_SHA_256: () => rsa2048,
  RSASSA_PSS_SHA_384: () => generateKeyPairSync("rsa", { modulusLength: 3072 }),
  RSASSA_PSS_SHA_512: () => rsa2048,
  RSASSA_PKCS1_V1_5_SHA_256: () => rsa2048,
  RSASSA_PKCS1_V1_5_SHA_384: () => rsa2048,
  RSASSA_PKCS1_V1_5_SHA_512: () => generateKeyPairSync("rsa", { modulusLength: 4096 }),
  ECDSA_SHA_256: () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }),
  ECDSA_SHA_384: () => generateKeyPairSync("ec", { namedCurve: "secp384r1" }),
  ECDSA_SHA_512: () => generateKeyPairSync("ec", { namedCurve: "secp521r1" }),
  ED25519_SHA_512: () => generateKeyPairSync("ed25519"),
  ML_DSA_SHAKE_256: () => generateKeyPairSync("ml-dsa-44"),
  SM2DSA: () => {
    const privateKey = createPrivateKey({ key: generateSm2Pkcs8(), format: "der", type: "pkcs8" });
    return { privateKey, publicKey: createPublicKey(privateKey) };
  },
};
const secp256k1 = () => generateKeyPairSync("ec", { namedCurve: "secp256k1" });

// SM2DSA's DIGEST is SM3(Z ‖ M), not a plain hash: its own test is in sm2.test.ts; here only its length matters.
const hashOf = (a: SigningAlgorithm) => (a === "SM2DSA" ? "sm3" : a.endsWith("256") ? "sha256" : a.endsWith("384") ? "sha384" : "sha512");
const nodeOptions = (a: SigningAlgorithm, key: KeyObject) =>
  a.startsWith("RSASSA_PSS")
    ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(a.slice(-3)) / 8 }
    : a.startsWith("RSASSA_PKCS1")
      ? { key, padding: constants.RSA_PKCS1_PADDING }
      : { key, dsaEncoding: "der" as const };

const cases = (Object.keys(signingAlgorithms) as SigningAlgorithm[]).flatMap((a) =>
  (signingAlgorithms[a].messageTypes as readonly MessageType[]).map((t) => [a, t] as const),
);
const message = Buffer.from("the message Tessera signs");

describe("signers", () => {
  it.each(cases)("%s %s: a signature verifies; a changed message, signature or key does not", (algorithm, type) => {
    const { privateKey, publicKey } = keyFor[algorithm]();
    const signer = signers[algorithm];
    const input = type === "RAW" ? message : createHash(hashOf(algorithm)).update(message).digest();
    const signature = signer.sign(privateKey, input, type);
    expect(signer.verify(publicKey, input, type, signature)).toBe(true);

    const changed = Buffer.from(input);
    changed[0]! ^= 1;
    expect(signer.verify(publicKey, changed, type, signature)).toBe(false);
    for (const at of [0, signature.length >> 1, signature.length - 1]) {
      const bad = Buffer.from(signature);
      bad[at]! ^= 0x10;
      expect(signer.verify(publicKey, input, type, bad), `flipped byte ${at}`).toBe(false);
    }
    expect(signer.verify(publicKey, input, type, signature.subarray(1))).toBe(false);
    const otherKey = algorithm.startsWith("RSA") ? generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey : keyFor[algorithm]().publicKey;
    expect(otherKey.equals(publicKey)).toBe(false);
    expect(signer.verify(otherKey, input, type, signature)).toBe(false);
  });

  it.each(cases.filter(([a]) => a.startsWith("RSA")))("%s %s: a signature one byte short is refused even when only a leading zero byte is gone (RFC 8017, step 1: OpenSSL alone accepts it)", (algorithm, type) => {
    const { privateKey, publicKey } = keyFor[algorithm]();
    const signer = signers[algorithm];
    // A signature whose first byte is zero: the same number without that byte. PSS signs with a random
    // salt, so signing again finds one; PKCS#1 v1.5 is deterministic, so the message changes instead.
    for (let i = 0; i < 20_000; i++) {
      const m = Buffer.from(`the message Tessera signs ${i}`);
      const input = type === "RAW" ? m : createHash(hashOf(algorithm)).update(m).digest();
      const signature = signer.sign(privateKey, input, type);
      if (signature[0] !== 0) continue;
      expect(signer.verify(publicKey, input, type, signature)).toBe(true);
      expect(signer.verify(publicKey, input, type, signature.subarray(1))).toBe(false);
      return;
    }
    expect.fail("no signature with a leading zero byte in 20,000 tries");
  });

  it.each(cases.filter(([a, t]) => t === "DIGEST" && a !== "SM2DSA").map(([a]) => a))("%s: a DIGEST signature is the standard signature of the message (and back)", (algorithm) => {
    const { privateKey, publicKey } = keyFor[algorithm]();
    const hash = hashOf(algorithm);
    const digest = createHash(hash).update(message).digest();
    const fromDigest = signers[algorithm].sign(privateKey, digest, "DIGEST");
    expect(nodeVerify(hash, message, nodeOptions(algorithm, publicKey), fromDigest)).toBe(true);
    const fromMessage = signers[algorithm].sign(privateKey, message, "RAW");
    expect(signers[algorithm].verify(publicKey, digest, "DIGEST", fromMessage)).toBe(true);
  });

  it("ECDSA_SHA_256 signs with secp256k1 keys in both message types", () => {
    const { privateKey, publicKey } = secp256k1();
    const digest = createHash("sha256").update(message).digest();
    const s = signers.ECDSA_SHA_256.sign(privateKey, digest, "DIGEST");
    expect(nodeVerify("sha256", message, { key: publicKey, dsaEncoding: "der" }, s)).toBe(true);
    expect(signers.ECDSA_SHA_256.verify(publicKey, message, "RAW", signers.ECDSA_SHA_256.sign(privateKey, message, "RAW"))).toBe(true);
  });

  it("PSS signatures are randomised; the DigestInfo of PKCS#1 v1.5 makes them deterministic", () => {
    const digest = createHash("sha256").update(message).digest();
    const a = signers.RSASSA_PSS_SHA_256.sign(rsa2048.privateKey, digest, "DIGEST");
    const b = signers.RSASSA_PSS_SHA_256.sign(rsa2048.privateKey, digest, "DIGEST");
    expect(a.equals(b)).toBe(false);
    const c = signers.RSASSA_PKCS1_V1_5_SHA_256.sign(rsa2048.privateKey, digest, "DIGEST");
    expect(c.equals(signers.RSASSA_PKCS1_V1_5_SHA_256.sign(rsa2048.privateKey, message, "RAW"))).toBe(true);
  });
});
