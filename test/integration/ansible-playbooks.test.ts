/**
 * The Ansible playbooks of examples/ansible, unchanged, run with Debian's `ansible-playbook` (its
 * amazon.aws collection: kms_key and kms_key_info, against the AWS API; community.hashi_vault against
 * the Vault-compatible API) on a real dev server — each twice,
 * the second run changing nothing — with the resulting state checked through the native API, and the
 * grant the playbook made used by its grantee through the official AWS SDK.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { REPO, api, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "ansible-root-token";
const PLAYBOOKS = join(REPO, "examples/ansible");
let server: ServerProcess;
let env: NodeJS.ProcessEnv;

interface Run {
  code: number | null;
  output: string;
  /** PLAY RECAP of localhost: ok, changed, failed … */
  recap: Record<string, number>;
}

function playbook(name: string, more: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("ansible-playbook", [name], { cwd: PLAYBOOKS, env: { ...env, ...more }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.once("error", reject);
    child.once("exit", (code) => {
      const line = /localhost\s*:\s*(.*)$/m.exec(output)?.[1] ?? "";
      const recap = Object.fromEntries([...line.matchAll(/(\w+)=(\d+)/g)].map((m) => [m[1]!, Number(m[2])]));
      resolve({ code, output, recap });
    });
  });
}

const native = async (method: string, path: string, body?: unknown) => {
  const r = await api(server.url, ROOT, method, path, body);
  expect(r.status, `${method} ${path}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
  return r.body;
};

/** The key the playbooks manage, found natively by its description. */
async function paymentKey(): Promise<Record<string, any>> {
  const { keys } = await native("GET", "/v1/keys?limit=1000");
  const found = (keys as Record<string, any>[]).filter((k) => k["description"] === "Payment database password");
  expect(found).toHaveLength(1);
  return found[0]!;
}

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT], { ready: "unsealed" });
  // The roles the key policy and the grant name (Tessera roles are what AWS role ARNs map to).
  await native("PUT", "/v1/roles/payment-vm", { policies: [] });
  await native("PUT", "/v1/roles/payment-batch", { policies: [] });
  const key = await native("POST", "/v1/auth/access-keys", { role: "operator" });
  env = {
    ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("AWS_") && !k.startsWith("ANSIBLE_"))),
    AWS_ACCESS_KEY_ID: key.accessKeyId,
    AWS_SECRET_ACCESS_KEY: key.secretAccessKey,
    TESSERA_AWS_ENDPOINT: server.url,
    ANSIBLE_LOCALHOST_WARNING: "false",
    ANSIBLE_INVENTORY_UNPARSED_WARNING: "false",
    ANSIBLE_DEPRECATION_WARNINGS: "false",
    ANSIBLE_NOCOLOR: "true",
  };
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe("Ansible (amazon.aws) against Tessera", () => {
  it("payment-key.yml creates the key with alias, description, tags, rotation, key policy and grant; a second run changes nothing", async () => {
    const first = await playbook("payment-key.yml");
    expect(first.recap, first.output).toMatchObject({ failed: 0, changed: 1 });
    const second = await playbook("payment-key.yml");
    expect(second.recap, second.output).toMatchObject({ failed: 0, changed: 0 });

    const k = await paymentKey();
    expect(k).toMatchObject({ state: "Enabled", keySpec: "SYMMETRIC_DEFAULT", tags: { team: "payments", data: "pci" }, rotationPeriodSeconds: 365 * 86400 });
    const { grants } = await native("GET", `/v1/keys/${k["keyId"]}/grants`);
    expect(grants).toEqual([
      expect.objectContaining({
        name: "payment-batch",
        granteeRole: "payment-batch",
        retiringRole: "payment-batch",
        operations: ["Encrypt", "GenerateDataKey", "DescribeKey"],
        constraints: { encryptionContextSubset: { app: "payment" } },
      }),
    ]);
    const cli = await runCli(["key", "grants", "alias/payment-db"], { address: server.url, token: ROOT });
    expect(cli.code, cli.stderr).toBe(0);
    expect(cli.stdout).toMatch(/payment-batch\s+payment-batch\s+payment-batch\s+Encrypt,GenerateDataKey,DescribeKey\s+subset \{"app":"payment"\}/);
    // The key policy became a policy of the payment-vm role, on this key only.
    const role = await native("GET", "/v1/roles/payment-vm");
    expect(role.policies).toEqual([`@key-policy/${k["keyId"]}/payment-vm`]);

    // The grantee uses its grant, within its constraint, with nothing but the grant — through the
    // alias the playbook made, which names this key.
    const batchKey = await native("POST", "/v1/auth/access-keys", { role: "payment-batch" });
    const batch = new KMSClient({ region: "us-east-1", endpoint: server.url, credentials: { accessKeyId: batchKey.accessKeyId, secretAccessKey: batchKey.secretAccessKey }, maxAttempts: 1 });
    const enc = (context: Record<string, string>) => batch.send(new EncryptCommand({ KeyId: "alias/payment-db", Plaintext: new TextEncoder().encode("p"), EncryptionContext: context }));
    expect((await enc({ app: "payment" })).KeyId).toContain(k["keyId"]);
    await expect(enc({ app: "orders" })).rejects.toMatchObject({ name: "AccessDeniedException" });
  }, 600_000);

  it("payment-key-info.yml reads it back with kms_key_info", async () => {
    const run = await playbook("payment-key-info.yml");
    expect(run.recap, run.output).toMatchObject({ failed: 0, changed: 0 });
    expect(run.output).toContain("All assertions passed");
  }, 300_000);

  it("payment-key-retire.yml disables the key and schedules its deletion; a second run changes nothing", async () => {
    const first = await playbook("payment-key-retire.yml");
    expect(first.recap, first.output).toMatchObject({ failed: 0, changed: 2 });
    const second = await playbook("payment-key-retire.yml");
    expect(second.recap, second.output).toMatchObject({ failed: 0, changed: 0 });
    const k = await paymentKey();
    expect(k["state"]).toBe("PendingDeletion");
    const days = (Date.parse(k["deletionDate"]) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);
  }, 600_000);

  it("payment-secret.yml stores and reads the password in KV v2 and round-trips a card token through transit (community.hashi_vault); a second run changes nothing", async () => {
    const vault = { VAULT_ADDR: server.url, VAULT_TOKEN: ROOT, PAYMENT_DB_PASSWORD: "correct horse battery staple" };
    const first = await playbook("payment-secret.yml", vault);
    expect(first.recap, first.output).toMatchObject({ failed: 0, changed: 2 });
    const second = await playbook("payment-secret.yml", vault);
    expect(second.recap, second.output).toMatchObject({ failed: 0, changed: 0 });
    const secret = await native("GET", "/v1/secrets/secret/data/payment/db");
    expect(JSON.stringify(secret)).toContain("correct horse battery staple");
    expect((await native("GET", "/v1/keys/payment-tokens")).state).toBe("Enabled");
  }, 600_000);
});
