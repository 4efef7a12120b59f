/**
 * The native API under /v1 (docs/api.md). Handlers are thin: read the validated body, build the
 * call context, call the service, send what it returns. They never touch keys/ or store/.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type, type TSchema } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import { TESSERA_VERSION, isTesseraError } from "@tessera/protocol";
import type { CallContext, KmsService } from "../../service/kms-service.js";
import type { IdentityService } from "../../service/identity-service.js";
import { callContext } from "./context.js";
import { identityRoutes } from "./identity-routes.js";
import { jwtRoutes } from "./jwt-routes.js";
import { certRoutes } from "./cert-routes.js";
import { auditRoutes } from "./audit-routes.js";
import { asymmetricRoutes } from "./asymmetric-routes.js";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import { macRoutes } from "./mac-routes.js";
import { secretRoutes } from "./secret-routes.js";
import { retentionRoutes } from "./retention-routes.js";
import type { RetentionService } from "../../service/retention-service.js";
import type { SecretsService } from "../../service/secrets-service.js";
import type { MacService } from "../../service/mac-service.js";
import { distributionRoutes } from "./distribution-routes.js";
import { keyTransferRoutes } from "./key-transfer-routes.js";
import type { KeyBackupService } from "../../service/key-backup-service.js";
import type { DistributionService } from "../../service/distribution-service.js";
import type { ImportService } from "../../service/import-service.js";
import type { GrantService } from "../../service/grant-service.js";
import type { AuditService } from "../../service/audit-service.js";
import type { MachineIdentityService } from "../../service/machine-identity-service.js";
import { sendError } from "./errors.js";
import { refuseFrameworkError, refuseNoRoute } from "./refusals.js";
import { buildOpenApi, type RouteDoc } from "./openapi.js";
import { sysRoutes, type SysRoutesOptions } from "./sys-routes.js";
import { aliasRoutes } from "./alias-routes.js";

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
const VersionParams = Type.Object({ key: S.KeyRef, version: Type.String({ pattern: "^[1-9][0-9]{0,9}$" }) }, { additionalProperties: false });
const NoBody = Type.Object({}, { additionalProperties: false });
const ListQuery = Type.Object(
  { limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$" })), marker: Type.Optional(Type.String({ maxLength: 64 })) },
  { additionalProperties: false },
);

export interface NativeApiOptions {
  service: KmsService;
  asymmetric: AsymmetricService;
  identity: IdentityService;
  machines: MachineIdentityService;
  audit: AuditService;
  macs: MacService;
  secrets: SecretsService;
  retention: RetentionService;
  distribution: DistributionService;
  imports: ImportService;
  keyBackups: KeyBackupService;
  grants: GrantService;
  sys: SysRoutesOptions;
}

/**
 * How the native API reads a request before its schemas: JSON bodies only, a missing body as `{}`, and
 * the request id on every answer. Exported for the benchmark floor (bench/floor-server.mjs), which
 * must read requests exactly as this API does.
 */
export function nativeBodies(app: FastifyInstance): void {
  // Action routes (rotate, seal …) take no body: a missing or empty body counts as `{}`. Every answer
  // carries the request id (the `requestId` of its audit record) in X-Request-Id, as AWS's and Vault's
  // answers carry theirs; answers refused before this hook get it from sendError.
  // A callback hook, not an async one: it runs on every request, and needs no promise.
  app.addHook("preValidation", (request, reply, done) => {
    if (request.body === undefined && request.method !== "GET") request.body = {};
    void reply.header("x-request-id", request.id);
    done();
  });
  const json = app.getDefaultJsonParser("error", "error");
  // JSON only: a text/plain body (Fastify parses it by default) would reach the schemas as a string
  // and be refused as "/ must be object"; now it gets the media-type refusal that says what to send.
  app.removeContentTypeParser(["application/json", "text/plain"]);
  app.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else json(request, body as string, done);
  });
}

