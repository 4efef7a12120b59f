/**
 * The root-of-trust operations — rekey, rotate-root, backup, restore over an initialised node — are
 * granted only by a statement naming the `sys` resource (or `*`) with the action; generate-root, seal
 * migration and a restore into an empty node need a quorum of shares whatever the token. A principal
 * with every other power (all kms actions on every key, audit, policy reads, tokens, sealing) reaches
 * none of them, and `sys:Backup` alone does not give `sys:Restore` or the others.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let backup: Buffer;
beforeAll(async () => {
  t = await startTestApp({ shares: 3, threshold: 2 });
  await t.call("POST", "/v1/keys", { name: "orders-db" });
  backup = (await t.app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": t.rootToken } })).rawPayload;
});
afterAll(async () => {
  await t.close();
});

async function tokenFor(name: string, statements: object[]): Promise<string> {
  expect((await t.call("PUT", `/v1/policies/${name}`, { statements })).status).toBe(200);
  expect((await t.call("PUT", `/v1/roles/${name}`, { policies: [name], approle: {} })).status).toBe(200);
  const roleId = (await t.call("GET", `/v1/auth/approle/roles/${name}/role-id`)).body.roleId;
  const secretId = (await t.call("POST", `/v1/auth/approle/roles/${name}/secret-id`, {})).body.secretId;
  const login = await t.call("POST", "/v1/auth/approle/login", { roleId, secretId }, null);
  expect(login.status).toBe(200);
  return login.body.token as string;
}

async function restoreWith(token: string, preamble: object) {
  const res = await t.app.http.inject({
    method: "POST",
    url: "/v1/sys/restore",
    headers: { "content-type": "application/vnd.tessera.restore", "x-tessera-token": token },
    payload: Buffer.concat([Buffer.from(`${JSON.stringify(preamble)}\n`), backup]),
  });
  return JSON.parse(res.body) as { error?: { code: string } };
}

/** The error code of each root-of-trust operation for this token (undefined: it was allowed). */
async function reach(token: string): Promise<Record<string, string | undefined>> {
  const code = (r: { body: { error?: { code: string } } }) => r.body.error?.code;
  const backupRes = await t.app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": token } });
  return {
    backup: backupRes.statusCode === 200 ? undefined : (JSON.parse(backupRes.body) as { error: { code: string } }).error.code,
    restore: (await restoreWith(token, { shares: t.shares.slice(0, 2), force: true })).error?.code,
    rotateRootStatus: code(await t.call("GET", "/v1/sys/rotate-root", undefined, token)),
    rekeyInit: code(await t.call("POST", "/v1/sys/rekey/init", { shares: 3, threshold: 2 }, token)),
    rekeyStatus: code(await t.call("GET", "/v1/sys/rekey", undefined, token)),
    rekeyCancel: code(await t.call("DELETE", "/v1/sys/rekey", undefined, token)),
  };
}

const denied = { backup: "AccessDenied", restore: "AccessDenied", rotateRootStatus: "AccessDenied", rekeyInit: "AccessDenied", rekeyStatus: "AccessDenied", rekeyCancel: "AccessDenied" };

describe("root-of-trust operations need a statement on sys", () => {
  it.each([
    ["every action on every key (typed)", [{ effect: "allow", actions: ["*"], resources: ["key/*"] }]],
    ["every action on a bare key pattern", [{ effect: "allow", actions: ["*"], resources: ["*-db"] }]],
    ["every kms action on everything", [{ effect: "allow", actions: ["kms:*"], resources: ["*"] }]],
    ["every auth, audit and read of policy and role on everything", [{ effect: "allow", actions: ["auth:*", "audit:*", "policy:Get*", "policy:List*"], resources: ["*"] }]],
    ["every action on audit, tokens, policies and roles", [{ effect: "allow", actions: ["*"], resources: ["audit", "token", "policy/*", "role/nobody"] }]],
    ["sealing the server", [{ effect: "allow", actions: ["sys:Seal"], resources: ["sys"] }]],
    ["a sys wildcard denied on sys", [{ effect: "allow", actions: ["*"], resources: ["*"] }, { effect: "deny", actions: ["sys:*"], resources: ["sys"] }]],
  ])("%s: refused", async (name, statements) => {
    const token = await tokenFor(`p-${name.replace(/[^a-z]+/g, "-")}`.slice(0, 60), statements);
    expect(await reach(token)).toEqual(denied);
    expect((await t.call("POST", "/v1/sys/rotate-root", {}, token)).body.error.code).toBe("AccessDenied");
    // Nothing changed: the root and the shares are the same.
    expect(t.app.barrier.ring().ids).toHaveLength(1);
  });

  it("sys:Backup gives the backup and nothing else", async () => {
    const token = await tokenFor("backup-only", [{ effect: "allow", actions: ["sys:Backup"], resources: ["sys"] }]);
    expect(await reach(token)).toEqual({ ...denied, backup: undefined });
  });

  it("generate-root needs the shares: a token with every power but sys gets no root token from wrong shares", async () => {
    const token = await tokenFor("almost-all", [{ effect: "allow", actions: ["kms:*", "auth:*", "audit:*", "policy:*"], resources: ["*"] }]);
    const other = await startTestApp({ shares: 3, threshold: 2 });
    try {
      const { nonce } = (await t.call("POST", "/v1/sys/generate-root/init", {}, token)).body;
      await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: other.shares[0] }, token);
      const done = await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: other.shares[1] }, token);
      expect(done.body.error.code).toBe("InvalidUnsealKey");
      expect(done.body.encodedToken).toBeUndefined();
      // A seal migration needs a configured seal that differs from the stored one; with none it is refused outright.
      expect((await t.call("POST", "/v1/sys/unseal", { share: other.shares[0], migrate: true }, token)).body.error.code).toBe("InvalidState");
    } finally {
      await t.call("DELETE", "/v1/sys/generate-root", undefined, token);
      await other.close();
    }
  });
});
