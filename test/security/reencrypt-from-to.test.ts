/**
 * Issue 8, item 12 (first half): ReEncrypt is authorised as AWS names it — `kms:ReEncryptFrom` on the
 * source key and `kms:ReEncryptTo` on the destination — so a role may move ciphertexts from one key to
 * another without being able to move them back. `kms:ReEncrypt*` matches both; `kms:ReEncrypt` in a
 * stored policy keeps meaning both.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { b64, roleToken, startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
  await t.call("POST", "/v1/keys", { name: "old-key" });
  await t.call("POST", "/v1/keys", { name: "new-key" });
});
afterEach(async () => {
  await t.close();
});

const encrypt = async (key: string) => (await t.call("POST", `/v1/keys/${key}/encrypt`, { plaintext: b64("secret") })).body.ciphertext as string;

async function tokenFor(statements: object[]): Promise<string> {
  const name = `p${Math.random().toString(36).slice(2, 8)}`;
  const put = await t.call("PUT", `/v1/policies/${name}`, { statements });
  expect(put.status).toBe(200);
  expect((await t.call("PUT", `/v1/roles/${name}`, { policies: [name] })).status).toBe(200);
  return roleToken(t, name);
}

describe("ReEncrypt authorises each end under its own action", () => {
  it("ReEncryptFrom on the source and ReEncryptTo on the destination move one way only", async () => {
    const tok = await tokenFor([
      { effect: "allow", actions: ["kms:ReEncryptFrom"], resources: ["old-key"] },
      { effect: "allow", actions: ["kms:ReEncryptTo"], resources: ["new-key"] },
    ]);
    const fromOld = await encrypt("old-key");
    const moved = await t.call("POST", "/v1/reencrypt", { ciphertext: fromOld, destinationKeyId: "new-key" }, tok);
    expect(moved.status).toBe(200);
    expect(moved.body.keyId).toBe((await t.call("GET", "/v1/keys/new-key")).body.keyId);
    // Back again needs ReEncryptFrom on new-key and ReEncryptTo on old-key: neither is granted.
    expect((await t.call("POST", "/v1/reencrypt", { ciphertext: moved.body.ciphertext, destinationKeyId: "old-key" }, tok)).body.error.code).toBe("AccessDenied");
    // Re-wrapping under the source key itself needs ReEncryptTo on it.
    expect((await t.call("POST", "/v1/reencrypt", { ciphertext: fromOld }, tok)).body.error.code).toBe("AccessDenied");
    // The audit trail records the operation as kms:ReEncrypt.
    const records = (await t.call("GET", "/v1/audit/entries?action=kms:ReEncrypt")).body.records as { outcome: string }[];
    expect(records.map((r) => r.outcome)).toEqual(["allowed", "denied", "denied"]);
  });

  it("ReEncryptFrom alone does not let a caller re-encrypt into a key it may not write to", async () => {
    const tok = await tokenFor([{ effect: "allow", actions: ["kms:ReEncryptFrom"], resources: ["old-key", "new-key"] }]);
    expect((await t.call("POST", "/v1/reencrypt", { ciphertext: await encrypt("old-key"), destinationKeyId: "new-key" }, tok)).body.error.code).toBe("AccessDenied");
  });

  it("kms:ReEncrypt* and kms:ReEncrypt (in policies written before the split) mean both", async () => {
    for (const action of ["kms:ReEncrypt*", "kms:ReEncrypt"]) {
      const tok = await tokenFor([{ effect: "allow", actions: [action], resources: ["old-key", "new-key"] }]);
      expect((await t.call("POST", "/v1/reencrypt", { ciphertext: await encrypt("old-key"), destinationKeyId: "new-key" }, tok)).status).toBe(200);
    }
  });

  it("the simulator answers for each half and refuses the operation name", async () => {
    await tokenFor([{ effect: "allow", actions: ["kms:ReEncryptFrom"], resources: ["old-key"] }]);
    const role = (await t.call("GET", "/v1/roles")).body.names.find((n: string) => n.startsWith("p"));
    const sim = (action: string) => t.call("POST", "/v1/policies/simulate", { role, action, resource: "old-key" });
    expect((await sim("kms:ReEncryptFrom")).body.allowed).toBe(true);
    expect((await sim("kms:ReEncryptTo")).body.allowed).toBe(false);
    expect((await sim("kms:ReEncrypt")).body.error).toMatchObject({ code: "InvalidInput", field: "/action" });
  });
});
