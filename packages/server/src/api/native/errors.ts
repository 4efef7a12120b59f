/**
 * The native API's one error mapping: TesseraError codes to HTTP status and the JSON error body.
 * Framework errors (validation, body size, bad JSON) become catalogue codes too, so a client only
 * ever sees `{"error": {"code", "message", …}}`.
 */
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { BASE64_FORMAT, KeyRef, TesseraError, errorCatalogue, isTesseraError, type ErrorBody } from "@tessera/protocol";

/**
 * The longest path parameter any route accepts, decoded: a key reference (id, name up to 128, or
 * `alias/NAME` up to 256). The router is configured with it (app.ts), so every name the API accepts
 * can be used in every route.
 */
export const MAX_PATH_PARAM_LENGTH: number = KeyRef.maxLength!;

interface ValidationIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** JSON pointer of the field at fault in a schema validation error. */
function fieldOf(issue: ValidationIssue, context: string | undefined): string {
  const base = issue.instancePath ?? "";
  const p = issue.params ?? {};
  const child = (p["missingProperty"] ?? p["additionalProperty"]) as string | undefined;
  const prefix = context === "body" || context === undefined ? "" : `/${context}`;
  return `${prefix}${base}${child === undefined ? "" : `/${child}`}` || "/";
}

function validationMessage(issue: ValidationIssue, field: string): string {
  switch (issue.keyword) {
    case "additionalProperties":
      return `unknown field ${field}`;
    case "required":
      return `missing required field ${field}`;
    case "pattern":
      return `${field} has an invalid format`;
    case "format":
      if (issue.params?.["format"] === BASE64_FORMAT) return `${field} must be standard base64 (RFC 4648 §4: padded, canonical)`;
  }
  return `${field} ${issue.message ?? "is invalid"}`;
}

/**
 * The values a field accepts when its schema is an enum or a union of literals (`anyOf` of `const`s),
 * read from the issues Ajv reports for that field; `undefined` for any other kind of schema — a
 * union with a non-literal branch reports other keywords there, and is not listed as if it were one.
 */
function allowedValues(issues: readonly ValidationIssue[], instancePath: string | undefined): string[] | undefined {
  const here = issues.filter((i) => i.instancePath === instancePath);
  if (!here.every((i) => i.keyword === "const" || i.keyword === "enum" || i.keyword === "anyOf")) return undefined;
  const values = here.flatMap((i) => (i.keyword === "const" ? [i.params?.["allowedValue"]] : i.keyword === "enum" ? ((i.params?.["allowedValues"] as unknown[] | undefined) ?? []) : []));
  return values.length > 0 ? values.map((v) => (typeof v === "string" ? v : JSON.stringify(v))) : undefined;
}

/** Converts anything thrown while handling a request into a catalogue error. */
export function toTesseraError(err: unknown): TesseraError {
  if (isTesseraError(err)) return err;
  const e = err as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) {
    const issue = e.validation[0]!;
    const field = fieldOf(issue, e.validationContext);
    const allowed = allowedValues(e.validation, issue.instancePath);
    if (allowed !== undefined) return new TesseraError("InvalidInput", `${field} must be one of: ${allowed.join(", ")}`, { field });
    return new TesseraError("InvalidInput", validationMessage(issue, field), { field });
  }
  switch (e.code) {
    case "FST_ERR_BAD_URL":
      return new TesseraError("InvalidInput", "the URL is not validly percent-encoded");
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new TesseraError("InvalidInput", `a path parameter is longer than any name Tessera accepts (${MAX_PATH_PARAM_LENGTH} characters)`);
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new TesseraError("TooLarge", "the request body is too large");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new TesseraError("InvalidInput", "send JSON with Content-Type: application/json");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new TesseraError("InvalidInput", "the JSON body is empty");
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new TesseraError("InvalidInput", "the body is not valid JSON");
  }
  if (err instanceof SyntaxError || (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500)) {
    return new TesseraError("InvalidInput", "the request could not be parsed");
  }
  return new TesseraError("Internal", undefined, { cause: err });
}

/**
 * Why a request was refused before any operation, for its audit record's `detail.reason`: a word
 * from a fixed list, never text from the request.
 */
export function refusalReason(err: unknown): string {
  const e = err as FastifyError & { validation?: unknown[] };
  if (Array.isArray(e.validation)) return "invalid-field";
  switch (e.code) {
    case "FST_ERR_BAD_URL":
      return "bad-url";
    case "FST_ERR_MAX_PARAM_LENGTH":
      return "param-too-long";
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return "body-too-large";
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return "media-type";
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return "not-json";
  }
  return err instanceof SyntaxError ? "not-json" : "unparsable";
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const te = toTesseraError(err);
  const status = errorCatalogue[te.code].status;
  const body: ErrorBody = {
    error: {
      code: te.code,
      // 5xx answers say nothing about the cause; the cause goes to the log with the request id.
      message: status >= 500 && te.code === "Internal" ? errorCatalogue.Internal.message : te.message,
      ...(te.field !== undefined && { field: te.field }),
      requestId: request.id,
    },
  };
  void reply.header("x-request-id", request.id);
  // Over a quota: when to come back (the quota refills continuously; a second is the usual wait).
  if (te.code === "Throttled") void reply.header("retry-after", "1");
  if (te.code === "Internal" || te.code === "Unavailable") {
    request.log.error({ err: te.cause ?? te, requestId: request.id }, "request failed");
  }
  if (te.code === "Unauthenticated") void reply.header("WWW-Authenticate", 'Bearer realm="tessera"');
  return reply.code(status).type("application/json").send(body);
}
