/**
 * The identity and policy commands end to end, against a real dev server and the real `tessera`
 * binary: policies and the simulator, an AppRole role whose token can do only what its policy allows,
 * access keys, token renewal, and JWT issuers with `login jwt`. Needs the build (`npx tsc -b`).
 */
import { spawn } from "node:child_process";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "identity-cli-root-token";
let server: ServerProcess;

/** `tessera ...args`; `token: null` runs without a token. */
async function tessera(args: string[], options: { input?: string; token?: string | null } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_ADDR: server.url };
  delete env["TESSERA_TOKEN"];
  const token = options.token === undefined ? ROOT : options.token;
  if (token !== null) env["TESSERA_TOKEN"] = token;
  // Asynchronous, so that independent invocations can run together (Promise.all below).
  const r = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: REPO, env, stdio: ["pipe", "pipe", "pipe"], timeout: 30_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
  return { ...r, text: r.stdout.trim(), json: () => JSON.parse(r.stdout), error: () => JSON.parse(r.stderr).error };
}

const POLICY = {
  statements: [
    { sid: "encrypt-app", effect: "allow", actions: ["kms:Encrypt", "kms:DescribeKey"], resources: ["app-key"] },
    { sid: "never-other", effect: "deny", actions: ["kms:*"], resources: ["other-key"] },
  ],
};

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  const created = await Promise.all([tessera(["key", "create", "app-key"]), tessera(["key", "create", "other-key"])]);
  expect(created.map((r) => r.code)).toEqual([0, 0]);
});
afterAll(async () => {
  await server?.stop();
});

describe("tessera policy", () => {
  it("writes a policy from stdin, reads and lists it, and refuses a malformed one naming the field", async () => {
    expect((await tessera(["policy", "put", "app", "-"], { input: JSON.stringify(POLICY) })).code).toBe(0);
    // Reads of it, and two refused writes that change nothing: independent, so they run together.
    const [got, gotJson, list, bad, notJson] = await Promise.all([
      tessera(["policy", "get", "app"]),
      tessera(["policy", "get", "app", "--json"]),
      tessera(["policy", "list"]),
      tessera(["policy", "put", "broken", "-", "--json"], { input: JSON.stringify({ statements: [{ effect: "maybe", actions: ["kms:Encrypt"], resources: ["*"] }] }) }),
      tessera(["policy", "put", "broken", "-"], { input: "{not json" }),
    ]);
    expect([got.code, got.json()]).toEqual([0, POLICY]);
    expect(gotJson.json()).toMatchObject({ name: "app", document: POLICY });
    expect(list.text.split("\n")).toEqual(expect.arrayContaining(["app", "operator"]));

    expect(bad.code).toBe(1);
    expect(bad.error()).toMatchObject({ code: "InvalidInput", field: "/statements/0/effect" });
    expect(notJson.code).toBe(2);
  });

  it("simulates allow and deny with exit 0, naming the deciding statement", async () => {
    expect((await tessera(["role", "create", "sim", "--policy", "app"])).code).toBe(0);
    // Simulations change nothing: they run together.
    const [allow, deny, none, usage] = await Promise.all([
      tessera(["policy", "simulate", "--role", "sim", "--action", "kms:Encrypt", "--resource", "app-key", "--json"]),
      tessera(["policy", "simulate", "--role", "sim", "--action", "kms:Encrypt", "--resource", "other-key"]),
      tessera(["policy", "simulate", "--role", "sim", "--action", "kms:Decrypt", "--resource", "app-key", "--attr", "vm_id=vm-1", "--source", "10.0.0.1", "--time", "2026-01-05T12:00:00Z"]),
      tessera(["policy", "simulate", "--action", "kms:Encrypt"]),
    ]);
    expect(allow.code).toBe(0);
    expect(allow.json()).toMatchObject({ allowed: true, policy: "app", statement: 0, sid: "encrypt-app" });
    expect(deny.code).toBe(0);
    expect(deny.text).toMatch(/^denied: explicit-deny \(policy app, statement 1 "never-other"\)$/);
    expect([none.code, none.text]).toEqual([0, "denied: default-deny (no statement allows kms:Decrypt on key/app-key)"]);
    expect(usage.code).toBe(2);
  });

  it("says which conditions failed on a default deny, and warns about administrator-equivalent actions", async () => {
    const net = { statements: [{ sid: "office", effect: "allow", actions: ["kms:Encrypt"], resources: ["app-key"], conditions: { sourceCidr: ["10.0.0.0/8"], authMethod: ["cert"] } }] };
    expect((await tessera(["policy", "put", "office", "-"], { input: JSON.stringify(net) })).code).toBe(0);
    expect((await tessera(["role", "create", "office", "--policy", "office"])).code).toBe(0);
    // Simulations change nothing: they run together.
    const [denied, admin, putRole, wrong] = await Promise.all([
      tessera(["policy", "simulate", "--role", "office", "--action", "kms:Encrypt", "--resource", "app-key", "--source", "192.168.1.5", "--auth-method", "approle"]),
      tessera(["policy", "simulate", "--role", "operator", "--action", "policy:PutPolicy", "--resource", "policy/orders-app"]),
      tessera(["policy", "simulate", "--role", "operator", "--action", "policy:PutRole", "--resource", "role/x", "--json"]),
      tessera(["policy", "simulate", "--role", "operator", "--action", "kms:Encrypt", "--resource", "policy/x", "--json"]),
    ]);
    expect(denied.text.split("\n")).toEqual([
      "denied: default-deny (statements allow kms:Encrypt on key/app-key, but their conditions failed)",
      '  policy office, statement 0 "office": failed sourceCidr, authMethod',
    ]);
    expect(admin.text.split("\n")[0]).toBe('allowed: allow (policy operator, statement 0 "operator-all")');
    expect(admin.text.split("\n")[1]).toMatch(/^warning: policy:PutPolicy is administrator-equivalent: /);
    const json = putRole.json();
    expect(json.warnings.map((w: { code: string }) => w.code)).toEqual(["administrator-equivalent"]);
    // Resources are typed: a policy resource for a key action is refused, naming the field.
    expect([wrong.code, wrong.error()]).toEqual([1, expect.objectContaining({ code: "InvalidInput", field: "/resource" })]);
  });
});

