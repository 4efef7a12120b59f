/**
 * Native routes for aliases (docs/api.md): list a key's aliases, create or move one (PUT), delete
 * one. The name is the rest of the path — `alias/orders`, `alias/team/orders` or bare `orders` —
 * so names with `/` need no escaping. Thin: validated input → KMS service → answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { KmsService } from "../../service/kms-service.js";
import { callContext } from "./context.js";

// Validated by the service (the same rule as the AWS API's AliasName), which names the field.
const NameParams = Type.Object({ "*": Type.String({ minLength: 1, maxLength: 256 }) }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown, Q = unknown> = FastifyRequest<{ Body: B; Params: { "*": string }; Querystring: Q }>;
const nameOf = (r: Req<unknown, unknown> | Req<S.PutAliasRequest>) => S.aliasName(r.params["*"]);

export async function aliasRoutes(app: FastifyInstance, { service }: { service: KmsService }): Promise<void> {
  app.get("/v1/aliases", { schema: { querystring: S.ListAliasesQuery, response: ok(S.ListAliasesResponse) } }, async (r: Req<unknown, S.ListAliasesQuery>) => ({
    aliases: await service.listAliases(callContext(r), r.query.keyId),
  }));
  app.put("/v1/aliases/*", { schema: { params: NameParams, body: S.PutAliasRequest, response: ok(S.PutAliasResponse) } }, async (r: Req<S.PutAliasRequest>) => {
    const name = nameOf(r);
    return { name, ...(await service.setAlias(callContext(r), name, r.body.keyId)) };
  });
  app.delete("/v1/aliases/*", { schema: { params: NameParams } }, async (r: Req, reply) => {
    await service.deleteAlias(callContext(r), nameOf(r));
    return reply.code(204).send();
  });
}
