/**
 * Root-of-trust routes (docs/api.md): rekey, generate-root, rotate-root, backup and restore. Thin:
 * each calls one service method. The backup streams as application/octet-stream; a restore's body is
 * `application/vnd.tessera.restore`: one JSON line (RestorePreamble), then the backup file's bytes.
 */
import { Readable } from "node:stream";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import * as S from "@tessera/protocol";
import { TesseraError } from "@tessera/protocol";
import type { BackupService } from "../../service/backup-service.js";
import type { GenerateRootService } from "../../service/generate-root-service.js";
import type { RekeyService } from "../../service/rekey-service.js";
import type { RootRotationService } from "../../service/root-rotation-service.js";
import { callContext } from "./context.js";

export const RESTORE_CONTENT_TYPE = "application/vnd.tessera.restore";
const MAX_PREAMBLE = 64 * 1024;
const NoBody = Type.Object({}, { additionalProperties: false });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });

export interface SysRoutesOptions {
  rekey: RekeyService;
  generateRoot: GenerateRootService;
  rotation: RootRotationService;
  backups: BackupService;
}

/** Splits a restore body into its preamble (validated) and the backup bytes after it. */
async function splitPreamble(stream: AsyncIterable<Uint8Array>): Promise<{ preamble: S.RestorePreamble; rest: AsyncIterable<Uint8Array> }> {
  const it = stream[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let newline = -1;
  while (newline < 0) {
    const next = await it.next();
    if (next.done === true) break;
    head = Buffer.concat([head, Buffer.from(next.value)]);
    newline = head.indexOf(0x0a);
    if (newline < 0 && head.length > MAX_PREAMBLE) break;
  }
  if (newline < 0) throw new TesseraError("InvalidInput", "a restore body starts with one JSON line (shares, force), then the backup");
  let preamble: unknown;
  try {
    preamble = JSON.parse(head.subarray(0, newline).toString("utf8"));
  } catch {
    throw new TesseraError("InvalidInput", "the first line of a restore body is not JSON");
  }
  if (!Value.Check(S.RestorePreamble, preamble)) throw new TesseraError("InvalidInput", "the first line of a restore body is { shares?: [...], force?: boolean }");
  const tail = head.subarray(newline + 1);
  async function* rest(): AsyncGenerator<Uint8Array> {
    if (tail.length > 0) yield tail;
    for (;;) {
      const next = await it.next();
      if (next.done === true) return;
      yield next.value;
    }
  }
  return { preamble: preamble as S.RestorePreamble, rest: rest() };
}

export async function sysRoutes(app: FastifyInstance, { rekey, generateRoot, rotation, backups }: SysRoutesOptions): Promise<void> {
  type Req<B> = FastifyRequest<{ Body: B }>;

  app.get("/v1/sys/rekey", { schema: { response: ok(S.RekeyStatus) } }, async (r) => rekey.status(callContext(r)));
  app.post("/v1/sys/rekey/init", { schema: { body: S.RekeyInitRequest, response: ok(S.RekeyStatus) } }, async (r: Req<S.RekeyInitRequest>) => rekey.start(callContext(r), r.body));
  app.post("/v1/sys/rekey/update", { schema: { body: S.QuorumShareRequest, response: ok(S.RekeyStatus) } }, async (r: Req<S.QuorumShareRequest>) => rekey.submit(callContext(r), r.body));
  app.delete("/v1/sys/rekey", { schema: { response: ok(S.RekeyStatus) } }, async (r) => rekey.cancel(callContext(r)));

  app.get("/v1/sys/generate-root", { schema: { response: ok(S.GenerateRootStatus) } }, async () => generateRoot.status());
  app.post("/v1/sys/generate-root/init", { schema: { body: NoBody, response: ok(S.GenerateRootStatus) } }, async (r) => generateRoot.start(callContext(r)));
  app.post("/v1/sys/generate-root/update", { schema: { body: S.QuorumShareRequest, response: ok(S.GenerateRootStatus) } }, async (r: Req<S.QuorumShareRequest>) =>
    generateRoot.submit(callContext(r), r.body),
  );
  app.delete("/v1/sys/generate-root", { schema: { response: ok(S.GenerateRootStatus) } }, async (r) => generateRoot.cancel(callContext(r)));

  app.get("/v1/sys/rotate-root", { schema: { response: ok(S.RotateRootStatus) } }, async (r) => rotation.status(callContext(r)));
  app.post("/v1/sys/rotate-root", { schema: { body: NoBody, response: ok(S.RotateRootStatus) } }, async (r) => rotation.rotate(callContext(r)));

  app.get("/v1/sys/backup", async (r, reply) => {
    const { header, bytes } = await backups.backup(callContext(r));
    return reply
      .header("content-type", "application/octet-stream")
      .header("x-tessera-backup-rows", String(header.rows))
      .header("x-tessera-backup-id", header.backupId)
      .send(Readable.from(bytes));
  });

  await app.register(async (scope) => {
    scope.addContentTypeParser(RESTORE_CONTENT_TYPE, (_request, payload, done) => done(null, payload));
    scope.post("/v1/sys/restore", { schema: { response: ok(S.RestoreResult) } }, async (r) => {
      let split: Awaited<ReturnType<typeof splitPreamble>>;
      try {
        split = await splitPreamble(r.body as AsyncIterable<Uint8Array>);
      } catch (err) {
        await backups.rejected(callContext(r), err);
        throw err;
      }
      return backups.restore(callContext(r), split.preamble, split.rest);
    });
  });
}
