/**
 * Routes of the asymmetric operations (docs/api.md): sign, verify, public key, data key pairs, ECDH.
 * Asymmetric Encrypt/Decrypt are the encrypt and decrypt routes with `encryptionAlgorithm`.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import { callContext } from "./context.js";

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });
type Req<B = unknown, Q = Record<string, string>> = FastifyRequest<{ Body: B; Params: { key: string }; Querystring: Q }>;

export async function asymmetricRoutes(app: FastifyInstance, { asymmetric }: { asymmetric: AsymmetricService }): Promise<void> {
  app.post("/v1/keys/:key/sign", { schema: { params: KeyParams, body: S.SignRequest, response: ok(S.SignResponse) } }, async (r: Req<S.SignRequest>) =>
    asymmetric.sign(callContext(r), r.params.key, r.body),
  );
  app.post("/v1/keys/:key/verify", { schema: { params: KeyParams, body: S.VerifyRequest, response: ok(S.VerifyResponse) } }, async (r: Req<S.VerifyRequest>) =>
    asymmetric.verify(callContext(r), r.params.key, r.body),
  );
  app.get(
    "/v1/keys/:key/public-key",
    { schema: { params: KeyParams, querystring: S.PublicKeyQuery, response: ok(S.PublicKeyResponse) } },
    async (r: Req<unknown, { version?: string }>) => asymmetric.getPublicKey(callContext(r), r.params.key, r.query.version === undefined ? undefined : Number(r.query.version)),
  );
  app.post(
    "/v1/keys/:key/generate-data-key-pair",
    { schema: { params: KeyParams, body: S.GenerateDataKeyPairRequest, response: ok(S.GenerateDataKeyPairResponse) } },
    async (r: Req<S.GenerateDataKeyPairRequest>) => asymmetric.generateDataKeyPair(callContext(r), r.params.key, r.body),
  );
  app.post(
    "/v1/keys/:key/generate-data-key-pair-without-plaintext",
    { schema: { params: KeyParams, body: S.GenerateDataKeyPairRequest, response: ok(S.GenerateDataKeyPairWithoutPlaintextResponse) } },
    async (r: Req<S.GenerateDataKeyPairRequest>) => asymmetric.generateDataKeyPairWithoutPlaintext(callContext(r), r.params.key, r.body),
  );
  app.post(
    "/v1/keys/:key/derive-shared-secret",
    { schema: { params: KeyParams, body: S.DeriveSharedSecretRequest, response: ok(S.DeriveSharedSecretResponse) } },
    async (r: Req<S.DeriveSharedSecretRequest>) => asymmetric.deriveSharedSecret(callContext(r), r.params.key, r.body),
  );
}
