/** Routes for HMAC keys: GenerateMac and VerifyMac (docs/api.md). */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { MacService } from "../../service/mac-service.js";
import { callContext } from "./context.js";

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B> = FastifyRequest<{ Body: B; Params: { key: string } }>;

export async function macRoutes(app: FastifyInstance, { macs }: { macs: MacService }): Promise<void> {
  app.post(
    "/v1/keys/:key/generate-mac",
    { schema: { params: KeyParams, body: S.GenerateMacRequest, response: ok(S.GenerateMacResponse) } },
    async (r: Req<S.GenerateMacRequest>) => macs.generateMac(callContext(r), r.params.key, r.body),
  );
  app.post(
    "/v1/keys/:key/verify-mac",
    { schema: { params: KeyParams, body: S.VerifyMacRequest, response: ok(S.VerifyMacResponse) } },
    async (r: Req<S.VerifyMacRequest>) => macs.verifyMac(callContext(r), r.params.key, r.body),
  );
}
