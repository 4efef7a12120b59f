/**
 * Native routes for trimming a key's old versions and for one key's backup and restore (docs/api.md,
 * "Key backup and trim"). Thin: read the validated body, call the service, send the answer.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { KmsService } from "../../service/kms-service.js";
import type { KeyBackupService } from "../../service/key-backup-service.js";
import { callContext } from "./context.js";

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B> = FastifyRequest<{ Body: B; Params: { key: string } }>;

export async function keyTransferRoutes(app: FastifyInstance, { service, keyBackups }: { service: KmsService; keyBackups: KeyBackupService }): Promise<void> {
  app.post("/v1/keys/:key/trim", { schema: { params: KeyParams, body: S.TrimKeyVersionsRequest, response: ok(S.KeyMetadata) } }, async (r: Req<S.TrimKeyVersionsRequest>) =>
    service.trimKeyVersions(callContext(r), r.params.key, r.body.minAvailableVersion),
  );
  app.get("/v1/keys/:key/backup", { schema: { params: KeyParams, response: ok(S.KeyBackupResponse) } }, async (r: Req<unknown>) => keyBackups.backupKey(callContext(r), r.params.key));
  app.post("/v1/keys/restore", { bodyLimit: 6 * 1024 * 1024, schema: { body: S.RestoreKeyRequest, response: ok(S.KeyMetadata) } }, async (r: Req<S.RestoreKeyRequest>) =>
    keyBackups.restoreKey(callContext(r), r.body),
  );
}
