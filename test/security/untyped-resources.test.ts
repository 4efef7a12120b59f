/**
 * Issue 8, item 1: resources were untyped, so a statement about keys (`orders-*`) also matched every
 * action that names no key (audit, seal, policy and role administration) and every policy or role
 * whose name fits the pattern. The escalation below was reproduced on the old code: a role allowed
 * `*` on `orders-*` read the audit trail, sealed the server, wrote a policy `orders-x` allowing `*` on
 * `*`, created a role `orders-admin` with it, logged in as that role and encrypted under another
 * team's key. Each step must now be refused, while the role keeps what it was given: its keys.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

async function approleLogin(role: string): Promise<string> {
  const roleId = await t.call("GET", `/v1/auth/approle/roles/${role}/role-id`);
  expect(roleId.status).toBe(200);
  const secret = await t.call("POST", `/v1/auth/approle/roles/${role}/secret-id`, {});
  expect(secret.status).toBe(201);
  const login = await t.call("POST", "/v1/auth/approle/login", { roleId: roleId.body.roleId, secretId: secret.body.secretId }, null);
  expect(login.status).toBe(200);
  return login.body.token as string;
}

describe("a statement about keys grants nothing else", () => {
  it("a role allowed * on orders-* cannot read audit, seal, write policies or roles, or reach another team's key", async () => {
    await t.call("POST", "/v1/keys", { name: "orders-db" });
    await t.call("POST", "/v1/keys", { name: "billing-db" });
    expect((await t.call("PUT", "/v1/policies/orders", { statements: [{ effect: "allow", actions: ["*"], resources: ["orders-*"] }] })).status).toBe(200);
    expect((await t.call("PUT", "/v1/roles/orders", { policies: ["orders"], approle: {} })).status).toBe(200);
    const token = await approleLogin("orders");

    // What it was given still works: every key action on its own keys.
    expect((await t.call("POST", "/v1/keys/orders-db/encrypt", { plaintext: b64("x") }, token)).status).toBe(200);

    // 1. the audit trail
    expect((await t.call("GET", "/v1/audit/entries", undefined, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/audit/head", undefined, token)).body.error.code).toBe("AccessDenied");
    // 2. sealing the server
    expect((await t.call("POST", "/v1/sys/seal", undefined, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/sys/seal-status", undefined, null)).body.sealed).toBe(false);
    // 3. a policy whose name fits the key pattern
    const everything = { statements: [{ effect: "allow", actions: ["*"], resources: ["*"] }] };
    expect((await t.call("PUT", "/v1/policies/orders-x", everything, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/policies/orders-x")).status).toBe(404);
    // 4. a role whose name fits, with any policy, and credentials for it
    expect((await t.call("PUT", "/v1/roles/orders-admin", { policies: ["operator"], approle: {} }, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/roles/orders-admin")).status).toBe(404);
    expect((await t.call("POST", "/v1/auth/approle/roles/orders/secret-id", {}, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/auth/access-keys", { role: "orders" }, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/auth/join-tokens", { role: "orders" }, token)).body.error.code).toBe("AccessDenied");
    // 5. another team's key
    expect((await t.call("POST", "/v1/keys/billing-db/encrypt", { plaintext: b64("x") }, token)).body.error.code).toBe("AccessDenied");
    // …and the rest of administration.
    expect((await t.call("GET", "/v1/policies", undefined, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/roles/operator", undefined, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/policies/simulate", { role: "operator", action: "sys:Seal" }, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/auth/access-keys", undefined, token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/orders-idp", { issuer: "https://idp.example", jwksUrl: "https://idp.example/jwks", audiences: ["tessera"] }, token)).body.error.code).toBe("AccessDenied");
  });

  it("typed patterns grant administration of exactly the named resources", async () => {
    await t.call("PUT", "/v1/policies/orders-admin", {
      statements: [{ effect: "allow", actions: ["policy:PutPolicy", "policy:GetPolicy"], resources: ["policy/orders-*"] }],
    });
    await t.call("PUT", "/v1/roles/orders-admin", { policies: ["orders-admin"], approle: {} });
    const token = await approleLogin("orders-admin");
    const doc = { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["orders-*"] }] };
    expect((await t.call("PUT", "/v1/policies/orders-app", doc, token)).status).toBe(200);
    expect((await t.call("GET", "/v1/policies/orders-app", undefined, token)).status).toBe(200);
    expect((await t.call("PUT", "/v1/policies/billing-app", doc, token)).body.error.code).toBe("AccessDenied");
    // A key pattern that happens to read like a policy name grants no policy rights.
    expect((await t.call("GET", "/v1/policies/operator", undefined, token)).body.error.code).toBe("AccessDenied");
  });
});
