/**
 * Least privilege through the API: policies and roles, default deny, explicit deny, conditions
 * (source CIDR, time windows, auth method, encryption context bound to the caller), the simulator,
 * AppRole logins, access keys, and the guard against locking operators out.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

/** Logs in a principal of `role` with attributes by minting its token directly (as a login method would). */
async function principalToken(role: string, attributes: Record<string, string> = {}, authMethod: "cert" | "jwt" | "approle" = "cert") {
  const issued = await t.app.tokens.issue({
    kind: "vm",
    displayName: attributes["vm_id"] ?? role,
    role,
    authMethod,
    attributes,
    source: "10.1.2.3",
    subject: attributes["vm_id"] ?? null,
    ttlSeconds: 7 * 86400,
  });
  return issued.token;
}

async function setupPaymentDb() {
  await t.call("POST", "/v1/keys", { name: "payment-db" });
  await t.call("POST", "/v1/keys", { name: "other" });
  const decryptOnly = {
    statements: [
      {
        sid: "decrypt-own",
        effect: "allow",
        actions: ["kms:Decrypt"],
        resources: ["payment-db"],
        conditions: { encryptionContext: { vm: "${principal.vm_id}" } },
      },
    ],
  };
  expect((await t.call("PUT", "/v1/policies/payment-decrypt", decryptOnly)).status).toBe(200);
  expect((await t.call("PUT", "/v1/roles/payment-vm", { policies: ["payment-decrypt"], tokenTtlSeconds: 900 })).status).toBe(200);
}

async function encryptFor(vm: string, text: string, key = "payment-db") {
  return (await t.call("POST", `/v1/keys/${key}/encrypt`, { plaintext: b64(text), context: { vm } })).body.ciphertext as string;
}

