/**
 * The identity and policy commands end to end, against a real dev server and the real `tessera`
 * binary: policies and the simulator, an AppRole role whose token can do only what its policy allows,
 * access keys, token renewal, and JWT issuers with `login jwt`. Needs the build (`npx tsc -b`).
 */
import { spawnSync } from "node:child_process";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "identity-cli-root-token";
let server: ServerProcess;

/** `tessera ...args`; `token: null` runs without a token. */
function tessera(args: string[], options: { input?: string; token?: string | null } = {}) {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_ADDR: server.url };
  delete env["TESSERA_TOKEN"];
  const token = options.token === undefined ? ROOT : options.token;
  if (token !== null) env["TESSERA_TOKEN"] = token;
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: REPO, encoding: "utf8", env, input: options.input ?? "", timeout: 30_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, text: r.stdout.trim(), json: () => JSON.parse(r.stdout), error: () => JSON.parse(r.stderr).error };
}

const POLICY = {
  statements: [
    { sid: "encrypt-app", effect: "allow", actions: ["kms:Encrypt", "kms:DescribeKey"], resources: ["app-key"] },
    { sid: "never-other", effect: "deny", actions: ["kms:*"], resources: ["other-key"] },
  ],
};

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  expect(tessera(["key", "create", "app-key"]).code).toBe(0);
  expect(tessera(["key", "create", "other-key"]).code).toBe(0);
});
afterAll(async () => {
  await server?.stop();
});

describe("tessera policy", () => {
  it("writes a policy from stdin, reads and lists it, and refuses a malformed one naming the field", () => {
    expect(tessera(["policy", "put", "app", "-"], { input: JSON.stringify(POLICY) }).code).toBe(0);
    const got = tessera(["policy", "get", "app"]);
    expect([got.code, got.json()]).toEqual([0, POLICY]);
    expect(tessera(["policy", "get", "app", "--json"]).json()).toMatchObject({ name: "app", document: POLICY });
    expect(tessera(["policy", "list"]).text.split("\n")).toEqual(expect.arrayContaining(["app", "operator"]));

    const bad = tessera(["policy", "put", "broken", "-", "--json"], { input: JSON.stringify({ statements: [{ effect: "maybe", actions: ["kms:Encrypt"], resources: ["*"] }] }) });
    expect(bad.code).toBe(1);
    expect(bad.error()).toMatchObject({ code: "InvalidInput", field: "/statements/0/effect" });
    expect(tessera(["policy", "put", "broken", "-"], { input: "{not json" }).code).toBe(2);
  });

  it("simulates allow and deny with exit 0, naming the deciding statement", () => {
    expect(tessera(["role", "create", "sim", "--policy", "app"]).code).toBe(0);
    const allow = tessera(["policy", "simulate", "--role", "sim", "--action", "kms:Encrypt", "--resource", "app-key", "--json"]);
    expect(allow.code).toBe(0);
    expect(allow.json()).toMatchObject({ allowed: true, policy: "app", statement: 0, sid: "encrypt-app" });
    const deny = tessera(["policy", "simulate", "--role", "sim", "--action", "kms:Encrypt", "--resource", "other-key"]);
    expect(deny.code).toBe(0);
    expect(deny.text).toMatch(/^denied: explicit-deny \(policy app, statement 1 "never-other"\)$/);
    const none = tessera(["policy", "simulate", "--role", "sim", "--action", "kms:Decrypt", "--resource", "app-key", "--attr", "vm_id=vm-1", "--source", "10.0.0.1", "--time", "2026-01-05T12:00:00Z"]);
    expect([none.code, none.text]).toEqual([0, "denied: default-deny (no statement allows kms:Decrypt on key/app-key)"]);
    expect(tessera(["policy", "simulate", "--action", "kms:Encrypt"]).code).toBe(2);
  });

  it("says which conditions failed on a default deny, and warns about administrator-equivalent actions", () => {
    const net = { statements: [{ sid: "office", effect: "allow", actions: ["kms:Encrypt"], resources: ["app-key"], conditions: { sourceCidr: ["10.0.0.0/8"], authMethod: ["cert"] } }] };
    expect(tessera(["policy", "put", "office", "-"], { input: JSON.stringify(net) }).code).toBe(0);
    expect(tessera(["role", "create", "office", "--policy", "office"]).code).toBe(0);
    const denied = tessera(["policy", "simulate", "--role", "office", "--action", "kms:Encrypt", "--resource", "app-key", "--source", "192.168.1.5", "--auth-method", "approle"]);
    expect(denied.text.split("\n")).toEqual([
      "denied: default-deny (statements allow kms:Encrypt on key/app-key, but their conditions failed)",
      '  policy office, statement 0 "office": failed sourceCidr, authMethod',
    ]);
    const admin = tessera(["policy", "simulate", "--role", "operator", "--action", "policy:PutPolicy", "--resource", "policy/orders-app"]);
    expect(admin.text.split("\n")[0]).toBe('allowed: allow (policy operator, statement 0 "operator-all")');
    expect(admin.text.split("\n")[1]).toMatch(/^warning: policy:PutPolicy is administrator-equivalent: /);
    const json = tessera(["policy", "simulate", "--role", "operator", "--action", "policy:PutRole", "--resource", "role/x", "--json"]).json();
    expect(json.warnings.map((w: { code: string }) => w.code)).toEqual(["administrator-equivalent"]);
    // Resources are typed: a policy resource for a key action is refused, naming the field.
    const wrong = tessera(["policy", "simulate", "--role", "operator", "--action", "kms:Encrypt", "--resource", "policy/x", "--json"]);
    expect([wrong.code, wrong.error()]).toEqual([1, expect.objectContaining({ code: "InvalidInput", field: "/resource" })]);
  });
});

