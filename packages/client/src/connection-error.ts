/**
 * Why a connection to Tessera failed, in words a user can act on. Node reports TLS failures with
 * OpenSSL's internal text (`…:error:0A00010B:SSL routines:…:wrong version number:…`); those are
 * recognised by their error codes and named plainly instead.
 */

/**
 * A connection failure with a usual fix:
 * - `untrusted-certificate`: the server's certificate does not chain to a trusted CA (self-signed, or
 *   issued by a private CA such as Tessera's own) — trust the CA (`tls: { ca }`, `--ca-cert`);
 * - `not-tls`: an `https://` address reached a server that answers plain HTTP;
 * - `hostname-mismatch`: the certificate does not name the host in the address;
 * - `expired-certificate`: the server's certificate has expired (or is not yet valid).
 */
export type ConnectionProblem = "untrusted-certificate" | "not-tls" | "hostname-mismatch" | "expired-certificate";

const BY_CODE: Readonly<Record<string, ConnectionProblem>> = Object.freeze({
  DEPTH_ZERO_SELF_SIGNED_CERT: "untrusted-certificate",
  SELF_SIGNED_CERT_IN_CHAIN: "untrusted-certificate",
  UNABLE_TO_GET_ISSUER_CERT: "untrusted-certificate",
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: "untrusted-certificate",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "untrusted-certificate",
  CERT_UNTRUSTED: "untrusted-certificate",
  ERR_SSL_WRONG_VERSION_NUMBER: "not-tls",
  ERR_SSL_PACKET_LENGTH_TOO_LONG: "not-tls",
  ERR_SSL_HTTP_REQUEST: "not-tls",
  ERR_TLS_CERT_ALTNAME_INVALID: "hostname-mismatch",
  CERT_HAS_EXPIRED: "expired-certificate",
  CERT_NOT_YET_VALID: "expired-certificate",
});

const MESSAGES: Readonly<Record<ConnectionProblem, string>> = Object.freeze({
  "untrusted-certificate": "the server's TLS certificate is not signed by a trusted CA (self-signed or a private CA)",
  "not-tls": "the server did not answer with TLS: it may serve plain HTTP on this port",
  "hostname-mismatch": "the server's TLS certificate does not name the host in the address",
  "expired-certificate": "the server's TLS certificate has expired or is not yet valid",
});

/** The problem behind a connection error (`err` or any error in its `cause` chain), if it is a known one. */
export function connectionProblem(err: unknown): ConnectionProblem | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string" && Object.hasOwn(BY_CODE, code)) return BY_CODE[code];
    // node:https reports a plain-HTTP answer as EPROTO with OpenSSL's reason in the message only.
    if (code === "EPROTO" && /wrong version number|packet length too long|http request/i.test(e.message)) return "not-tls";
  }
  return undefined;
}

/** A sentence for the connection problem, or `undefined` when the error is not a known one. */
export function describeConnectionProblem(err: unknown): string | undefined {
  const problem = connectionProblem(err);
  return problem === undefined ? undefined : MESSAGES[problem];
}
