/**
 * Finding (issue 8, item 7): AES-256-GCM with random 96-bit nonces is safe for about 2^32 messages per
 * key version, and nothing enforced that. New ciphertexts are format v2 (XAES-256-GCM, 192-bit random
 * nonces, about 2^80 messages per key version); v1 ciphertexts keep decrypting on every path that
 * decrypts — native decrypt, batch decrypt, re-encrypt, and the AWS API — and every tampered v2
 * ciphertext is InvalidCiphertext.
 */
import type { AddressInfo } from "node:net";
import { DecryptCommand, EncryptCommand, InvalidCiphertextException, KMSClient, ReEncryptCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIN_CIPHERTEXT_LENGTH_V2, algorithmIdsV2, type CiphertextAlgorithm, type EncryptionContext } from "@tessera/protocol";
import { ManualClock } from "@tessera/server";
import { encryptEnvelope } from "../../packages/server/src/format/envelope.js";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";

let t: TestApp;
let aws: KMSClient;
let plainKeyId = "";
let derivedKeyId = "";

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  // SigV4 checks request times against the server's clock: run it on the real time.
  t = await startTestApp({ clock: new ManualClock(Date.now()) });
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  plainKeyId = (await t.call("POST", "/v1/keys", { name: "orders" })).body.keyId;
  derivedKeyId = (await t.call("POST", "/v1/keys", { name: "vm-disks", derived: true })).body.keyId;
  const accessKey = (await t.call("POST", "/v1/auth/access-keys", { role: "operator" })).body;
  aws = new KMSClient({
    region: "us-east-1",
    endpoint: `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`,
    credentials: { accessKeyId: accessKey.accessKeyId, secretAccessKey: accessKey.secretAccessKey },
    maxAttempts: 1,
  });
});

afterAll(async () => {
  aws?.destroy();
  await t?.close();
});

/** A v1 ciphertext under the key's current material, exactly as the server wrote them before format v2. */
async function v1Ciphertext(keyId: string, plaintext: string, context: EncryptionContext | undefined, algorithm: CiphertextAlgorithm): Promise<string> {
  const handle = await t.app.keys.keyring.resolve(keyId);
  const material = handle.material(handle.row.primaryVersion)!;
  return b64(encryptEnvelope({ algorithm, keyId, keyVersion: handle.row.primaryVersion, material, plaintext: Buffer.from(plaintext), context }));
}

function expectV2(ciphertextB64: string, algorithm: keyof typeof algorithmIdsV2, plaintextLength: number): void {
  const bytes = Buffer.from(ciphertextB64, "base64");
  expect(bytes[0]).toBe(0x54);
  expect(bytes[1]).toBe(0x02);
  expect(bytes[2]).toBe(algorithmIdsV2[algorithm]);
  // 23-byte header, 24-byte nonce, ciphertext, 16-byte tag.
  expect(bytes.length).toBe(MIN_CIPHERTEXT_LENGTH_V2 + plaintextLength);
}

describe("new encryptions are format v2 (XAES-256-GCM, 192-bit nonces)", () => {
  it("Encrypt, GenerateDataKey and ReEncrypt all write v2, for plain and derived keys", async () => {
    const enc = await t.call("POST", "/v1/keys/orders/encrypt", { plaintext: b64("hello") });
    expect(enc.status).toBe(200);
    expectV2(enc.body.ciphertext, "XAES_256_GCM", 5);

    const derived = await t.call("POST", "/v1/keys/vm-disks/encrypt", { plaintext: b64("disk"), context: { vm_id: "vm-1" } });
    expectV2(derived.body.ciphertext, "XAES_256_GCM_DERIVED", 4);

    const dk = await t.call("POST", "/v1/keys/orders/generate-data-key", {});
    expectV2(dk.body.ciphertext, "XAES_256_GCM", 32);

    const re = await t.call("POST", "/v1/reencrypt", { ciphertext: enc.body.ciphertext });
    expectV2(re.body.ciphertext, "XAES_256_GCM", 5);

    const viaAws = await aws.send(new EncryptCommand({ KeyId: plainKeyId, Plaintext: Buffer.from("aws") }));
    expectV2(Buffer.from(viaAws.CiphertextBlob!).toString("base64"), "XAES_256_GCM", 3);
  });

  it("draws a distinct 24-byte nonce for every message", async () => {
    const nonces = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const enc = await t.call("POST", "/v1/keys/orders/encrypt", { plaintext: b64("same") });
      nonces.add(Buffer.from(enc.body.ciphertext, "base64").subarray(23, 47).toString("hex"));
    }
    expect(nonces.size).toBe(50);
  });
});

