/** The key-spec table: what each spec may do, and the checks every operation makes against it. */
import { describe, expect, it } from "vitest";
import {
  algorithmsFor,
  asymmetricKeySpecs,
  canonicalKeySpec,
  checkKeyUsage,
  creationUsage,
  dataKeyPairSpecs,
  encryptionAlgorithms,
  keyAgreementAlgorithms,
  keySpecNames,
  keySpecs,
  keyUsages,
  macAlgorithms,
  signingAlgorithms,
  type KeySpecInfo,
} from "./key-specs.js";

const algorithmTables = {
  ENCRYPT_DECRYPT: encryptionAlgorithms,
  SIGN_VERIFY: signingAlgorithms,
  GENERATE_VERIFY_MAC: macAlgorithms,
  KEY_AGREEMENT: keyAgreementAlgorithms,
} as const;

describe("the key-spec table", () => {
  it.each(keySpecNames)("%s allows at least one usage, each with at least one algorithm of that usage's table", (spec) => {
    const info: KeySpecInfo = keySpecs[spec];
    const usages = Object.entries(info.usages);
    expect(usages.length).toBeGreaterThan(0);
    for (const [usage, algorithms] of usages) {
      expect(keyUsages).toContain(usage);
      expect(algorithms!.length).toBeGreaterThan(0);
      for (const a of algorithms!) expect(Object.keys(algorithmTables[usage as keyof typeof algorithmTables]), `${spec} ${usage}`).toContain(a);
    }
    if (info.defaultUsage !== undefined) expect(Object.keys(info.usages)).toContain(info.defaultUsage);
  });

  it("names AWS's key specs, with ECC_NIST_EDWARDS25519 for Ed25519", () => {
    expect([...keySpecNames].sort()).toEqual(
      [
        "SYMMETRIC_DEFAULT",
        "RSA_2048",
        "RSA_3072",
        "RSA_4096",
        "ECC_NIST_P256",
        "ECC_NIST_P384",
        "ECC_NIST_P521",
        "ECC_SECG_P256K1",
        "ECC_NIST_EDWARDS25519",
        "ML_DSA_44",
        "ML_DSA_65",
        "ML_DSA_87",
        "HMAC_224",
        "HMAC_256",
        "HMAC_384",
        "HMAC_512",
        // Tessera's own: AWS has no SM4 spec (SYMMETRIC_DEFAULT is SM4 in its China Regions) and no SM3 MAC.
        "SM4",
        "HMAC_SM3",
        "SM2",
        // Tessera's own, for Vault's aes128-gcm96 and chacha20-poly1305 transit keys.
        "AES_128",
        "CHACHA20_POLY1305",
      ].sort(),
    );
    expect(asymmetricKeySpecs).not.toContain("SYMMETRIC_DEFAULT");
    expect(asymmetricKeySpecs).toHaveLength(keySpecNames.length - 9);
  });

  it("gives HMAC keys GENERATE_VERIFY_MAC with their one algorithm, and SM4 keys ENCRYPT_DECRYPT with SYMMETRIC_DEFAULT", () => {
    expect(algorithmsFor("HMAC_224", "GENERATE_VERIFY_MAC")).toEqual(["HMAC_SHA_224"]);
    expect(algorithmsFor("HMAC_256", "GENERATE_VERIFY_MAC")).toEqual(["HMAC_SHA_256"]);
    expect(algorithmsFor("HMAC_384", "GENERATE_VERIFY_MAC")).toEqual(["HMAC_SHA_384"]);
    expect(algorithmsFor("HMAC_512", "GENERATE_VERIFY_MAC")).toEqual(["HMAC_SHA_512"]);
    expect(algorithmsFor("HMAC_SM3", "GENERATE_VERIFY_MAC")).toEqual(["HMAC_SM3"]);
    expect(algorithmsFor("HMAC_256", "ENCRYPT_DECRYPT")).toEqual([]);
    expect(algorithmsFor("SM4", "ENCRYPT_DECRYPT")).toEqual(["SYMMETRIC_DEFAULT"]);
    expect(algorithmsFor("SM4", "GENERATE_VERIFY_MAC")).toEqual([]);
  });

  it("gives SM2 keys SM2DSA (RAW or a 32-byte SM3 DIGEST) and SM2PKE, as AWS in its China Regions", () => {
    expect(algorithmsFor("SM2", "SIGN_VERIFY")).toEqual(["SM2DSA"]);
    expect(algorithmsFor("SM2", "ENCRYPT_DECRYPT")).toEqual(["SM2PKE"]);
    expect(signingAlgorithms.SM2DSA).toEqual({ messageTypes: ["RAW", "DIGEST"], digestLength: 32 });
    expect(encryptionAlgorithms.SM2PKE.maxPlaintextBytes()).toBe(1024);
  });

  it("lets each curve sign only with the hash of its size, as AWS", () => {
    expect(algorithmsFor("ECC_NIST_P256", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_256"]);
    expect(algorithmsFor("ECC_NIST_P384", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_384"]);
    expect(algorithmsFor("ECC_NIST_P521", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_512"]);
    expect(algorithmsFor("ECC_SECG_P256K1", "SIGN_VERIFY")).toEqual(["ECDSA_SHA_256"]);
    expect(algorithmsFor("ECC_SECG_P256K1", "KEY_AGREEMENT")).toEqual([]);
    expect(algorithmsFor("RSA_3072", "ENCRYPT_DECRYPT")).toEqual(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
    expect(algorithmsFor("ML_DSA_65", "SIGN_VERIFY")).toEqual(["ML_DSA_SHAKE_256"]);
  });

  it("allows DIGEST messages only for algorithms that sign a precomputed hash, each with its hash length", () => {
    for (const [name, a] of Object.entries(signingAlgorithms)) {
      const messageTypes: readonly string[] = a.messageTypes;
      // SM2DSA's digest is SM3(Z ‖ M): 32 bytes.
      if (messageTypes.includes("DIGEST")) expect((a as { digestLength?: number }).digestLength, name).toBe(name === "SM2DSA" ? 32 : Number(name.slice(-3)) / 8);
      else expect(name).toMatch(/^(ED25519_SHA_512|ML_DSA_SHAKE_256)$/);
    }
  });

  it("makes data key pairs of RSA, the NIST and SECG curves, Ed25519 and SM2, not ML-DSA", () => {
    expect([...dataKeyPairSpecs].sort()).toEqual(
      ["RSA_2048", "RSA_3072", "RSA_4096", "ECC_NIST_P256", "ECC_NIST_P384", "ECC_NIST_P521", "ECC_SECG_P256K1", "ECC_NIST_EDWARDS25519", "SM2"].sort(),
    );
  });

  it("bounds RSA-OAEP plaintext by RFC 8017 §7.1.1: k − 2·hLen − 2", () => {
    expect(encryptionAlgorithms.RSAES_OAEP_SHA_1.maxPlaintextBytes(2048)).toBe(214);
    expect(encryptionAlgorithms.RSAES_OAEP_SHA_256.maxPlaintextBytes(2048)).toBe(190);
    expect(encryptionAlgorithms.RSAES_OAEP_SHA_256.maxPlaintextBytes(4096)).toBe(446);
  });
});

describe("creating a key", () => {
  it("AES_256 is an older name of SYMMETRIC_DEFAULT", () => {
    expect(canonicalKeySpec("AES_256")).toBe("SYMMETRIC_DEFAULT");
    expect(canonicalKeySpec("RSA_2048")).toBe("RSA_2048");
  });

  it("a symmetric key defaults to ENCRYPT_DECRYPT; an asymmetric one must name its usage (InvalidInput at /keyUsage)", () => {
    expect(creationUsage("SYMMETRIC_DEFAULT", undefined)).toBe("ENCRYPT_DECRYPT");
    expect(creationUsage("RSA_2048", "SIGN_VERIFY")).toBe("SIGN_VERIFY");
    expect(() => creationUsage("RSA_2048", undefined)).toThrow(expect.objectContaining({ code: "InvalidInput", field: "/keyUsage" }));
  });

  it("refuses a usage the spec does not have", () => {
    for (const [spec, usage] of [
      ["SYMMETRIC_DEFAULT", "SIGN_VERIFY"],
      ["ECC_SECG_P256K1", "KEY_AGREEMENT"],
      ["ECC_NIST_EDWARDS25519", "KEY_AGREEMENT"],
      ["ML_DSA_44", "ENCRYPT_DECRYPT"],
      ["RSA_4096", "KEY_AGREEMENT"],
      ["ECC_NIST_P256", "ENCRYPT_DECRYPT"],
    ] as const) {
      expect(() => creationUsage(spec, usage), `${spec} ${usage}`).toThrow(expect.objectContaining({ code: "InvalidInput", field: "/keyUsage" }));
    }
  });
});

describe("checkKeyUsage", () => {
  const signingRsa = { keySpec: "RSA_2048", keyUsage: "SIGN_VERIFY", name: "r" } as const;

  it("passes an operation of the key's usage with one of its algorithms", () => {
    expect(() => checkKeyUsage(signingRsa, "SIGN_VERIFY", "RSASSA_PSS_SHA_256")).not.toThrow();
    expect(() => checkKeyUsage({ keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT" }, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT")).not.toThrow();
  });

  it("refuses another usage, and another spec's algorithm, with InvalidKeyUsage", () => {
    expect(() => checkKeyUsage(signingRsa, "ENCRYPT_DECRYPT", "RSAES_OAEP_SHA_256")).toThrow(expect.objectContaining({ code: "InvalidKeyUsage" }));
    expect(() => checkKeyUsage(signingRsa, "SIGN_VERIFY", "ECDSA_SHA_256")).toThrow(expect.objectContaining({ code: "InvalidKeyUsage" }));
    expect(() => checkKeyUsage({ keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" }, "SIGN_VERIFY", "ECDSA_SHA_384")).toThrow(
      expect.objectContaining({ code: "InvalidKeyUsage" }),
    );
    expect(() => checkKeyUsage({ keySpec: "RSA_2048", keyUsage: "ENCRYPT_DECRYPT" }, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT")).toThrow(
      expect.objectContaining({ code: "InvalidKeyUsage" }),
    );
  });
});
