/**
 * SM2 interoperability with an independent implementation, both ways: Debian's `openssl` command
 * line (OpenSSL 3.0's GM/T SM2: `pkeyutl` with `-rawin -digest sm3 -pkeyopt distid:…` for SM2DSA,
 * `-encrypt`/`-decrypt` for SM2PKE in GM/T 0009 DER). Keys cross too: OpenSSL's PKCS#8 and SPKI load
 * here, and ours load there.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { opensslIn, opensslStatusIn } from "../helpers/openssl.js";
import { Sm2PrivateKey, Sm2PublicKey, sm2Decrypt, sm2Encrypt, sm2Sign, sm2Verify } from "../../packages/server/src/crypto/index.js";

let dir: string;
const openssl = (...args: string[]): Buffer => opensslIn(dir, ...args);
const opensslStatus = (...args: string[]): number => opensslStatusIn(dir, ...args);
const pem = (label: string, der: Uint8Array): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/.{64}/g, "$&\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-sm2-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A key made by OpenSSL, loaded here from its PKCS#8 and SPKI. */
function opensslKey(name: string): { key: Sm2PrivateKey; pub: Sm2PublicKey } {
  openssl("genpkey", "-algorithm", "SM2", "-out", `${name}.pem`);
  openssl("pkey", "-in", `${name}.pem`, "-pubout", "-out", `${name}.pub`);
  const pkcs8 = openssl("pkcs8", "-topk8", "-nocrypt", "-in", `${name}.pem`, "-outform", "DER");
  const spki = openssl("pkey", "-in", `${name}.pem`, "-pubout", "-outform", "DER");
  return { key: Sm2PrivateKey.fromPkcs8(pkcs8), pub: Sm2PublicKey.fromSpki(spki) };
}

/** A key made here, written out for OpenSSL as PKCS#8 and SPKI PEM. */
function ourKey(name: string): Sm2PrivateKey {
  const key = Sm2PrivateKey.generate();
  writeFileSync(join(dir, `${name}.pem`), pem("PRIVATE KEY", key.toPkcs8()));
  writeFileSync(join(dir, `${name}.pub`), pem("PUBLIC KEY", key.publicKey.toSpki()));
  return key;
}

const verifyArgs = (pub: string, msg: string, sig: string, id: string) =>
  ["pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3", "-in", msg, "-sigfile", sig, "-pkeyopt", `distid:${id}`] as const;

describe("SM2 keys cross between OpenSSL and Tessera", () => {
  it("an OpenSSL key's PKCS#8 and SPKI load here and agree", () => {
    const { key, pub } = opensslKey("k0");
    expect(key.publicKey.raw.equals(pub.raw)).toBe(true);
  });

  it("our PKCS#8 and SPKI load in OpenSSL, which derives the same public key", () => {
    const key = ourKey("o0");
    const derived = openssl("pkey", "-in", "o0.pem", "-pubout", "-outform", "DER");
    expect(derived.equals(key.publicKey.toSpki())).toBe(true);
    expect(openssl("pkey", "-pubin", "-in", "o0.pub", "-outform", "DER").equals(key.publicKey.toSpki())).toBe(true);
  });
});

describe("SM2DSA with OpenSSL", () => {
  const message = Buffer.from("tessera: SM2 signatures interoperate");

  it.each([
    ["the default id", undefined, "1234567812345678"],
    ["a caller-supplied id", "vm-42@tessera.example", "vm-42@tessera.example"],
  ])("OpenSSL verifies our signature made with %s, and refuses it under another id", (_name, id, distid) => {
    const key = ourKey("s1");
    writeFileSync(join(dir, "m1.bin"), message);
    writeFileSync(join(dir, "s1.sig"), sm2Sign(key, id === undefined ? { message } : { message, id: Buffer.from(id) }));
    expect(openssl(...verifyArgs("s1.pub", "m1.bin", "s1.sig", distid)).toString()).toContain("Signature Verified Successfully");
    expect(opensslStatus(...verifyArgs("s1.pub", "m1.bin", "s1.sig", "another-id"))).not.toBe(0);
  });

  it.each([
    ["the default id", undefined],
    ["a caller-supplied id", "vm-42@tessera.example"],
  ])("we verify OpenSSL's signature made with %s, and refuse it under another id or message", (_name, id) => {
    const { pub } = opensslKey("s2");
    writeFileSync(join(dir, "m2.bin"), message);
    openssl("pkeyutl", "-sign", "-inkey", "s2.pem", "-rawin", "-digest", "sm3", "-in", "m2.bin", "-out", "s2.sig", "-pkeyopt", `distid:${id ?? "1234567812345678"}`);
    const sig = readFileSync(join(dir, "s2.sig"));
    const input = id === undefined ? { message } : { message, id: Buffer.from(id) };
    expect(sm2Verify(pub, input, sig)).toBe(true);
    expect(sm2Verify(pub, { message, id: Buffer.from("another-id") }, sig)).toBe(false);
    expect(sm2Verify(pub, { message: Buffer.concat([message, Buffer.of(0)]) }, sig)).toBe(false);
  });

  it("OpenSSL's signature without -pkeyopt distid uses an empty id, not the default one", () => {
    // Worth knowing when verifying offline: OpenSSL 3.0 signs with an empty id unless told otherwise.
    const { pub } = opensslKey("s3");
    writeFileSync(join(dir, "m3.bin"), message);
    openssl("pkeyutl", "-sign", "-inkey", "s3.pem", "-rawin", "-digest", "sm3", "-in", "m3.bin", "-out", "s3.sig");
    const sig = readFileSync(join(dir, "s3.sig"));
    expect(sm2Verify(pub, { message }, sig)).toBe(false);
    expect(sm2Verify(pub, { message, id: new Uint8Array(0) }, sig)).toBe(true);
  });
});

describe("SM2PKE with OpenSSL", () => {
  it("OpenSSL decrypts what we encrypt (GM/T 0009 DER, C1 ‖ C3 ‖ C2)", () => {
    const key = ourKey("e1");
    for (const size of [1, 19, 32, 33, 1000]) {
      const plaintext = Buffer.alloc(size, size);
      writeFileSync(join(dir, "e1.ct"), sm2Encrypt(key.publicKey, plaintext));
      expect(openssl("pkeyutl", "-decrypt", "-inkey", "e1.pem", "-in", "e1.ct").equals(plaintext)).toBe(true);
    }
  });

  it("we decrypt what OpenSSL encrypts, and refuse it under another key", () => {
    const { key } = opensslKey("e2");
    const plaintext = Buffer.from("a data key, for instance 32 bytes");
    writeFileSync(join(dir, "e2.bin"), plaintext);
    openssl("pkeyutl", "-encrypt", "-pubin", "-inkey", "e2.pub", "-in", "e2.bin", "-out", "e2.ct");
    const ct = readFileSync(join(dir, "e2.ct"));
    expect(sm2Decrypt(key, ct).equals(plaintext)).toBe(true);
    expect(() => sm2Decrypt(Sm2PrivateKey.generate(), ct)).toThrow(expect.objectContaining({ code: "InvalidCiphertext" }));
  });
});
