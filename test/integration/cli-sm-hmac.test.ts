/** The CLI with SM4 and HMAC keys: `key create --spec`, encrypt/decrypt under SM4, `mac generate` / `mac verify` and their exit codes. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "cli-sm-hmac-root";
let server: ServerProcess;
const cli = (...args: string[]) => runCli(args, { address: server.url, token: ROOT });

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
});
afterAll(async () => {
  await server?.stop();
});

describe("tessera with SM4 and HMAC keys", () => {
  it("creates an SM4 key and round-trips a plaintext through it (format v3 on the wire)", async () => {
    const created = await cli("key", "create", "gm-db", "--spec", "SM4", "--json");
    expect(created.code, created.stderr).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ keySpec: "SM4", keyUsage: "ENCRYPT_DECRYPT" });
    const enc = await cli("encrypt", "--key", "gm-db", "国密");
    expect(enc.code, enc.stderr).toBe(0);
    expect(Buffer.from(enc.stdout.trim(), "base64").subarray(0, 3)).toEqual(Buffer.from([0x54, 0x03, 0x05]));
    const dec = await runCli(["decrypt"], { address: server.url, token: ROOT, input: enc.stdout });
    expect([dec.code, dec.stdout]).toEqual([0, "国密"]);
  });

  it("mac generate prints a MAC; mac verify prints valid (exit 0) or invalid (exit 1); the algorithm is looked up or given", async () => {
    expect((await cli("key", "create", "hooks", "--spec", "HMAC_SM3")).code).toBe(0);
    const gen = await cli("mac", "generate", "--key", "hooks", "payload");
    expect(gen.code, gen.stderr).toBe(0);
    const mac = gen.stdout.trim();
    expect(Buffer.from(mac, "base64")).toHaveLength(32);
    expect(await cli("mac", "verify", "--key", "hooks", "--mac", mac, "payload")).toMatchObject({ code: 0, stdout: "valid\n" });
    expect(await cli("mac", "verify", "--key", "hooks", "--mac", mac, "tampered")).toMatchObject({ code: 1, stdout: "invalid\n" });
    expect(await cli("mac", "verify", "--key", "hooks", "--mac", mac, "--algorithm", "HMAC_SM3", "--version", "1", "payload")).toMatchObject({ code: 0, stdout: "valid\n" });
    const json = await cli("mac", "generate", "--key", "hooks", "--json", "payload");
    expect(JSON.parse(json.stdout)).toMatchObject({ keyVersion: 1, macAlgorithm: "HMAC_SM3", mac });
  });

  it("another algorithm than the key's is refused with InvalidKeyUsage; a non-HMAC key is a usage error", async () => {
    const wrong = await cli("mac", "generate", "--key", "hooks", "--algorithm", "HMAC_SHA_256", "payload");
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain("InvalidKeyUsage");
    const notHmac = await cli("mac", "generate", "--key", "gm-db", "payload");
    expect(notHmac.code).toBe(2);
    expect(notHmac.stderr).toContain("not an HMAC key");
  });
});
