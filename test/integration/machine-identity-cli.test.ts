/**
 * Machine identity from the command line, against `tessera server --dev --dev-tls` (HTTPS whose
 * certificate Tessera's own CA issued, client certificates requested): an operator creates a join
 * token, a VM enrols with `tessera login join`, logs in and renews with its certificate, and stops
 * working once revoked. Needs the build (`npx tsc -b`).
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, printedDevCa, startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-mi-cli-"));
const data = join(dir, "data");
const vmDir = join(dir, "vm");
const rootToken = "root-mi-cli-token";
let server: ServerProcess;

function tessera(args: string[], o: { token?: string | null; input?: string; caCert?: boolean } = {}): Promise<{ code: number | null; text: string; stderr: string; json: () => any; error: () => any }> {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_ADDR: server.url };
  delete env["TESSERA_TOKEN"];
  delete env["TESSERA_CACERT"];
  const token = o.token === undefined ? rootToken : o.token;
  if (token !== null) env["TESSERA_TOKEN"] = token;
  if (o.caCert !== false) env["TESSERA_CACERT"] = join(data, "ca.pem");
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c) => (out += c));
    child.stderr.on("data", (c) => (err += c));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, text: out.trim(), stderr: err, json: () => JSON.parse(out), error: () => JSON.parse(err).error }));
    child.stdin.end(o.input ?? "");
  });
}

beforeAll(async () => {
  server = await startServer(["--dev", "--dev-tls", "--listen", "127.0.0.1:{port}", "--data", data, "--dev-root-token", rootToken], { scheme: "https" });
}, 30_000);
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera join-token / login join / login cert / cert renew / cert revoke", () => {
  it("enrols a VM that then authenticates with its certificate until revoked", async () => {
    // The banner may come a moment after the server answers its first health check.
    expect(await printedDevCa(server)).toBe(join(data, "ca.pem"));
    // Without the CA the dev server's certificate is not trusted.
    expect((await tessera(["status"], { caCert: false })).code).toBe(1);

    const policy = { statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["payment-db"], conditions: { encryptionContext: { vm: "${principal.vm_id}" } } }] };
    expect((await tessera(["key", "create", "payment-db"])).code).toBe(0);
    expect((await tessera(["policy", "put", "payment-decrypt", "-"], { input: JSON.stringify(policy) })).code).toBe(0);
    expect((await tessera(["role", "create", "payment-vm", "--policy", "payment-decrypt", "--cert-ttl", "1h"])).code).toBe(0);
    const ciphertext = (await tessera(["encrypt", "--key", "payment-db", "--context", "vm=pay-1", "db-password"])).text;

    const created = await tessera(["join-token", "create", "--role", "payment-vm", "--vm-id", "pay-1", "--ttl", "10m", "--json"]);
    expect(created.code).toBe(0);
    const joinToken = created.json();
    expect(joinToken).toMatchObject({ role: "payment-vm", vmId: "pay-1", uses: 1 });
    const listed = await tessera(["join-token", "list", "--json"]);
    expect(listed.text).toContain(joinToken.accessor);
    expect(listed.text).not.toContain(joinToken.joinToken);

    const joined = await tessera(["login", "join", "--token", joinToken.joinToken, "--dir", vmDir, "--json"], { token: null });
    expect(joined.code, joined.stderr).toBe(0);
    const enrolled = joined.json();
    expect(enrolled).toMatchObject({ kind: "vm", authMethod: "cert", role: "payment-vm", vmId: "pay-1" });
    expect(statSync(join(vmDir, "key.pem")).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(vmDir, "ca.pem"), "utf8")).toBe(readFileSync(join(data, "ca.pem"), "utf8"));
    expect((await tessera(["ca", "show"])).text).toBe(readFileSync(join(data, "ca.pem"), "utf8").trim());

    // The join token is spent.
    const again = await tessera(["login", "join", "--token", joinToken.joinToken, "--dir", join(dir, "vm2"), "--json"], { token: null });
    expect([again.code, again.error().code]).toEqual([1, "Unauthenticated"]);

    // Certificate → token, and that token decrypts the VM's own secret.
    const login = await tessera(["login", "cert", "--dir", vmDir, "--json"]);
    expect(login.code, login.stderr).toBe(0);
    const vmToken = login.json().token as string;
    const plain = await tessera(["decrypt", "--context", "vm=pay-1", ciphertext], { token: vmToken });
    expect(plain.text).toBe("db-password");

    const oldCert = readFileSync(join(vmDir, "cert.pem"), "utf8");
    const renewed = await tessera(["cert", "renew", "--dir", vmDir, "--json"]);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(readFileSync(join(vmDir, "cert.pem"), "utf8")).not.toBe(oldCert);
    expect((await tessera(["login", "cert", "--dir", vmDir, "--json"])).code).toBe(0);

    const revoked = await tessera(["cert", "revoke", "--vm-id", "pay-1", "--json"]);
    expect(revoked.json()).toMatchObject({ certificates: 2 });
    const refused = await tessera(["login", "cert", "--dir", vmDir, "--json"]);
    expect([refused.code, refused.error().code]).toEqual([1, "Unauthenticated"]);
    expect((await tessera(["decrypt", "--context", "vm=pay-1", ciphertext, "--json"], { token: vmToken })).error().code).toBe("Unauthenticated");
  }, 60_000);
});