describe("AppRole through the CLI", () => {
  it("creates a role, a secret id, logs in, and the token can do only what the policy allows", () => {
    expect(tessera(["role", "create", "ci", "--policy", "app", "--approle", "--secret-id-uses", "2", "--token-ttl", "10m", "--token-max-ttl", "1h"]).code).toBe(0);
    expect(tessera(["role", "get", "ci"]).json()).toMatchObject({ name: "ci", policies: ["app"], tokenTtlSeconds: 600, approle: { secretIdUses: 2, roleId: expect.any(String) } });
    expect(tessera(["role", "update", "ci", "--description", "builds"]).code).toBe(0);
    expect(tessera(["role", "get", "ci"]).json()).toMatchObject({ description: "builds", tokenTtlSeconds: 600, approle: { secretIdUses: 2 } });

    const roleId = tessera(["approle", "role-id", "ci"]).text;
    expect(roleId).toBe(tessera(["role", "get", "ci"]).json().approle.roleId);
    const secret = tessera(["approle", "secret-id", "create", "ci", "--ttl", "1h", "--json"]);
    expect(secret.code).toBe(0);
    expect(secret.json()).toMatchObject({ secretId: expect.any(String), accessor: expect.any(String), role: "ci", uses: 2 });

    const login = tessera(["login", "approle", "--role-id", roleId, "--secret-id", "-"], { input: secret.json().secretId, token: null });
    expect(login.code).toBe(0);
    const token = login.text;
    expect(token).toMatch(/^tsr_\S+$/); // the token alone on stdout, for $(…)
    expect(login.stderr).toContain("role ci");

    expect(tessera(["encrypt", "--key", "app-key", "hello"], { token }).code).toBe(0);
    for (const args of [
      ["encrypt", "--key", "other-key", "hello"],
      ["key", "rotate", "app-key"],
      ["key", "create", "mine"],
      ["policy", "list"],
    ]) {
      const r = tessera([...args, "--json"], { token });
      expect([r.code, r.error().code], args.join(" ")).toEqual([1, "AccessDenied"]);
    }
    const renewed = tessera(["token", "renew", "--json"], { token });
    expect([renewed.code, renewed.json().renewable]).toEqual([0, true]);

    const again = tessera(["login", "approle", "--role-id", roleId, "--secret-id", secret.json().secretId, "--json"], { token: null });
    expect(again.json()).toMatchObject({ token: expect.stringMatching(/^tsr_/), role: "ci", authMethod: "approle" });
    const spent = tessera(["login", "approle", "--role-id", roleId, "--secret-id", secret.json().secretId, "--json"], { token: null });
    expect([spent.code, spent.error().code]).toEqual([1, "Unauthenticated"]);

    const revocable = tessera(["approle", "secret-id", "create", "ci", "--json"]).json();
    expect(tessera(["approle", "secret-id", "revoke", revocable.accessor]).code).toBe(0);
    expect(tessera(["login", "approle", "--role-id", roleId, "--secret-id", revocable.secretId], { token: null }).code).toBe(1);

    expect(tessera(["role", "delete", "ci"]).code).toBe(0);
    expect(tessera(["encrypt", "--key", "app-key", "hello"], { token }).code).toBe(1);
  });
});

