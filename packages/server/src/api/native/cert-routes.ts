/** Routes for machine identity: join tokens, enrolment, certificate login/renew, revocation, CA. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { MachineIdentityService } from "../../service/machine-identity-service.js";
import { callContext } from "./context.js";

const strict = { additionalProperties: false } as const;
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown> = FastifyRequest<{ Body: B; Params: { accessor: string } }>;

export async function certRoutes(app: FastifyInstance, { machines }: { machines: MachineIdentityService }): Promise<void> {
  app.post("/v1/auth/join-tokens", { schema: { body: S.CreateJoinTokenRequest, response: { ...ok(S.CreateJoinTokenResponse), 201: S.CreateJoinTokenResponse } } }, async (r: Req<S.CreateJoinTokenRequest>, reply) =>
    reply.code(201).send(await machines.createJoinToken(callContext(r), r.body)),
  );
  app.get("/v1/auth/join-tokens", { schema: { response: ok(S.ListJoinTokensResponse) } }, async (r) => machines.listJoinTokens(callContext(r)));
  app.delete("/v1/auth/join-tokens/:accessor", { schema: { params: Type.Object({ accessor: Type.String({ minLength: 1, maxLength: 128 }) }, strict) } }, async (r: Req, reply) => {
    await machines.revokeJoinToken(callContext(r), r.params.accessor);
    return reply.code(204).send();
  });
  // Open: the join token is the credential (spent or unknown tokens are refused and audited).
  app.post("/v1/auth/join", { schema: { body: S.JoinRequest, response: ok(S.JoinResponse) } }, async (r: Req<S.JoinRequest>) => machines.join(callContext(r), r.body));
  // Mutual TLS: the client certificate presented in the handshake is the credential.
  app.post("/v1/auth/cert/login", { schema: { body: Type.Object({}, strict), response: ok(S.LoginResponse) } }, async (r) => machines.certLogin(callContext(r)));
  app.post("/v1/auth/cert/renew", { schema: { body: S.RenewCertificateRequest, response: ok(S.EnrolledCertificate) } }, async (r: Req<S.RenewCertificateRequest>) =>
    machines.renew(callContext(r), r.body.csr),
  );
  app.get(
    "/v1/auth/certs",
    { schema: { querystring: Type.Object({ limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$" })), marker: Type.Optional(Type.String({ maxLength: 128 })) }, strict), response: ok(S.ListCertificatesResponse) } },
    async (r: FastifyRequest<{ Querystring: { limit?: string; marker?: string } }>) => machines.listCertificates(callContext(r), Number(r.query.limit ?? 100), r.query.marker),
  );
  app.post("/v1/auth/certs/revoke", { schema: { body: S.RevokeCertificatesRequest, response: ok(S.RevokeCertificatesResponse) } }, async (r: Req<S.RevokeCertificatesRequest>) =>
    machines.revoke(callContext(r), r.body),
  );
  app.get("/v1/auth/ca", { schema: { response: ok(S.CaResponse) } }, async () => machines.caCertificate());
}
