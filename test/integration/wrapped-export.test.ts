/**
 * Wrapped export end to end: a real dev server, `tessera key export` as a subprocess, and the
 * recipient program in examples/ — which uses its own libraries (node:crypto, hpke, @panva/hpke-noble),
 * none of Tessera's — opening each algorithm's answer. What it opens is checked against what the
 * server gives by other routes: Derive for material and derived keys, Decrypt for data keys.
 */
import { createHash, createPrivateKey, generateKeyPairSync, hkdfSync, randomBytes } from "node:crypto";
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

async function recipient(algorithm: string): Promise<string> {
  const prefix = join(dir, `${algorithm}-${randomBytes(4).toString("hex")}`);
  const made = await runExample("recipient-keygen.mjs", [algorithm, prefix]);
  expect(made.code, made.stderr).toBe(0);
  return prefix;
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
    expect(Buffer.from(answer.info, "base64").toString()).toBe(
      `tessera/v1/export|alg=${algorithm}|key=${answer.keyId}|version=1|export=key-material|recipient=${answer.recipientSpkiSha256}|context=-`,
    );
    expect(answer.aad).toBe(algorithm === "rsa-oaep-aes-kwp" ? "" : answer.info);

    const material = await unwrap(prefix, file, ["--key", answer.keyId, "--version", "1"]);
    expect(material.length).toBe(32);
    const derived = await cli(["derive", "--key", "app-key", "--context", "vm=web-7"]);
    expect(deriveLocally(material, { vm: "web-7" }).toString("base64")).toBe(derived.stdout.trim());
  });

  it.each(exportAlgorithms)("exports a derived key of a non-exportable key with %s, equal to what Derive returns", async (algorithm) => {
    const prefix = await recipient(algorithm);
    const { file } = await exportTo(prefix, ["vm-keys", "--derive", "vm=web-7", "--derive", "purpose=disk", "--algorithm", algorithm]);
    const derived = await cli(["derive", "--key", "vm-keys", "--context", "vm=web-7", "--context", "purpose=disk"]);
    expect((await unwrap(prefix, file)).toString("base64")).toBe(derived.stdout.trim());
  });

  it.each(exportAlgorithms)("exports a fresh data key with %s, which the returned ciphertext decrypts to", async (algorithm) => {
    const prefix = await recipient(algorithm);
    const { answer, file } = await exportTo(prefix, ["vm-keys", "--data-key", "--context", "app=orders", "--algorithm", algorithm]);
    expect(answer.export).toBe("data-key");
    const dataKey = await unwrap(prefix, file);
    expect(dataKey.length).toBe(32);
    const decrypted = await cli(["decrypt", "--context", "app=orders", "--json", answer.ciphertext]);
    expect(JSON.parse(decrypted.stdout).plaintext).toBe(dataKey.toString("base64"));
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
  ])("refuses %s as the recipient (InvalidInput)", async (_what, algorithm, make) => {
    const file = join(dir, `weak-${randomBytes(4).toString("hex")}.pem`);
    writeFileSync(file, make().export({ type: "spki", format: "pem" }));
    const r = await cli(["key", "export", "app-key", "--wrap-to", file, "--algorithm", algorithm, "--json"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stderr).error).toMatchObject({ code: "InvalidInput", field: "/recipientPublicKey" });
  });

  it("the recipient refuses an answer whose fields were changed from what info binds, and one meant for another key pair", async () => {
    const prefix = await recipient("hpke-p256");
    const other = await recipient("hpke-p256");
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
