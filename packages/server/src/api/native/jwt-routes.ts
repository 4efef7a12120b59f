/**
 * Native routes for the JWT/OIDC login method (docs/machine-identity.md): trusted issuers
 * (`auth:ConfigureJwt`) and the open login. Thin: validated input → identity service → answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { IdentityService } from "../../service/identity-service.js";
import { callContext } from "./context.js";

const NameParams = Type.Object({ name: S.Name }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown> = FastifyRequest<{ Body: B; Params: { name: string } }>;

export async function jwtRoutes(app: FastifyInstance, { identity }: { identity: IdentityService }): Promise<void> {
  // The body is checked in full by the service (exactly one key source, the algorithm allow-list,
  // https-only JWKS URLs), which names the field at fault.
  app.put("/v1/auth/jwt/issuers/:name", { schema: { params: NameParams, body: S.JwtIssuerConfig, response: ok(S.JwtIssuerInfo) } }, async (r: Req<S.JwtIssuerConfig>) =>
    identity.putJwtIssuer(callContext(r), r.params.name, r.body),
  );
  app.get("/v1/auth/jwt/issuers", { schema: { response: ok(S.NameList) } }, async (r) => identity.listJwtIssuers(callContext(r)));
  app.get("/v1/auth/jwt/issuers/:name", { schema: { params: NameParams, response: ok(S.JwtIssuerInfo) } }, async (r: Req) => identity.getJwtIssuer(callContext(r), r.params.name));
  app.delete("/v1/auth/jwt/issuers/:name", { schema: { params: NameParams } }, async (r: Req, reply) => {
    await identity.deleteJwtIssuer(callContext(r), r.params.name);
    return reply.code(204).send();
  });
  app.post("/v1/auth/jwt/login", { schema: { body: S.JwtLoginRequest, response: ok(S.LoginResponse) } }, async (r: Req<S.JwtLoginRequest>) =>
    identity.loginJwt(callContext(r), r.body.role, r.body.jwt),
  );
}
