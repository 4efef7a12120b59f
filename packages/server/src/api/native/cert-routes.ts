/** Routes for machine identity: join tokens, enrolment, certificate login/renew, revocation, CA. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { MachineIdentityService } from "../../service/machine-identity-service.js";
import { callContext } from "./context.js";

const strict = { additionalProperties: false } as const;
const VmId = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" });
const Csr = Type.String({ minLength: 64, maxLength: 16384 });
const Enrolled = Type.Object({
  certificate: Type.String(),
  caCertificate: Type.String(),
  serial: Type.String(),
  vmId: Type.String(),
  role: Type.String(),
  expiresAt: Type.String(),
});
const JoinTokenInfo = Type.Object({
  accessor: Type.String(),
  role: Type.String(),
  vmId: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  usesLeft: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Type.String(),
});
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown> = FastifyRequest<{ Body: B; Params: { accessor: string } }>;

export async function certRoutes(app: FastifyInstance, { machines }: { machines: MachineIdentityService }): Promise<void> {
  const CreateJoin = Type.Object(
    { role: S.Name, ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86400 })), uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })), vmId: Type.Optional(VmId) },
    strict,
  );
  app.post("/v1/auth/join-tokens", { schema: { body: CreateJoin, response: { ...ok(Type.Intersect([JoinTokenInfo, Type.Object({ joinToken: Type.String() })])), 201: Type.Intersect([JoinTokenInfo, Type.Object({ joinToken: Type.String() })]) } } }, async (r: Req<{ role: string; ttlSeconds?: number; uses?: number; vmId?: string }>, reply) =>
    reply.code(201).send(await machines.createJoinToken(callContext(r), r.body)),
  );
  app.get("/v1/auth/join-tokens", { schema: { response: ok(Type.Object({ joinTokens: Type.Array(JoinTokenInfo) })) } }, async (r) => machines.listJoinTokens(callContext(r)));
  app.delete("/v1/auth/join-tokens/:accessor", { schema: { params: Type.Object({ accessor: Type.String({ minLength: 1, maxLength: 128 }) }, strict) } }, async (r: Req, reply) => {
    await machines.revokeJoinToken(callContext(r), r.params.accessor);
    return reply.code(204).send();
  });
  app.post(
    "/v1/auth/join",
    { schema: { body: Type.Object({ joinToken: Type.String({ minLength: 1, maxLength: 256 }), csr: Csr, vmId: Type.Optional(VmId) }, strict), response: ok(Type.Intersect([Enrolled, Type.Object({ token: S.LoginResponse })])) } },
    async (r: Req<{ joinToken: string; csr: string; vmId?: string }>) => machines.join(callContext(r), r.body),
  );
  app.post("/v1/auth/cert/login", { schema: { body: Type.Object({}, strict), response: ok(S.LoginResponse) } }, async (r) => machines.certLogin(callContext(r)));
  app.post("/v1/auth/cert/renew", { schema: { body: Type.Object({ csr: Csr }, strict), response: ok(Enrolled) } }, async (r: Req<{ csr: string }>) =>
    machines.renew(callContext(r), r.body.csr),
  );
  app.post(
    "/v1/auth/certs/revoke",
    { schema: { body: Type.Object({ serial: Type.Optional(Type.String({ pattern: "^[0-9a-fA-F]{1,64}$" })), vmId: Type.Optional(VmId) }, { ...strict, minProperties: 1, maxProperties: 1 }), response: ok(Type.Object({ certificates: Type.Integer(), tokens: Type.Integer() })) } },
    async (r: Req<{ serial?: string; vmId?: string }>) => machines.revoke(callContext(r), r.body),
  );
  app.get("/v1/auth/ca", { schema: { response: ok(Type.Object({ certificate: Type.Union([Type.String(), Type.Null()]), trustDomain: Type.String() })) } }, async () => machines.caCertificate());
}
