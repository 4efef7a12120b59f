/**
 * JWT/OIDC login against a real JWKS served on loopback: bound claims map to a role and to principal
 * attributes; bad signatures, wrong audience or issuer, `alg: none`, HMAC with the public key, expiry,
 * not-yet-valid and unmatched claims are refused; signing-key rotation is picked up.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createHmac } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

let jwks: { keys: object[] } = { keys: [] };
let server: Server;
let jwksUrl = "";
let t: TestApp;
let signing: { privateKey: CryptoKey; publicKey: CryptoKey; kid: string };

const ISS = "https://idp.example.test";
const AUD = "tessera";

async function newKey(kid: string) {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return { privateKey, publicKey, kid };
}

async function publish(...keys: { publicKey: CryptoKey; kid: string }[]) {
  jwks = { keys: await Promise.all(keys.map(async (k) => ({ ...(await exportJWK(k.publicKey)), kid: k.kid, alg: "RS256", use: "sig" }))) };
}

function sign(claims: Record<string, unknown>, options: { key?: typeof signing; iat?: number; exp?: number; nbf?: number; aud?: string; iss?: string } = {}) {
  const now = Math.floor(t.clock.now() / 1000);
  const k = options.key ?? signing;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "RS256", kid: k.kid })
    .setIssuer(options.iss ?? ISS)
    .setAudience(options.aud ?? AUD)
    .setIssuedAt(options.iat ?? now)
    .setExpirationTime(options.exp ?? now + 600);
  if (options.nbf !== undefined) jwt.setNotBefore(options.nbf);
  return jwt.sign(k.privateKey);
}

const base64url = (v: string | Buffer) => Buffer.from(v).toString("base64url");

beforeAll(async () => {
  server = createServer((req, res) => {
    res.writeHead(req.url === "/jwks" ? 200 : 404, { "content-type": "application/json" });
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

beforeEach(async () => {
  t = await startTestApp();
  signing = await newKey("k1");
  await publish(signing);
  expect((await t.call("PUT", "/v1/auth/jwt/issuers/idp", { issuer: ISS, jwksUrl, audiences: [AUD], jwksRefreshCooldownSeconds: 0 })).status).toBe(200);
  expect((await t.call("POST", "/v1/keys", { name: "app-key" })).status).toBe(201);
  const policy = await t.call("PUT", "/v1/policies/app", {
    statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["app-key"], conditions: { encryptionContext: { instance: "${principal.instance_id}" } } }],
  });
  expect(policy.status).toBe(200);
  const role = await t.call("PUT", "/v1/roles/workload", {
    policies: ["app"],
    jwt: {
      issuer: "idp",
      boundClaims: { sub: "system:serviceaccount:prod:*", "google.compute_engine.instance_id": "*" },
      claimsToAttributes: { "google.compute_engine.instance_id": "instance_id" },
    },
  });
  expect(role.status).toBe(200);
});
afterEach(async () => {
  await t.close();
});

const good = () => ({ sub: "system:serviceaccount:prod:billing", google: { compute_engine: { instance_id: "4711" } } });
const login = (jwt: string, role = "workload") => t.call("POST", "/v1/auth/jwt/login", { role, jwt }, null);

describe("JWT login", () => {
  it("logs in a workload whose claims match, with mapped attributes usable in policy", async () => {
    const r = await login(await sign(good()));
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ role: "workload", authMethod: "jwt", kind: "workload", attributes: { sub: "system:serviceaccount:prod:billing", instance_id: "4711" } });
    const tok = r.body.token as string;
    expect((await t.call("POST", "/v1/keys/app-key/encrypt", { plaintext: b64("x"), context: { instance: "4711" } }, tok)).status).toBe(200);
    expect((await t.call("POST", "/v1/keys/app-key/encrypt", { plaintext: b64("x"), context: { instance: "9999" } }, tok)).body.error.code).toBe("AccessDenied");
  });

  it("refuses every kind of bad token with Unauthenticated", async () => {
    const now = Math.floor(t.clock.now() / 1000);
    const other = await newKey("k1"); // same kid, different key: a forged signature
    const validParts = (await sign(good())).split(".");
    const pem = await exportSPKI(signing.publicKey);
    const hsHeader = base64url(JSON.stringify({ alg: "HS256", kid: "k1" }));
    const hsPayload = validParts[1]!;
    const hsSig = createHmac("sha256", pem).update(`${hsHeader}.${hsPayload}`).digest("base64url");
    const noneToken = `${base64url(JSON.stringify({ alg: "none" }))}.${validParts[1]}.`;
    const cases: [string, string][] = [
      ["bad signature", await sign(good(), { key: other })],
      ["wrong audience", await sign(good(), { aud: "someone-else" })],
      ["wrong issuer", await sign(good(), { iss: "https://evil.example" })],
      ["alg none", noneToken],
      ["HS256 with the public key as secret", `${hsHeader}.${hsPayload}.${hsSig}`],
      ["expired", await sign(good(), { iat: now - 7200, exp: now - 3600 })],
      ["not yet valid", await sign(good(), { nbf: now + 3600 })],
      ["issued in the future", await sign(good(), { iat: now + 3600, exp: now + 7200 })],
      ["claim not matching", await sign({ ...good(), sub: "system:serviceaccount:dev:billing" })],
      ["required claim missing", await sign({ sub: "system:serviceaccount:prod:billing" })],
      ["no sub", await sign({ google: good().google })],
      ["garbage", "not.a.jwt"],
    ];
    for (const [what, jwt] of cases) {
      const r = await login(jwt);
      expect([r.status, r.body.error.code], what).toEqual([401, "Unauthenticated"]);
      expect(r.body.error.message, what).not.toContain(jwt);
    }
    const validForWorkload = await sign(good());
    expect((await login(validForWorkload, "no-such-role")).body.error.code).toBe("Unauthenticated");
    expect((await t.call("PUT", "/v1/roles/plain", { policies: ["app"], approle: {} })).status).toBe(200);
    expect((await login(validForWorkload, "plain")).body.error.code).toBe("Unauthenticated");
    // Failed logins are audited as denied, each of them, without the token.
    const audit = await t.call("GET", "/v1/audit/entries?action=auth:Login&outcome=denied&limit=100");
    expect(audit.status).toBe(200);
    expect(audit.body.records).toHaveLength(cases.length + 2);
    expect(audit.body.records.every((r: { errorCode: string }) => r.errorCode === "Unauthenticated")).toBe(true);
    const trail = JSON.stringify(audit.body);
    for (const jwt of [...cases.map(([, jwt]) => jwt), validForWorkload]) {
      for (const part of jwt.split(".").filter((p) => p.length > 8)) expect(trail).not.toContain(part);
    }
  });

  it("accepts a small clock skew and follows signing-key rotation", async () => {
    const now = Math.floor(t.clock.now() / 1000);
    expect((await login(await sign(good(), { iat: now + 30, exp: now + 600 }))).status).toBe(200);
    const next = await newKey("k2");
    await publish(signing, next);
    expect((await login(await sign(good(), { key: next }))).status).toBe(200);
    await publish(next);
    signing = next;
    expect((await login(await sign(good()))).status).toBe(200);
  });

  it("validates issuer configuration, naming the field", async () => {
    const bad: [object, string][] = [
      [{ issuer: ISS, audiences: [AUD] }, "/jwksUrl"],
      [{ issuer: ISS, jwksUrl, audiences: [] }, "/audiences"],
      [{ issuer: ISS, jwksUrl, audiences: [AUD], algorithms: ["RS256", "HS256"] }, "/algorithms/1"],
      [{ issuer: ISS, jwksUrl, audiences: [AUD], algorithms: ["none"] }, "/algorithms/0"],
      [{ issuer: ISS, jwksUrl: "ftp://x", audiences: [AUD] }, "/jwksUrl"],
      [{ issuer: ISS, jwksUrl, audiences: [AUD], extra: 1 }, "/extra"],
      [{ issuer: ISS, jwksUrl: "http://idp.example.com/jwks", audiences: [AUD] }, "/jwksUrl"],
      [{ issuer: ISS, jwksUrl, jwks, audiences: [AUD] }, "/jwks"],
      [{ issuer: ISS, jwks: { keys: [{ kty: "oct", k: "c2VjcmV0" }] }, audiences: [AUD] }, "/jwks/keys/0/kty"],
      [{ issuer: ISS, jwks: { keys: [{ ...jwks.keys[0], d: "private" }] }, audiences: [AUD] }, "/jwks/keys/0/d"],
      [{ issuer: ISS, jwksFile: join(t.dir, "missing.json"), audiences: [AUD] }, "/jwksFile"],
      [{ issuer: ISS, jwksUrl, audiences: [AUD], clockSkewSeconds: 301 }, "/clockSkewSeconds"],
      [{ issuer: ISS, jwksUrl, audiences: [AUD], algorithms: ["HS512"] }, "/algorithms/0"],
    ];
    for (const [doc, field] of bad) {
      const r = await t.call("PUT", "/v1/auth/jwt/issuers/bad", doc);
      expect([r.body.error?.code, r.body.error?.field], field).toEqual(["InvalidInput", field]);
    }
    expect((await t.call("GET", "/v1/auth/jwt/issuers")).body.names).toEqual(["idp"]);
    expect((await t.call("GET", "/v1/auth/jwt/issuers/idp")).body).toMatchObject({ name: "idp", issuer: ISS, jwksUrl, audiences: [AUD], createdAt: expect.any(String) });
    expect((await t.call("GET", "/v1/auth/jwt/issuers/nope")).body.error.code).toBe("NotFound");
  });

  it("needs auth:ConfigureJwt to manage issuers", async () => {
    const r = await login(await sign(good()));
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/evil", { issuer: ISS, jwksUrl, audiences: [AUD] }, r.body.token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/auth/jwt/issuers", undefined, r.body.token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("DELETE", "/v1/auth/jwt/issuers/idp", undefined, null)).body.error.code).toBe("Unauthenticated");
  });

  it("applies a changed issuer configuration to the next login, with inline and file key sets", async () => {
    const jwt = await sign(good());
    expect((await login(jwt)).status).toBe(200);
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/idp", { issuer: ISS, jwksUrl, audiences: ["another"] })).status).toBe(200);
    expect((await login(jwt)).body.error.code).toBe("Unauthenticated");
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/idp", { issuer: ISS, jwks, audiences: [AUD] })).status).toBe(200);
    expect((await login(jwt)).status).toBe(200);
    const file = join(t.dir, "jwks.json");
    writeFileSync(file, JSON.stringify(jwks));
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/idp", { issuer: ISS, jwksFile: file, audiences: [AUD], algorithms: ["ES256"] })).status).toBe(200);
    expect((await login(jwt)).body.error.code).toBe("Unauthenticated"); // RS256 no longer allowed
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/idp", { issuer: ISS, jwksFile: file, audiences: [AUD] })).status).toBe(200);
    expect((await login(jwt)).status).toBe(200);
    expect((await t.call("DELETE", "/v1/auth/jwt/issuers/idp")).status).toBe(204);
    expect((await login(jwt)).body.error.code).toBe("Unauthenticated");
  });

  it("narrows audiences per role and matches claims that are arrays", async () => {
    expect((await t.call("PUT", "/v1/auth/jwt/issuers/idp", { issuer: ISS, jwksUrl, audiences: [AUD, "batch"] })).status).toBe(200);
    expect((await t.call("PUT", "/v1/roles/batch", { policies: ["app"], jwt: { issuer: "idp", boundAudiences: ["batch"], boundClaims: { groups: ["payments-*", "ops"] } } })).status).toBe(200);
    const batch = (jwt: string) => login(jwt, "batch");
    expect((await batch(await sign({ sub: "job-1", groups: ["dev", "payments-prod"] }, { aud: "batch" }))).status).toBe(200);
    expect((await batch(await sign({ sub: "job-1", groups: ["dev"] }, { aud: "batch" }))).body.error.code).toBe("Unauthenticated");
    expect((await batch(await sign({ sub: "job-1", groups: ["ops"] }, { aud: AUD }))).body.error.code).toBe("Unauthenticated");
  });

  it("never lets a login token outlive its JWT, renewals included", async () => {
    const role = await t.call("PUT", "/v1/roles/workload", { policies: ["app"], tokenTtlSeconds: 3600, tokenMaxTtlSeconds: 86400, jwt: { issuer: "idp", boundClaims: { sub: "*" } } });
    expect(role.status).toBe(200);
    const now = t.clock.now();
    const r = await login(await sign(good(), { exp: Math.floor(now / 1000) + 300 }));
    expect(r.status).toBe(200);
    expect(Date.parse(r.body.expiresAt)).toBe(now + 300_000);
    t.clock.advance(200_000);
    const renewed = await t.call("POST", "/v1/auth/tokens/renew-self", {}, r.body.token);
    expect(renewed.status).toBe(200);
    expect(Date.parse(renewed.body.expiresAt)).toBe(now + 300_000);
    const long = await login(await sign(good(), { exp: Math.floor(now / 1000) + 86400 * 2 }));
    expect(Date.parse(long.body.expiresAt)).toBe(t.clock.now() + 3600_000);
  });
});
