/**
 * Native routes for key distribution (docs/api.md, docs/distribution.md): wrapped export and pairwise
 * pre-shared keys. Thin: read the validated body, call the distribution service, send the answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { DistributionService } from "../../service/distribution-service.js";
import type { ImportService } from "../../service/import-service.js";
import { callContext } from "./context.js";

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
const NoBody = Type.Object({}, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B> = FastifyRequest<{ Body: B; Params: { key: string } }>;

export async function distributionRoutes(app: FastifyInstance, { distribution, imports }: { distribution: DistributionService; imports: ImportService }): Promise<void> {
  app.post("/v1/keys/:key/export", { schema: { params: KeyParams, body: S.ExportWrappedRequest, response: ok(S.ExportWrappedResponse) } }, async (r: Req<S.ExportWrappedRequest>) =>
    distribution.exportWrapped(callContext(r), r.params.key, r.body),
  );
  app.post("/v1/keys/:key/psk", { schema: { params: KeyParams, body: S.PairwisePskRequest, response: ok(S.PairwisePskResponse) } }, async (r: Req<S.PairwisePskRequest>) =>
    distribution.pairwisePsk(callContext(r), r.params.key, r.body),
  );

  // ── BYOK import ──────────────────────────────────────────────────────────────────────────────
  app.post(
    "/v1/keys/:key/import-parameters",
    { schema: { params: KeyParams, body: S.GetParametersForImportRequest, response: ok(S.GetParametersForImportResponse) } },
    async (r: Req<S.GetParametersForImportRequest>) => imports.getParametersForImport(callContext(r), r.params.key, r.body),
  );
  app.post("/v1/keys/:key/import", { schema: { params: KeyParams, body: S.ImportKeyMaterialRequest, response: ok(S.KeyMetadata) } }, async (r: Req<S.ImportKeyMaterialRequest>) =>
    imports.importKeyMaterial(callContext(r), r.params.key, r.body),
  );
  app.post("/v1/keys/:key/delete-imported-material", { schema: { params: KeyParams, body: NoBody, response: ok(S.KeyMetadata) } }, async (r: Req<unknown>) =>
    imports.deleteImportedKeyMaterial(callContext(r), r.params.key),
  );
}