describe("policies and roles", () => {
  it("a decrypt-only role cannot encrypt, rotate or read other keys", async () => {
    await setupPaymentDb();
    const vm1 = await principalToken("payment-vm", { vm_id: "vm-1" });
    const c = await encryptFor("vm-1", "db-password");
    const ok = await t.call("POST", "/v1/decrypt", { ciphertext: c, context: { vm: "vm-1" } }, vm1);
    expect(unb64(ok.body.plaintext)).toBe("db-password");
    for (const [m, u, b] of [
      ["POST", "/v1/keys/payment-db/encrypt", { plaintext: b64("x"), context: { vm: "vm-1" } }],
      ["POST", "/v1/keys/payment-db/rotate", undefined],
      ["GET", "/v1/keys/payment-db", undefined],
      ["GET", "/v1/keys/other", undefined],
      ["POST", "/v1/keys/other/generate-data-key", { context: { vm: "vm-1" } }],
      ["PUT", "/v1/policies/mine", { statements: [] }],
    ] as const) {
      const r = await t.call(m, u, b, vm1);
      expect([r.status, r.body.error.code], `${m} ${u}`).toEqual([403, "AccessDenied"]);
    }
    const otherCiphertext = await encryptFor("vm-1", "x", "other");
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: otherCiphertext, context: { vm: "vm-1" } }, vm1)).body.error.code).toBe("AccessDenied");
  });

  it("a context-bound role cannot decrypt another VM's ciphertext", async () => {
    await setupPaymentDb();
    const vm1 = await principalToken("payment-vm", { vm_id: "vm-1" });
    const forVm2 = await encryptFor("vm-2", "not yours");
    const r = await t.call("POST", "/v1/decrypt", { ciphertext: forVm2, context: { vm: "vm-2" } }, vm1);
    expect(r.body.error.code).toBe("AccessDenied");
    // Claiming vm-1's context on vm-2's ciphertext passes the policy but fails the AEAD.
    const lie = await t.call("POST", "/v1/decrypt", { ciphertext: forVm2, context: { vm: "vm-1" } }, vm1);
    expect(lie.body.error.code).toBe("InvalidCiphertext");
    // A principal without the attribute matches nothing.
    const anonymous = await principalToken("payment-vm", {});
    expect((await t.call("POST", "/v1/decrypt", { ciphertext: forVm2, context: { vm: "" } }, anonymous)).body.error.code).toBe("AccessDenied");
  });

  it("explicit deny wins over allow; a time-window rule denies outside the window", async () => {
    await t.call("POST", "/v1/keys", { name: "hours" });
    await t.call("PUT", "/v1/policies/use", { statements: [{ effect: "allow", actions: ["kms:Encrypt", "kms:Decrypt"], resources: ["*"] }] });
    await t.call("PUT", "/v1/policies/office-hours", {
      statements: [
        { sid: "after-hours", effect: "deny", actions: ["kms:*"], resources: ["*"], conditions: { outsideHours: { tz: "Asia/Shanghai", days: "Mon-Fri", hours: "08-20" } } },
      ],
    });
    await t.call("PUT", "/v1/roles/worker", { policies: ["use", "office-hours"] });
    const tok = await principalToken("worker");
    // 2026-01-05 is a Monday. 03:00 UTC = 11:00 in Shanghai: inside the window.
    t.clock.set(Date.UTC(2026, 0, 5, 3));
    expect((await t.call("POST", "/v1/keys/hours/encrypt", { plaintext: b64("x") }, tok)).status).toBe(200);
    // 13:00 UTC = 21:00 in Shanghai: outside.
    t.clock.set(Date.UTC(2026, 0, 5, 13));
    expect((await t.call("POST", "/v1/keys/hours/encrypt", { plaintext: b64("x") }, tok)).body.error.code).toBe("AccessDenied");
    // Saturday noon in Shanghai: outside.
    t.clock.set(Date.UTC(2026, 0, 10, 4));
    expect((await t.call("POST", "/v1/keys/hours/encrypt", { plaintext: b64("x") }, tok)).body.error.code).toBe("AccessDenied");
  });

  it("source CIDR and auth method conditions", async () => {
    await t.call("POST", "/v1/keys", { name: "net" });
    await t.call("PUT", "/v1/policies/inside", {
      statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["net"], conditions: { sourceCidr: ["10.0.0.0/8", "127.0.0.0/8"], authMethod: ["cert"] } }],
    });
    await t.call("PUT", "/v1/roles/netrole", { policies: ["inside"] });
    const cert = await principalToken("netrole", {}, "cert");
    const jwt = await principalToken("netrole", {}, "jwt");
    // inject() connects from 127.0.0.1.
    expect((await t.call("POST", "/v1/keys/net/encrypt", { plaintext: b64("x") }, cert)).status).toBe(200);
    expect((await t.call("POST", "/v1/keys/net/encrypt", { plaintext: b64("x") }, jwt)).body.error.code).toBe("AccessDenied");
    await t.call("PUT", "/v1/policies/inside", {
      statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["net"], conditions: { sourceCidr: ["10.0.0.0/8"] } }],
    });
    // The policy change takes effect on the very next request.
    expect((await t.call("POST", "/v1/keys/net/encrypt", { plaintext: b64("x") }, cert)).body.error.code).toBe("AccessDenied");
  });

  it("refuses malformed policies naming the exact field, and roles naming missing policies", async () => {
    const bad: [unknown, string][] = [
      [{ statements: [{ effect: "maybe", actions: ["kms:Decrypt"], resources: ["*"] }] }, "/statements/0/effect"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt", "kms:Nope"], resources: ["*"] }] }, "/statements/0/actions/1"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: [] }] }, "/statements/0/resources"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { sourceCidr: ["10.0.0.0/33"] } }] }, "/statements/0/conditions/sourceCidr/0"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { outsideHours: { tz: "Mars/Olympus" } } }] }, "/statements/0/conditions/outsideHours/tz"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { outsideHours: { tz: "UTC", days: "Mon-Funday" } } }] }, "/statements/0/conditions/outsideHours/days"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { encryptionContext: { vm: "${caller.vm}" } } }] }, "/statements/0/conditions/encryptionContext/vm"],
      [{ statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { colour: "red" } }] }, "/statements/0/conditions/colour"],
    ];
    for (const [doc, field] of bad) {
      const r = await t.call("PUT", "/v1/policies/bad", doc);
      expect([r.status, r.body.error.code, r.body.error.field], field).toEqual([400, "InvalidInput", field]);
    }
    expect((await t.call("GET", "/v1/policies/bad")).body.error.code).toBe("NotFound");
    const role = await t.call("PUT", "/v1/roles/r", { policies: ["missing"] });
    expect(role.body.error).toMatchObject({ code: "InvalidInput", field: "/policies/0" });
    expect((await t.call("PUT", "/v1/roles/r", { policies: [], surprise: 1 })).body.error.code).toBe("InvalidInput");
  });

  it("the simulator answers allow/deny and which statement decided", async () => {
    await setupPaymentDb();
    await t.call("PUT", "/v1/policies/no-other", { statements: [{ sid: "block", effect: "deny", actions: ["kms:*"], resources: ["other"] }] });
    await t.call("PUT", "/v1/roles/payment-vm", { policies: ["payment-decrypt", "no-other"] });
    const sim = (body: object) => t.call("POST", "/v1/policies/simulate", body);
    expect((await sim({ role: "payment-vm", attributes: { vm_id: "vm-1" }, action: "kms:Decrypt", resource: "payment-db", context: { vm: "vm-1" } })).body).toEqual({
      allowed: true,
      reason: "allow",
      policy: "payment-decrypt",
      statement: 0,
      sid: "decrypt-own",
      resource: "key/payment-db",
    });
    // A default deny names the statements that matched but whose conditions failed, and which.
    expect((await sim({ role: "payment-vm", attributes: { vm_id: "vm-1" }, action: "kms:Decrypt", resource: "payment-db", context: { vm: "vm-2" } })).body).toEqual({
      allowed: false,
      reason: "default-deny",
      resource: "key/payment-db",
      unmet: [{ policy: "payment-decrypt", statement: 0, sid: "decrypt-own", failed: ["encryptionContext.vm"] }],
    });
    expect((await sim({ role: "payment-vm", action: "kms:Decrypt", resource: "other" })).body).toMatchObject({ allowed: false, reason: "explicit-deny", policy: "no-other", sid: "block" });
    expect((await sim({ role: "nope", action: "kms:Decrypt" })).body.error.code).toBe("NotFound");
  });

  it("keeps the operator role from being removed by accident; deleting a role revokes its tokens", async () => {
    expect((await t.call("GET", "/v1/roles/operator")).body.policies).toEqual(["operator"]);
    expect((await t.call("DELETE", "/v1/roles/operator")).body.error.code).toBe("InvalidState");
    expect((await t.call("DELETE", "/v1/policies/operator")).body.error.code).toBe("InvalidState");
    expect((await t.call("PUT", "/v1/policies/operator", { statements: [] })).body.error.code).toBe("InvalidState");
    expect((await t.call("PUT", "/v1/roles/operator", { policies: [] })).body.error.code).toBe("InvalidState");
    // An operator-role principal administers everything.
    const op = await principalToken("operator");
    expect((await t.call("POST", "/v1/keys", { name: "by-operator" }, op)).status).toBe(201);

    await setupPaymentDb();
    const vm = await principalToken("payment-vm", { vm_id: "vm-1" });
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, vm)).status).toBe(200);
    expect((await t.call("DELETE", "/v1/policies/payment-decrypt")).body.error.code).toBe("InvalidState");
    expect((await t.call("DELETE", "/v1/roles/payment-vm")).status).toBe(204);
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, vm)).body.error.code).toBe("Unauthenticated");
  });
});