// The three suites below work on roles, access keys and issuers of their own (reading only the
// policy and keys made above): they run concurrently with each other.
describe("AppRole through the CLI", { concurrent: true }, () => {
  it("creates a role, a secret id, logs in, and the token can do only what the policy allows", async () => {
    expect((await tessera(["role", "create", "ci", "--policy", "app", "--approle", "--secret-id-uses", "2", "--token-ttl", "10m", "--token-max-ttl", "1h"])).code).toBe(0);
    expect((await tessera(["role", "get", "ci"])).json()).toMatchObject({ name: "ci", policies: ["app"], tokenTtlSeconds: 600, approle: { secretIdUses: 2, roleId: expect.any(String) } });
    expect((await tessera(["role", "update", "ci", "--description", "builds"])).code).toBe(0);
    expect((await tessera(["role", "get", "ci"])).json()).toMatchObject({ description: "builds", tokenTtlSeconds: 600, approle: { secretIdUses: 2 } });

    const roleId = (await tessera(["approle", "role-id", "ci"])).text;
    expect(roleId).toBe((await tessera(["role", "get", "ci"])).json().approle.roleId);
    const secret = await tessera(["approle", "secret-id", "create", "ci", "--ttl", "1h", "--json"]);
    expect(secret.code).toBe(0);
    expect(secret.json()).toMatchObject({ secretId: expect.any(String), accessor: expect.any(String), role: "ci", uses: 2 });

    const login = await tessera(["login", "approle", "--role-id", roleId, "--secret-id", "-"], { input: secret.json().secretId, token: null });
    expect(login.code).toBe(0);
    const token = login.text;
    expect(token).toMatch(/^tsr_\S+$/); // the token alone on stdout, for $(…)
    expect(login.stderr).toContain("role ci");

    const refusedArgs = [
      ["encrypt", "--key", "other-key", "hello"],
      ["key", "rotate", "app-key"],
      ["key", "create", "mine"],
      ["policy", "list"],
    ];
    // One allowed and four refused requests with the token: independent, so they run together.
    const [allowed, ...refused] = await Promise.all([tessera(["encrypt", "--key", "app-key", "hello"], { token }), ...refusedArgs.map((args) => tessera([...args, "--json"], { token }))]);
    expect(allowed!.code).toBe(0);
    for (const [i, r] of refused.entries()) expect([r.code, r.error().code], refusedArgs[i]!.join(" ")).toEqual([1, "AccessDenied"]);
    const renewed = await tessera(["token", "renew", "--json"], { token });
    expect([renewed.code, renewed.json().renewable]).toEqual([0, true]);

    const again = await tessera(["login", "approle", "--role-id", roleId, "--secret-id", secret.json().secretId, "--json"], { token: null });
    expect(again.json()).toMatchObject({ token: expect.stringMatching(/^tsr_/), role: "ci", authMethod: "approle" });
    const spent = await tessera(["login", "approle", "--role-id", roleId, "--secret-id", secret.json().secretId, "--json"], { token: null });
    expect([spent.code, spent.error().code]).toEqual([1, "Unauthenticated"]);

    const revocable = (await tessera(["approle", "secret-id", "create", "ci", "--json"])).json();
    expect((await tessera(["approle", "secret-id", "revoke", revocable.accessor])).code).toBe(0);
    expect((await tessera(["login", "approle", "--role-id", roleId, "--secret-id", revocable.secretId], { token: null })).code).toBe(1);

    expect((await tessera(["role", "delete", "ci"])).code).toBe(0);
    expect((await tessera(["encrypt", "--key", "app-key", "hello"], { token })).code).toBe(1);
  });
});

