/**
 * ML-DSA (FIPS 204) interoperability with an independent implementation, @noble/post-quantum (pure
 * JavaScript, no OpenSSL): it verifies Tessera's ML-DSA-44/65/87 signatures made through the API with
 * the public key from GetPublicKey, and Tessera's verifier (crypto/signers.ts, OpenSSL) accepts
 * signatures @noble makes with its own keys — and rejects them once changed.
 */
import { generateKeyPairSync, createPublicKey } from "node:crypto";
import { ml_dsa44, ml_dsa65, ml_dsa87 } from "@noble/post-quantum/ml-dsa.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signers } from "../../packages/server/src/crypto/signers.js";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

const levels = [
  ["ML_DSA_44", "ml-dsa-44", ml_dsa44],
  ["ML_DSA_65", "ml-dsa-65", ml_dsa65],
  ["ML_DSA_87", "ml-dsa-87", ml_dsa87],
] as const;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** The raw public key at the end of a DER SubjectPublicKeyInfo (its BIT STRING's content). */
const rawPublicKey = (spki: Buffer, length: number) => spki.subarray(spki.length - length);

describe("ML-DSA against @noble/post-quantum", () => {
  it.each(levels)("%s: @noble verifies Tessera's signature with the key from GetPublicKey, and not a changed message", async (spec, _type, noble) => {
    const name = spec.toLowerCase().replaceAll("_", "-");
    expect((await t.call("POST", "/v1/keys", { name, keySpec: spec, keyUsage: "SIGN_VERIFY" })).status).toBe(201);
    const message = Buffer.from(`signed by Tessera with ${spec}`);
    const signed = await t.call("POST", `/v1/keys/${name}/sign`, { message: b64(message), signingAlgorithm: "ML_DSA_SHAKE_256" });
    const signature = Buffer.from(signed.body.signature, "base64");
    expect(signature).toHaveLength(noble.lengths.signature!);
    const spki = Buffer.from((await t.call("GET", `/v1/keys/${name}/public-key`)).body.publicKey, "base64");
    const publicKey = rawPublicKey(spki, noble.lengths.publicKey!);
    expect(noble.verify(signature, message, publicKey)).toBe(true);
    expect(noble.verify(signature, Buffer.from("another message"), publicKey)).toBe(false);
  });

  it.each(levels)("%s: Tessera's verifier accepts @noble's signature under @noble's key, and not a changed one", (_spec, type, noble) => {
    const { publicKey, secretKey } = noble.keygen();
    const message = Buffer.from("signed by @noble/post-quantum");
    const signature = noble.sign(message, secretKey);
    // The SubjectPublicKeyInfo header for this parameter set, from a key OpenSSL made, around @noble's raw key.
    const header = generateKeyPairSync(type).publicKey.export({ type: "spki", format: "der" });
    const spki = Buffer.concat([header.subarray(0, header.length - publicKey.length), publicKey]);
    const key = createPublicKey({ key: spki, format: "der", type: "spki" });
    expect(signers.ML_DSA_SHAKE_256.verify(key, message, "RAW", signature)).toBe(true);
    const changed = Buffer.from(signature);
    changed[10]! ^= 1;
    expect(signers.ML_DSA_SHAKE_256.verify(key, message, "RAW", changed)).toBe(false);
    expect(signers.ML_DSA_SHAKE_256.verify(key, Buffer.from("other"), "RAW", signature)).toBe(false);
  });
});
