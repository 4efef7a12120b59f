/**
 * Who may export, and to whom. kms:ExportWrapped is granted only by a statement that names it
 * (`kms:*` and `*` do not reach it), and a `wrapToOwnCertificate` condition lets a VM that logged in
 * with an instance certificate wrap only to that certificate's public key — over mutual TLS and with
 * the token its join returned.
 */
import { X509Certificate, createHash, generateKeyPairSync } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { keyAndCsr, startTlsApp, type Identity, type TlsTestApp } from "../helpers/mtls.js";

let t: TlsTestApp;
let vm: Identity;
let vmToken: string;
const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey.export({ type: "spki", format: "pem" }).toString();
const certKey = (cert: string) => new X509Certificate(cert).publicKey.export({ type: "spki", format: "pem" }).toString();

const root = (method: string, path: string, body?: unknown) => t.call(method, path, { token: t.rootToken, ...(body !== undefined && { body }) });
const exportBody = (recipientPublicKey: string) => ({ recipientPublicKey, algorithm: "hpke-p256", export: "derived-key", context: { vm: "web-7" } });

async function policy(name: string, statements: unknown[]): Promise<void> {
  expect((await root("PUT", `/v1/policies/${name}`, { statements })).status).toBe(200);
}

beforeAll(async () => {
  t = await startTlsApp();
  expect((await root("POST", "/v1/keys", { name: "vm-keys" })).status).toBe(201);
  await policy("vm-export", [
    { effect: "allow", actions: ["kms:ExportWrapped"], resources: ["vm-keys"], conditions: { wrapToOwnCertificate: true } },
    { effect: "allow", actions: ["kms:*"], resources: ["wild-*"] },
  ]);
  expect((await root("PUT", "/v1/roles/web", { policies: ["vm-export"] })).status).toBe(200);
  expect((await root("POST", "/v1/keys", { name: "wild-key", exportable: true })).status).toBe(201);
  const joinToken = (await root("POST", "/v1/auth/join-tokens", { role: "web" })).body.joinToken as string;
  const { key, csr } = await keyAndCsr("web-7");
  const joined = await t.call("POST", "/v1/auth/join", { body: { joinToken, csr, vmId: "web-7" } });
  expect(joined.status).toBe(200);
  vm = { key, cert: joined.body.certificate };
  vmToken = joined.body.token.token;
});

afterAll(async () => {
  await t?.close();
});

describe("kms:ExportWrapped", () => {
  it("is not granted by kms:* — only by a statement that names it", async () => {
    const r = await t.call("POST", "/v1/keys/wild-key/export", { token: vmToken, body: { recipientPublicKey: otherKey, algorithm: "hpke-p256" } });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("AccessDenied");
    // The same wildcard still grants the other kms actions on that key.
    expect((await t.call("POST", "/v1/keys/wild-key/derive", { token: vmToken, body: { context: { a: "b" } } })).status).toBe(200);
  });

  it("lets a VM wrap to its own certificate's key, over mutual TLS and with its join token", async () => {
    const spki = createHash("sha256").update(new X509Certificate(vm.cert).publicKey.export({ type: "spki", format: "der" })).digest("hex");
    const overTls = await t.call("POST", "/v1/keys/vm-keys/export", { identity: vm, body: exportBody(certKey(vm.cert)) });
    expect(overTls.status).toBe(200);
    expect(overTls.body.recipientSpkiSha256).toBe(spki);
    const withToken = await t.call("POST", "/v1/keys/vm-keys/export", { token: vmToken, body: exportBody(certKey(vm.cert)) });
    expect(withToken.status).toBe(200);
  });

  it("refuses the same VM wrapping to any other key (AccessDenied), over mutual TLS and with its token", async () => {
    for (const auth of [{ identity: vm }, { token: vmToken }]) {
      const r = await t.call("POST", "/v1/keys/vm-keys/export", { ...auth, body: exportBody(otherKey) });
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe("AccessDenied");
    }
  });

  it("refuses a caller that did not log in with a certificate, whatever key it names", async () => {
    const token = (await t.app.tokens.issue({ kind: "service", displayName: "svc", role: "web", authMethod: "approle", attributes: {}, source: "127.0.0.1", subject: null, ttlSeconds: 600 })).token;
    const r = await t.call("POST", "/v1/keys/vm-keys/export", { token, body: exportBody(certKey(vm.cert)) });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("AccessDenied");
  });

  it("the simulator names the unmet condition and warns that the action discloses keys", async () => {
    const r = await root("POST", "/v1/policies/simulate", { role: "web", action: "kms:ExportWrapped", resource: "vm-keys" });
    expect(r.status).toBe(200);
    expect(r.body.allowed).toBe(false);
    expect(JSON.stringify(r.body)).toContain("wrapToOwnCertificate");
  });

  it("refuses a policy whose wrapToOwnCertificate statement cannot grant kms:ExportWrapped", async () => {
    const r = await root("PUT", "/v1/policies/pointless", { statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { wrapToOwnCertificate: true } }] });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: "InvalidInput", field: "/statements/0/conditions/wrapToOwnCertificate" });
  });
});
