/**
 * The AWS API's one error mapping: Tessera error codes to AWS exception names and statuses, and the
 * JSON 1.1 error body `{"__type": "<Name>", "message": "…"}` every refusal is answered with.
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isTesseraError, TesseraError, type ErrorCode } from "@tessera/protocol";

/** Tessera error codes as AWS exception names and statuses. */
export const awsErrors: Readonly<Record<ErrorCode, { type: string; status: number }>> = Object.freeze({
  InvalidInput: { type: "ValidationException", status: 400 },
  InvalidCiphertext: { type: "InvalidCiphertextException", status: 400 },
  IncorrectKey: { type: "IncorrectKeyException", status: 400 },
  InvalidKeyUsage: { type: "InvalidKeyUsageException", status: 400 },
  Unauthenticated: { type: "UnrecognizedClientException", status: 400 },
  AccessDenied: { type: "AccessDeniedException", status: 400 },
  NotFound: { type: "NotFoundException", status: 400 },
  AlreadyExists: { type: "AlreadyExistsException", status: 400 },
  InvalidState: { type: "KMSInvalidStateException", status: 400 },
  Disabled: { type: "DisabledException", status: 400 },
  Conflict: { type: "ConflictException", status: 400 },
  Destroyed: { type: "KMSInvalidStateException", status: 400 },
  TooLarge: { type: "ValidationException", status: 400 },
  Throttled: { type: "ThrottlingException", status: 400 },
  InvalidUnsealKey: { type: "ValidationException", status: 400 },
  NotInitialized: { type: "KMSInternalException", status: 500 },
  Sealed: { type: "KMSInternalException", status: 500 },
  Unavailable: { type: "KMSInternalException", status: 500 },
  Internal: { type: "KMSInternalException", status: 500 },
});

/**
 * A refusal the adapter makes itself, before any operation: an AWS exception name, the catalogue
 * code its audit record carries, and a reason word for the record's detail (never request text).
 */
export class AwsError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly code: ErrorCode = "InvalidInput",
    readonly reason = "invalid-field",
    readonly status = 400,
  ) {
    super(message);
  }

  /** The catalogue error the audit record carries. */
  toTesseraError(): TesseraError {
    return new TesseraError(this.code, this.message);
  }
}

export const validation = (message: string, reason = "invalid-field") => new AwsError("ValidationException", message, "InvalidInput", reason);

export function sendAwsError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let type: string;
  let status: number;
  let message: string;
  if (err instanceof AwsError) ({ type, status, message } = err);
  else if (isTesseraError(err)) {
    ({ type, status } = awsErrors[err.code]);
    const awsType = (err.cause as { awsType?: string } | undefined)?.awsType;
    if (awsType !== undefined) type = awsType;
    message = status >= 500 ? "Internal error." : err.message;
    if (status >= 500) request.log.error({ err: err.cause ?? err, requestId: request.id }, "AWS API request failed");
  } else {
    type = "KMSInternalException";
    status = 500;
    message = "Internal error.";
    request.log.error({ err, requestId: request.id }, "AWS API request failed");
  }
  return reply.code(status).type("application/x-amz-json-1.1").header("x-amzn-requestid", request.id).send(JSON.stringify({ __type: type, message }));
}
