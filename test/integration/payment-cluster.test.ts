/**
 * docs/scenarios/payment-cluster.md's enrolment and revocation steps through the `tessera` CLI against
 * a real server: a key `payment-db` (30-day rotation); a role `payment-vm` allowed only kms:Decrypt on
 * it from the cluster's address range; three VMs enrolled with single-use join tokens, each decrypting
 * a ciphertext straight into the consuming process (never onto disk); a revoked VM stops at once.
 * The whole case over 100 days is test/integration/payment-case-100-days.test.ts; the page's own
 * snippets (the agent, the configuration centre, retention) run in test/docs/readme-snippets.test.ts.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "payment-cluster-root-token";
const dir = mkdtempSync(join(tmpdir(), "tessera-payment-"));
let server: ServerProcess;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `tessera ...args` as a given user (token null = none), optionally piping stdin. */
function tessera(args: string[], options: { token?: string | null; input?: string } = {}): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_ADDR: server.url };
  delete env["TESSERA_TOKEN"];
  const token = options.token === undefined ? ROOT : options.token;
  if (token !== null) env["TESSERA_TOKEN"] = token;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("payment cluster scenario", () => {
  it("three VMs enrol and decrypt the database password; nothing else is allowed", async () => {
    // Operator: the key, the decrypt-only policy (loopback stands in for the cluster's 10.0.0.0/8), the role.
    expect((await tessera(["key", "create", "payment-db", "--rotation-period", "30d"])).code).toBe(0);
    const policyFile = join(dir, "payment-decrypt.json");
    writeFileSync(
      policyFile,
      JSON.stringify({
        statements: [
          { sid: "decrypt-db-password", effect: "allow", actions: ["kms:Decrypt"], resources: ["payment-db"], conditions: { sourceCidr: ["10.0.0.0/8", "127.0.0.0/8"], encryptionContext: { app: "payment" } } },
        ],
      }),
    );
    expect((await tessera(["policy", "put", "payment-decrypt", policyFile])).code).toBe(0);
    expect((await tessera(["role", "create", "payment-vm", "--policy", "payment-decrypt", "--token-ttl", "15m", "--cert-ttl", "24h"])).code).toBe(0);

    // The database password, encrypted once; the ciphertext ships with the VM image or config.
    const enc = await tessera(["encrypt", "--key", "payment-db", "--context", "app=payment"], { input: "correct horse battery staple" });
    expect(enc.code).toBe(0);
    const ciphertext = enc.stdout.trim();

    const sim = await tessera(["policy", "simulate", "--role", "payment-vm", "--action", "kms:Decrypt", "--resource", "payment-db", "--context", "app=payment", "--source", "10.4.0.9", "--json"]);
    expect(JSON.parse(sim.stdout)).toMatchObject({ allowed: true, sid: "decrypt-db-password" });
    const outside = await tessera(["policy", "simulate", "--role", "payment-vm", "--action", "kms:Decrypt", "--resource", "payment-db", "--context", "app=payment", "--source", "192.168.1.5", "--json"]);
    expect(JSON.parse(outside.stdout)).toMatchObject({ allowed: false, reason: "default-deny", unmet: [{ sid: "decrypt-db-password", failed: ["sourceCidr"] }] });

    const vmTokens = new Map<string, string>();
    for (const vm of ["pay-1", "pay-2", "pay-3"]) {
      // Operator (or the provisioning system) mints a single-use join token per VM.
      const jt = await tessera(["join-token", "create", "--role", "payment-vm", "--ttl", "15m", "--vm-id", vm, "--json"]);
      expect(jt.code).toBe(0);
      const joinToken = JSON.parse(jt.stdout).joinToken as string;

      // The VM enrols at boot: key pair made locally, certificate stored, Tessera token printed.
      const vmDir = join(dir, vm);
      const enrolled = await tessera(["login", "join", "--token", joinToken, "--dir", vmDir, "--json"], { token: null });
      expect(enrolled.code, enrolled.stderr).toBe(0);
      const login = JSON.parse(enrolled.stdout);
      expect(login).toMatchObject({ vmId: vm, role: "payment-vm", authMethod: "cert" });
      vmTokens.set(vm, login.token);
      expect(statSync(join(vmDir, "key.pem")).mode & 0o777).toBe(0o600);
      // The join token is spent.
      expect((await tessera(["login", "join", "--token", joinToken, "--dir", join(dir, "again"), "--json"], { token: null })).code).toBe(1);

      // Start-up: decrypt straight into the consumer's stdin; the plaintext never touches the disk.
      const consumer = await new Promise<string>((resolve, reject) => {
        const decrypt = spawn(process.execPath, [BIN, "decrypt", "--context", "app=payment"], {
          env: { ...process.env, TESSERA_ADDR: server.url, TESSERA_TOKEN: login.token },
          stdio: ["pipe", "pipe", "inherit"],
        });
        const app = spawn(process.execPath, ["-e", "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>console.log('db connected with '+s.length+'-char password:'+(s==='correct horse battery staple')))"], {
          stdio: ["pipe", "pipe", "inherit"],
        });
        decrypt.stdout.pipe(app.stdin);
        let out = "";
        app.stdout.on("data", (d) => (out += d));
        app.once("close", () => resolve(out.trim()));
        app.once("error", reject);
        decrypt.stdin.end(ciphertext);
      });
      expect(consumer).toBe("db connected with 28-char password:true");
      expect(readdirSync(vmDir).sort()).toEqual(["ca.pem", "cert.pem", "key.pem"]);

      // The role can do nothing else.
      for (const args of [
        ["encrypt", "--key", "payment-db", "--context", "app=payment", "x"],
        ["key", "rotate", "payment-db"],
        ["key", "show", "payment-db"],
        ["datakey", "--key", "payment-db", "--context", "app=payment"],
        ["decrypt", "--context", "app=other", ciphertext],
      ]) {
        const r = await tessera([...args, "--json"], { token: login.token });
        expect([r.code, JSON.parse(r.stderr).error.code], args.join(" ")).toEqual([1, "AccessDenied"]);
      }
    }

    // Decommission a VM: its certificates and tokens stop at once; the other VMs keep working.
    const revoked = await tessera(["cert", "revoke", "--vm-id", "pay-2", "--json"]);
    expect(JSON.parse(revoked.stdout)).toMatchObject({ certificates: 1, tokens: 1 });
    const decryptAs = (vm: string) => tessera(["decrypt", "--context", "app=payment", ciphertext, "--json"], { token: vmTokens.get(vm)! });
    const [gone, kept] = [await decryptAs("pay-2"), await decryptAs("pay-1")];
    // A failed command writes nothing on stdout; with --json its error body goes to stderr.
    expect([gone.code, gone.stdout, JSON.parse(gone.stderr).error.code]).toEqual([1, "", "Unauthenticated"]);
    expect([kept.code, Buffer.from(JSON.parse(kept.stdout).plaintext, "base64").toString()]).toEqual([0, "correct horse battery staple"]);
    const caPem = await tessera(["ca"]);
    expect(caPem.stdout).toContain("BEGIN CERTIFICATE");
    expect(readFileSync(join(dir, "pay-1", "ca.pem"), "utf8").trim()).toBe(caPem.stdout.trim());
  }, 300_000); // some forty CLI processes: on a loaded 2-core machine a minute or more
});