describe("context and both-ends checks", () => {
  it("each VM derives only its own work keys", async () => {
    await t.call("POST", "/v1/keys", { name: "vm-root" });
    await t.call("PUT", "/v1/policies/derive-own", {
      statements: [{ effect: "allow", actions: ["kms:Derive"], resources: ["vm-root"], conditions: { encryptionContext: { vm: "${principal.vm_id}", purpose: "*" } } }],
    });
    await t.call("PUT", "/v1/roles/worker", { policies: ["derive-own"] });
    const vm7 = await principalToken("worker", { vm_id: "vm-7" });
    expect((await t.call("POST", "/v1/keys/vm-root/derive", { context: { vm: "vm-7", purpose: "disk" } }, vm7)).status).toBe(200);
    expect((await t.call("POST", "/v1/keys/vm-root/derive", { context: { vm: "vm-8", purpose: "disk" } }, vm7)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/keys/vm-root/derive", { context: { vm: "vm-7" } }, vm7)).body.error.code).toBe("AccessDenied");
  });

  it("re-encryption is authorised on the destination before anything is decrypted", async () => {
    await t.call("POST", "/v1/keys", { name: "src" });
    await t.call("POST", "/v1/keys", { name: "dst" });
    await t.call("PUT", "/v1/policies/src-only", { statements: [{ effect: "allow", actions: ["kms:ReEncrypt"], resources: ["src"] }] });
    await t.call("PUT", "/v1/roles/mover", { policies: ["src-only"] });
    const tok = await principalToken("mover");
    const c = (await t.call("POST", "/v1/keys/src/encrypt", { plaintext: b64("x") })).body.ciphertext;
    await t.app.keys.usage.flush();
    const before = (await t.call("GET", "/v1/keys/src/versions")).body.versions[0].useCount;
    expect((await t.call("POST", "/v1/reencrypt", { ciphertext: c, destinationKeyId: "dst" }, tok)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/keys/src/versions")).body.versions[0].useCount).toBe(before);
    expect((await t.call("POST", "/v1/reencrypt", { ciphertext: c }, tok)).status).toBe(200);
  });
});

describe("AppRole", () => {
  it("logs in with role id + secret id, honours uses, CIDRs and the role's policies", async () => {
    await setupPaymentDb();
    await t.call("PUT", "/v1/policies/ci", { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["payment-db"] }] });
    await t.call("PUT", "/v1/roles/ci", { policies: ["ci"], tokenTtlSeconds: 600, approle: {} });
    const roleId = (await t.call("GET", "/v1/auth/approle/roles/ci/role-id")).body.roleId as string;
    const once = (await t.call("POST", "/v1/auth/approle/roles/ci/secret-id", { uses: 1 })).body;
    expect(once.secretId).toMatch(/^sid_/);

    const login = await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: once.secretId }, null);
    expect(login.status).toBe(200);
    expect(login.body).toMatchObject({ role: "ci", authMethod: "approle", kind: "service" });
    const tok = login.body.token as string;
    expect((await t.call("POST", "/v1/keys/payment-db/encrypt", { plaintext: b64("x") }, tok)).status).toBe(200);
    expect((await t.call("POST", "/v1/keys/other/encrypt", { plaintext: b64("x") }, tok)).body.error.code).toBe("AccessDenied");

    // Spent, wrong secret, wrong role id: all the same Unauthenticated.
    for (const body of [
      { roleId, secretId: once.secretId },
      { roleId, secretId: "sid_wrong" },
      { roleId: "nope", secretId: once.secretId },
    ]) {
      expect((await t.call("POST", "/v1/auth/approle/login", body, null)).body.error.code).toBe("Unauthenticated");
    }
    // Bound to a network the caller is not in.
    const fenced = (await t.call("POST", "/v1/auth/approle/roles/ci/secret-id", { cidrs: ["10.0.0.0/8"] })).body;
    expect((await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: fenced.secretId }, null)).body.error.code).toBe("Unauthenticated");
    const local = (await t.call("POST", "/v1/auth/approle/roles/ci/secret-id", { cidrs: ["127.0.0.0/8"], ttlSeconds: 60 })).body;
    expect((await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: local.secretId }, null)).status).toBe(200);
    t.clock.advance(61_000);
    expect((await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: local.secretId }, null)).body.error.code).toBe("Unauthenticated");
    expect((await t.call("POST", "/v1/auth/approle/roles/ci/secret-id", { cidrs: ["nonsense"] })).body.error.field).toBe("/cidrs/0");
  });

  it("renews a login token up to the role's maximum lifetime", async () => {
    await t.call("PUT", "/v1/policies/none", { statements: [] });
    await t.call("PUT", "/v1/roles/r", { policies: ["none"], tokenTtlSeconds: 600, tokenMaxTtlSeconds: 900, approle: {} });
    const roleId = (await t.call("GET", "/v1/auth/approle/roles/r/role-id")).body.roleId;
    const sid = (await t.call("POST", "/v1/auth/approle/roles/r/secret-id", {})).body.secretId;
    const tok = (await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: sid }, null)).body.token;
    const start = t.clock.now();
    t.clock.advance(500_000);
    const renewed = await t.call("POST", "/v1/auth/tokens/renew-self", undefined, tok);
    expect(Date.parse(renewed.body.expiresAt)).toBe(start + 900_000);
    t.clock.advance(400_001);
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, tok)).body.error.code).toBe("Unauthenticated");
    expect((await t.call("POST", "/v1/auth/tokens/renew-self")).body.error.code).toBe("InvalidState");
  });
});

