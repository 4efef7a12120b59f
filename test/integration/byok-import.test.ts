/**
 * Bring your own key. Material made and wrapped outside Tessera — by the `openssl` command line
 * (RSA-OAEP-SHA-256 with pkeyutl, and AWS's documented RSA_AES_KEY_WRAP procedure: `enc
 * -id-aes256-wrap-pad` then pkeyutl) and by the official AWS SDK's caller — is imported through the CLI
 * and the AWS API, and then used: what Tessera derives, encrypts or exports from it matches the
 * material the owner kept.
 */
import { execFileSync } from "node:child_process";
import { constants, createCipheriv, createHmac, generateKeyPairSync, createPrivateKey, createPublicKey, hkdfSync, publicEncrypt, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CreateKeyCommand,
  DecryptCommand,
  DeleteImportedKeyMaterialCommand,
  DescribeKeyCommand,
  EnableKeyRotationCommand,
  EncryptCommand,
  GenerateMacCommand,
  GetParametersForImportCommand,
  GetPublicKeyCommand,
  ImportKeyMaterialCommand,
  type KMSClient,
} from "@aws-sdk/client-kms";
import { encodeContext } from "@tessera/protocol";

/** Import parameters are valid for 24 hours, as AWS's. */
const IMPORT_PARAMETERS_TTL_MS = 24 * 3600 * 1000;
import { awsError, startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";
import { runCli } from "../helpers/cli-process.js";
import { runExample } from "../helpers/examples.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-byok-"));
const rootToken = `root-${randomBytes(12).toString("hex")}`;
let server: ServerProcess;
const cli = (args: string[]) => runCli(args, { address: server.url, token: rootToken });
const file = (name: string) => join(dir, name);
const openssl = (...args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: ["ignore", "pipe", "pipe"] });
const OAEP_SHA256 = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"];

const deriveLocally = (material: Buffer, context: Record<string, string>) =>
  Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), Buffer.concat([Buffer.from("tessera/v1/derive"), encodeContext(context)]), 32)).toString("base64");

