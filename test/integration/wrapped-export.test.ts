/**
 * Wrapped export end to end: a real dev server, `tessera key export` as a subprocess, and the
 * recipient program in examples/ — which uses its own libraries (node:crypto, hpke, @panva/hpke-noble,
 * the openssl command line and sm-crypto-v2 for sm2pke), none of Tessera's — opening each algorithm's answer. What it opens is checked against what the
 * server gives by other routes: Derive for material and derived keys, Decrypt for data keys.
 */
import { execFileSync } from "node:child_process";
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, hkdfSync, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeContext, exportAlgorithms } from "@tessera/protocol";
import { runCli } from "../helpers/cli-process.js";
import { runExample } from "../helpers/examples.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-export-"));
const rootToken = `root-${randomBytes(12).toString("hex")}`;
let server: ServerProcess;
const cli = (args: string[], token = rootToken) => runCli(args, { address: server.url, token });

/** HKDF-SHA256 as docs/formats.md defines Derive, computed here from exported material. */
const deriveLocally = (material: Buffer, context: Record<string, string>) =>
  Buffer.from(hkdfSync("sha256", material, Buffer.alloc(0), Buffer.concat([Buffer.from("tessera/v1/derive"), encodeContext(context)]), 32));

/** An SM2 public key as `openssl genpkey -algorithm SM2` makes it (id-ecPublicKey, curve 1.2.156.10197.1.301). */
const sm2PublicPem = (): string => execFileSync("openssl", ["pkey", "-pubout"], { input: execFileSync("openssl", ["genpkey", "-algorithm", "SM2"]), encoding: "utf8" });

async function newRecipient(algorithm: string): Promise<string> {
  const prefix = join(dir, `${algorithm}-${randomBytes(4).toString("hex")}`);
  const made = await runExample("recipient-keygen.mjs", [algorithm, prefix]);
  expect(made.code, made.stderr).toBe(0);
  return prefix;
}

/** One recipient key pair per algorithm for the whole file (each answer is still bound to it and checked). */
const recipients = new Map<string, Promise<string>>();
const recipient = (algorithm: string): Promise<string> => {
  if (!recipients.has(algorithm)) recipients.set(algorithm, newRecipient(algorithm));
  return recipients.get(algorithm)!;
};

