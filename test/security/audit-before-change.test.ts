/**
 * Finding 3 of the trust review: the door audited after the operation had run, so with a failing
 * audit sink CreateKey and PutPolicy answered 503 but both changes were committed, unaudited.
 *
 * Now every state-changing action makes an *intent* record durable before it changes anything. For
 * every mutating route of the native and the AWS API this test fails the audit write at a chosen
 * point and compares the whole database (and the seal state) before and after:
 *   (a) the intent cannot be written → the answer is Unavailable and nothing changed;
 *   (b) the change was made but its outcome record cannot be written → the answer is Unavailable,
 *       and the trail holds the intent for that request.
 * A last check makes sure every action that changes state has a case here.
 */
import "reflect-metadata";
import { constants, createCipheriv, createPublicKey, publicEncrypt, randomBytes, webcrypto } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import * as x509 from "@peculiar/x509";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateGrantCommand,
  CreateKeyCommand,
  DeleteAliasCommand,
  DisableKeyCommand,
  DisableKeyRotationCommand,
  EnableKeyCommand,
  EnableKeyRotationCommand,
  KMSClient,
  PutKeyPolicyCommand,
  RetireGrantCommand,
  RevokeGrantCommand,
  RotateKeyOnDemandCommand,
  ScheduleKeyDeletionCommand,
  TagResourceCommand,
  UntagResourceCommand,
  UpdateAliasCommand,
  UpdateKeyDescriptionCommand,
} from "@aws-sdk/client-kms";
import { actionEffects } from "@tessera/protocol";
import { ManualClock, Pkcs11Seal, ShamirSeal, SqliteStore, buildApp, type Seal, type TesseraApp } from "@tessera/server";
import { SOFTHSM2_MODULE, USER_PIN, softHsm } from "../helpers/softhsm.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControllableSink } from "../fakes/controllable-sink.js";
import { decodeLines } from "../helpers/audit-records.js";

process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const dir = mkdtempSync(join(tmpdir(), "tessera-audit-before-change-"));
const dbPath = join(dir, "tessera.db");
// Near the real time: the AWS SDK signs requests with the real clock.
const clock = new ManualClock(Date.now());
const sink = new ControllableSink();
let app: TesseraApp;
let root = "";
let share = "";
let aws: KMSClient;
let endpoint = "";
const covered = new Set<string>();

interface Answer {
  status: number;
  body: any;
}

async function call(method: string, url: string, body?: unknown, token: string | null = root): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== null) headers["x-tessera-token"] = token;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await app.http.inject({ method: method as "GET", url, headers, ...(body !== undefined && { payload: JSON.stringify(body) }) });
  return { status: res.statusCode, body: res.body.length > 0 ? JSON.parse(res.body) : undefined };
}

/** An AWS SDK call as an Answer: 200, or the exception's HTTP status and name. */
async function awsCall(command: unknown): Promise<Answer> {
  try {
    return { status: 200, body: await aws.send(command as Parameters<KMSClient["send"]>[0]) };
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return { status: e.$metadata?.httpStatusCode ?? 0, body: { error: { code: e.name } } };
  }
}

/** Every row of every table that holds state (not the trail itself, nor alerts about the failing trail, nor bookkeeping), and the seal. */
function snapshot(): unknown {
  const db = new DatabaseSync(dbPath, { readOnly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string }[])
      .map((t) => t.name)
      // state_changes only mirrors changes to the other tables; leases and nodes are the servers' own bookkeeping;
      // version_uses holds unfolded usage counters, telemetry like key_versions' own (below).
      .filter((t) => !["audit_chains", "schema_migrations", "alerts", "state_changes", "sqlite_sequence", "leases", "nodes", "version_uses"].includes(t));
    const out: Record<string, string[]> = {};
    for (const t of tables) {
      out[t] = (db.prepare(`SELECT * FROM "${t}"`).all() as Record<string, unknown>[])
        .map((row) => {
          const r = { ...row };
          // Usage counters are telemetry, not security state (docs/security.md).
          if (t === "key_versions") delete r["use_count"], delete r["last_used_at"];
          return JSON.stringify(r, (_k, v) => (v instanceof Uint8Array ? Buffer.from(v).toString("base64") : v));
        })
        .sort();
    }
    return { tables: out, sealed: app.barrier.sealed, initialized: app.barrier.initialized };
  } finally {
    db.close();
  }
}

