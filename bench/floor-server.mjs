/**
 * The *floor* for bench/run.mjs: a native Encrypt request served as Tessera's HTTP layer serves it,
 * with only the work Tessera cannot drop without breaking a promise it makes (a checked credential,
 * the seal, a durable record). It is Fastify with the options of Tessera's `buildApp` (app.ts), the
 * native API's JSON parser and request-id hook (`nativeBodies`), the Encrypt route with Tessera's own
 * schemas (@tessera/protocol), and a handler that
 *
 *   - hashes the caller's token and finds it in a map (the least a token check can do);
 *   - seals the plaintext with Tessera's own `encryptEnvelope` under a prepared XAES-256-GCM key
 *     (ciphertext format v2, the default for a SYMMETRIC_DEFAULT key);
 *   - answers once a record of Tessera's size is durable (group-commit.mjs, as the durable baseline).
 *
 * Left out, because they cost and the floor asks what the rest costs: the door (sealed check, policy,
 * key lookup and state checks, intent records), the audit record's encoding, hash chain and sinks,
 * the detectors, metrics and usage counters, quotas. Its answer has the shape and size of Tessera's.
 *
 * Started by run.mjs with fork(); reads BENCH_FLOOR_TOKEN (the token it accepts),
 * BENCH_DURABLE_RECORD_BYTES and BENCH_DURABLE_DIR. Reports { port } over IPC once listening; exits
 * when the parent goes away.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { join } from "node:path";
import Fastify from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import { BASE64_FORMAT, MAX_PLAINTEXT_BYTES, TesseraError, encodeHeader } from "@tessera/protocol";
import { XaesKey, sha256Hex, zero } from "../packages/server/dist/crypto/index.js";
import { nativeBodies } from "../packages/server/dist/api/native/native-api.js";
import { encryptEnvelope } from "../packages/server/dist/format/envelope.js";
import { b64, decodeBytes, isCanonicalBase64Fast } from "../packages/server/dist/service/bytes.js";
import { groupCommit } from "./group-commit.mjs";

const token = process.env.BENCH_FLOOR_TOKEN;
const recordBytes = Number(process.env.BENCH_DURABLE_RECORD_BYTES ?? 0);
if (!token || !(recordBytes > 0)) throw new Error("BENCH_FLOOR_TOKEN and BENCH_DURABLE_RECORD_BYTES are required");
const durable = groupCommit(join(process.env.BENCH_DURABLE_DIR ?? ".", "floor-trail.jsonl"), recordBytes);

/** The accepted token's SHA-256, as Tessera's token store keeps tokens. */
const tokenHashes = new Set([sha256Hex(token)]);

/** One key, version 1, as the keyring caches it: material, its prepared XAES key, the cached header. */
const key = (() => {
  const id = randomUUID();
  const material = randomBytes(32);
  return { id, name: "bench-key", version: 1, material, prepared: new XaesKey(material), header: encodeHeader("XAES_256_GCM", id, 1) };
})();

// The options of buildApp (app.ts) that a request meets.
const app = Fastify({
  logger: false,
  bodyLimit: 1024 * 1024,
  genReqId: () => randomUUID(),
  requestIdHeader: false,
  routerOptions: { maxParamLength: S.KeyRef.maxLength },
  return503OnClosing: true,
  keepAliveTimeout: 65_000,
  ajv: {
    customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
    onCreate: (ajv) => ajv.addFormat(BASE64_FORMAT, isCanonicalBase64Fast),
  },
});

// The native API's parser and hook.
nativeBodies(app);
app.setErrorHandler(async (err, _request, reply) => {
  const code = err instanceof TesseraError ? err.code : "InvalidInput";
  return reply.code(code === "Unauthenticated" ? 401 : 400).send({ error: { code, message: err.message } });
});

const KeyParams = Type.Object({ key: S.KeyRef }, { additionalProperties: false });
app.post(
  "/v1/keys/:key/encrypt",
  { schema: { params: KeyParams, body: S.EncryptRequest, response: { 200: S.EncryptResponse, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse } } },
  async (request) => {
    const presented = request.headers["x-tessera-token"];
    if (typeof presented !== "string" || !tokenHashes.has(sha256Hex(presented))) throw new TesseraError("Unauthenticated", "no valid token");
    if (request.params.key !== key.name && request.params.key !== key.id) throw new TesseraError("NotFound", "no such key");
    const plaintext = decodeBytes(request.body.plaintext, "/plaintext", MAX_PLAINTEXT_BYTES);
    let ciphertext;
    try {
      ciphertext = encryptEnvelope({
        algorithm: "XAES_256_GCM",
        keyId: key.id,
        keyVersion: key.version,
        material: key.material,
        plaintext,
        context: request.body.context,
        header: key.header,
        prepared: key.prepared,
      });
    } finally {
      zero(plaintext);
    }
    await new Promise((resolve) => durable(resolve));
    return { keyId: key.id, keyVersion: key.version, ciphertext: b64(ciphertext) };
  },
);

const address = await app.listen({ port: 0, host: "127.0.0.1" });
process.send?.({ port: Number(new URL(address).port) });

const stop = () => {
  void app.close().finally(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.once("disconnect", stop);
