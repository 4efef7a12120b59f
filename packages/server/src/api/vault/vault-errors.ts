/**
 * The Vault API's one error mapping: Tessera error codes to Vault's statuses, and the body every
 * refusal is answered with, `{"errors": ["…"]}`. Vault answers 403 to a missing, bad or unauthorised
 * token alike, 503 while sealed, 400 for nearly every refused operation; 5xx bodies say nothing but
 * the request id (the cause goes to the log).
 */
import type { FastifyReply, FastifyRequest } from "fastify";
import { isTesseraError, TesseraError, TOKEN_REFUSALS, type ErrorCode } from "@tessera/protocol";

/** The missing-token refusal as a Vault client needs it: it names the header Vault clients send. */
const VAULT_TOKEN_MISSING = "A token is required: none was given (X-Vault-Token header).";

/** Tessera error codes as Vault HTTP statuses (docs/vault-compatibility.md, "Errors"). */
export const vaultErrors: Readonly<Record<ErrorCode, { status: number }>> = Object.freeze({
  InvalidInput: { status: 400 },
  InvalidCiphertext: { status: 400 },
  IncorrectKey: { status: 400 },
  InvalidKeyUsage: { status: 400 },
  // Vault does not tell a bad token from a forbidden operation.
  Unauthenticated: { status: 403 },
  AccessDenied: { status: 403 },
  NotFound: { status: 404 },
  AlreadyExists: { status: 400 },
  InvalidState: { status: 400 },
  Disabled: { status: 400 },
  Conflict: { status: 409 },
  Destroyed: { status: 400 },
  TooLarge: { status: 413 },
  // Vault's rate-limit quotas answer 429 too.
  Throttled: { status: 429 },
  InvalidUnsealKey: { status: 400 },
  NotInitialized: { status: 501 },
  Sealed: { status: 503 },
  Unavailable: { status: 503 },
  Internal: { status: 500 },
});

/**
 * A refusal the adapter makes itself, before or instead of an operation: Vault's status and message,
 * the catalogue code its audit record carries, and a reason word for the record (never request text).
 */
export class VaultError extends Error {
  constructor(
    message: string,
    readonly status = 400,
    readonly code: ErrorCode = "InvalidInput",
    readonly reason = "invalid-field",
  ) {
    super(message);
  }

  toTesseraError(): TesseraError {
    return new TesseraError(this.code, this.message);
  }
}

export const badRequest = (message: string, reason = "invalid-field") => new VaultError(message, 400, "InvalidInput", reason);
/** An operation or parameter Tessera does not offer: refused, never approximated. */
export const refused = (message: string) => new VaultError(message, 400, "InvalidInput", "unsupported");

/** Status and `errors` list for anything thrown while handling a Vault request. */
export function vaultErrorBody(err: unknown): { status: number; errors: string[]; log: boolean } {
  if (err instanceof VaultError) return { status: err.status, errors: err.message === "" ? [] : [err.message], log: false };
  if (isTesseraError(err)) {
    const { status } = vaultErrors[err.code];
    if (status >= 500 && err.code !== "Sealed" && err.code !== "NotInitialized") return { status, errors: [err.code === "Unavailable" ? err.message : "internal error"], log: true };
    if (err.code === "AccessDenied" || err.code === "Unauthenticated") {
      return { status, errors: [`permission denied: ${err.message === TOKEN_REFUSALS.missing ? VAULT_TOKEN_MISSING : err.message}`], log: false };
    }
    // Vault answers a missing key with an empty list.
    if (err.code === "NotFound") return { status, errors: [], log: false };
    return { status, errors: [err.message], log: false };
  }
  return { status: 500, errors: ["internal error"], log: true };
}

export function sendVaultError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status, errors, log } = vaultErrorBody(err);
  if (log) request.log.error({ err: (isTesseraError(err) ? err.cause : undefined) ?? err, requestId: request.id }, "Vault API request failed");
  const body = status >= 500 && log ? { errors: [`${errors[0]!} (request id ${request.id})`] } : { errors };
  // As the native API: a throttled caller may retry after a second.
  if (status === 429) void reply.header("retry-after", "1");
  return reply.code(status).type("application/json").send(JSON.stringify(body));
}