describe("tessera access-key", () => {
  it("creates a key once with its secret, lists, disables, enables and deletes it", () => {
    expect(tessera(["role", "create", "billing", "--policy", "app"]).code).toBe(0);
    expect(tessera(["access-key", "create"]).code).toBe(2); // --role is required
    const created = tessera(["access-key", "create", "--role", "billing", "--description", "billing app", "--json"]);
    expect(created.code).toBe(0);
    const key = created.json();
    expect(key).toMatchObject({ accessKeyId: expect.any(String), secretAccessKey: expect.any(String), role: "billing", state: "Active", description: "billing app" });
    const listed = tessera(["access-key", "list", "--json"]).json().accessKeys;
    expect(listed).toEqual([expect.objectContaining({ accessKeyId: key.accessKeyId, role: "billing" })]);
    expect(JSON.stringify(listed)).not.toContain(key.secretAccessKey);
    expect(tessera(["access-key", "disable", key.accessKeyId, "--json"]).json().state).toBe("Inactive");
    expect(tessera(["access-key", "enable", key.accessKeyId, "--json"]).json().state).toBe("Active");
    expect(tessera(["access-key", "delete", key.accessKeyId]).code).toBe(0);
    expect(tessera(["access-key", "list", "--json"]).json().accessKeys).toEqual([]);
  });
});

describe("JWT through the CLI", () => {
  it("configures an issuer with an inline JWKS, binds a role and logs in with a JWT from stdin", async () => {
    const { privateKey, publicKey } = await generateKeyPair("ES256");
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: "k1", alg: "ES256" }] };
    const put = tessera(["auth", "jwt", "issuer", "put", "idp", "--issuer", "https://idp.test", "--jwks", "-", "--audience", "tessera", "--algorithm", "ES256", "--json"], {
      input: JSON.stringify(jwks),
    });
    expect(put.code).toBe(0);
    expect(put.json()).toMatchObject({ name: "idp", issuer: "https://idp.test", audiences: ["tessera"], algorithms: ["ES256"] });
    expect(tessera(["auth", "jwt", "issuer", "list"]).text).toBe("idp");
    expect(tessera(["auth", "jwt", "issuer", "get", "idp"]).json()).toMatchObject({ jwks });
    const noSource = tessera(["auth", "jwt", "issuer", "put", "x", "--issuer", "i", "--audience", "a"]);
    expect(noSource.code).toBe(2);
    const insecure = tessera(["auth", "jwt", "issuer", "put", "x", "--issuer", "i", "--jwks-url", "http://idp.example.com/jwks", "--audience", "a", "--json"]);
    expect(insecure.error()).toMatchObject({ code: "InvalidInput", field: "/jwksUrl" });

    const role = tessera(["role", "create", "wl", "--policy", "app", "--jwt-issuer", "idp", "--bound-claim", "sub=spiffe://prod/*", "--claim-attr", "vm.name=vm_id"]);
    expect([role.code, role.stderr]).toEqual([0, ""]);
    expect(tessera(["role", "create", "loose", "--policy", "app", "--jwt-issuer", "idp"]).stderr).toMatch(/Warning/);
    expect(tessera(["role", "create", "bad", "--policy", "app", "--bound-claim", "sub=*"]).code).toBe(2);

    const now = Math.floor(Date.now() / 1000);
    const jwt = await new SignJWT({ vm: { name: "vm-7" } })
      .setProtectedHeader({ alg: "ES256", kid: "k1" })
      .setIssuer("https://idp.test")
      .setAudience("tessera")
      .setSubject("spiffe://prod/billing")
      .setIssuedAt(now)
      .setExpirationTime(now + 600)
      .sign(privateKey);
    const login = tessera(["login", "jwt", "--role", "wl", "--jwt-file", "-", "--json"], { input: `${jwt}\n`, token: null });
    expect(login.code).toBe(0);
    expect(login.json()).toMatchObject({ token: expect.stringMatching(/^tsr_/), kind: "workload", authMethod: "jwt", attributes: { sub: "spiffe://prod/billing", vm_id: "vm-7" } });
    expect(tessera(["encrypt", "--key", "app-key", "hi"], { token: login.json().token }).code).toBe(0);

    const refused = tessera(["login", "jwt", "--role", "wl", "--jwt-file", "-", "--json"], { input: jwt.slice(0, -4) + "AAAA", token: null });
    expect([refused.code, refused.error().code]).toEqual([1, "Unauthenticated"]);
    expect(tessera(["auth", "jwt", "issuer", "delete", "idp"]).code).toBe(0);
    expect(tessera(["login", "jwt", "--role", "wl", "--jwt-file", "-"], { input: jwt, token: null }).code).toBe(1);
  });
});
