/**
 * Requests the native API refuses before any operation — no route, a URL the router cannot decode, a
 * path parameter longer than any name, a body that is not JSON or breaks its schema — are audited as
 * `api:Rejected` (throttled under a flood, service/refusal-log.ts) and answered in the documented
 * error format, `{"error": {"code", …}}`. The record's detail says why, the method and the route
 * pattern, never the URL (it could carry anything).
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { TesseraError } from "@tessera/protocol";
import type { KmsService } from "../../service/kms-service.js";
import type { Refusal } from "../../service/refusal-log.js";
import { callContext } from "./context.js";
import { refusalReason, sendError, toTesseraError } from "./errors.js";

type Rejecter = Pick<KmsService, "rejected">;

/** Audits the refusal, then answers it; if the record cannot be written the answer is that failure. */
export async function refuse(service: Rejecter, request: FastifyRequest, reply: FastifyReply, err: TesseraError, refusal: Refusal): Promise<FastifyReply> {
  try {
    await service.rejected(callContext(request), err, refusal);
  } catch (auditErr) {
    return sendError(request, reply, auditErr);
  }
  return sendError(request, reply, err);
}

/** A framework error (bad JSON, schema, body size …) on a route that matched. */
export function refuseFrameworkError(service: Rejecter, err: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const route = request.routeOptions.url;
  return refuse(service, request, reply, toTesseraError(err), {
    detail: { reason: refusalReason(err), method: request.method, ...(route !== undefined && { route }) },
  });
}

/** No route for this method and path. */
export function refuseNoRoute(service: Rejecter, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const err = new TesseraError("NotFound", `no route ${request.method} ${request.url.split("?")[0]}`);
  return refuse(service, request, reply, err, { detail: { reason: "no-route", method: request.method } });
}

/**
 * Fastify's `frameworkErrors`: the router refused the URL before any route or plugin saw it (bad
 * percent-encoding, an over-long path parameter). `service` is looked up late: the option is given
 * when the server is created, before the service exists.
 */
export function routerRefusals(service: () => Rejecter | undefined) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const s = service();
    // Not wired yet means nothing could audit it: fail closed, as when the audit log is down.
    if (s === undefined) void sendError(request, reply, new TesseraError("Unavailable"));
    else void refuse(s, request, reply, toTesseraError(err), { detail: { reason: refusalReason(err), method: request.method } });
  };
}