async function json(args: string[]): Promise<any> {
  const r = await cli([...args, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
}

async function importParams(key: string, algorithm: string, tag: string): Promise<void> {
  await json(["key", "import-params", key, "--algorithm", algorithm, "--spec", "RSA_3072", "--public-key-out", file(`${tag}.wrapping.pem`), "--token-out", file(`${tag}.token`)]);
}

/** AWS's documented RSA_AES_KEY_WRAP_SHA_256 procedure, step by step with openssl. */
function awsKeyWrap(material: string, tag: string): string {
  openssl("rand", "-out", `${tag}.aes`, "32");
  const aesHex = readFileSync(file(`${tag}.aes`)).toString("hex");
  openssl("enc", "-id-aes256-wrap-pad", "-K", aesHex, "-iv", "A65959A6", "-in", material, "-out", `${tag}.material.wrapped`);
  openssl("pkeyutl", "-encrypt", "-in", `${tag}.aes`, "-out", `${tag}.aes.wrapped`, "-inkey", `${tag}.wrapping.pem`, "-pubin", ...OAEP_SHA256);
  writeFileSync(file(`${tag}.blob`), Buffer.concat([readFileSync(file(`${tag}.aes.wrapped`)), readFileSync(file(`${tag}.material.wrapped`))]));
  return file(`${tag}.blob`);
}

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--data", join(dir, "data"), "--dev-root-token", rootToken], { ready: "unsealed" });
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("BYOK through the CLI, material wrapped by openssl", () => {
  it("a key of origin EXTERNAL waits for its material: PendingImport, no version, refuses cryptography and rotation", async () => {
    const key = await json(["key", "create", "byok-a", "--origin", "external"]);
    expect(key).toMatchObject({ origin: "EXTERNAL", state: "PendingImport", primaryVersion: 0 });
    const enc = await cli(["encrypt", "--key", "byok-a", "--json", "x"]);
    expect(JSON.parse(enc.stderr).error.code).toBe("InvalidState");
    const rotate = await cli(["key", "rotate", "byok-a", "--json"]);
    expect(JSON.parse(rotate.stderr).error.code).toBe("InvalidState");
    const auto = await cli(["key", "update", "byok-a", "--rotation-period", "90d", "--json"]);
    expect(JSON.parse(auto.stderr).error).toMatchObject({ code: "InvalidInput", field: "/rotationPeriodSeconds" });
  });

  it("imports AES-256 material wrapped with openssl pkeyutl (RSAES_OAEP_SHA_256): Derive equals HKDF over the owner's copy", async () => {
    openssl("rand", "-out", "a.material", "32");
    await importParams("byok-a", "RSAES_OAEP_SHA_256", "a");
    openssl("pkeyutl", "-encrypt", "-in", "a.material", "-out", "a.wrapped", "-inkey", "a.wrapping.pem", "-pubin", ...OAEP_SHA256);
    const imported = await json(["key", "import", "byok-a", "--import-token", file("a.token"), "--material", file("a.wrapped")]);
    expect(imported).toMatchObject({ state: "Enabled", primaryVersion: 1, origin: "EXTERNAL" });
    const derived = await json(["derive", "--key", "byok-a", "--context", "vm=web-7"]);
    expect(derived.derivedKey).toBe(deriveLocally(readFileSync(file("a.material")), { vm: "web-7" }));
  });

  it("spends the import token: a second import with it is refused, and changes nothing", async () => {
    const again = await cli(["key", "import", "byok-a", "--import-token", file("a.token"), "--material", file("a.wrapped"), "--json"]);
    expect(JSON.parse(again.stderr).error).toMatchObject({ code: "InvalidInput", field: "/importToken" });
    expect((await json(["key", "show", "byok-a"])).primaryVersion).toBe(1);
  });

  it("imports new material as a new primary version (AWS's documented RSA_AES_KEY_WRAP procedure); the old version still decrypts", async () => {
    const old = await json(["encrypt", "--key", "byok-a", "before"]);
    openssl("rand", "-out", "b.material", "32");
    await importParams("byok-a", "RSA_AES_KEY_WRAP_SHA_256", "b");
    const imported = await json(["key", "import", "byok-a", "--import-token", file("b.token"), "--material", awsKeyWrap(file("b.material"), "b")]);
    expect(imported.primaryVersion).toBe(2);
    expect((await json(["derive", "--key", "byok-a", "--context", "vm=web-7"])).derivedKey).toBe(deriveLocally(readFileSync(file("b.material")), { vm: "web-7" }));
    expect(Buffer.from((await json(["decrypt", old.ciphertext])).plaintext, "base64").toString()).toBe("before");
  });

  it("refuses material wrapped to another key (InvalidCiphertext) and material of the wrong length (InvalidInput)", async () => {
    await importParams("byok-a", "RSAES_OAEP_SHA_256", "c");
    // Another RSA-3072 key than c's: the wrapping key of the first import's (spent) token, already on
    // disk (a fresh `openssl genpkey` key cost up to seconds of CPU). The server must tell its own
    // wrapping keys apart by token, which covers a stranger's key as well.
    openssl("pkeyutl", "-encrypt", "-in", "a.material", "-out", "c.wrong", "-inkey", "a.wrapping.pem", "-pubin", ...OAEP_SHA256);
    const wrong = await cli(["key", "import", "byok-a", "--import-token", file("c.token"), "--material", file("c.wrong"), "--json"]);
    expect(JSON.parse(wrong.stderr).error.code).toBe("InvalidCiphertext");

    await importParams("byok-a", "RSAES_OAEP_SHA_256", "d");
    openssl("rand", "-out", "d.short", "16");
    openssl("pkeyutl", "-encrypt", "-in", "d.short", "-out", "d.wrapped", "-inkey", "d.wrapping.pem", "-pubin", ...OAEP_SHA256);
    const short = await cli(["key", "import", "byok-a", "--import-token", file("d.token"), "--material", file("d.wrapped"), "--json"]);
    expect(JSON.parse(short.stderr).error).toMatchObject({ code: "InvalidInput", field: "/encryptedKeyMaterial" });
    expect((await json(["key", "show", "byok-a"])).primaryVersion).toBe(2);
  });

  it("imports an EC P-256 private key (PKCS#8 from openssl genpkey) with RSA_AES_KEY_WRAP; a wrapped export gives back the same key", async () => {
    const created = await fetch(`${server.url}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tessera-token": rootToken },
      body: JSON.stringify({ name: "byok-ec", keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", origin: "EXTERNAL", exportable: true }),
    });
    expect(created.status).toBe(201);
    // As AWS documents it: generate, then convert to unencrypted PKCS#8 DER (genpkey's DER output is SEC1 for EC keys).
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", "ec.pem");
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", "ec.pem", "-outform", "DER", "-out", "ec.pkcs8");
    await importParams("byok-ec", "RSA_AES_KEY_WRAP_SHA_256", "e");
    const imported = await json(["key", "import", "byok-ec", "--import-token", file("e.token"), "--material", awsKeyWrap(file("ec.pkcs8"), "e")]);
    expect(imported).toMatchObject({ state: "Enabled", keySpec: "ECC_NIST_P256" });

    const made = await runExample("recipient-keygen.mjs", ["hpke-p256", file("r")]);
    expect(made.code).toBe(0);
    writeFileSync(file("ec.export.json"), JSON.stringify(await json(["key", "export", "byok-ec", "--wrap-to", file("r.pub.pem"), "--algorithm", "hpke-p256"])));
    const opened = await runExample("unwrap-export.mjs", [file("r"), file("ec.export.json")]);
    expect(opened.code, opened.stderr).toBe(0);
    const exported = createPrivateKey({ key: Buffer.from(opened.stdout.trim(), "base64"), format: "der", type: "pkcs8" });
    const original = createPrivateKey({ key: readFileSync(file("ec.pkcs8")), format: "der", type: "pkcs8" });
    expect(exported.export({ format: "jwk" })).toEqual(original.export({ format: "jwk" }));
  });

  it("refuses an RSA private key for an EC key (InvalidInput), and import parameters for a key Tessera generated (InvalidState)", async () => {
    openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", "rsa.pem");
    openssl("pkcs8", "-topk8", "-nocrypt", "-in", "rsa.pem", "-outform", "DER", "-out", "rsa.pkcs8");
    await importParams("byok-ec", "RSA_AES_KEY_WRAP_SHA_256", "f");
    const r = await cli(["key", "import", "byok-ec", "--import-token", file("f.token"), "--material", awsKeyWrap(file("rsa.pkcs8"), "f"), "--json"]);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: "InvalidInput", field: "/encryptedKeyMaterial" });
    await json(["key", "create", "native-key"]);
    const params = await cli(["key", "import-params", "native-key", "--algorithm", "RSAES_OAEP_SHA_256", "--json"]);
    expect(JSON.parse(params.stderr).error.code).toBe("InvalidState");
  });

  it("deletes imported material: PendingImport again, old ciphertexts no longer decrypt, a new import is a new version", async () => {
    const before = await json(["encrypt", "--key", "byok-a", "kept?"]);
    const deleted = await json(["key", "delete-imported-material", "byok-a"]);
    expect(deleted.state).toBe("PendingImport");
    const dec = await cli(["decrypt", before.ciphertext, "--json"]);
    expect(JSON.parse(dec.stderr).error.code).toBe("InvalidState");
    await importParams("byok-a", "RSAES_OAEP_SHA_256", "g");
    openssl("pkeyutl", "-encrypt", "-in", "a.material", "-out", "g.wrapped", "-inkey", "g.wrapping.pem", "-pubin", ...OAEP_SHA256);
    const again = await json(["key", "import", "byok-a", "--import-token", file("g.token"), "--material", file("g.wrapped")]);
    expect(again).toMatchObject({ state: "Enabled", primaryVersion: 3 });
    const old = await cli(["decrypt", before.ciphertext, "--json"]);
    expect(JSON.parse(old.stderr).error.code).toBe("Destroyed");
  });
});

/** SM2 private key material as the owner makes it: openssl genpkey, then unencrypted PKCS#8 DER. */
function sm2Pkcs8(tag: string): Buffer {
  openssl("genpkey", "-algorithm", "SM2", "-out", `${tag}.pem`);
  openssl("pkcs8", "-topk8", "-nocrypt", "-in", `${tag}.pem`, "-outform", "DER", "-out", `${tag}.pkcs8`);
  return readFileSync(file(`${tag}.pkcs8`));
}

/** The DER SubjectPublicKeyInfo of a PKCS#8 private key, by openssl. */
const publicOf = (pkcs8: Buffer): Buffer => execFileSync("openssl", ["pkey", "-inform", "DER", "-pubout", "-outform", "DER"], { input: pkcs8 });

describe("BYOK of SM4, HMAC and SM2 material through the native API (CLI)", () => {
  async function createExternal(name: string, keySpec: string, keyUsage: string): Promise<void> {
    const created = await fetch(`${server.url}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tessera-token": rootToken },
      body: JSON.stringify({ name, keySpec, keyUsage, origin: "EXTERNAL" }),
    });
    expect(created.status).toBe(201);
  }

  async function importFile(name: string, material: Buffer, tag: string) {
    writeFileSync(file(`${tag}.material`), material);
    await importParams(name, "RSA_AES_KEY_WRAP_SHA_256", tag);
    return cli(["key", "import", name, "--import-token", file(`${tag}.token`), "--material", awsKeyWrap(file(`${tag}.material`), tag), "--json"]);
  }

  it("imports 16 bytes of SM4 material: Derive equals HKDF-SM3 over the owner's copy, and encryption round-trips", async () => {
    await createExternal("byok-sm4", "SM4", "ENCRYPT_DECRYPT");
    const material = randomBytes(16);
    const r = await importFile("byok-sm4", material, "sm4");
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ keySpec: "SM4", state: "Enabled", origin: "EXTERNAL" });
    const info = Buffer.concat([Buffer.from("tessera/v1/derive"), encodeContext({ vm: "web-7" })]);
    const derived = await json(["derive", "--key", "byok-sm4", "--context", "vm=web-7"]);
    expect(derived.derivedKey).toBe(Buffer.from(hkdfSync("sm3", material, Buffer.alloc(0), info, 32)).toString("base64"));
    const enc = await json(["encrypt", "--key", "byok-sm4", "sm4 secret"]);
    expect(Buffer.from((await json(["decrypt", enc.ciphertext])).plaintext, "base64").toString()).toBe("sm4 secret");
  });

  it("imports 32 bytes of HMAC_256 material: GenerateMac equals HMAC-SHA-256 under the owner's copy", async () => {
    await createExternal("byok-hmac", "HMAC_256", "GENERATE_VERIFY_MAC");
    const material = randomBytes(32);
    const r = await importFile("byok-hmac", material, "hmac");
    expect(r.code, r.stderr).toBe(0);
    const res = await fetch(`${server.url}/v1/keys/byok-hmac/generate-mac`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tessera-token": rootToken },
      body: JSON.stringify({ message: Buffer.from("to be MACed").toString("base64"), macAlgorithm: "HMAC_SHA_256" }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { mac: string }).mac).toBe(createHmac("sha256", material).update("to be MACed").digest("base64"));
  });

  it("imports an SM2 private key (PKCS#8 from openssl genpkey -algorithm SM2): GetPublicKey is its public key", async () => {
    await createExternal("byok-sm2", "SM2", "SIGN_VERIFY");
    const pkcs8 = sm2Pkcs8("sm2a");
    const r = await importFile("byok-sm2", pkcs8, "sm2");
    expect(r.code, r.stderr).toBe(0);
    const res = await fetch(`${server.url}/v1/keys/byok-sm2/public-key`, { headers: { "x-tessera-token": rootToken } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { publicKey: string }).publicKey).toBe(publicOf(pkcs8).toString("base64"));
  });

  it.each([
    ["SM4", "ENCRYPT_DECRYPT", "32 bytes", () => randomBytes(32)],
    ["SM4", "ENCRYPT_DECRYPT", "an SM2 private key", () => sm2Pkcs8("sm2-for-sm4")],
    ["HMAC_256", "GENERATE_VERIFY_MAC", "16 bytes", () => randomBytes(16)],
    ["HMAC_256", "GENERATE_VERIFY_MAC", "48 bytes", () => randomBytes(48)],
    ["SM2", "SIGN_VERIFY", "an EC P-256 private key", () => createPrivateKeyPkcs8("P-256")],
    ["SM2", "SIGN_VERIFY", "32 raw bytes", () => randomBytes(32)],
  ])("refuses for %s material of the wrong length or type (%s, %s): InvalidInput, still PendingImport", async (keySpec, keyUsage, _what, make) => {
    const name = `byok-wrong-${randomBytes(3).toString("hex")}`;
    await createExternal(name, keySpec, keyUsage);
    const r = await importFile(name, make(), name);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: "InvalidInput", field: "/encryptedKeyMaterial" });
    expect((await json(["key", "show", name])).state).toBe("PendingImport");
  });
});

