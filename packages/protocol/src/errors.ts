/**
 * The error catalogue: every error Tessera answers with has one stable string code here.
 *
 * Services throw {@link TesseraError}s with these codes; each adapter maps a code to its own wire
 * shape (HTTP status + JSON for the native API). A test checks that every code is documented in
 * `docs/api.md` and mapped by every adapter.
 *
 * @example
 * ```ts
 * try { await client.decrypt({ ciphertext }) }
 * catch (err) { if (isTesseraError(err) && err.code === "InvalidCiphertext") … }
 * ```
 */
export const errorCatalogue = Object.freeze({
  InvalidInput: { status: 400, retryable: false, message: "The request is malformed or a field is invalid." },
  InvalidCiphertext: {
    status: 400,
    retryable: false,
    message: "The ciphertext is invalid, was tampered with, or does not match the encryption context.",
  },
  IncorrectKey: { status: 400, retryable: false, message: "The ciphertext was not encrypted under the key named in the request." },
  InvalidKeyUsage: {
    status: 400,
    retryable: false,
    message: "The key's usage or key spec does not allow this operation or algorithm.",
  },
  Unauthenticated: { status: 401, retryable: false, message: "A valid token is required." },
  AccessDenied: { status: 403, retryable: false, message: "The caller is not allowed to perform this action on this resource." },
  NotFound: { status: 404, retryable: false, message: "The resource does not exist." },
  AlreadyExists: { status: 409, retryable: false, message: "A resource with this name already exists." },
  InvalidState: { status: 409, retryable: false, message: "The resource is not in a state that allows this operation." },
  Disabled: { status: 409, retryable: false, message: "The key or key version is disabled." },
  Conflict: { status: 409, retryable: true, message: "The resource changed concurrently; retry the request." },
  Destroyed: { status: 410, retryable: false, message: "The key material has been destroyed." },
  TooLarge: { status: 413, retryable: false, message: "The request is larger than allowed." },
  Throttled: { status: 429, retryable: true, message: "This principal's request quota is used up; slow down and retry." },
  InvalidUnsealKey: { status: 400, retryable: false, message: "The unseal shares do not reconstruct the unseal key." },
  NotInitialized: { status: 503, retryable: true, message: "Tessera is not initialized; run `tessera operator init`." },
  Sealed: { status: 503, retryable: true, message: "Tessera is sealed; unseal it with `tessera operator unseal`." },
  Unavailable: { status: 503, retryable: true, message: "A backing service is unavailable; retry later." },
  Internal: { status: 500, retryable: true, message: "Internal error." },
} as const satisfies Record<string, { status: number; retryable: boolean; message: string }>);

/** A stable error code from the catalogue. */
export type ErrorCode = keyof typeof errorCatalogue;

export const errorCodes = Object.freeze(Object.keys(errorCatalogue) as ErrorCode[]);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.hasOwn(errorCatalogue, value);
}

/** The one error type services throw. `code` is stable; `message` is for humans. */
export class TesseraError extends Error {
  readonly code: ErrorCode;
  /** Field at fault, for `InvalidInput` (a JSON pointer-ish path such as `/context/vm`). */
  readonly field: string | undefined;

  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown; field?: string }) {
    super(message ?? errorCatalogue[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TesseraError";
    this.code = code;
    this.field = options?.field;
  }

  get status(): number {
    return errorCatalogue[this.code].status;
  }

  get retryable(): boolean {
    return errorCatalogue[this.code].retryable;
  }
}

export function isTesseraError(err: unknown): err is TesseraError {
  return err instanceof TesseraError || (err instanceof Error && err.name === "TesseraError" && isErrorCode((err as { code?: unknown }).code));
}

/** The JSON body of every native API error response. */
export interface ErrorBody {
  error: { code: ErrorCode; message: string; field?: string; requestId?: string };
}
