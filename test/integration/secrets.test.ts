/**
 * The versioned secrets store through the native API (docs/secrets.md): versions, check-and-set,
 * max versions, soft delete / undelete / destroy, metadata with read counts and last readers,
 * listing, the mount's key (created on first write, or chosen with kms:GenerateDataKey), lazy
 * re-wrap after the mount key rotates, typed `secret/…` resources, and nothing stored in the clear.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

const code = (r: { status: number; body: any }) => ({ status: r.status, code: r.body?.error?.code });

async function tokenFor(policy: string, statements: unknown[]) {
  expect((await t.call("PUT", `/v1/policies/${policy}`, { statements })).status).toBe(200);
  expect((await t.call("PUT", `/v1/roles/${policy}`, { policies: [policy], tokenTtlSeconds: 900 })).status).toBe(200);
  const issued = await t.app.tokens.issue({ kind: "vm", displayName: `vm-${policy}`, role: policy, authMethod: "cert", attributes: {}, source: "10.1.2.3", subject: null, ttlSeconds: 900 });
  return issued.token;
}

describe("secrets store", () => {
  it("writes versions, reads the current or a named one, and keeps a check-and-set order", async () => {
    const w1 = await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "s3cret-1", user: "app" } });
    expect(w1.status).toBe(200);
    expect(w1.body).toMatchObject({ path: "payments/db", version: 1, keyVersion: 1 });
    expect((await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "s3cret-2" }, cas: 1 })).body.version).toBe(2);
    expect(code(await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "late" }, cas: 1 }))).toEqual({ status: 409, code: "InvalidState" });
    expect(code(await t.call("PUT", "/v1/secrets/secret/data/fresh", { data: { a: 1 }, cas: 1 }))).toEqual({ status: 409, code: "InvalidState" });
    expect((await t.call("PUT", "/v1/secrets/secret/data/fresh", { data: { a: 1 }, cas: 0 })).body.version).toBe(1);

    const now = await t.call("GET", "/v1/secrets/secret/data/payments/db");
    expect(now.body).toMatchObject({ version: 2, data: { password: "s3cret-2" } });
    expect((await t.call("GET", "/v1/secrets/secret/data/payments/db?version=1")).body.data).toEqual({ password: "s3cret-1", user: "app" });
    expect(code(await t.call("GET", "/v1/secrets/secret/data/payments/db?version=9"))).toEqual({ status: 404, code: "NotFound" });
    expect(code(await t.call("GET", "/v1/secrets/secret/data/nothing-here"))).toEqual({ status: 404, code: "NotFound" });

    // The mount got its own key, named for it.
    const mount = await t.call("GET", "/v1/secrets/secret/config");
    expect(mount.body).toMatchObject({ mount: "secret", keyName: "tessera-secrets-secret", maxVersions: 10 });
  });

  it("refuses bad paths, oversized data and malformed bodies before changing anything", async () => {
    // (`.` and `..` segments are resolved by URL parsing before a request leaves; secrets-service.test.ts covers them.)
    for (const bad of ["a//b", "sp%20ace", "a/", "a%2Fb/", "x%00y"]) {
      expect(code(await t.call("PUT", `/v1/secrets/secret/data/${bad}`, { data: { x: "1" } }))).toEqual({ status: 400, code: "InvalidInput" });
    }
    expect(code(await t.call("PUT", "/v1/secrets/secret/data/big", { data: { x: "y".repeat(600 * 1024) } }))).toEqual({ status: 413, code: "TooLarge" });
    expect(code(await t.call("PUT", "/v1/secrets/secret/data/x", { data: { x: "1" }, extra: true }))).toEqual({ status: 400, code: "InvalidInput" });
    expect(code(await t.call("PUT", "/v1/secrets/bad%20mount/data/x", { data: { x: "1" } }))).toEqual({ status: 400, code: "InvalidInput" });
    expect((await t.call("GET", "/v1/secrets/secret/list/")).body.keys).toEqual([]);
  });

  it("soft delete, undelete, destroy, max versions and delete-after", async () => {
    for (let i = 1; i <= 4; i++) await t.call("PUT", "/v1/secrets/secret/data/app/token", { data: { v: String(i) } });
    expect((await t.call("POST", "/v1/secrets/secret/delete/app/token", {})).body.versions).toEqual([4]);
    expect(code(await t.call("GET", "/v1/secrets/secret/data/app/token"))).toEqual({ status: 404, code: "NotFound" });
    expect((await t.call("POST", "/v1/secrets/secret/undelete/app/token", { versions: [4] })).body.versions).toEqual([4]);
    expect((await t.call("GET", "/v1/secrets/secret/data/app/token")).body.data).toEqual({ v: "4" });
    expect((await t.call("POST", "/v1/secrets/secret/destroy/app/token", { versions: [1, 2] })).body.versions).toEqual([1, 2]);
    expect(code(await t.call("GET", "/v1/secrets/secret/data/app/token?version=1"))).toEqual({ status: 410, code: "Destroyed" });
    // Destroyed stays destroyed: undelete does not bring data back.
    expect((await t.call("POST", "/v1/secrets/secret/undelete/app/token", { versions: [1] })).body.versions).toEqual([]);

    const meta = await t.call("PUT", "/v1/secrets/secret/metadata/app/token", { maxVersions: 2, customMetadata: { owner: "payments" } });
    expect(meta.body).toMatchObject({ currentVersion: 4, oldestVersion: 3, maxVersions: 2, customMetadata: { owner: "payments" } });
    expect(meta.body.versions.map((v: any) => v.version)).toEqual([3, 4]);
    await t.call("PUT", "/v1/secrets/secret/data/app/token", { data: { v: "5" } });
    expect((await t.call("GET", "/v1/secrets/secret/metadata/app/token")).body.versions.map((v: any) => v.version)).toEqual([4, 5]);

    await t.call("PUT", "/v1/secrets/secret/metadata/app/token", { deleteVersionAfter: 3600 });
    t.clock.advance(3601_000);
    expect(code(await t.call("GET", "/v1/secrets/secret/data/app/token"))).toEqual({ status: 404, code: "NotFound" });
    expect((await t.call("GET", "/v1/secrets/secret/metadata/app/token")).body.versions.every((v: any) => v.deletedTime !== null)).toBe(true);

    await t.call("PUT", "/v1/secrets/secret/metadata/app/token", { casRequired: true, deleteVersionAfter: 0 });
    expect(code(await t.call("PUT", "/v1/secrets/secret/data/app/token", { data: { v: "6" } }))).toEqual({ status: 400, code: "InvalidInput" });
    expect((await t.call("DELETE", "/v1/secrets/secret/metadata/app/token")).status).toBe(204);
    expect(code(await t.call("GET", "/v1/secrets/secret/metadata/app/token"))).toEqual({ status: 404, code: "NotFound" });
  });

  it("lists direct children, with sub-directories ending in /", async () => {
    for (const p of ["a/one", "a/two", "a/deep/three", "b"]) await t.call("PUT", `/v1/secrets/secret/data/${p}`, { data: { x: "1" } });
    expect((await t.call("GET", "/v1/secrets/secret/list/")).body.keys).toEqual(["a/", "b"]);
    expect((await t.call("GET", "/v1/secrets/secret/list/a")).body.keys).toEqual(["deep/", "one", "two"]);
    expect((await t.call("GET", "/v1/secrets/secret/list/a/deep/")).body.keys).toEqual(["three"]);
  });

  it("records each version's reads and last reader, and re-wraps old data keys as they are read after rotation", async () => {
    const reader = await tokenFor("reader", [{ effect: "allow", actions: ["secrets:Read"], resources: ["secret/secret/payments/*"] }]);
    await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "p1" } });
    const keyId = (await t.call("GET", "/v1/secrets/secret/config")).body.keyId as string;
    expect((await t.call("POST", `/v1/keys/${keyId}/rotate`)).status).toBe(200);
    await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "p2" } });

    expect((await t.call("GET", "/v1/secrets/secret/data/payments/db?version=1", undefined, reader)).body.data).toEqual({ password: "p1" });
    await t.call("GET", "/v1/secrets/secret/data/payments/db", undefined, reader);
    await t.call("GET", "/v1/secrets/secret/data/payments/db", undefined, reader);
    const meta = (await t.call("GET", "/v1/secrets/secret/metadata/payments/db")).body;
    expect(meta.versions.map((v: any) => [v.version, v.readCount])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    expect(meta.versions[1].lastReader).toMatch(/\S/);

    // Version 1's data key was wrapped under key version 1; the read re-wrapped it under version 2,
    // so disabling key version 1 no longer matters to this secret.
    expect((await t.call("POST", `/v1/keys/${keyId}/versions/1/disable`)).status).toBe(200);
    expect((await t.call("GET", "/v1/secrets/secret/data/payments/db?version=1")).body.data).toEqual({ password: "p1" });
  });

  it("authorises on typed secret resources: a reader cannot write, read elsewhere or list; a key statement grants no secrets", async () => {
    await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "p" } });
    await t.call("PUT", "/v1/secrets/secret/data/orders/db", { data: { password: "q" } });
    const reader = await tokenFor("reader", [{ effect: "allow", actions: ["secrets:Read"], resources: ["secret/secret/payments/*"] }]);
    expect((await t.call("GET", "/v1/secrets/secret/data/payments/db", undefined, reader)).status).toBe(200);
    expect(code(await t.call("GET", "/v1/secrets/secret/data/orders/db", undefined, reader))).toEqual({ status: 403, code: "AccessDenied" });
    expect(code(await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "x" } }, reader))).toEqual({ status: 403, code: "AccessDenied" });
    expect(code(await t.call("GET", "/v1/secrets/secret/list/", undefined, reader))).toEqual({ status: 403, code: "AccessDenied" });
    expect(code(await t.call("GET", "/v1/secrets/secret/metadata/payments/db", undefined, reader))).toEqual({ status: 403, code: "AccessDenied" });

    // Everything on every key is still nothing on secrets.
    const keyAdmin = await tokenFor("keys", [{ effect: "allow", actions: ["*"], resources: ["key/*"] }]);
    expect(code(await t.call("GET", "/v1/secrets/secret/data/payments/db", undefined, keyAdmin))).toEqual({ status: 403, code: "AccessDenied" });
    expect((await t.call("GET", "/v1/secrets/secret/data/payments/db?version=1")).body.data).toEqual({ password: "p" });
  });

  it("choosing a mount's key needs kms:GenerateDataKey on it and a symmetric encryption key", async () => {
    await t.call("POST", "/v1/keys", { name: "payment-key" });
    await t.call("POST", "/v1/keys", { name: "signer", keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" });
    const mountAdmin = await tokenFor("mount-admin", [{ effect: "allow", actions: ["secrets:ConfigureMount"], resources: ["secret/payments"] }]);
    expect(code(await t.call("PUT", "/v1/secrets/payments/config", { key: "payment-key" }, mountAdmin))).toEqual({ status: 403, code: "AccessDenied" });
    expect(code(await t.call("PUT", "/v1/secrets/payments/config", { key: "signer" }))).toEqual({ status: 400, code: "InvalidKeyUsage" });
    const cfg = await t.call("PUT", "/v1/secrets/payments/config", { key: "payment-key", casRequired: true });
    expect(cfg.body).toMatchObject({ mount: "payments", keyName: "payment-key", casRequired: true });
    expect((await t.call("PUT", "/v1/secrets/payments/data/db", { data: { password: "p" }, cas: 0 })).body.keyId).toBe(cfg.body.keyId);
    expect(code(await t.call("PUT", "/v1/secrets/payments/data/db", { data: { password: "p2" } }))).toEqual({ status: 400, code: "InvalidInput" });
  });

  it("never adopts a key someone else made under the mount key's name: the first write is refused until the mount's key is chosen", async () => {
    expect((await t.call("POST", "/v1/keys", { name: "tessera-secrets-team", exportable: true })).status).toBe(201);
    expect(code(await t.call("PUT", "/v1/secrets/team/data/db", { data: { password: "p" } }))).toEqual({ status: 409, code: "InvalidState" });
    expect(code(await t.call("GET", "/v1/secrets/team/config"))).toEqual({ status: 404, code: "NotFound" });
    await t.call("POST", "/v1/keys", { name: "team-key" });
    expect((await t.call("PUT", "/v1/secrets/team/config", { key: "team-key" })).status).toBe(200);
    expect((await t.call("PUT", "/v1/secrets/team/data/db", { data: { password: "p" } })).body.keyId).toBe((await t.call("GET", "/v1/keys/team-key")).body.keyId);
  });

  it("keeps no secret value in the clear in the database or the audit trail, and audits every call", async () => {
    await t.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "needle-6f1c2e" } });
    await t.call("GET", "/v1/secrets/secret/data/payments/db");
    await t.app.close();
    const db = readFileSync(join(t.dir, "tessera.db"));
    const wal = (() => {
      try {
        return readFileSync(join(t.dir, "tessera.db-wal"));
      } catch {
        return Buffer.alloc(0);
      }
    })();
    expect(db.includes("needle-6f1c2e")).toBe(false);
    expect(wal.includes("needle-6f1c2e")).toBe(false);
    await t.restart();
    await t.unseal();
    const lines = (await t.call("GET", "/v1/audit/lines?after=0&limit=1000")).body.lines as string[];
    const text = lines.join("\n");
    expect(text.includes("needle-6f1c2e")).toBe(false);
    expect(text).toContain("secrets:Write");
    expect(text).toContain("secrets:Read");
  });
});