const createPrivateKeyPkcs8 = (curve: string): Buffer => generateKeyPairSync("ec", { namedCurve: curve }).privateKey.export({ type: "pkcs8", format: "der" });

describe("BYOK through the official AWS SDK", () => {
  let t: AwsTestApp;
  let kms: KMSClient;

  beforeAll(async () => {
    t = await startAwsTestApp();
    kms = await t.kmsFor("operator");
  });
  afterAll(async () => {
    await t?.close();
  });

  const wrapOaep = (publicKey: Uint8Array, material: Buffer) =>
    publicEncrypt({ key: createPublicKey({ key: Buffer.from(publicKey), format: "der", type: "spki" }), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, material);

  it("CreateKey Origin=EXTERNAL, GetParametersForImport, ImportKeyMaterial, then Encrypt and Decrypt", async () => {
    const { KeyMetadata: created } = await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }));
    expect(created).toMatchObject({ Origin: "EXTERNAL", KeyState: "PendingImport", Enabled: false });
    const KeyId = created!.KeyId!;
    expect(await awsError(kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from("x") })))).toBe("KMSInvalidStateException");

    const params = await kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_4096" }));
    expect(params.ParametersValidTo!.getTime() - t.clock.now()).toBe(IMPORT_PARAMETERS_TTL_MS);
    const material = randomBytes(32);
    await kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapOaep(params.PublicKey!, material), ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" }));

    const { KeyMetadata: described } = await kms.send(new DescribeKeyCommand({ KeyId }));
    expect(described).toMatchObject({ Origin: "EXTERNAL", KeyState: "Enabled", ExpirationModel: "KEY_MATERIAL_DOES_NOT_EXPIRE" });
    const enc = await kms.send(new EncryptCommand({ KeyId, Plaintext: Buffer.from("imported") }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe("imported");
    expect(await awsError(kms.send(new EnableKeyRotationCommand({ KeyId })))).toBe("UnsupportedOperationException");

    await kms.send(new DeleteImportedKeyMaterialCommand({ KeyId }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId }))).KeyMetadata!.KeyState).toBe("PendingImport");
    expect(await awsError(kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob })))).toBe("KMSInvalidStateException");
  });

  it("answers a used token InvalidImportTokenException, a bad wrap InvalidCiphertextException, RSA_2048 UnsupportedOperationException", async () => {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL" }));
    const KeyId = KeyMetadata!.KeyId!;
    const params = await kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_3072" }));
    await kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapOaep(params.PublicKey!, randomBytes(32)) }));
    expect(await awsError(kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapOaep(params.PublicKey!, randomBytes(32)) })))).toBe(
      "InvalidImportTokenException",
    );
    const fresh = await kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_3072" }));
    expect(await awsError(kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: fresh.ImportToken, EncryptedKeyMaterial: randomBytes(384) })))).toBe("InvalidCiphertextException");
    expect(await awsError(kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm: "RSAES_OAEP_SHA_256", WrappingKeySpec: "RSA_2048" })))).toBe(
      "UnsupportedOperationException",
    );
  });

  /** RSA_AES_KEY_WRAP_SHA_256 by hand, as AWS documents it: RSA-OAEP-SHA-256 of an AES key ‖ AES-KWP of the material. */
  function wrapKwp(publicKey: Uint8Array, material: Buffer): Buffer {
    const aes = randomBytes(32);
    const c = createCipheriv("id-aes256-wrap-pad", aes, Buffer.from("a65959a6", "hex"));
    const wrapped = Buffer.concat([c.update(material), c.final()]);
    return Buffer.concat([wrapOaep(publicKey, aes), wrapped]);
  }

  async function importAws(KeySpec: string, KeyUsage: string, material: Buffer): Promise<string> {
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({ Origin: "EXTERNAL", KeySpec: KeySpec as "SYMMETRIC_DEFAULT", KeyUsage: KeyUsage as "ENCRYPT_DECRYPT" }));
    const KeyId = KeyMetadata!.KeyId!;
    const params = await kms.send(new GetParametersForImportCommand({ KeyId, WrappingAlgorithm: "RSA_AES_KEY_WRAP_SHA_256", WrappingKeySpec: "RSA_3072" }));
    await kms.send(new ImportKeyMaterialCommand({ KeyId, ImportToken: params.ImportToken, EncryptedKeyMaterial: wrapKwp(params.PublicKey!, material) }));
    return KeyId;
  }

  it("imports SM4 (Tessera's KeySpec, passed through), HMAC_256 and SM2 material, each usable as what it is", async () => {
    const sm4 = await importAws("SM4", "ENCRYPT_DECRYPT", randomBytes(16));
    const enc = await kms.send(new EncryptCommand({ KeyId: sm4, Plaintext: Buffer.from("sm4 via aws") }));
    expect(Buffer.from((await kms.send(new DecryptCommand({ CiphertextBlob: enc.CiphertextBlob }))).Plaintext!).toString()).toBe("sm4 via aws");

    const hmacMaterial = randomBytes(32);
    const hmac = await importAws("HMAC_256", "GENERATE_VERIFY_MAC", hmacMaterial);
    const mac = await kms.send(new GenerateMacCommand({ KeyId: hmac, Message: Buffer.from("m"), MacAlgorithm: "HMAC_SHA_256" }));
    expect(Buffer.from(mac.Mac!).equals(createHmac("sha256", hmacMaterial).update("m").digest())).toBe(true);

    const pkcs8 = sm2Pkcs8("sm2-aws");
    const sm2 = await importAws("SM2", "SIGN_VERIFY", pkcs8);
    expect(Buffer.from((await kms.send(new GetPublicKeyCommand({ KeyId: sm2 }))).PublicKey!).equals(publicOf(pkcs8))).toBe(true);
  });

  it("answers material of the wrong length or type for SM4, HMAC_256 and SM2 with IncorrectKeyMaterialException", async () => {
    for (const [KeySpec, KeyUsage, material] of [
      ["SM4", "ENCRYPT_DECRYPT", randomBytes(32)],
      ["HMAC_256", "GENERATE_VERIFY_MAC", randomBytes(16)],
      ["SM2", "SIGN_VERIFY", createPrivateKeyPkcs8("P-256")],
    ] as const) {
      expect(await awsError(importAws(KeySpec, KeyUsage, material))).toBe("IncorrectKeyMaterialException");
    }
  });
});