/** The server's own answer by another route (the native API; the CLI's derive and decrypt have their own suites). */
async function api(method: string, path: string, body?: unknown): Promise<any> {
  const res = await fetch(server.url + path, { method, headers: { "content-type": "application/json", "x-tessera-token": rootToken }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(res.status, path).toBeLessThan(300);
  return res.json();
}

async function exportTo(prefix: string, args: string[]): Promise<{ answer: any; file: string }> {
  const r = await cli(["key", "export", ...args, "--wrap-to", `${prefix}.pub.pem`, "--json"]);
  expect(r.code, r.stderr).toBe(0);
  const file = `${prefix}-${randomBytes(4).toString("hex")}.json`;
  writeFileSync(file, r.stdout);
  return { answer: JSON.parse(r.stdout), file };
}

async function unwrap(prefix: string, file: string, extra: string[] = []): Promise<Buffer> {
  const r = await runExample("unwrap-export.mjs", [prefix, file, ...extra]);
  expect(r.code, r.stderr).toBe(0);
  return Buffer.from(r.stdout.trim(), "base64");
}

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--data", join(dir, "data"), "--dev-root-token", rootToken], { ready: "unsealed" });
  expect((await cli(["key", "create", "app-key", "--exportable"])).code).toBe(0);
  expect((await cli(["key", "create", "vm-keys"])).code).toBe(0);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera key export, opened by examples/unwrap-export.mjs", () => {
  it.each(exportAlgorithms)("exports an exportable key's material with %s, and the recipient opens the material Derive is computed from", async (algorithm) => {
    const prefix = await recipient(algorithm);
    const { answer, file } = await exportTo(prefix, ["app-key", "--algorithm", algorithm]);
    const recipientSpki = readFileSync(`${prefix}.pub.pem`, "utf8").replace(/-----[^-]+-----|\s+/g, "");
    expect(answer).toMatchObject({ keyVersion: 1, algorithm, export: "key-material" });
    expect(answer.recipientSpkiSha256).toBe(createHash("sha256").update(Buffer.from(recipientSpki, "base64")).digest("hex"));
    // The binding is info and aad for HPKE, only info (the OAEP label) for RSA, only aad (SM4-GCM's) for SM2.
    const binding = algorithm === "sm2pke" ? answer.aad : answer.info;
    expect(Buffer.from(binding, "base64").toString()).toBe(
      `tessera/v1/export|alg=${algorithm}|key=${answer.keyId}|version=1|export=key-material|recipient=${answer.recipientSpkiSha256}|context=-`,
    );
    expect([answer.info, answer.aad]).toEqual(algorithm === "rsa-oaep-aes-kwp" ? [binding, ""] : algorithm === "sm2pke" ? ["", binding] : [binding, binding]);

    const material = await unwrap(prefix, file, ["--key", answer.keyId, "--version", "1"]);
    expect(material.length).toBe(32);
    const derived = await api("POST", "/v1/keys/app-key/derive", { context: { vm: "web-7" } });
    expect(deriveLocally(material, { vm: "web-7" }).toString("base64")).toBe(derived.derivedKey);
  });

  it.each(exportAlgorithms)("exports a derived key of a non-exportable key with %s, equal to what Derive returns", async (algorithm) => {
    const prefix = await recipient(algorithm);
    const { file } = await exportTo(prefix, ["vm-keys", "--derive", "vm=web-7", "--derive", "purpose=disk", "--algorithm", algorithm]);
    const derived = await api("POST", "/v1/keys/vm-keys/derive", { context: { vm: "web-7", purpose: "disk" } });
    expect((await unwrap(prefix, file)).toString("base64")).toBe(derived.derivedKey);
  });

  it.each(exportAlgorithms)("exports a fresh data key with %s, which the returned ciphertext decrypts to", async (algorithm) => {
    const prefix = await recipient(algorithm);
    const { answer, file } = await exportTo(prefix, ["vm-keys", "--data-key", "--context", "app=orders", "--algorithm", algorithm]);
    expect(answer.export).toBe("data-key");
    const dataKey = await unwrap(prefix, file);
    expect(dataKey.length).toBe(32);
    const decrypted = await api("POST", "/v1/decrypt", { ciphertext: answer.ciphertext, context: { app: "orders" } });
    expect(decrypted.plaintext).toBe(dataKey.toString("base64"));
  });

  it.each([
    ["ECC_NIST_P256", "hpke-x25519", "ec", { namedCurve: "prime256v1" }],
    ["RSA_3072", "rsa-oaep-aes-kwp", "rsa", { modulusLength: 3072 }],
    ["ECC_NIST_EDWARDS25519", "hpke-xwing", "ed25519", {}],
  ] as const)("exports an exportable %s key's private key as PKCS#8 with %s", async (keySpec, algorithm, type, details) => {
    const name = `pair-${keySpec.toLowerCase()}`;
    const created = await fetch(`${server.url}/v1/keys`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-tessera-token": rootToken },
      body: JSON.stringify({ name, keySpec, keyUsage: "SIGN_VERIFY", exportable: true }),
    });
    expect(created.status).toBe(201);
    const prefix = await recipient(algorithm);
    const first = await exportTo(prefix, [name, "--algorithm", algorithm]);
    const second = await exportTo(prefix, [name, "--algorithm", algorithm]);
    const [a, b] = [await unwrap(prefix, first.file), await unwrap(prefix, second.file)];
    const privateKey = createPrivateKey({ key: a, format: "der", type: "pkcs8" });
    expect(privateKey.asymmetricKeyType).toBe(type);
    expect(privateKey.asymmetricKeyDetails).toMatchObject(details);
    expect(a.equals(b)).toBe(true);
  });

  describe("material of the other key types, through every algorithm", () => {
    const publicKeyOf = async (name: string) => (await api("GET", `/v1/keys/${name}/public-key`)).publicKey as string;
    const spkiOf = (pkcs8: Buffer) => createPublicKey(createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" })).export({ type: "spki", format: "der" }).toString("base64");

    /** What each spec's exported material must reproduce, checked against the server's own answer. */
    const specs = {
      SM4: {
        keyUsage: "ENCRYPT_DECRYPT",
        check: async (name: string, material: Buffer) => {
          expect(material.length).toBe(16);
          const info = Buffer.concat([Buffer.from("tessera/v1/derive"), encodeContext({ vm: "web-7" })]);
          const derived = (await api("POST", `/v1/keys/${name}/derive`, { context: { vm: "web-7" } })).derivedKey;
          expect(Buffer.from(hkdfSync("sm3", material, Buffer.alloc(0), info, 32)).toString("base64")).toBe(derived);
        },
      },
      HMAC_256: {
        keyUsage: "GENERATE_VERIFY_MAC",
        check: async (name: string, material: Buffer) => {
          expect(material.length).toBe(32);
          const mac = (await api("POST", `/v1/keys/${name}/generate-mac`, { message: Buffer.from("m").toString("base64"), macAlgorithm: "HMAC_SHA_256" })).mac;
          expect(createHmac("sha256", material).update("m").digest("base64")).toBe(mac);
        },
      },
      SM2: { keyUsage: "SIGN_VERIFY", check: async (name: string, material: Buffer) => expect(spkiOf(material)).toBe(await publicKeyOf(name)) },
      ML_DSA_44: { keyUsage: "SIGN_VERIFY", check: async (name: string, material: Buffer) => expect(spkiOf(material)).toBe(await publicKeyOf(name)) },
    } as const;
    const nameOf = (spec: string) => `other-${spec.toLowerCase().replace(/_/g, "-")}`;

    beforeAll(async () => {
      for (const [spec, { keyUsage }] of Object.entries(specs)) await api("POST", "/v1/keys", { name: nameOf(spec), keySpec: spec, keyUsage, exportable: true });
    });

    it.each(Object.keys(specs).flatMap((spec) => exportAlgorithms.map((algorithm) => [spec as keyof typeof specs, algorithm] as const)))(
      "exports an exportable %s key's material with %s, and it reproduces what the server computes",
      async (spec, algorithm) => {
        const name = nameOf(spec);
        const prefix = await recipient(algorithm);
        const { file } = await exportTo(prefix, [name, "--algorithm", algorithm]);
        await specs[spec].check(name, await unwrap(prefix, file));
      },
    );
  });

  it("refuses the material of a key not created exportable, and exports nothing", async () => {
    const prefix = await recipient("hpke-x25519");
    const r = await cli(["key", "export", "vm-keys", "--wrap-to", `${prefix}.pub.pem`, "--algorithm", "hpke-x25519", "--json"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    expect(JSON.parse(r.stderr).error.code).toBe("InvalidKeyUsage");
  });

  it.each([
    ["an RSA key under 3072 bits", "rsa-oaep-aes-kwp", () => generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey],
    ["a P-384 key for hpke-p256", "hpke-p256", () => generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey],
    ["an Ed25519 key for hpke-x25519", "hpke-x25519", () => generateKeyPairSync("ed25519").publicKey],
    ["an X25519 key for hpke-xwing", "hpke-xwing", () => generateKeyPairSync("x25519").publicKey],
    ["a P-256 key for sm2pke", "sm2pke", () => generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey],
    ["an SM2 key for hpke-p256", "hpke-p256", () => sm2PublicPem()],
    ["an SM2 key for rsa-oaep-aes-kwp", "rsa-oaep-aes-kwp", () => sm2PublicPem()],
  ])("refuses %s as the recipient (InvalidInput)", async (_what, algorithm, make) => {
    const file = join(dir, `weak-${randomBytes(4).toString("hex")}.pem`);
    const key = make();
    writeFileSync(file, typeof key === "string" ? key : key.export({ type: "spki", format: "pem" }));
    const r = await cli(["key", "export", "app-key", "--wrap-to", file, "--algorithm", algorithm, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: "InvalidInput", field: "/recipientPublicKey" });
  });

  it("the recipient refuses an answer whose fields were changed from what info binds, and one meant for another key pair", async () => {
    const prefix = await recipient("hpke-p256");
    const other = await newRecipient("hpke-p256");
    const { answer } = await exportTo(prefix, ["app-key", "--algorithm", "hpke-p256"]);
    const forged = join(dir, "forged.json");
    writeFileSync(forged, JSON.stringify({ ...answer, keyVersion: 2 }));
    const r1 = await runExample("unwrap-export.mjs", [prefix, forged]);
    expect(r1.code).toBe(1);
    expect(r1.stderr).toContain("info names version 1, not 2");
    const honest = join(dir, "honest.json");
    writeFileSync(honest, JSON.stringify(answer));
    const r2 = await runExample("unwrap-export.mjs", [other, honest]);
    expect(r2.code).toBe(1);
    expect(r2.stderr).toContain("another recipient key");
  });

  it("a later version exports its own material, and an earlier one stays exportable by number", async () => {
    expect((await cli(["key", "rotate", "app-key"])).code).toBe(0);
    const prefix = await recipient("hpke-x25519");
    const v2 = await exportTo(prefix, ["app-key", "--algorithm", "hpke-x25519"]);
    const v1 = await exportTo(prefix, ["app-key", "--version", "1", "--algorithm", "hpke-x25519"]);
    expect([v2.answer.keyVersion, v1.answer.keyVersion]).toEqual([2, 1]);
    const [m2, m1] = [await unwrap(prefix, v2.file), await unwrap(prefix, v1.file)];
    expect(m2.equals(m1)).toBe(false);
    const derivedV1 = await cli(["derive", "--key", "app-key", "--version", "1", "--context", "vm=web-7"]);
    expect(deriveLocally(m1, { vm: "web-7" }).toString("base64")).toBe(derivedV1.stdout.trim());
  });
});

describe("sm2pke: SM2PKE of an SM4 key, SM4-GCM of the payload (a GM/T digital envelope)", () => {
  const b64flip = (value: string, at: number): string => {
    const bytes = Buffer.from(value, "base64");
    bytes[at < 0 ? bytes.length + at : at]! ^= 0x01;
    return bytes.toString("base64");
  };

  async function refused(prefix: string, answer: object): Promise<string> {
    const file = join(dir, `changed-${randomBytes(4).toString("hex")}.json`);
    writeFileSync(file, JSON.stringify(answer));
    const r = await runExample("unwrap-export.mjs", [prefix, file]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("");
    return r.stderr;
  }

  it("has the documented layout: encapsulatedKey is GM/T 0009 DER of 16 bytes, wrappedKey is nonce ‖ ciphertext ‖ tag, info is empty", async () => {
    const prefix = await recipient("sm2pke");
    const { answer } = await exportTo(prefix, ["vm-keys", "--derive", "vm=web-9", "--algorithm", "sm2pke"]);
    const enc = Buffer.from(answer.encapsulatedKey, "base64");
    expect(enc[0]).toBe(0x30); // SEQUENCE { x, y, C3 (32), C2 (16) }
    expect(enc.subarray(-18).subarray(0, 2).toString("hex")).toBe("0410"); // OCTET STRING of the 16-byte C2
    expect(Buffer.from(answer.wrappedKey, "base64").length).toBe(12 + 32 + 16);
    expect(answer.info).toBe("");
    // OpenSSL opens the encapsulated key to exactly 16 bytes, independent of the example.
    writeFileSync(join(dir, "sm2-enc.der"), enc);
    const sm4Key = execFileSync("openssl", ["pkeyutl", "-decrypt", "-inkey", `${prefix}.key.pem`, "-in", join(dir, "sm2-enc.der")]);
    expect(sm4Key.length).toBe(16);
  });

  it("the recipient refuses a changed wrappedKey, encapsulatedKey or aad, and an answer for another SM2 key pair", async () => {
    const prefix = await recipient("sm2pke");
    const other = await newRecipient("sm2pke");
    const { answer } = await exportTo(prefix, ["app-key", "--algorithm", "sm2pke"]);
    expect(await refused(prefix, { ...answer, wrappedKey: b64flip(answer.wrappedKey, 20) })).toContain("SM4-GCM refused wrappedKey");
    expect(await refused(prefix, { ...answer, wrappedKey: b64flip(answer.wrappedKey, -1) })).toContain("SM4-GCM refused wrappedKey");
    expect(await refused(prefix, { ...answer, wrappedKey: b64flip(answer.wrappedKey, 0) })).toContain("SM4-GCM refused wrappedKey");
    // The last byte is in C2 (the SM4 key), the 40th in C3 or the point: both fail SM2PKE's check.
    expect(await refused(prefix, { ...answer, encapsulatedKey: b64flip(answer.encapsulatedKey, -1) })).toContain("openssl could not decrypt encapsulatedKey");
    expect(await refused(prefix, { ...answer, encapsulatedKey: b64flip(answer.encapsulatedKey, 40) })).toContain("openssl could not decrypt encapsulatedKey");
    // A binding that still names this key, version and recipient but another context: the tag fails.
    const aad = Buffer.from(answer.aad, "base64").toString().replace("context=-", `context=${"0".repeat(64)}`);
    expect(await refused(prefix, { ...answer, aad: Buffer.from(aad).toString("base64") })).toContain("SM4-GCM refused wrappedKey");
    expect(await refused(prefix, { ...answer, keyVersion: 9 })).toContain("aad names version");
    expect(await refused(other, answer)).toContain("aad names another recipient key");
  });

  it("binds key, version and recipient: each changes the aad, and each answer opens only as itself", async () => {
    await cli(["key", "create", "sm-bind-a", "--exportable"]);
    await cli(["key", "create", "sm-bind-b", "--exportable"]);
    const [r1, r2] = [await newRecipient("sm2pke"), await newRecipient("sm2pke")];
    const a1 = (await exportTo(r1, ["sm-bind-a", "--algorithm", "sm2pke"])).answer;
    const b1 = (await exportTo(r1, ["sm-bind-b", "--algorithm", "sm2pke"])).answer;
    const a1r2 = (await exportTo(r2, ["sm-bind-a", "--algorithm", "sm2pke"])).answer;
    expect((await cli(["key", "rotate", "sm-bind-a"])).code).toBe(0);
    const a2 = await exportTo(r1, ["sm-bind-a", "--algorithm", "sm2pke"]);
    const field = (answer: any, name: string) => Buffer.from(answer.aad, "base64").toString().split("|").find((f: string) => f.startsWith(`${name}=`));
    expect(field(b1, "key")).not.toBe(field(a1, "key"));
    expect([field(a1, "version"), field(a2.answer, "version")]).toEqual(["version=1", "version=2"]);
    expect(field(a1r2, "recipient")).not.toBe(field(a1, "recipient"));
    // Version 2's aad on version 1's wrappedKey: the fields check (they were changed together) but the tag does not.
    expect(await refused(r1, { ...a1, keyVersion: 2, aad: a2.answer.aad })).toContain("SM4-GCM refused wrappedKey");
    expect((await unwrap(r1, a2.file)).length).toBe(32);
  });
});