const records = () => decodeLines(sink.lines);

/**
 * Runs one mutating request twice: first with its intent record failing, then with its outcome
 * record failing. `request` must be repeatable (the first attempt changes nothing).
 */
async function provesAuditBeforeChange(
  action: string,
  request: () => Promise<Answer>,
  options: { answersAnyway?: boolean; alsoCompare?: () => Promise<unknown> } = {},
): Promise<void> {
  covered.add(action);
  const state = async () => ({ db: snapshot(), also: await options.alsoCompare?.() });
  const before = await state();
  sink.failOnce((r) => r["kind"] === "request" && r["action"] === action && r["outcome"] === "intent");
  const refused = await request();
  expect(refused.status, `${action}: intent not durable → refused: ${JSON.stringify(refused.body)}`).toBeGreaterThanOrEqual(500);
  expect(["Unavailable", "KMSInternalException"], `${action}: refused as unavailable`).toContain(refused.body?.error?.code);
  expect(await state(), `${action}: nothing changed without a durable intent`).toEqual(before);

  const seen = sink.lines.length;
  sink.failOnce((r) => r["kind"] === "request" && r["action"] === action && r["outcome"] !== "intent");
  const answered = await request();
  if (options.answersAnyway === true) expect(answered.status, `${action}: answered`).toBeLessThan(300);
  else expect(answered.status, `${action}: outcome not durable → refused: ${JSON.stringify(answered.body)}`).toBeGreaterThanOrEqual(500);
  expect(["Unavailable", "KMSInternalException", undefined]).toContain(answered.body?.error?.code);
  const lost = sink.refused.filter((r) => r["kind"] === "request" && r["action"] === action).at(-1);
  expect(lost?.["outcome"], `${action}: the operation itself succeeded; only its outcome record was lost`).toBe("allowed");
  expect(await state(), `${action}: the change was made`).not.toEqual(before);
  const mine = records()
    .slice(seen)
    .filter((r) => r["action"] === action);
  expect(
    mine.map((r) => r["outcome"]),
    `${action}: the trail holds the intent of the change`,
  ).toEqual(["intent"]);
}

