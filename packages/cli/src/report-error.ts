/**
 * How a failed command tells the user: `Error [<Code>]: <message>` on stderr, or under `--json` the
 * API's error body — on stderr too. Invariant: a failure never writes to stdout, so
 * `tessera … --json | jq -r .token` or `X=$(tessera …)` gets nothing rather than a value that looks
 * like a result; the exit code (1 for every failure that is not a usage error) says it failed.
 */
import { TesseraResponseError, connectionProblem } from "@tessera/client/core";
import { isTesseraError } from "@tessera/protocol/core";
import type { ErrorBody } from "@tessera/protocol";
import type { Io } from "./io.js";

export const EXIT_FAILURE = 1;

export interface ReportOptions {
  json: boolean;
  /**
   * The command authenticates with a Tessera token and none was given: an `Unauthenticated` answer
   * then gets the hint to set one. False for logins and certificate commands, whose credentials are others.
   */
  tokenMissing: boolean;
}

export function reportError(io: Io, err: unknown, options: ReportOptions): number {
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
    // The body alone, so a program can parse stderr; hints are for people.
    io.stderr.write(`${JSON.stringify(body, null, 2)}\n`);
    return EXIT_FAILURE;
  }
  let text = `Error [${err.code}]: ${err.message}`;
  if (err.field !== undefined) text += ` (field: ${err.field})`;
  // The request id finds the cause in the server's log; only worth showing when the cause is there.
  if (requestId !== undefined && (err.code === "Internal" || err.code === "Unavailable")) text += ` (request id: ${requestId})`;
  io.stderr.write(`${text}\n`);
  const hint = hintFor(err, options);
  if (hint !== undefined) io.stderr.write(`${hint}\n`);
  return EXIT_FAILURE;
}

/** What to do next, when the failure has a usual cause the user can fix from the command line. */
function hintFor(err: { code: string }, options: ReportOptions): string | undefined {
  if (err.code === "Unauthenticated" && options.tokenMissing) return "No token was given: set TESSERA_TOKEN or pass --token.";
  switch (connectionProblem(err)) {
    case "untrusted-certificate":
      return "The server's TLS certificate is not trusted: give its CA certificate with --ca-cert FILE or TESSERA_CACERT=FILE (dev: the path `tessera server --dev --dev-tls` printed).";
    case "not-tls":
      return "The server does not speak TLS on that port: use an http:// address (dev mode without --dev-tls serves plain HTTP).";
    case "hostname-mismatch":
      return "The server's TLS certificate does not name the host in the address: use a name or IP address the certificate was issued for.";
    default:
      return undefined;
  }
}
