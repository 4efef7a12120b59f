/**
 * The versioned secrets store on the native API (docs/secrets.md, docs/api.md "Secrets"):
 * `/v1/secrets/{mount}/{data|metadata|delete|undelete|destroy|list}/{path}` and the mount's
 * `/v1/secrets/{mount}/config`. Paths contain `/`, so each route takes the rest of the URL.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { SecretsService } from "../../service/secrets-service.js";
import { callContext } from "./context.js";

const MountParams = Type.Object({ mount: S.SecretMount }, { additionalProperties: false });
const PathParams = Type.Object({ mount: S.SecretMount, "*": Type.String({ maxLength: S.MAX_SECRET_PATH + 1 }) }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
const Changed = Type.Object({ versions: Type.Array(Type.Integer()) });
type Req<B = unknown, Q = unknown> = FastifyRequest<{ Body: B; Querystring: Q; Params: { mount: string; "*": string } }>;

export async function secretRoutes(app: FastifyInstance, { secrets }: { secrets: SecretsService }): Promise<void> {
  app.put(
    "/v1/secrets/:mount/data/*",
    { schema: { params: PathParams, body: S.PutSecretRequest, response: ok(S.SecretVersionWritten) } },
    async (r: Req<S.PutSecretRequest>) => secrets.put(callContext(r), r.params.mount, r.params["*"], r.body),
  );
  app.get(
    "/v1/secrets/:mount/data/*",
    { schema: { params: PathParams, querystring: S.ReadSecretQuery, response: ok(S.SecretVersionRead) } },
    async (r: Req<unknown, S.ReadSecretQuery>) => secrets.get(callContext(r), r.params.mount, r.params["*"], r.query.version === undefined ? undefined : Number(r.query.version)),
  );
  app.get(
    "/v1/secrets/:mount/metadata/*",
    { schema: { params: PathParams, response: ok(S.SecretMetadata) } },
    async (r: Req) => secrets.metadata(callContext(r), r.params.mount, r.params["*"]),
  );
  app.put(
    "/v1/secrets/:mount/metadata/*",
    { schema: { params: PathParams, body: S.WriteSecretMetadataRequest, response: ok(S.SecretMetadata) } },
    async (r: Req<S.WriteSecretMetadataRequest>) => secrets.writeMetadata(callContext(r), r.params.mount, r.params["*"], r.body),
  );
  app.delete("/v1/secrets/:mount/metadata/*", { schema: { params: PathParams } }, async (r: Req, reply) => {
    await secrets.deleteMetadata(callContext(r), r.params.mount, r.params["*"]);
    return reply.code(204).send();
  });
  app.post(
    "/v1/secrets/:mount/delete/*",
    { schema: { params: PathParams, body: S.SecretVersionsRequest, response: ok(Changed) } },
    async (r: Req<S.SecretVersionsRequest>) => secrets.softDelete(callContext(r), r.params.mount, r.params["*"], r.body.versions),
  );
  app.post(
    "/v1/secrets/:mount/undelete/*",
    { schema: { params: PathParams, body: S.SecretVersionsRequired, response: ok(Changed) } },
    async (r: Req<S.SecretVersionsRequired>) => secrets.undelete(callContext(r), r.params.mount, r.params["*"], r.body.versions),
  );
  app.post(
    "/v1/secrets/:mount/destroy/*",
    { schema: { params: PathParams, body: S.SecretVersionsRequired, response: ok(Changed) } },
    async (r: Req<S.SecretVersionsRequired>) => secrets.destroy(callContext(r), r.params.mount, r.params["*"], r.body.versions),
  );
  app.get(
    "/v1/secrets/:mount/list/*",
    { schema: { params: PathParams, response: ok(S.ListSecretsResponse) } },
    async (r: Req) => secrets.list(callContext(r), r.params.mount, r.params["*"]),
  );
  app.get(
    "/v1/secrets/:mount/config",
    { schema: { params: MountParams, response: ok(S.SecretMountConfig) } },
    async (r: Req) => secrets.readMount(callContext(r), r.params.mount),
  );
  app.put(
    "/v1/secrets/:mount/config",
    { schema: { params: MountParams, body: S.ConfigureSecretMountRequest, response: ok(S.SecretMountConfig) } },
    async (r: Req<S.ConfigureSecretMountRequest>) => secrets.configureMount(callContext(r), r.params.mount, r.body),
  );
}
