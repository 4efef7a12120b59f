/**
 * The `tessera` CLI (the real bin, as a subprocess) for asymmetric keys: key create --spec/--usage,
 * sign → openssl verifies with `tessera public-key`'s PEM, verify's exit codes, RSA encrypt/decrypt
 * with --algorithm, datakey-pair, shared-secret with a PEM peer key.
 */
import { execFileSync } from "node:child_process";
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli-process.js";

let t: TestApp;
let address = "";
const dir = mkdtempSync(join(tmpdir(), "tessera-cli-asym-"));
beforeAll(async () => {
  t = await startTestApp();
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  address = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], input?: string) => runCli(args, { address, token: t.rootToken, ...(input !== undefined && { input }) });

describe("tessera CLI with asymmetric keys", () => {
  it("key create --spec --usage; sign; openssl verifies with the PEM of `tessera public-key`; verify exits 0 or 1", async () => {
    const created = await cli(["key", "create", "release-signer", "--spec", "ECC_NIST_P256", "--usage", "SIGN_VERIFY", "--json"]);
    expect(JSON.parse(created.stdout)).toMatchObject({ keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" });

    const signed = await cli(["sign", "--key", "release-signer", "--algorithm", "ECDSA_SHA_256", "release 1.0"]);
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stderr).toContain("signed with version 1");
    const sigFile = join(dir, "release.sig");
    writeFileSync(sigFile, Buffer.from(signed.stdout.trim(), "base64"));

    const pub = await cli(["public-key", "release-signer"]);
    expect(pub.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----\n/);
    expect(pub.stderr).toContain("ECC_NIST_P256 SIGN_VERIFY, version 1: ECDSA_SHA_256");
    const pemFile = join(dir, "release-signer.pem");
    writeFileSync(pemFile, pub.stdout);
    const msgFile = join(dir, "release.txt");
    writeFileSync(msgFile, "release 1.0");
    expect(execFileSync("openssl", ["dgst", "-sha256", "-verify", pemFile, "-signature", sigFile, msgFile], { encoding: "utf8" }).trim()).toBe("Verified OK");

    const valid = await cli(["verify", "--key", "release-signer", "--algorithm", "ECDSA_SHA_256", "--signature", `@${sigFile}`, "release 1.0"]);
    expect([valid.code, valid.stdout.trim()]).toEqual([0, "valid"]);
    const invalid = await cli(["verify", "--key", "release-signer", "--algorithm", "ECDSA_SHA_256", "--signature", signed.stdout.trim(), "release 1.1"]);
    expect([invalid.code, invalid.stdout.trim()]).toEqual([1, "invalid"]);
  });

  it("encrypt and decrypt with RSAES_OAEP_SHA_256; a usage error exits 1 with InvalidKeyUsage", async () => {
    expect((await cli(["key", "create", "inbox", "--spec", "RSA_2048", "--usage", "ENCRYPT_DECRYPT"])).code).toBe(0);
    const enc = await cli(["encrypt", "--key", "inbox", "--algorithm", "RSAES_OAEP_SHA_256", "for the inbox"]);
    expect(enc.code, enc.stderr).toBe(0);
    const dec = await cli(["decrypt", "--key", "inbox", "--algorithm", "RSAES_OAEP_SHA_256", enc.stdout.trim()]);
    expect([dec.code, dec.stdout]).toEqual([0, "for the inbox"]);
    const wrong = await cli(["encrypt", "--key", "inbox", "plain", "--json"]);
    expect(wrong.code).toBe(1);
    expect(JSON.parse(wrong.stderr).error.code).toBe("InvalidKeyUsage");
  });

  it("datakey-pair prints a PKCS#8 private key matching its public key; shared-secret takes a PEM peer key", async () => {
    expect((await cli(["key", "create", "device-keys"])).code).toBe(0);
    const pair = JSON.parse((await cli(["datakey-pair", "--key", "device-keys", "--spec", "ECC_NIST_EDWARDS25519", "--json"])).stdout);
    const privateKey = createPrivateKey({ key: Buffer.from(pair.privateKeyPlaintext, "base64"), format: "der", type: "pkcs8" });
    expect(createPublicKey(privateKey).export({ type: "spki", format: "der" }).toString("base64")).toBe(pair.publicKey);

    expect((await cli(["key", "create", "agreement", "--spec", "ECC_NIST_P256", "--usage", "KEY_AGREEMENT"])).code).toBe(0);
    const peer = generateKeyPairSync("ec", { namedCurve: "prime256v1" });
    const peerPem = join(dir, "peer.pem");
    writeFileSync(peerPem, peer.publicKey.export({ type: "spki", format: "pem" }));
    const shared = await cli(["shared-secret", "--key", "agreement", "--public-key", peerPem]);
    const ours = createPublicKey((await cli(["public-key", "agreement"])).stdout);
    expect(shared.stdout.trim()).toBe(diffieHellman({ privateKey: peer.privateKey, publicKey: ours }).toString("base64"));
  });
});
