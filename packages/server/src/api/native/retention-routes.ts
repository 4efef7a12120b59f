/** A key's version retention (docs/retention.md): `GET|PUT|DELETE /v1/keys/{key}/retention`. */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { RetentionService } from "../../service/retention-service.js";
import { callContext } from "./context.js";

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown> = FastifyRequest<{ Body: B; Params: { key: string } }>;

export async function retentionRoutes(app: FastifyInstance, { retention }: { retention: RetentionService }): Promise<void> {
  app.get("/v1/keys/:key/retention", { schema: { params: KeyParams, response: ok(S.KeyRetention) } }, async (r: Req) => retention.get(callContext(r), r.params.key));
  app.put(
    "/v1/keys/:key/retention",
    { schema: { params: KeyParams, body: S.RetentionPolicy, response: ok(S.KeyRetention) } },
    async (r: Req<S.RetentionPolicy>) => retention.put(callContext(r), r.params.key, r.body),
  );
  app.delete("/v1/keys/:key/retention", { schema: { params: KeyParams, response: ok(S.KeyRetention) } }, async (r: Req) => retention.clear(callContext(r), r.params.key));
}