describe("access keys", () => {
  it("are created for a role once, listed without secrets, disabled and deleted", async () => {
    await t.call("PUT", "/v1/policies/none", { statements: [] });
    await t.call("PUT", "/v1/roles/app", { policies: ["none"] });
    expect((await t.call("POST", "/v1/auth/access-keys", { role: "missing" })).body.error.field).toBe("/role");
    const made = await t.call("POST", "/v1/auth/access-keys", { role: "app", description: "billing service" });
    expect(made.status).toBe(201);
    expect(made.body.accessKeyId).toMatch(/^TSRK[A-Z2-7]{16}$/);
    expect(made.body.secretAccessKey).toHaveLength(40);
    const list = await t.call("GET", "/v1/auth/access-keys");
    expect(list.body.accessKeys).toEqual([expect.objectContaining({ accessKeyId: made.body.accessKeyId, role: "app", state: "Active" })]);
    expect(JSON.stringify(list.body)).not.toContain(made.body.secretAccessKey);
    const resolved = await t.app.accessKeys.resolve(made.body.accessKeyId);
    expect(resolved.secret.toString()).toBe(made.body.secretAccessKey);
    expect(resolved.principal).toMatchObject({ role: "app", authMethod: "access-key" });
    expect((await t.call("POST", `/v1/auth/access-keys/${made.body.accessKeyId}/disable`)).body.state).toBe("Inactive");
    await expect(t.app.accessKeys.resolve(made.body.accessKeyId)).rejects.toMatchObject({ code: "Unauthenticated" });
    expect((await t.call("DELETE", `/v1/auth/access-keys/${made.body.accessKeyId}`)).status).toBe(204);
    expect((await t.call("DELETE", `/v1/auth/access-keys/${made.body.accessKeyId}`)).body.error.code).toBe("NotFound");
  });
});