export async function nativeApi(app: FastifyInstance, { service, asymmetric, identity, machines, audit, macs, secrets, retention, distribution, imports, keyBackups, grants, sys }: NativeApiOptions): Promise<void> {
  const docs: RouteDoc[] = [];
  app.addHook("onRoute", (route) => {
    if (route.url.startsWith("/v1/")) docs.push({ method: route.method, url: route.url, schema: route.schema as Record<string, TSchema> | undefined });
  });
  app.setErrorHandler(async (err, request, reply) => {
    // Errors thrown by the service were audited by the door; anything else (bad JSON, schema
    // violations, body too large) never reached it and is audited here, fail closed like the rest.
    if (isTesseraError(err)) return sendError(request, reply, err);
    return refuseFrameworkError(service, err, request, reply);
  });
  nativeBodies(app);
  app.setNotFoundHandler((request, reply) => refuseNoRoute(service, request, reply));

  const ok = (schema: TSchema) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
  type Req<B = unknown, P = Record<string, string>, Q = Record<string, string>> = FastifyRequest<{ Body: B; Params: P; Querystring: Q }>;
  const keyOf = (r: FastifyRequest) => (r.params as { key: string }).key;

  // ── sys ──────────────────────────────────────────────────────────────────────────────────────
  app.get("/v1/sys/health", { schema: { response: { 200: S.Health, 503: S.Health } } }, async (_request, reply) => {
    const h = service.health();
    return reply.code(h.initialized && !h.sealed ? 200 : 503).send({ ...h, version: TESSERA_VERSION });
  });
  app.get("/v1/sys/seal-status", { schema: { response: ok(S.SealStatus) } }, async () => service.clusterStatus());
  app.post("/v1/sys/init", { schema: { body: S.InitRequest, response: ok(S.InitResponse) } }, async (r: Req<S.InitRequest>) =>
    service.init(callContext(r), r.body),
  );
  app.post("/v1/sys/unseal", { schema: { body: S.UnsealRequest, response: ok(S.SealStatus) } }, async (r: Req<S.UnsealRequest>) =>
    service.unseal(callContext(r), r.body),
  );
  app.post("/v1/sys/seal", { schema: { body: NoBody, response: ok(S.SealStatus) } }, async (r) => service.seal(callContext(r)));
  app.get("/v1/sys/openapi.json", async () => buildOpenApi(docs, TESSERA_VERSION));

  // ── keys ─────────────────────────────────────────────────────────────────────────────────────
  app.post("/v1/keys", { schema: { body: S.CreateKeyRequest, response: { ...ok(S.KeyMetadata), 201: S.KeyMetadata } } }, async (r: Req<S.CreateKeyRequest>, reply) =>
    reply.code(201).send(await service.createKey(callContext(r), r.body)),
  );
  app.get("/v1/keys", { schema: { querystring: ListQuery, response: ok(S.ListKeysResponse) } }, async (r: Req<unknown, never, { limit?: string; marker?: string }>) =>
    service.listKeys(callContext(r), Number(r.query.limit ?? 100), r.query.marker),
  );
  app.get("/v1/keys/:key", { schema: { params: KeyParams, response: ok(S.KeyMetadata) } }, async (r) => service.describeKey(callContext(r), keyOf(r)));
  app.patch("/v1/keys/:key", { schema: { params: KeyParams, body: S.UpdateKeyRequest, response: ok(S.KeyMetadata) } }, async (r: Req<S.UpdateKeyRequest>) =>
    service.updateKey(callContext(r), keyOf(r), r.body),
  );
  const keyAction = (path: string, call: (ctx: CallContext, key: string) => Promise<S.KeyMetadata>) =>
    app.post(`/v1/keys/:key/${path}`, { schema: { params: KeyParams, body: NoBody, response: ok(S.KeyMetadata) } }, async (r) => call(callContext(r), keyOf(r)));
  keyAction("rotate", (c, k) => service.rotateKey(c, k));
  keyAction("enable", (c, k) => service.enableKey(c, k));
  keyAction("disable", (c, k) => service.disableKey(c, k));
  keyAction("cancel-deletion", (c, k) => service.cancelKeyDeletion(c, k));
  app.post(
    "/v1/keys/:key/schedule-deletion",
    { schema: { params: KeyParams, body: S.ScheduleDeletionRequest, response: ok(S.KeyMetadata) } },
    async (r: Req<S.ScheduleDeletionRequest>) => service.scheduleKeyDeletion(callContext(r), keyOf(r), r.body.pendingWindowDays),
  );
  app.post(
    "/v1/keys/:key/min-decryption-version",
    { schema: { params: KeyParams, body: S.SetMinDecryptionVersionRequest, response: ok(S.KeyMetadata) } },
    async (r: Req<S.SetMinDecryptionVersionRequest>) => service.setMinDecryptionVersion(callContext(r), keyOf(r), r.body.minDecryptionVersion),
  );
  app.post(
    "/v1/keys/:key/min-encryption-version",
    { schema: { params: KeyParams, body: S.SetMinEncryptionVersionRequest, response: ok(S.KeyMetadata) } },
    async (r: Req<S.SetMinEncryptionVersionRequest>) => service.setMinEncryptionVersion(callContext(r), keyOf(r), r.body.minEncryptionVersion),
  );
  // AWS-style grants on the key (made through the AWS API: docs/aws-compatibility.md, "Grants").
  app.get("/v1/keys/:key/grants", { schema: { params: KeyParams, response: ok(S.ListKeyGrantsResponse) } }, async (r) => grants.listGrants(callContext(r), keyOf(r)));
  app.get("/v1/keys/:key/versions", { schema: { params: KeyParams, response: ok(S.ListVersionsResponse) } }, async (r) =>
    service.listVersions(callContext(r), keyOf(r)),
  );
  for (const [path, state] of [["enable", "Enabled"], ["disable", "Disabled"]] as const) {
    app.post(`/v1/keys/:key/versions/:version/${path}`, { schema: { params: VersionParams, body: NoBody, response: ok(S.KeyVersionInfo) } }, async (r) =>
      service.setVersionState(callContext(r), keyOf(r), Number((r.params as { version: string }).version), state),
    );
  }

  // ── cryptography ─────────────────────────────────────────────────────────────────────────────
  app.post("/v1/keys/:key/encrypt", { schema: { params: KeyParams, body: S.EncryptRequest, response: ok(S.EncryptResponse) } }, async (r: Req<S.EncryptRequest>) =>
    service.encrypt(callContext(r), keyOf(r), r.body),
  );
  app.post("/v1/decrypt", { schema: { body: S.DecryptRequest, response: ok(S.DecryptResponse) } }, async (r: Req<S.DecryptRequest>) =>
    service.decrypt(callContext(r), r.body),
  );
  app.post(
    "/v1/keys/:key/generate-data-key",
    { schema: { params: KeyParams, body: S.GenerateDataKeyRequest, response: ok(S.GenerateDataKeyResponse) } },
    async (r: Req<S.GenerateDataKeyRequest>) => service.generateDataKey(callContext(r), keyOf(r), r.body),
  );
  app.post(
    "/v1/keys/:key/generate-data-key-without-plaintext",
    { schema: { params: KeyParams, body: S.GenerateDataKeyRequest, response: ok(S.GenerateDataKeyWithoutPlaintextResponse) } },
    async (r: Req<S.GenerateDataKeyRequest>) => service.generateDataKeyWithoutPlaintext(callContext(r), keyOf(r), r.body),
  );
  app.post("/v1/reencrypt", { schema: { body: S.ReEncryptRequest, response: ok(S.ReEncryptResponse) } }, async (r: Req<S.ReEncryptRequest>) =>
    service.reEncrypt(callContext(r), r.body),
  );
  app.post("/v1/keys/:key/derive", { schema: { params: KeyParams, body: S.DeriveRequest, response: ok(S.DeriveResponse) } }, async (r: Req<S.DeriveRequest>) =>
    service.derive(callContext(r), keyOf(r), r.body),
  );
  app.post("/v1/random", { schema: { body: S.GenerateRandomRequest, response: ok(S.GenerateRandomResponse) } }, async (r: Req<S.GenerateRandomRequest>) =>
    service.generateRandom(callContext(r), r.body.numberOfBytes),
  );
  const batchLimit = { bodyLimit: 8 * 1024 * 1024 };
  app.post("/v1/batch/encrypt", { ...batchLimit, schema: { body: S.BatchEncryptRequest, response: ok(S.BatchEncryptResponse) } }, async (r: Req<S.BatchEncryptRequest>) =>
    service.batchEncrypt(callContext(r), r.body),
  );
  app.post("/v1/batch/decrypt", { ...batchLimit, schema: { body: S.BatchDecryptRequest, response: ok(S.BatchDecryptResponse) } }, async (r: Req<S.BatchDecryptRequest>) =>
    service.batchDecrypt(callContext(r), r.body),
  );

  // ── tokens ───────────────────────────────────────────────────────────────────────────────────
  app.post("/v1/auth/tokens", { schema: { body: S.CreateTokenRequest, response: { ...ok(S.CreateTokenResponse), 201: S.CreateTokenResponse } } }, async (r: Req<S.CreateTokenRequest>, reply) =>
    reply.code(201).send(await service.createToken(callContext(r), r.body)),
  );
  app.get("/v1/auth/tokens/self", { schema: { response: ok(S.TokenInfo) } }, async (r) => service.lookupSelf(callContext(r)));
  app.post("/v1/auth/tokens/lookup", { schema: { body: S.TokenSelector, response: ok(S.TokenInfo) } }, async (r: Req<S.TokenSelector>) =>
    service.lookupToken(callContext(r), r.body),
  );
  app.post("/v1/auth/tokens/revoke", { schema: { body: S.TokenSelector } }, async (r: Req<S.TokenSelector>, reply) => {
    await service.revokeToken(callContext(r), r.body);
    return reply.code(204).send();
  });

  await aliasRoutes(app, { service });
  await asymmetricRoutes(app, { asymmetric });
  await identityRoutes(app, { identity });
  await jwtRoutes(app, { identity });
  await certRoutes(app, { machines });
  await auditRoutes(app, { audit });
  await sysRoutes(app, sys);
  await macRoutes(app, { macs });
  await secretRoutes(app, { secrets });
  await retentionRoutes(app, { retention });
  await distributionRoutes(app, { distribution, imports });
  await keyTransferRoutes(app, { service, keyBackups });
}
