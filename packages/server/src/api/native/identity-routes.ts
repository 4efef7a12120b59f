/**
 * Native routes for identity and policy administration (docs/api.md, docs/policy.md). Thin: read
 * the validated input, call the identity service, send the answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { IdentityService } from "../../service/identity-service.js";
import { callContext } from "./context.js";

const NameParams = Type.Object({ name: S.Name }, { additionalProperties: false });
const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 128 }) }, { additionalProperties: false });
const NoBody = Type.Object({}, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });

type Req<B = unknown> = FastifyRequest<{ Body: B; Params: { name: string; id: string }; Querystring: { force?: string } }>;
const force = (r: Req) => r.query.force === "true";

export async function identityRoutes(app: FastifyInstance, { identity }: { identity: IdentityService }): Promise<void> {
  // ── policies ─────────────────────────────────────────────────────────────────────────────────
  app.put("/v1/policies/:name", { schema: { params: NameParams, querystring: S.ForceQuery, body: S.PolicyDocumentBody, response: ok(S.PolicyInfo) } }, async (r: Req) =>
    identity.putPolicy(callContext(r), r.params.name, r.body, force(r)),
  );
  app.get("/v1/policies", { schema: { response: ok(S.NameList) } }, async (r) => identity.listPolicies(callContext(r)));
  app.get("/v1/policies/:name", { schema: { params: NameParams, response: ok(S.PolicyInfo) } }, async (r: Req) => identity.getPolicy(callContext(r), r.params.name));
  app.delete("/v1/policies/:name", { schema: { params: NameParams, querystring: S.ForceQuery } }, async (r: Req, reply) => {
    await identity.deletePolicy(callContext(r), r.params.name, force(r));
    return reply.code(204).send();
  });
  app.post("/v1/policies/simulate", { schema: { body: S.SimulateRequest, response: ok(S.SimulateResponse) } }, async (r: Req<S.SimulateRequest>) =>
    identity.simulate(callContext(r), r.body),
  );

  // ── roles ────────────────────────────────────────────────────────────────────────────────────
  app.put("/v1/roles/:name", { schema: { params: NameParams, querystring: S.ForceQuery, body: S.RoleBodyWire, response: ok(S.RoleInfoWire) } }, async (r: Req) =>
    identity.putRole(callContext(r), r.params.name, r.body, force(r)),
  );
  app.get("/v1/roles", { schema: { response: ok(S.NameList) } }, async (r) => identity.listRoles(callContext(r)));
  app.get("/v1/roles/:name", { schema: { params: NameParams, response: ok(S.RoleInfoWire) } }, async (r: Req) => identity.getRole(callContext(r), r.params.name));
  app.delete("/v1/roles/:name", { schema: { params: NameParams, querystring: S.ForceQuery } }, async (r: Req, reply) => {
    await identity.deleteRole(callContext(r), r.params.name, force(r));
    return reply.code(204).send();
  });

  // ── tokens ───────────────────────────────────────────────────────────────────────────────────
  app.post("/v1/auth/tokens/renew-self", { schema: { body: NoBody, response: ok(S.TokenInfo) } }, async (r) => identity.renewSelf(callContext(r)));
  app.post("/v1/auth/tokens/self/capabilities", { schema: { body: S.CapabilitiesRequest, response: ok(S.CapabilitiesResponse) } }, async (r: Req<S.CapabilitiesRequest>) =>
    identity.capabilitiesSelf(callContext(r), r.body),
  );

  // ── AppRole ──────────────────────────────────────────────────────────────────────────────────
  app.get("/v1/auth/approle/roles/:name/role-id", { schema: { params: NameParams, response: ok(S.RoleIdResponse) } }, async (r: Req) =>
    identity.readRoleId(callContext(r), r.params.name),
  );
  app.post(
    "/v1/auth/approle/roles/:name/secret-id",
    { schema: { params: NameParams, body: S.CreateSecretIdRequest, response: { ...ok(S.SecretIdResponse), 201: S.SecretIdResponse } } },
    async (r: Req<S.CreateSecretIdRequest>, reply) => reply.code(201).send(await identity.createSecretId(callContext(r), r.params.name, r.body)),
  );
  app.delete("/v1/auth/approle/secret-ids/:id", { schema: { params: IdParams } }, async (r: Req, reply) => {
    await identity.revokeSecretId(callContext(r), r.params.id);
    return reply.code(204).send();
  });
  app.post("/v1/auth/approle/login", { schema: { body: S.AppRoleLoginRequest, response: ok(S.LoginResponse) } }, async (r: Req<S.AppRoleLoginRequest>) =>
    identity.loginAppRole(callContext(r), r.body.roleId, r.body.secretId),
  );

  // JWT / OIDC: jwt-routes.ts

  // ── access keys ──────────────────────────────────────────────────────────────────────────────
  app.post(
    "/v1/auth/access-keys",
    { schema: { body: S.CreateAccessKeyRequest, response: { ...ok(S.CreateAccessKeyResponse), 201: S.CreateAccessKeyResponse } } },
    async (r: Req<S.CreateAccessKeyRequest>, reply) => reply.code(201).send(await identity.createAccessKey(callContext(r), r.body.role, r.body.description)),
  );
  app.get("/v1/auth/access-keys", { schema: { response: ok(S.ListAccessKeysResponse) } }, async (r) => identity.listAccessKeys(callContext(r)));
  for (const [path, state] of [["disable", "Inactive"], ["enable", "Active"]] as const) {
    app.post(`/v1/auth/access-keys/:id/${path}`, { schema: { params: IdParams, body: NoBody, response: ok(S.AccessKeyInfo) } }, async (r: Req) =>
      identity.setAccessKeyState(callContext(r), r.params.id, state),
    );
  }
  app.delete("/v1/auth/access-keys/:id", { schema: { params: IdParams } }, async (r: Req, reply) => {
    await identity.deleteAccessKey(callContext(r), r.params.id);
    return reply.code(204).send();
  });
}
