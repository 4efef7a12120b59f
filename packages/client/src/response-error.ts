/**
 * Turning a native API error answer into a {@link TesseraError}.
 *
 * The server answers every error with `{"error": {code, message, field?, requestId?}}` (docs/api.md).
 * Anything else — a body that is not JSON, not that shape, or names a code this client does not
 * know — is reported as `Internal`, so callers only ever see codes from the catalogue.
 */
import { TesseraError, isErrorCode } from "@tessera/protocol/core";
import type { ErrorCode } from "@tessera/protocol";

/**
 * A {@link TesseraError} answered by the server. It also carries the request id the server logged
 * the request under, when the answer named one (always for 5xx answers).
 */
export class TesseraResponseError extends TesseraError {
  readonly requestId: string | undefined;

  constructor(code: ErrorCode, message: string, options: { field?: string | undefined; requestId?: string | undefined }) {
    super(code, message, options.field === undefined ? undefined : { field: options.field });
    this.requestId = options.requestId;
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The error an HTTP error answer stands for. `text` is the raw response body. */
export function errorFromResponse(status: number, text: string): TesseraError {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return new TesseraError("Internal", `Tessera answered HTTP ${status} with a body that is not JSON`);
  }
  const error = isRecord(body) ? body["error"] : undefined;
  if (!isRecord(error) || typeof error["code"] !== "string" || typeof error["message"] !== "string") {
    return new TesseraError("Internal", `Tessera answered HTTP ${status} with a body that is not an error object`);
  }
  const requestId = optionalString(error["requestId"]);
  if (!isErrorCode(error["code"])) {
    return new TesseraResponseError("Internal", `Tessera answered HTTP ${status} with unknown error code "${error["code"]}": ${error["message"]}`, {
      requestId,
    });
  }
  return new TesseraResponseError(error["code"], error["message"], { field: optionalString(error["field"]), requestId });
}
