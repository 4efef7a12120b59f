/**
 * VMs enrol with single-use join tokens, get instance certificates from Tessera's CA and use them
 * over real mutual TLS on loopback. Reused tokens, foreign CAs, expired and revoked certificates and
 * bad CSRs are refused with typed errors.
 */
import "reflect-metadata";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp, resolveConfig, type TesseraApp } from "@tessera/server";
import { httpsCall, keyAndCsr, type CallOptions } from "../helpers/mtls.js";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

const dir = mkdtempSync(join(tmpdir(), "tessera-mtls-"));
const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
let app: TesseraApp;
let url = "";
let serverCa: Buffer;
let root = "";
let unsealShare = "";

const call = (method: string, path: string, options: CallOptions = {}) => httpsCall(url, serverCa, method, path, options);

async function enrol(joinToken: string, vmId?: string) {
  const { key, csr } = await keyAndCsr();
  const r = await call("POST", "/v1/auth/join", { body: { joinToken, csr, ...(vmId && { vmId }) } });
  return { r, identity: r.status === 200 ? { key, cert: r.body.certificate as string } : undefined };
}

const joinToken = async (extra: object = {}) => (await call("POST", "/v1/auth/join-tokens", { token: root, body: { role: "payment-vm", ...extra } })).body.joinToken as string;
const b64 = (s: string) => Buffer.from(s).toString("base64");