beforeAll(async () => {
  app = await buildApp({ store: new SqliteStore({ path: dbPath }), clock, audit: { sinks: [sink] } });
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  endpoint = `http://127.0.0.1:${(app.http.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("nothing changes unaudited", () => {
  it("sys:Init: without a durable intent the server stays uninitialised; afterwards the shares are still handed out", async () => {
    let init: Answer | undefined;
    await provesAuditBeforeChange(
      "sys:Init",
      async () => {
        const r = await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 }, null);
        if (r.status === 200) init = r;
        return r;
      },
      // The answer is the only copy of the shares and the root token: once the intent is durable
      // and the change made, refusing to answer would brick the server.
      { answersAnyway: true },
    );
    root = init!.body.rootToken;
    share = init!.body.shares[0];
    await provesAuditBeforeChange("sys:Unseal", () => call("POST", "/v1/sys/unseal", { share }, null));
    expect(app.barrier.sealed).toBe(false);
  });

  it("key administration through the native API", async () => {
    await provesAuditBeforeChange("kms:CreateKey", () => call("POST", "/v1/keys", { name: "k" }));
    expect((await call("POST", "/v1/keys", { name: "doomed" })).status).toBe(201);
    await provesAuditBeforeChange("kms:UpdateKey", () => call("PATCH", "/v1/keys/k", { description: "changed" }));
    await provesAuditBeforeChange("kms:RotateKey", () => call("POST", "/v1/keys/k/rotate"));
    await provesAuditBeforeChange("kms:DisableKeyVersion", () => call("POST", "/v1/keys/k/versions/1/disable"));
    await provesAuditBeforeChange("kms:EnableKeyVersion", () => call("POST", "/v1/keys/k/versions/1/enable"));
    await provesAuditBeforeChange("kms:DisableKey", () => call("POST", "/v1/keys/k/disable"));
    await provesAuditBeforeChange("kms:EnableKey", () => call("POST", "/v1/keys/k/enable"));
    await provesAuditBeforeChange("kms:ScheduleKeyDeletion", () => call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 }));
    await provesAuditBeforeChange("kms:CancelKeyDeletion", () => call("POST", "/v1/keys/doomed/cancel-deletion"));
  });

  it("BYOK: importing key material and deleting it", async () => {
    expect((await call("POST", "/v1/keys", { name: "byok", origin: "EXTERNAL" })).status).toBe(201);
    const params = (await call("POST", "/v1/keys/byok/import-parameters", { wrappingAlgorithm: "RSAES_OAEP_SHA_256", wrappingKeySpec: "RSA_3072" })).body;
    const wrappingKey = createPublicKey({ key: Buffer.from(params.publicKey, "base64"), format: "der", type: "spki" });
    const encryptedKeyMaterial = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, randomBytes(32)).toString("base64");
    // The token is spent only after the intent is durable, so the refused first attempt leaves it usable.
    await provesAuditBeforeChange("kms:ImportKeyMaterial", () => call("POST", "/v1/keys/byok/import", { importToken: params.importToken, encryptedKeyMaterial }));
    await provesAuditBeforeChange("kms:DeleteImportedKeyMaterial", () => call("POST", "/v1/keys/byok/delete-imported-material"));
  });

  it("trim, key backup and restore (native), and the Vault API's wrapping key and import", async () => {
    expect((await call("POST", "/v1/keys", { name: "trimmed" })).status).toBe(201);
    expect((await call("POST", "/v1/keys/trimmed/rotate")).status).toBe(200);
    expect((await call("POST", "/v1/keys/trimmed/min-decryption-version", { minDecryptionVersion: 2 })).status).toBe(200);
    await provesAuditBeforeChange("kms:TrimKeyVersions", () => call("POST", "/v1/keys/trimmed/trim", { minAvailableVersion: 2 }));
    const { backup } = (await call("GET", "/v1/keys/trimmed/backup")).body;
    await provesAuditBeforeChange("kms:RestoreKey", () => call("POST", "/v1/keys/restore", { backup, force: true }));
    // The Vault adapter answers {"errors": […]}: a 503 is the door's Unavailable.
    const vaultCall = async (method: string, path: string, body?: unknown): Promise<Answer> => {
      const res = await app.http.inject({ method: method as "GET", url: `/v1/transit/${path}`, headers: { "x-vault-token": root }, ...(body !== undefined && { payload: JSON.stringify(body) }) });
      return { status: res.statusCode, body: res.statusCode === 503 ? { error: { code: "Unavailable" } } : res.body.length > 0 ? JSON.parse(res.body) : undefined };
    };
    await provesAuditBeforeChange("kms:GetWrappingKey", () => vaultCall("GET", "wrapping_key"));
    const wrappingKey = createPublicKey((await vaultCall("GET", "wrapping_key")).body.data.public_key);
    const ephemeral = randomBytes(32);
    const kwp = createCipheriv("id-aes256-wrap-pad", ephemeral, Buffer.from("a65959a6", "hex"));
    const ciphertext = Buffer.concat([
      publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, ephemeral),
      kwp.update(randomBytes(32)),
      kwp.final(),
    ]).toString("base64");
    covered.delete("kms:CreateKey");
    await provesAuditBeforeChange("kms:CreateKey", () => vaultCall("POST", "keys/imported/import", { ciphertext }));
    covered.delete("kms:ImportKeyMaterial");
    await provesAuditBeforeChange("kms:ImportKeyMaterial", () => vaultCall("POST", "keys/imported/import_version", { ciphertext }));
  });

  it("tokens, policies and roles", async () => {
    const grants = [{ actions: ["kms:Encrypt"], resources: ["k"] }];
    await provesAuditBeforeChange("auth:CreateToken", () => call("POST", "/v1/auth/tokens", { ttlSeconds: 3600, displayName: "t", grants }));
    const child = (await call("POST", "/v1/auth/tokens", { ttlSeconds: 3600, displayName: "child", grants })).body;
    await provesAuditBeforeChange("auth:RevokeToken", () => call("POST", "/v1/auth/tokens/revoke", { accessor: child.accessor }));
    const doc = { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["k"] }] };
    await provesAuditBeforeChange("policy:PutPolicy", () => call("PUT", "/v1/policies/p", doc));
    await provesAuditBeforeChange("policy:PutRole", () => call("PUT", "/v1/roles/r", { policies: ["p"], approle: {}, tokenMaxTtlSeconds: 7200 }));
    // Role tokens are renewable.
    const roleId = (await call("GET", "/v1/auth/approle/roles/r/role-id")).body.roleId;
    const secret = (await call("POST", "/v1/auth/approle/roles/r/secret-id", {})).body;
    const login = (await call("POST", "/v1/auth/approle/login", { roleId, secretId: secret.secretId }, null)).body;
    await provesAuditBeforeChange("auth:RenewToken", () => {
      clock.advance(1000); // a renewal moves the expiry only when time has passed
      return call("POST", "/v1/auth/tokens/renew-self", undefined, login.token);
    });
    expect((await call("PUT", "/v1/policies/spare", doc)).status).toBe(200);
    await provesAuditBeforeChange("policy:DeletePolicy", () => call("DELETE", "/v1/policies/spare"));
    expect((await call("PUT", "/v1/roles/spare", { policies: [] })).status).toBe(200);
    await provesAuditBeforeChange("policy:DeleteRole", () => call("DELETE", "/v1/roles/spare"));
  });

  it("AppRole, access keys, JWT issuers, join tokens, enrolment and certificates", async () => {
    await provesAuditBeforeChange("auth:CreateSecretId", () => call("POST", "/v1/auth/approle/roles/r/secret-id", {}));
    const roleId = (await call("GET", "/v1/auth/approle/roles/r/role-id")).body.roleId;
    const secret = (await call("POST", "/v1/auth/approle/roles/r/secret-id", {})).body;
    await provesAuditBeforeChange("auth:Login", () => call("POST", "/v1/auth/approle/login", { roleId, secretId: secret.secretId }, null));
    await provesAuditBeforeChange("auth:RevokeSecretId", () => call("DELETE", `/v1/auth/approle/secret-ids/${secret.accessor}`));

    await provesAuditBeforeChange("auth:CreateAccessKey", () => call("POST", "/v1/auth/access-keys", { role: "r" }));
    const ak = (await call("POST", "/v1/auth/access-keys", { role: "r" })).body;
    await provesAuditBeforeChange("auth:UpdateAccessKey", () => call("POST", `/v1/auth/access-keys/${ak.accessKeyId}/disable`));
    await provesAuditBeforeChange("auth:DeleteAccessKey", () => call("DELETE", `/v1/auth/access-keys/${ak.accessKeyId}`));

    const { publicKey } = await webcrypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
    const jwk = { ...(await webcrypto.subtle.exportKey("jwk", publicKey)), kid: "k1", alg: "ES256", use: "sig" };
    const issuer = { issuer: "https://issuer.example", jwks: { keys: [jwk] }, audiences: ["tessera"] };
    await provesAuditBeforeChange("auth:ConfigureJwt", () => call("PUT", "/v1/auth/jwt/issuers/ci", issuer));
    covered.delete("auth:ConfigureJwt");
    await provesAuditBeforeChange("auth:ConfigureJwt", () => call("DELETE", "/v1/auth/jwt/issuers/ci"));

    await provesAuditBeforeChange("auth:CreateJoinToken", () => call("POST", "/v1/auth/join-tokens", { role: "r", vmId: "vm-1" }));
    const spare = (await call("POST", "/v1/auth/join-tokens", { role: "r" })).body;
    await provesAuditBeforeChange("auth:RevokeJoinToken", () => call("DELETE", `/v1/auth/join-tokens/${spare.accessor}`));

    const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    const csr = (await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=vm-2", keys, signingAlgorithm: alg })).toString("pem");
    const join = (await call("POST", "/v1/auth/join-tokens", { role: "r", vmId: "vm-2", uses: 2 })).body;
    covered.delete("auth:Login");
    await provesAuditBeforeChange("auth:Login", () => call("POST", "/v1/auth/join", { joinToken: join.joinToken, csr, vmId: "vm-2" }, null));
    await provesAuditBeforeChange("auth:RevokeCertificate", () => call("POST", "/v1/auth/certs/revoke", { vmId: "vm-2" }));
  });

  it("alerts, and sealing and unsealing", async () => {
    // Each failed write above raised an audit-sink alert.
    const open = (await call("GET", "/v1/alerts")).body.alerts as { id: string }[];
    expect(open.length).toBeGreaterThan(0);
    // The alerts table is left out of the snapshot (failing writes add alerts); compare this one alert.
    const acked = async () => (await call("GET", "/v1/alerts?all=true&limit=1000")).body.alerts.find((a: { id: string }) => a.id === open[0]!.id)?.acknowledgedAt ?? null;
    await provesAuditBeforeChange("audit:AckAlert", () => call("POST", `/v1/alerts/${open[0]!.id}/ack`, {}), { alsoCompare: acked });
    await provesAuditBeforeChange("sys:Seal", () => call("POST", "/v1/sys/seal"));
    expect(app.barrier.sealed).toBe(true);
    covered.delete("sys:Unseal");
    await provesAuditBeforeChange("sys:Unseal", () => call("POST", "/v1/sys/unseal", { share }, null));
  });

  it("key administration through the AWS API", async () => {
    const ak = (await call("POST", "/v1/auth/access-keys", { role: "operator" })).body;
    aws = new KMSClient({ region: "us-east-1", endpoint, credentials: { accessKeyId: ak.accessKeyId, secretAccessKey: ak.secretAccessKey }, maxAttempts: 1 });
    for (const a of ["kms:CreateKey", "kms:UpdateKey", "kms:DisableKey", "kms:EnableKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKey"]) covered.delete(a);
    await provesAuditBeforeChange("kms:CreateKey", () => awsCall(new CreateKeyCommand({ Description: "aws" })));
    const keyId = (await awsCall(new CreateKeyCommand({ Description: "target" }))).body.KeyMetadata.KeyId as string;
    await provesAuditBeforeChange("kms:UpdateKey", () => awsCall(new UpdateKeyDescriptionCommand({ KeyId: keyId, Description: "changed" })));
    await provesAuditBeforeChange("kms:DisableKey", () => awsCall(new DisableKeyCommand({ KeyId: keyId })));
    await provesAuditBeforeChange("kms:EnableKey", () => awsCall(new EnableKeyCommand({ KeyId: keyId })));
    covered.delete("kms:UpdateKey");
    await provesAuditBeforeChange("kms:UpdateKey", () => awsCall(new TagResourceCommand({ KeyId: keyId, Tags: [{ TagKey: "team", TagValue: "pay" }] })));
    covered.delete("kms:UpdateKey");
    await provesAuditBeforeChange("kms:UpdateKey", () => awsCall(new UntagResourceCommand({ KeyId: keyId, TagKeys: ["team"] })));
    covered.delete("kms:UpdateKey");
    await provesAuditBeforeChange("kms:UpdateKey", () => awsCall(new EnableKeyRotationCommand({ KeyId: keyId, RotationPeriodInDays: 90 })));
    covered.delete("kms:UpdateKey");
    await provesAuditBeforeChange("kms:UpdateKey", () => awsCall(new DisableKeyRotationCommand({ KeyId: keyId })));
    await provesAuditBeforeChange("kms:RotateKey", () => awsCall(new RotateKeyOnDemandCommand({ KeyId: keyId })));
    await provesAuditBeforeChange("kms:CreateAlias", () => awsCall(new CreateAliasCommand({ AliasName: "alias/orders", TargetKeyId: keyId })));
    const other = (await awsCall(new CreateKeyCommand({ Description: "other" }))).body.KeyMetadata.KeyId as string;
    await provesAuditBeforeChange("kms:UpdateAlias", () => awsCall(new UpdateAliasCommand({ AliasName: "alias/orders", TargetKeyId: other })));
    await provesAuditBeforeChange("kms:DeleteAlias", () => awsCall(new DeleteAliasCommand({ AliasName: "alias/orders" })));
    // The same actions through the native API's alias routes.
    for (const a of ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"]) covered.delete(a);
    await provesAuditBeforeChange("kms:CreateAlias", () => call("PUT", "/v1/aliases/native-orders", { keyId }));
    await provesAuditBeforeChange("kms:UpdateAlias", () => call("PUT", "/v1/aliases/alias/native-orders", { keyId: other }));
    await provesAuditBeforeChange("kms:DeleteAlias", () => call("DELETE", "/v1/aliases/native-orders"));
    const policy = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Principal: { AWS: "arn:aws:iam::000000000000:role/r" }, Action: "kms:Encrypt", Resource: "*" }],
    });
    await provesAuditBeforeChange("kms:PutKeyPolicy", () => awsCall(new PutKeyPolicyCommand({ KeyId: keyId, PolicyName: "default", Policy: policy })));
    const grantee = { KeyId: keyId, GranteePrincipal: "arn:aws:iam::000000000000:role/r", Operations: ["Encrypt" as const] };
    await provesAuditBeforeChange("kms:CreateGrant", () => awsCall(new CreateGrantCommand(grantee)));
    const retired = (await awsCall(new CreateGrantCommand({ ...grantee, RetiringPrincipal: "arn:aws:iam::000000000000:role/r" }))).body.GrantId as string;
    await provesAuditBeforeChange("kms:RetireGrant", () => awsCall(new RetireGrantCommand({ KeyId: keyId, GrantId: retired })));
    const revoked = (await awsCall(new CreateGrantCommand(grantee))).body.GrantId as string;
    await provesAuditBeforeChange("kms:RevokeGrant", () => awsCall(new RevokeGrantCommand({ KeyId: keyId, GrantId: revoked })));
    await provesAuditBeforeChange("kms:ScheduleKeyDeletion", () => awsCall(new ScheduleKeyDeletionCommand({ KeyId: keyId, PendingWindowInDays: 7 })));
    await provesAuditBeforeChange("kms:CancelKeyDeletion", () => awsCall(new CancelKeyDeletionCommand({ KeyId: keyId })));
  });

  it("the secrets store: writes, metadata, delete, undelete, destroy, mount configuration", async () => {
    let n = 0;
    await provesAuditBeforeChange("secrets:Write", () => call("PUT", "/v1/secrets/secret/data/app/db", { data: { password: `p${++n}` } }));
    await provesAuditBeforeChange("secrets:WriteMetadata", () => call("PUT", "/v1/secrets/secret/metadata/app/db", { maxVersions: 5 + ++n }));
    await provesAuditBeforeChange("secrets:Delete", () => call("POST", "/v1/secrets/secret/delete/app/db", {}));
    await provesAuditBeforeChange("secrets:Destroy", () => call("POST", "/v1/secrets/secret/destroy/app/db", { versions: [1] }));
    expect((await call("POST", "/v1/keys", { name: "mount-key" })).status).toBe(201);
    await provesAuditBeforeChange("secrets:ConfigureMount", () => call("PUT", "/v1/secrets/secret/config", { key: "mount-key" }));
  });

  it("the server's own changes: automatic rotation, destruction and purges", async () => {
    expect((await call("POST", "/v1/keys", { name: "auto", rotationPeriodSeconds: 86_400 })).status).toBe(201);
    expect((await call("POST", "/v1/keys/auto/schedule-deletion", { pendingWindowDays: 7 })).status).toBe(200);
    expect((await call("POST", "/v1/keys", { name: "rotating", rotationPeriodSeconds: 86_400 })).status).toBe(201);
    clock.advance(8 * 86_400_000);
    for (const [action, job] of [
      ["kms:RotateKey", () => app.jobs.rotateDue()],
      ["kms:DestroyKey", () => app.jobs.destroyDue()],
      ["auth:PurgeExpired", () => app.jobs.purgeExpired()],
    ] as const) {
      covered.delete(action);
      await provesAuditBeforeChange(action, async () => {
        try {
          await job();
          return { status: 200, body: {} };
        } catch (err) {
          return { status: 503, body: { error: { code: (err as { code?: string }).code } } };
        }
      });
      const mine = records().filter((r) => r["action"] === action);
      expect(mine.at(-1)?.["principal"], `${action} is audited under the system principal`).toMatchObject({ id: "tessera:system", kind: "system" });
    }

    // Version retention: disabling is kms:DisableKeyVersion (covered above for requests), destroying kms:DestroyKeyVersion.
    expect((await call("POST", "/v1/keys", { name: "retained" })).status).toBe(201);
    expect((await call("PUT", "/v1/keys/retained/retention", { disableAfterSeconds: 86_400, destroyAfterSeconds: 86_400, keepAtLeast: 1 })).status).toBe(200);
    expect((await call("POST", "/v1/keys/retained/rotate")).status).toBe(200);
    clock.advance(2 * 86_400_000);
    expect((await app.retention.runDue()).disabled).toEqual(["retained/v1"]);
    clock.advance(2 * 86_400_000);
    await provesAuditBeforeChange("kms:DestroyKeyVersion", async () => {
      try {
        await app.retention.runDue();
        return { status: 200, body: {} };
      } catch (err) {
        return { status: 503, body: { error: { code: (err as { code?: string }).code } } };
      }
    });
    expect(records().filter((r) => r["action"] === "kms:DestroyKeyVersion").at(-1)?.["principal"]).toMatchObject({ id: "tessera:system", kind: "system" });
  });

  it("the root of trust: generate-root, rotate-root, restore (forced and into an empty node), rekey", async () => {
    // generate-root: starting keeps an attempt in memory; the share completing the quorum stores a new root token.
    const attempt = async () => (await call("GET", "/v1/sys/generate-root", undefined, null)).body.started;
    await provesAuditBeforeChange("sys:GenerateRoot", () => call("POST", "/v1/sys/generate-root/init", {}, null), { alsoCompare: attempt });
    const nonce = (await call("GET", "/v1/sys/generate-root", undefined, null)).body.nonce;
    await provesAuditBeforeChange("sys:GenerateRoot", () => call("POST", "/v1/sys/generate-root/update", { nonce, share }, null));

    await provesAuditBeforeChange("sys:RotateRoot", () => call("POST", "/v1/sys/rotate-root"));

    // A forced restore of a backup taken before a key was made: the key is gone afterwards.
    const backup = (await app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": root } })).rawPayload;
    expect((await call("POST", "/v1/keys", { name: "after-backup" })).status).toBe(201);
    const restore = async (target: TesseraApp, token: string | null): Promise<Answer> => {
      const res = await target.http.inject({
        method: "POST",
        url: "/v1/sys/restore",
        headers: { "content-type": "application/vnd.tessera.restore", ...(token !== null && { "x-tessera-token": token }) },
        payload: Buffer.concat([Buffer.from(`${JSON.stringify({ shares: [share], force: true })}\n`), backup]),
      });
      return { status: res.statusCode, body: JSON.parse(res.body) };
    };
    await provesAuditBeforeChange("sys:Restore", () => restore(app, root));
    expect((await call("GET", "/v1/keys/after-backup")).status).toBe(404);

    // Into an empty node (its own database; the same trail sink).
    covered.add("sys:RestoreEmpty");
    const emptyDir = mkdtempSync(join(tmpdir(), "tessera-audit-restore-empty-"));
    const empty = await buildApp({ store: new SqliteStore({ path: join(emptyDir, "t.db") }), clock, audit: { sinks: [sink] } });
    try {
      sink.failOnce((r) => r["action"] === "sys:RestoreEmpty" && r["outcome"] === "intent");
      expect((await restore(empty, null)).body.error.code).toBe("Unavailable");
      expect(empty.barrier.initialized).toBe(false);
      const seen = sink.lines.length;
      sink.failOnce((r) => r["action"] === "sys:RestoreEmpty" && r["outcome"] !== "intent");
      expect((await restore(empty, null)).body.error.code).toBe("Unavailable");
      expect(empty.barrier.initialized).toBe(true);
      expect(records().slice(seen).filter((r) => r["action"] === "sys:RestoreEmpty").map((r) => r["outcome"])).toEqual(["intent"]);
    } finally {
      await empty.close();
      rmSync(emptyDir, { recursive: true, force: true });
    }

    // Rekey last: the new shares are in the answer the lost outcome record withholds.
    const rekeying = async () => app.rekey.inProgress;
    await provesAuditBeforeChange("sys:Rekey", () => call("POST", "/v1/sys/rekey/init", { shares: 1, threshold: 1 }), { alsoCompare: rekeying });
    const rekeyNonce = (await call("GET", "/v1/sys/rekey")).body.nonce;
    covered.delete("sys:Rekey");
    await provesAuditBeforeChange("sys:Rekey", () => call("POST", "/v1/sys/rekey/update", { nonce: rekeyNonce, share }));
  });

  it("the HSM seal: auto-unseal and seal migration", async () => {
    const hsm = softHsm();
    hsm.initToken("audit");
    const hsmDir = mkdtempSync(join(tmpdir(), "tessera-audit-hsm-"));
    const seal = () => Pkcs11Seal.create({ lib: SOFTHSM2_MODULE, tokenLabel: "audit", pin: USER_PIN, keyLabels: ["root"], mechanism: "aes_gcm", generateKey: true });
    const open = async (s: Seal) => buildApp({ store: new SqliteStore({ path: join(hsmDir, "t.db") }), clock, seal: s, audit: { sinks: [sink] }, autoUnseal: { initialDelayMs: 3_600_000 } });
    const changes = async (action: string, attempt: () => Promise<unknown>, changed: () => boolean) => {
      covered.add(action);
      sink.failOnce((r) => r["action"] === action && r["outcome"] === "intent");
      await attempt();
      expect(changed(), `${action}: nothing changed without a durable intent`).toBe(false);
      const seen = sink.lines.length;
      sink.failOnce((r) => r["action"] === action && r["outcome"] !== "intent");
      await attempt();
      expect(changed(), `${action}: the change was made`).toBe(true);
      expect(records().slice(seen).filter((r) => r["action"] === action).map((r) => r["outcome"])).toEqual(["intent"]);
    };
    try {
      // Shamir first, then migrated to the HSM with its share.
      const shamir = await open(new ShamirSeal());
      const hsmShare = (await shamir.http.inject({ method: "POST", url: "/v1/sys/init", headers: { "content-type": "application/json" }, payload: '{"shares":1,"threshold":1}' })).json().shares[0];
      await shamir.close();
      const migrating = await open(await seal());
      const submit = (body: unknown) => migrating.http.inject({ method: "POST", url: "/v1/sys/unseal", headers: { "content-type": "application/json" }, payload: JSON.stringify(body) });
      await changes("sys:MigrateSeal", () => submit({ share: hsmShare, migrate: true }), () => !migrating.barrier.sealed);
      await migrating.close();
      const auto = await open(await seal());
      await changes("sys:AutoUnseal", () => auto.autoUnseal.attempt(), () => !auto.barrier.sealed);
      await auto.close();
    } finally {
      hsm.close();
      rmSync(hsmDir, { recursive: true, force: true });
    }
  });

  it("covers every action that changes state", () => {
    const writes = Object.entries(actionEffects)
      .filter(([, effect]) => effect === "write")
      .map(([action]) => action)
      // Alert records are written by the alert center itself, not by a request.
      .filter((a) => a !== "audit:Alert");
    expect(writes.filter((a) => !covered.has(a))).toEqual([]);
  });
});
