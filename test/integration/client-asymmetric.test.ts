/** The SDK's asymmetric methods against a real server on a loopback socket. */
import type { AddressInfo } from "node:net";
import { createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraClient } from "@tessera/client";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let tessera: TesseraClient;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  tessera = new TesseraClient({ address: `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`, token: t.rootToken });
});
afterAll(async () => {
  await t?.close();
});

describe("TesseraClient asymmetric methods", () => {
  it("sign → verify with the version Sign named; getPublicKey per version", async () => {
    await tessera.createKey({ name: "sdk-signer", keySpec: "ECC_NIST_EDWARDS25519", keyUsage: "SIGN_VERIFY" });
    const req = { message: b64("release 1.2.3"), signingAlgorithm: "ED25519_SHA_512" as const };
    const v1 = await tessera.sign("sdk-signer", req);
    await tessera.rotateKey("sdk-signer");
    expect((await tessera.verify("sdk-signer", { ...req, signature: v1.signature, keyVersion: v1.keyVersion })).signatureValid).toBe(true);
    expect((await tessera.verify("sdk-signer", { ...req, signature: v1.signature })).signatureValid).toBe(false);
    const [p1, p2] = [await tessera.getPublicKey("sdk-signer", 1), await tessera.getPublicKey("sdk-signer")];
    expect([p1.keyVersion, p2.keyVersion, p1.keySpec]).toEqual([1, 2, "ECC_NIST_EDWARDS25519"]);
    expect(p1.publicKey).not.toBe(p2.publicKey);
  });

  it("generateDataKeyPair(+WithoutPlaintext) and deriveSharedSecret", async () => {
    await tessera.createKey({ name: "sdk-wrap" });
    const pair = await tessera.generateDataKeyPair("sdk-wrap", { keyPairSpec: "ECC_NIST_P256" });
    expect((await tessera.decrypt({ ciphertext: pair.privateKeyCiphertext })).plaintext).toBe(pair.privateKeyPlaintext);
    const without = await tessera.generateDataKeyPairWithoutPlaintext("sdk-wrap", { keyPairSpec: "RSA_2048" });
    expect(without).not.toHaveProperty("privateKeyPlaintext");

    await tessera.createKey({ name: "sdk-ecdh", keySpec: "ECC_NIST_P384", keyUsage: "KEY_AGREEMENT" });
    const peer = generateKeyPairSync("ec", { namedCurve: "secp384r1" });
    const shared = await tessera.deriveSharedSecret("sdk-ecdh", { keyAgreementAlgorithm: "ECDH", publicKey: b64(peer.publicKey.export({ type: "spki", format: "der" })) });
    const ours = createPublicKey({ key: Buffer.from((await tessera.getPublicKey("sdk-ecdh")).publicKey, "base64"), format: "der", type: "spki" });
    expect(shared.sharedSecret).toBe(b64(diffieHellman({ privateKey: peer.privateKey, publicKey: ours })));
  });

  it("rejects a usage error with the catalogue code", async () => {
    await tessera.createKey({ name: "sdk-sym" });
    const err = await tessera.sign("sdk-sym", { message: b64("x"), signingAlgorithm: "ECDSA_SHA_256" }).then(() => undefined, (e: unknown) => e);
    expect(err).toMatchObject({ code: "InvalidKeyUsage" });
  });
});
