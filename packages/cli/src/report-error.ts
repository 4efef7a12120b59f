/**
 * How a failed command tells the user: `Error [<Code>]: <message>` on stderr, or the API's error
 * body on stdout under `--json`. Exit code 1 for every failure that is not a usage error.
 */
import { TesseraResponseError } from "@tessera/client";
import { isTesseraError, type ErrorBody } from "@tessera/protocol";
import type { Io } from "./io.js";

export const EXIT_FAILURE = 1;

export function reportError(io: Io, err: unknown, options: { json: boolean; tokenGiven: boolean }): number {
  if (!isTesseraError(err)) {
    // Local failures (unreadable file, interrupted prompt, bug): the message only, never a stack.
    io.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILURE;
  }
  const requestId = err instanceof TesseraResponseError ? err.requestId : undefined;
  if (options.json) {
    const body: ErrorBody = {
      error: {
        code: err.code,
        message: err.message,
        ...(err.field === undefined ? {} : { field: err.field }),
        ...(requestId === undefined ? {} : { requestId }),
      },
    };
    io.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT_FAILURE;
  }
  let text = `Error [${err.code}]: ${err.message}`;
  if (err.field !== undefined) text += ` (field: ${err.field})`;
  // The request id finds the cause in the server's log; only worth showing when the cause is there.
  if (requestId !== undefined && (err.code === "Internal" || err.code === "Unavailable")) text += ` (request id: ${requestId})`;
  io.stderr.write(`${text}\n`);
  if (err.code === "Unauthenticated" && !options.tokenGiven) {
    io.stderr.write("No token was given: set TESSERA_TOKEN or pass --token.\n");
  }
  return EXIT_FAILURE;
}
