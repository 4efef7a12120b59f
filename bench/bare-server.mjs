/**
 * The baseline for bench/run.mjs: a bare node:http server that does the least an HTTP JSON API can
 * do — read the body, JSON.parse it, JSON.stringify an answer of the same shape and size as
 * Tessera's — and nothing else (no routing framework, no validation, no auth, no crypto, no audit).
 *
 * Started by run.mjs with fork(); BENCH_SHAPES (JSON) names the answer shapes, measured from real
 * Tessera answers in the same run:
 *   { "encrypt": { keyId, keyVersion, ciphertextLength },
 *     "datakey": { keyId, keyVersion, ciphertextLength, plaintextLength } }
 * Paths ending in /generate-data-key answer the datakey shape, every other POST the encrypt shape.
 *
 * With BENCH_DURABLE_RECORD_BYTES=N (and BENCH_DURABLE_DIR, a directory it may write) it is the
 * *durable* baseline: before answering, each request appends an N-byte line to a file there and waits
 * until the line is on disk — group commit as Tessera's audit file sink does it in `sync` mode: one
 * `write` + `datasync` at a time for all lines queued so far, the requests of a batch answered when
 * it is synced (group-commit.mjs). What no KMS that promises "no answer before its record is durable"
 * can avoid; no hashing, signing or record encoding.
 * Reports { port } over IPC once listening; exits when the parent goes away.
 */
import { randomBytes } from "node:crypto";
import { createServer } from "node:http";
import { join } from "node:path";
import { groupCommit } from "./group-commit.mjs";

const shapes = JSON.parse(process.env.BENCH_SHAPES ?? "null");
if (shapes === null) throw new Error("BENCH_SHAPES is required");

/** A base64-looking string of exactly `length` characters (the values Tessera sends are base64). */
const b64OfLength = (length) => randomBytes(Math.ceil((length * 3) / 4) + 3).toString("base64").slice(0, length);

const encryptCiphertext = b64OfLength(shapes.encrypt.ciphertextLength);
const datakeyCiphertext = b64OfLength(shapes.datakey.ciphertextLength);
const datakeyPlaintext = b64OfLength(shapes.datakey.plaintextLength);

function answer(res, status, object) {
  const body = JSON.stringify(object);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

const recordBytes = Number(process.env.BENCH_DURABLE_RECORD_BYTES ?? 0);
/** Runs `answer` once a record of this request is durable (at once without BENCH_DURABLE_RECORD_BYTES). */
const durable = recordBytes > 0 ? groupCommit(join(process.env.BENCH_DURABLE_DIR ?? ".", "bare-trail.jsonl"), recordBytes) : (answer) => answer();

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
    } catch {
      answer(res, 400, { error: { code: "InvalidInput", message: "body is not JSON" } });
      return;
    }
    if (req.method !== "POST" || body === null || typeof body !== "object") {
      answer(res, 400, { error: { code: "InvalidInput", message: "expected a JSON object" } });
      return;
    }
    durable(() => {
      if (req.url.endsWith("/generate-data-key")) {
        answer(res, 200, { keyId: shapes.datakey.keyId, keyVersion: shapes.datakey.keyVersion, ciphertext: datakeyCiphertext, plaintext: datakeyPlaintext });
      } else {
        answer(res, 200, { keyId: shapes.encrypt.keyId, keyVersion: shapes.encrypt.keyVersion, ciphertext: encryptCiphertext });
      }
    });
  });
});
// Same keep-alive as Tessera's Fastify instance (app.ts).
server.keepAliveTimeout = 65_000;

server.listen(0, "127.0.0.1", () => {
  process.send?.({ port: server.address().port });
});

const stop = () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.once("SIGTERM", stop);
process.once("SIGINT", stop);
process.once("disconnect", stop);
