/** Routes for machine identity: join tokens, enrolment, certificate login/renew, revocation, CA. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { MachineIdentityService } from "../../service/machine-identity-service.js";
import { callContext } from "./context.js";

const strict = { additionalProperties: false } as const;
const Csr = Type.String({ minLength: 64, maxLength: 16384 });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown> = FastifyRequest<{ Body: B; Params: { accessor: string } }>;

export async function certRoutes(app: FastifyInstance, { machines }: { machines: MachineIdentityService }): Promise<void> {
  app.post("/v1/auth/join-tokens", { schema: { body: S.CreateJoinTokenRequest, response: { ...ok(S.CreateJoinTokenResponse), 201: S.CreateJoinTokenResponse } } }, async (r: Req<S.CreateJoinTokenRequest>, reply) =>
    reply.code(201).send(await machines.createJoinToken(callContext(r), r.body)),
  );
  app.get("/v1/auth/join-tokens", { schema: { response: ok(Type.Object({ joinTokens: Type.Array(S.JoinTokenInfo) })) } }, async (r) => machines.listJoinTokens(callContext(r)));
  app.delete("/v1/auth/join-tokens/:accessor", { schema: { params: Type.Object({ accessor: Type.String({ minLength: 1, maxLength: 128 }) }, strict) } }, async (r: Req, reply) => {
    await machines.revokeJoinToken(callContext(r), r.params.accessor);
    return reply.code(204).send();
  });
  app.post(
    "/v1/auth/join",
    { schema: { body: S.JoinRequest, response: ok(S.JoinResponse) } },
    async (r: Req<S.JoinRequest>) => machines.join(callContext(r), r.body),
  );
  app.post("/v1/auth/cert/login", { schema: { body: Type.Object({}, strict), response: ok(S.LoginResponse) } }, async (r) => machines.certLogin(callContext(r)));
  app.post("/v1/auth/cert/renew", { schema: { body: Type.Object({ csr: Csr }, strict), response: ok(S.EnrolledCertificate) } }, async (r: Req<{ csr: string }>) =>
    machines.renew(callContext(r), r.body.csr),
  );
  app.post(
    "/v1/auth/certs/revoke",
    { schema: { body: Type.Object({ serial: Type.Optional(Type.String({ pattern: "^[0-9a-fA-F]{1,64}$" })), vmId: Type.Optional(S.VmId) }, { ...strict, minProperties: 1, maxProperties: 1 }), response: ok(Type.Object({ certificates: Type.Integer(), tokens: Type.Integer() })) } },
    async (r: Req<{ serial?: string; vmId?: string }>) => machines.revoke(callContext(r), r.body),
  );
  app.get("/v1/auth/ca", { schema: { response: ok(Type.Object({ certificate: Type.Union([Type.String(), Type.Null()]), trustDomain: Type.String() })) } }, async () => machines.caCertificate());
}
