/**
 * Finding 11a of the trust review: revoking an instance certificate by serial stopped the certificate
 * but left every token obtained with it — at enrolment and by `POST /v1/auth/cert/login` — valid until
 * it expired (the integration test named "tokens included" asserted exactly that). A token obtained
 * with a certificate is now bound to its serial in storage: revoking the serial, the VM or the role
 * revokes it on the next request (the token cache included), and a token can never be stored for a
 * certificate that is already revoked, so a login racing the revocation cannot leave one behind.
 */
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { SqliteStore } from "@tessera/server";
import { keyAndCsr, startTlsApp, type Identity, type TlsTestApp } from "../helpers/mtls.js";

let t: TlsTestApp;

beforeAll(async () => {
  t = await startTlsApp();
  const root = { token: t.rootToken };
  expect((await t.call("PUT", "/v1/policies/self", { ...root, body: { statements: [{ effect: "allow", actions: ["kms:ListKeys"], resources: ["*"] }] } })).status).toBe(200);
  for (const role of ["vm", "batch"]) expect((await t.call("PUT", `/v1/roles/${role}`, { ...root, body: { policies: ["self"] } })).status).toBe(200);
});
afterAll(async () => {
  await t?.close();
});

async function enrol(vmId: string, role = "vm"): Promise<{ identity: Identity; serial: string; joinToken: string }> {
  const joinToken = (await t.call("POST", "/v1/auth/join-tokens", { token: t.rootToken, body: { role, vmId } })).body.joinToken as string;
  const { key, csr } = await keyAndCsr(vmId);
  const r = await t.call("POST", "/v1/auth/join", { body: { joinToken, csr } });
  expect(r.status).toBe(200);
  return { identity: { key, cert: r.body.certificate }, serial: r.body.serial, joinToken: r.body.token.token };
}

const certLogin = async (identity: Identity) => {
  const r = await t.call("POST", "/v1/auth/cert/login", { identity, body: {} });
  expect(r.status).toBe(200);
  return r.body.token as string;
};
/** Authenticates with the token (and so puts it in the server's token cache). */
const self = async (token: string) => {
  const r = await t.call("GET", "/v1/auth/tokens/self", { token });
  return r.status === 200 ? "valid" : r.body.error.code;
};

describe("revoking an instance certificate", () => {
  it("by serial revokes the tokens issued on it — at join and by certificate login — and only those", async () => {
    const vm = await enrol("vm-serial");
    const loginToken = await certLogin(vm.identity);
    // A renewed certificate of the same VM, and a token obtained with it.
    const fresh = await keyAndCsr("vm-serial");
    const renewed = await t.call("POST", "/v1/auth/cert/renew", { identity: vm.identity, body: { csr: fresh.csr } });
    expect(renewed.status).toBe(200);
    const renewedIdentity = { key: fresh.key, cert: renewed.body.certificate as string };
    const renewedToken = await certLogin(renewedIdentity);
    for (const token of [vm.joinToken, loginToken, renewedToken]) expect(await self(token)).toBe("valid");

    const revoked = await t.call("POST", "/v1/auth/certs/revoke", { token: t.rootToken, body: { serial: vm.serial } });
    expect(revoked.body).toEqual({ certificates: 1, tokens: 2 });

    // On the very next request, although both were cached a moment ago.
    expect(await self(vm.joinToken)).toBe("Unauthenticated");
    expect(await self(loginToken)).toBe("Unauthenticated");
    expect((await t.call("POST", "/v1/auth/cert/login", { identity: vm.identity, body: {} })).body.error.code).toBe("Unauthenticated");
    // The other certificate of the VM, and the token obtained with it, are untouched.
    expect(await self(renewedToken)).toBe("valid");
    expect((await t.call("POST", "/v1/auth/cert/login", { identity: renewedIdentity, body: {} })).status).toBe(200);
    // Revoking the same serial again finds nothing left to revoke.
    expect((await t.call("POST", "/v1/auth/certs/revoke", { token: t.rootToken, body: { serial: vm.serial } })).body).toEqual({ certificates: 0, tokens: 0 });
  });

  it("by VM id, or by deleting the role, revokes every token obtained with the VM's certificates at once", async () => {
    const vm = await enrol("vm-whole");
    const loginToken = await certLogin(vm.identity);
    for (const token of [vm.joinToken, loginToken]) expect(await self(token)).toBe("valid");
    expect((await t.call("POST", "/v1/auth/certs/revoke", { token: t.rootToken, body: { vmId: "vm-whole" } })).body).toEqual({ certificates: 1, tokens: 2 });
    for (const token of [vm.joinToken, loginToken]) expect(await self(token)).toBe("Unauthenticated");

    const batch = await enrol("vm-batch", "batch");
    const batchToken = await certLogin(batch.identity);
    for (const token of [batch.joinToken, batchToken]) expect(await self(token)).toBe("valid");
    expect((await t.call("DELETE", "/v1/roles/batch?force=true", { token: t.rootToken })).status).toBe(204);
    for (const token of [batch.joinToken, batchToken]) expect(await self(token)).toBe("Unauthenticated");
    expect((await t.call("POST", "/v1/auth/cert/login", { identity: batch.identity, body: {} })).body.error.code).toBe("Unauthenticated");
  });
});

describe("a token bound to a certificate", () => {
  it("is never stored once the certificate is revoked (a login racing the revocation leaves nothing behind)", async () => {
    const store = new SqliteStore({ path: ":memory:" });
    try {
      const now = Date.UTC(2026, 0, 5, 12);
      await store.certificates.insert({ serial: "0a", vmId: "vm-race", role: "vm", notBefore: now, notAfter: now + 3_600_000, revokedAt: null, createdAt: now });
      const token = (certificateSerial: string) => ({
        hash: randomUUID().replaceAll("-", "").repeat(2),
        accessor: randomUUID(),
        displayName: "vm-race",
        root: false,
        grants: [],
        createdAt: now,
        expiresAt: now + 3_600_000,
        kind: "vm",
        role: "vm",
        authMethod: "cert",
        attributes: { vm_id: "vm-race", serial: certificateSerial },
        source: "127.0.0.1",
        subject: "vm-race",
        certificateSerial,
        ttlSeconds: 3600,
        maxExpiresAt: now + 3_600_000,
      });
      // The login authenticated the certificate; the revocation commits before the login stores its token.
      await store.certificates.revoke("0a", now);
      const late = token("0a");
      const refused = await store.tokens.insert(late).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(TesseraError);
      expect((refused as TesseraError).code).toBe("Unauthenticated");
      expect(await store.tokens.getByAccessor(late.accessor)).toBeUndefined();
      // Nor for a serial that was never recorded.
      const unknown = await store.tokens.insert(token("ff")).then(
        () => undefined,
        (err: unknown) => (err as TesseraError).code,
      );
      expect(unknown).toBe("Unauthenticated");
    } finally {
      await store.close();
    }
  });
});