describe("tessera access-key", { concurrent: true }, () => {
  it("creates a key once with its secret, lists, disables, enables and deletes it", async () => {
    expect((await tessera(["role", "create", "billing", "--policy", "app"])).code).toBe(0);
    expect((await tessera(["access-key", "create"])).code).toBe(2); // --role is required
    const created = await tessera(["access-key", "create", "--role", "billing", "--description", "billing app", "--json"]);
    expect(created.code).toBe(0);
    const key = created.json();
    expect(key).toMatchObject({ accessKeyId: expect.any(String), secretAccessKey: expect.any(String), role: "billing", state: "Active", description: "billing app" });
    const listed = (await tessera(["access-key", "list", "--json"])).json().accessKeys;
    expect(listed).toEqual([expect.objectContaining({ accessKeyId: key.accessKeyId, role: "billing" })]);
    expect(JSON.stringify(listed)).not.toContain(key.secretAccessKey);
    expect((await tessera(["access-key", "disable", key.accessKeyId, "--json"])).json().state).toBe("Inactive");
    expect((await tessera(["access-key", "enable", key.accessKeyId, "--json"])).json().state).toBe("Active");
    expect((await tessera(["access-key", "delete", key.accessKeyId])).code).toBe(0);
    expect((await tessera(["access-key", "list", "--json"])).json().accessKeys).toEqual([]);
  });
});

describe("JWT through the CLI", { concurrent: true }, () => {
  it("configures an issuer with an inline JWKS, binds a role and logs in with a JWT from stdin", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] };
    const put = await tessera(["auth", "jwt", "issuer", "put", "idp", "--issuer", "https://idp.test", "--jwks", "-", "--audience", "tessera", "--algorithm", "ES256", "--json"], {
      input: JSON.stringify(jwks),
    });
    expect(put.code).toBe(0);
    expect(put.json()).toMatchObject({ name: "idp", issuer: "https://idp.test", audiences: ["tessera"], algorithms: ["ES256"] });
    // Reads of the issuer, refused issuers, and roles bound to it: independent, so they run together.
    const [list, got, noSource, insecure, role, loose, bad] = await Promise.all([
      tessera(["auth", "jwt", "issuer", "list"]),
      tessera(["auth", "jwt", "issuer", "get", "idp"]),
      tessera(["auth", "jwt", "issuer", "put", "x", "--issuer", "i", "--audience", "a"]),
      tessera(["auth", "jwt", "issuer", "put", "x", "--issuer", "i", "--jwks-url", "http://idp.example.com/jwks", "--audience", "a", "--json"]),
      tessera(["role", "create", "wl", "--policy", "app", "--jwt-issuer", "idp", "--bound-claim", "sub=spiffe://prod/*", "--claim-attr", "vm.name=vm_id"]),
      tessera(["role", "create", "loose", "--policy", "app", "--jwt-issuer", "idp"]),
      tessera(["role", "create", "bad", "--policy", "app", "--bound-claim", "sub=*"]),
    ]);
    expect(list.text).toBe("idp");
    expect(got.json()).toMatchObject({ jwks });
    expect(noSource.code).toBe(2);
    expect(insecure.error()).toMatchObject({ code: "InvalidInput", field: "/jwksUrl" });

    expect([role.code, role.stderr]).toEqual([0, ""]);
    expect(loose.stderr).toMatch(/Warning/);
    expect(bad.code).toBe(2);

    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ vm: { name: "vm-7" } })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://idp.test")
      .setAudience("tessera")
      .setSubject("spiffe://prod/billing")
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const login = await tessera(["login", "jwt", "--role", "wl", "--jwt-file", "-", "--json"], { input: `${jwt}\n`, token: null });
    expect(login.code).toBe(0);
    expect(login.json()).toMatchObject({ token: expect.stringMatching(/^tsr_/), kind: "workload", authMethod: "jwt", attributes: { sub: "spiffe://prod/billing", vm_id: "vm-7" } });
    expect((await tessera(["encrypt", "--key", "app-key", "hi"], { token: login.json().token })).code).toBe(0);

    const refused = await tessera(["login", "jwt", "--role", "wl", "--jwt-file", "-", "--json"], { input: jwt.slice(0, -4) + "AAAA", token: null });
    expect([refused.code, refused.error().code]).toEqual([1, "Unauthenticated"]);
    expect((await tessera(["auth", "jwt", "issuer", "delete", "idp"])).code).toBe(0);
    expect((await tessera(["login", "jwt", "--role", "wl", "--jwt-file", "-"], { input: jwt, token: null })).code).toBe(1);
  });
});