beforeAll(async () => {
  const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  o(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", "tls.key", "-out", "tls.crt", "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"]);
  serverCa = readFileSync(join(dir, "tls.crt"));
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock, https: { cert: serverCa, key: readFileSync(join(dir, "tls.key")) }, trustDomain: "prod.example" });
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  url = `https://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
  const init = await call("POST", "/v1/sys/init", { body: { shares: 1, threshold: 1 } });
  root = init.body.rootToken;
  unsealShare = init.body.shares[0];
  await call("POST", "/v1/sys/unseal", { body: { share: init.body.shares[0] } });
  await call("POST", "/v1/keys", { token: root, body: { name: "payment-db" } });
  await call("PUT", "/v1/policies/payment-decrypt", {
    token: root,
    body: { statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["payment-db"], conditions: { encryptionContext: { vm: "${principal.vm_id}" } } }] },
  });
  await call("PUT", "/v1/roles/payment-vm", { token: root, body: { policies: ["payment-decrypt"], certTtlSeconds: 3600 } });
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("join token → instance certificate → mutual TLS", () => {
  it("enrols a VM once, and the certificate alone authenticates it", async () => {
    const token = await joinToken({ vmId: "vm-1" });
    const { r, identity } = await enrol(token);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ vmId: "vm-1", role: "payment-vm" });
    expect(r.body.token).toMatchObject({ kind: "vm", authMethod: "cert", role: "payment-vm", attributes: { vm_id: "vm-1" } });
    const cert = new x509.X509Certificate(r.body.certificate);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([{ type: "url", value: "spiffe://prod.example/vm/vm-1" }]);
    expect(Date.parse(r.body.expiresAt) - clock.now()).toBe(3600_000);

    // The token is spent: a second use is refused (and audited as a failed login).
    expect((await enrol(token)).r.body.error.code).toBe("Unauthenticated");
    const failed = await call("GET", "/v1/audit/entries?action=auth:Login&outcome=denied", { token: root });
    expect(failed.body.records.some((e: { errorCode: string }) => e.errorCode === "Unauthenticated")).toBe(true);

    const mine = (await call("POST", "/v1/keys/payment-db/encrypt", { token: root, body: { plaintext: b64("pw-1"), context: { vm: "vm-1" } } })).body.ciphertext;
    const theirs = (await call("POST", "/v1/keys/payment-db/encrypt", { token: root, body: { plaintext: b64("pw-2"), context: { vm: "vm-2" } } })).body.ciphertext;
    const ok = await call("POST", "/v1/decrypt", { identity, body: { ciphertext: mine, context: { vm: "vm-1" } } });
    expect(Buffer.from(ok.body.plaintext, "base64").toString()).toBe("pw-1");
    expect((await call("POST", "/v1/decrypt", { identity, body: { ciphertext: theirs, context: { vm: "vm-2" } } })).body.error.code).toBe("AccessDenied");
    expect((await call("POST", "/v1/keys/payment-db/encrypt", { identity, body: { plaintext: b64("x"), context: { vm: "vm-1" } } })).body.error.code).toBe("AccessDenied");
    // Without a certificate or token: Unauthenticated.
    expect((await call("POST", "/v1/decrypt", { body: { ciphertext: mine, context: { vm: "vm-1" } } })).body.error.code).toBe("Unauthenticated");

    // Exchange the certificate for a token, and renew the certificate.
    const login = await call("POST", "/v1/auth/cert/login", { identity, body: {} });
    expect(login.body).toMatchObject({ authMethod: "cert", attributes: { vm_id: "vm-1" } });
    expect((await call("POST", "/v1/decrypt", { token: login.body.token, body: { ciphertext: mine, context: { vm: "vm-1" } } })).status).toBe(200);
    const fresh = await keyAndCsr();
    const renewed = await call("POST", "/v1/auth/cert/renew", { identity, body: { csr: fresh.csr } });
    expect(renewed.body).toMatchObject({ vmId: "vm-1", role: "payment-vm" });
    expect(renewed.body.serial).not.toBe(r.body.serial);
    expect((await call("POST", "/v1/decrypt", { identity: { key: fresh.key, cert: renewed.body.certificate }, body: { ciphertext: mine, context: { vm: "vm-1" } } })).status).toBe(200);
  });

  it("refuses certificates from a foreign CA, expired certificates and bad CSRs", async () => {
    // A foreign CA that issues a certificate naming the same VM.
    const caKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const foreignCa = await x509.X509CertificateGenerator.createSelfSigned({ name: "CN=evil", keys: caKeys, signingAlgorithm: ALG, extensions: [new x509.BasicConstraintsExtension(true, 0, true)] });
    const vm = await keyAndCsr();
    const csr = new x509.Pkcs10CertificateRequest(vm.csr);
    const forged = await x509.X509CertificateGenerator.create({
      subject: "CN=vm-1",
      issuer: foreignCa.subject,
      notBefore: new Date(clock.now() - 60_000),
      notAfter: new Date(clock.now() + 3600_000),
      publicKey: csr.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://prod.example/vm/vm-1" }])],
    });
    const r = await call("POST", "/v1/auth/cert/login", { identity: { key: vm.key, cert: forged.toString("pem") }, body: {} });
    expect([r.status, r.body.error.code]).toEqual([401, "Unauthenticated"]);

    const { identity } = await enrol(await joinToken({ vmId: "vm-expiring" }));
    expect((await call("POST", "/v1/auth/cert/login", { identity, body: {} })).status).toBe(200);
    clock.advance(3601_000);
    expect((await call("POST", "/v1/auth/cert/login", { identity, body: {} })).body.error.code).toBe("Unauthenticated");
    clock.advance(-3601_000);

    const other = await keyAndCsr();
    const tampered = other.csr.replace(/[A-Za-z](?=[A-Za-z0-9+/=]*\n-----END)/, (c) => (c === "A" ? "B" : "A"));
    const bad = await call("POST", "/v1/auth/join", { body: { joinToken: await joinToken(), csr: tampered } });
    expect([bad.body.error.code, bad.body.error.field]).toEqual(["InvalidInput", "/csr"]);
    expect((await call("POST", "/v1/auth/join", { body: { joinToken: await joinToken(), csr: "not a csr ".repeat(10) } })).body.error.field).toBe("/csr");

    // An unbound join token cannot claim the id of a VM that already enrolled; a bound one can re-enrol it.
    const claim = await enrol(await joinToken(), "vm-1");
    expect([claim.r.status, claim.r.body.error.code, claim.r.body.error.field]).toEqual([409, "AlreadyExists", "/vmId"]);
    expect((await enrol(await joinToken({ vmId: "vm-1" }))).r.status).toBe(200);
    expect((await enrol(await joinToken(), "vm-fresh")).r.body.vmId).toBe("vm-fresh");
  });

  it("revoking a serial or a VM stops it at once, tokens included", async () => {
    const a = await enrol(await joinToken({ vmId: "vm-a" }));
    const b = await enrol(await joinToken({ vmId: "vm-b" }));
    const aToken = a.r.body.token.token as string;
    const aLogin = await call("POST", "/v1/auth/cert/login", { identity: a.identity, body: {} });
    expect(aLogin.status).toBe(200);
    const aLoginToken = aLogin.body.token as string;
    for (const token of [aToken, aLoginToken]) expect((await call("GET", "/v1/auth/tokens/self", { token })).status).toBe(200);

    // vm-a holds two tokens obtained with its certificate: the one from joining and the one from its
    // certificate login. Revoking the serial revokes the certificate and both tokens, at once.
    expect((await call("POST", "/v1/auth/certs/revoke", { token: root, body: { serial: a.r.body.serial } })).body).toEqual({ certificates: 1, tokens: 2 });
    expect((await call("POST", "/v1/auth/cert/login", { identity: a.identity, body: {} })).body.error.code).toBe("Unauthenticated");
    for (const token of [aToken, aLoginToken]) expect((await call("GET", "/v1/auth/tokens/self", { token })).body.error.code).toBe("Unauthenticated");

    const vmB = b.r.body.token.token as string;
    expect((await call("GET", "/v1/auth/tokens/self", { token: vmB })).status).toBe(200);
    const revoked = await call("POST", "/v1/auth/certs/revoke", { token: root, body: { vmId: "vm-b" } });
    expect(revoked.body).toEqual({ certificates: 1, tokens: 1 });
    expect((await call("POST", "/v1/auth/cert/login", { identity: b.identity, body: {} })).body.error.code).toBe("Unauthenticated");
    expect((await call("GET", "/v1/auth/tokens/self", { token: vmB })).body.error.code).toBe("Unauthenticated");
    // Nothing of vm-a is left for a revocation of the whole VM.
    expect((await call("POST", "/v1/auth/certs/revoke", { token: root, body: { vmId: "vm-a" } })).body).toEqual({ certificates: 0, tokens: 0 });
  });

  it("join tokens are listed without their secret, expire, and can be revoked", async () => {
    const made = (await call("POST", "/v1/auth/join-tokens", { token: root, body: { role: "payment-vm", ttlSeconds: 600 } })).body;
    const list = await call("GET", "/v1/auth/join-tokens", { token: root });
    expect(list.body.joinTokens.some((t: { accessor: string }) => t.accessor === made.accessor)).toBe(true);
    expect(JSON.stringify(list.body)).not.toContain(made.joinToken);
    expect((await call("DELETE", `/v1/auth/join-tokens/${made.accessor}`, { token: root })).status).toBe(204);
    expect((await enrol(made.joinToken)).r.body.error.code).toBe("Unauthenticated");
    const short = await joinToken({ ttlSeconds: 60 });
    clock.advance(61_000);
    expect((await enrol(short)).r.body.error.code).toBe("Unauthenticated");
    expect((await call("POST", "/v1/auth/join-tokens", { token: root, body: { role: "nope" } })).body.error.field).toBe("/role");
    const ca = await call("GET", "/v1/auth/ca");
    expect(ca.body).toMatchObject({ trustDomain: "prod.example" });
    expect(ca.body.certificate).toContain("BEGIN CERTIFICATE");
  });
});

describe("the TLS listener's client certificate setting", () => {
  it("listener.client_auth defaults to request and accepts none", () => {
    const base = { storage: { sqlite: { path: "t.db" } } };
    const tls = { address: "0.0.0.0:8200", tls_cert_file: "tls.crt", tls_key_file: "tls.key" };
    expect(resolveConfig({ ...base, listener: tls }, "/etc/tessera").tls?.clientAuth).toBe("request");
    expect(resolveConfig({ ...base, listener: { ...tls, client_auth: "none" } }, "/etc/tessera").tls?.clientAuth).toBe("none");
    expect(() => resolveConfig({ ...base, listener: { ...tls, client_auth: "require" } }, "/etc/tessera")).toThrow(/client_auth/);
    expect(resolveConfig({ ...base, trust_domain: "pay.example" , listener: tls }, "/").trustDomain).toBe("pay.example");
  });

  it("with client_auth none the listener asks for no certificate, so one cannot authenticate", async () => {
    const { identity } = await enrol(await joinToken({ vmId: "vm-none" }));
    expect((await call("POST", "/v1/auth/cert/login", { identity, body: {} })).status).toBe(200);
    const other = await buildApp({
      store: new SqliteStore({ path: join(dir, "t.db") }),
      clock,
      https: { cert: serverCa, key: readFileSync(join(dir, "tls.key")), clientAuth: "none" },
      trustDomain: "prod.example",
    });
    await other.http.listen({ host: "127.0.0.1", port: 0 });
    const saved = url;
    url = `https://127.0.0.1:${(other.http.server.address() as AddressInfo).port}`;
    try {
      // A second node on the same database: same CA, but its listener does not ask for certificates.
      expect((await call("POST", "/v1/sys/unseal", { body: { share: unsealShare } })).status).toBe(200);
      expect((await call("POST", "/v1/auth/cert/login", { identity, body: {} })).body.error.code).toBe("Unauthenticated");
      expect((await call("GET", "/v1/auth/tokens/self", { token: root })).status).toBe(200);
    } finally {
      url = saved;
      await other.close();
    }
  });
});