describe("v1 ciphertexts keep decrypting on every path", () => {
  it("native decrypt and batch decrypt open v1 (plain and derived)", async () => {
    const plain = await v1Ciphertext(plainKeyId, "old plain", undefined, "AES_256_GCM");
    const derived = await v1Ciphertext(derivedKeyId, "old derived", { vm_id: "vm-1" }, "AES_256_GCM_DERIVED");
    expect(Buffer.from(plain, "base64")[1]).toBe(0x01);

    const one = await t.call("POST", "/v1/decrypt", { ciphertext: plain });
    expect(one.status).toBe(200);
    expect(unb64(one.body.plaintext)).toBe("old plain");
    const two = await t.call("POST", "/v1/decrypt", { ciphertext: derived, context: { vm_id: "vm-1" } });
    expect(unb64(two.body.plaintext)).toBe("old derived");

    const batch = await t.call("POST", "/v1/batch/decrypt", {
      items: [{ ciphertext: plain }, { ciphertext: derived, context: { vm_id: "vm-1" } }],
    });
    expect(batch.body.results.map((r: { plaintext: string }) => unb64(r.plaintext))).toEqual(["old plain", "old derived"]);
  });

  it("re-encrypting a v1 ciphertext yields v2 that decrypts to the same plaintext", async () => {
    const v1 = await v1Ciphertext(derivedKeyId, "migrate me", { vm_id: "vm-2" }, "AES_256_GCM_DERIVED");
    const re = await t.call("POST", "/v1/reencrypt", { ciphertext: v1, sourceContext: { vm_id: "vm-2" }, destinationContext: { vm_id: "vm-2" } });
    expect(re.status).toBe(200);
    expectV2(re.body.ciphertext, "XAES_256_GCM_DERIVED", 10);
    const back = await t.call("POST", "/v1/decrypt", { ciphertext: re.body.ciphertext, context: { vm_id: "vm-2" } });
    expect(unb64(back.body.plaintext)).toBe("migrate me");
  });

  it("the AWS API decrypts and re-encrypts v1 and v2", async () => {
    const v1 = await v1Ciphertext(plainKeyId, "aws old", undefined, "AES_256_GCM");
    const opened = await aws.send(new DecryptCommand({ CiphertextBlob: Buffer.from(v1, "base64") }));
    expect(Buffer.from(opened.Plaintext!).toString()).toBe("aws old");

    const re = await aws.send(new ReEncryptCommand({ CiphertextBlob: Buffer.from(v1, "base64"), DestinationKeyId: plainKeyId }));
    const v2 = Buffer.from(re.CiphertextBlob!).toString("base64");
    expectV2(v2, "XAES_256_GCM", 7);
    const again = await aws.send(new DecryptCommand({ CiphertextBlob: Buffer.from(v2, "base64") }));
    expect(Buffer.from(again.Plaintext!).toString()).toBe("aws old");
  });

  it("a v1 ciphertext does not open as derived, nor a derived one as plain (algorithm bound to the key's mode)", async () => {
    const plainV1 = await v1Ciphertext(plainKeyId, "x", { vm_id: "vm-1" }, "AES_256_GCM_DERIVED");
    const r = await t.call("POST", "/v1/decrypt", { ciphertext: plainV1, context: { vm_id: "vm-1" } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe("InvalidCiphertext");
  });
});

describe("every tampered v2 ciphertext is InvalidCiphertext", () => {
  it("on the native API: every byte flipped, truncations, an appended byte", async () => {
    const enc = await t.call("POST", "/v1/keys/orders/encrypt", { plaintext: b64("tamper"), context: { a: "b" } });
    const good = Buffer.from(enc.body.ciphertext, "base64");
    const variants: Buffer[] = [];
    for (let at = 0; at < good.length; at++) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x01 << at % 8;
      variants.push(bad);
    }
    for (const length of [0, 1, 2, 22, 23, 46, 47, MIN_CIPHERTEXT_LENGTH_V2 - 1, good.length - 1]) variants.push(good.subarray(0, length));
    variants.push(Buffer.concat([good, Buffer.of(0)]));
    for (const bad of variants) {
      const r = await t.call("POST", "/v1/decrypt", { ciphertext: bad.toString("base64"), context: { a: "b" } });
      // An empty ciphertext fails the schema (InvalidInput); everything else reaches the decoder.
      if (bad.length === 0) continue;
      expect({ status: r.status, code: r.body.error?.code }).toEqual({ status: 400, code: "InvalidCiphertext" });
    }
    const right = await t.call("POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext, context: { a: "b" } });
    expect(unb64(right.body.plaintext)).toBe("tamper");
  });

  it("on the AWS API: a flipped nonce, body or tag byte is InvalidCiphertextException", async () => {
    const enc = await aws.send(new EncryptCommand({ KeyId: plainKeyId, Plaintext: Buffer.from("aws tamper") }));
    const good = Buffer.from(enc.CiphertextBlob!);
    for (const at of [1, 2, 23, 35, 46, 47, good.length - 1]) {
      const bad = Buffer.from(good);
      bad[at]! ^= 0x80;
      await expect(aws.send(new DecryptCommand({ CiphertextBlob: bad }))).rejects.toBeInstanceOf(InvalidCiphertextException);
    }
  });
});
