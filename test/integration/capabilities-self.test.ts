/**
 * `POST /v1/auth/tokens/self/capabilities` (and `tessera token capabilities`): any valid token asks
 * what it may do itself, decided as its real requests would be — the web console uses it to show
 * only the actions that would succeed. Asking about others stays with the simulator.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

let t: TestApp;
let reader: string;

beforeAll(async () => {
  t = await startTestApp();
  await t.call("POST", "/v1/keys", { name: "orders" });
  await t.call("PUT", "/v1/policies/key-reader", { statements: [{ sid: "read", effect: "allow", actions: ["kms:DescribeKey", "kms:Encrypt"], resources: ["key/orders"] }] });
  await t.call("PUT", "/v1/roles/reader", { policies: ["key-reader"] });
  reader = (await t.app.tokens.issue({ kind: "service", displayName: "reader", role: "reader", authMethod: "approle", attributes: {}, source: "127.0.0.1", subject: null, ttlSeconds: 3600 })).token;
});
afterAll(async () => t.close());

const ask = (checks: unknown, token?: string) => t.call("POST", "/v1/auth/tokens/self/capabilities", { checks }, token);

describe("capabilities of the caller's own token", () => {
  it("answers each check as the caller's policies decide it, in order", async () => {
    const r = await ask([{ action: "kms:Encrypt", resource: "orders" }, { action: "kms:RotateKey", resource: "key/orders" }, { action: "audit:Read" }], reader);
    expect([r.status, r.body]).toEqual([
      200,
      {
        results: [
          { action: "kms:Encrypt", resource: expect.stringMatching(/^key\//), allowed: true },
          { action: "kms:RotateKey", resource: expect.stringMatching(/^key\//), allowed: false },
          { action: "audit:Read", resource: "audit", allowed: false },
        ],
      },
    ]);
  });

  it("needs no grant beyond a valid token, and the root token may do everything", async () => {
    const root = await ask([{ action: "kms:RotateKey", resource: "key/orders" }]);
    const anonymous = await ask([{ action: "kms:Encrypt", resource: "orders" }], null as unknown as string);
    expect([root.body.results[0].allowed, anonymous.status, anonymous.body.error.code]).toEqual([true, 401, "Unauthenticated"]);
  });

  it("refuses an unknown action or a resource of the wrong type, naming the check", async () => {
    const unknown = await ask([{ action: "kms:Encrypt", resource: "orders" }, { action: "kms:Teleport" }], reader);
    const wrongType = await ask([{ action: "kms:Encrypt", resource: "policy/orders" }], reader);
    const unnamed = await ask([{ action: "kms:Encrypt" }], reader);
    expect([unknown.body.error, wrongType.body.error.field, unnamed.body.error.field]).toEqual([
      expect.objectContaining({ code: "InvalidInput", field: "/checks/1/action" }),
      "/checks/0/resource",
      "/checks/0/resource",
    ]);
  });

  it("is audited as the caller looking itself up", async () => {
    await ask([{ action: "kms:Encrypt", resource: "orders" }], reader);
    const entries = await t.call("GET", "/v1/audit/entries?action=auth:LookupToken&limit=100");
    const mine = entries.body.records.filter((r: { principal: { displayName: string } | null }) => r.principal?.displayName === "reader");
    expect(mine.at(-1)).toMatchObject({ action: "auth:LookupToken", outcome: "allowed" });
  });
});

describe("tessera token capabilities", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", "caps-root"]);
  });
  afterAll(async () => server.stop());

  it("prints allowed or denied for the token in use, and the API's answer with --json", async () => {
    const text = await runCli(["token", "capabilities", "kms:CreateKey", "key/payments"], { address: server.url, token: "caps-root" });
    const json = await runCli(["token", "capabilities", "audit:Read", "--json"], { address: server.url, token: "caps-root" });
    expect([text.code, text.stdout, json.code, JSON.parse(json.stdout)]).toEqual([0, "allowed: kms:CreateKey on key/payments\n", 0, { results: [{ action: "audit:Read", resource: "audit", allowed: true }] }]);
  });
});
