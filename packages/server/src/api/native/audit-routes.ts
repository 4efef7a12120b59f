/** Routes for the audit trail (docs/audit.md). */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { Type } from "@sinclair/typebox";
import * as S from "@tessera/protocol";
import type { AuditQuery, AuditService } from "../../service/audit-service.js";
import { callContext } from "./context.js";

const strict = { additionalProperties: false } as const;
const Int = Type.String({ pattern: "^[0-9]{1,15}$" });
const ok = (schema: unknown) => ({ 200: schema, "4xx": S.ErrorResponse, "5xx": S.ErrorResponse });

export async function auditRoutes(app: FastifyInstance, { audit }: { audit: AuditService }): Promise<void> {
  const Query = Type.Object(
    {
      from: Type.Optional(Type.String({ format: "date-time" })),
      to: Type.Optional(Type.String({ format: "date-time" })),
      principal: Type.Optional(Type.String({ maxLength: 256 })),
      key: Type.Optional(Type.String({ maxLength: 64 })),
      action: Type.Optional(Type.String({ maxLength: 64 })),
      outcome: Type.Optional(Type.Union(S.AUDIT_OUTCOMES.map((o) => Type.Literal(o)))),
      requestId: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
      after: Type.Optional(Int),
      limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$" })),
    },
    strict,
  );
  app.get("/v1/audit/entries", { schema: { querystring: Query } }, async (r: FastifyRequest<{ Querystring: Record<string, string | undefined> }>) => {
    const q = r.query;
    const query: AuditQuery = {
      ...(q["from"] && { from: q["from"] }),
      ...(q["to"] && { to: q["to"] }),
      ...(q["principal"] && { principal: q["principal"] }),
      ...(q["key"] && { key: q["key"] }),
      ...(q["action"] && { action: q["action"] }),
      ...(q["outcome"] && { outcome: q["outcome"] }),
      ...(q["requestId"] && { requestId: q["requestId"] }),
      ...(q["after"] && { after: Number(q["after"]) }),
      ...(q["limit"] && { limit: Number(q["limit"]) }),
    };
    return audit.query(callContext(r), query);
  });
  app.get(
    "/v1/audit/lines",
    {
      schema: {
        querystring: Type.Object(
          { after: Type.Optional(Int), limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,4}$" })), chain: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9_.-]{0,63}$" })) },
          strict,
        ),
      },
    },
    async (r: FastifyRequest<{ Querystring: { after?: string; limit?: string; chain?: string } }>) =>
      audit.lines(callContext(r), Number(r.query.after ?? 0), Number(r.query.limit ?? 5000), r.query.chain),
  );
  app.get(
    "/v1/audit/activity",
    { schema: { querystring: Type.Object({ window: Type.Optional(Type.Union([Type.Literal("hour"), Type.Literal("day")])) }, strict), response: ok(S.ActivityResponse) } },
    async (r: FastifyRequest<{ Querystring: { window?: "hour" | "day" } }>) => audit.activityWindow(callContext(r), r.query.window ?? "hour"),
  );
  app.get("/v1/audit/chains", { schema: { response: ok(Type.Object({ self: Type.String(), chains: Type.Array(Type.String()) })) } }, async (r) => audit.chains(callContext(r)));
  app.get(
    "/v1/alerts",
    { schema: { querystring: Type.Object({ all: Type.Optional(Type.Union([Type.Literal("true"), Type.Literal("false")])), limit: Type.Optional(Type.String({ pattern: "^[1-9][0-9]{0,3}$" })) }, strict) } },
    async (r: FastifyRequest<{ Querystring: { all?: string; limit?: string } }>) => audit.listAlerts(callContext(r), r.query.all === "true", Number(r.query.limit ?? 100)),
  );
  app.post("/v1/alerts/:id/ack", { schema: { params: Type.Object({ id: Type.String({ format: "uuid" }) }, strict), body: Type.Object({}, strict) } }, async (r: FastifyRequest<{ Params: { id: string } }>, reply) => {
    await audit.ackAlert(callContext(r), r.params.id);
    return reply.code(204).send();
  });
  app.get("/metrics", async (_r, reply) => reply.type("text/plain; version=0.0.4").send(audit.renderMetrics()));
  app.get("/v1/audit/head", async (r) => audit.head(callContext(r)));
  app.get("/v1/audit/public-key", { schema: { response: ok(Type.Object({ publicKey: Type.String() })) } }, async (r) => audit.publicKey(callContext(r)));
  app.post("/v1/audit/hash", { schema: { body: Type.Object({ value: Type.String({ minLength: 1, maxLength: 8192 }) }, strict), response: ok(Type.Object({ hmac: Type.String() })) } }, async (r: FastifyRequest<{ Body: { value: string } }>) =>
    audit.hash(callContext(r), r.body.value),
  );
}
