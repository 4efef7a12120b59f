import { describe, expect, it } from "vitest";
import { TesseraError } from "@tessera/protocol";
import { connectionProblem, describeConnectionProblem } from "./connection-error.js";

/** Shaped as Node reports it: fetch's "fetch failed" TypeError with the socket error as cause. */
const fetchFailure = (code: string, message = "…:error:0A00010B:SSL routines:…"): TesseraError =>
  new TesseraError("Unavailable", "cannot reach Tessera", { cause: Object.assign(new TypeError("fetch failed"), { cause: Object.assign(new Error(message), { code }) }) });

describe("connectionProblem", () => {
  it.each([
    ["DEPTH_ZERO_SELF_SIGNED_CERT", "untrusted-certificate"],
    ["SELF_SIGNED_CERT_IN_CHAIN", "untrusted-certificate"],
    ["UNABLE_TO_VERIFY_LEAF_SIGNATURE", "untrusted-certificate"],
    ["UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "untrusted-certificate"],
    ["ERR_SSL_WRONG_VERSION_NUMBER", "not-tls"],
    ["ERR_TLS_CERT_ALTNAME_INVALID", "hostname-mismatch"],
    ["CERT_HAS_EXPIRED", "expired-certificate"],
  ])("recognises %s through the cause chain as %s", (code, problem) => {
    expect(connectionProblem(fetchFailure(code))).toBe(problem);
    expect(describeConnectionProblem(fetchFailure(code))).not.toMatch(/SSL routines/);
  });

  it("recognises node:https's EPROTO for a plain-HTTP answer by OpenSSL's reason", () => {
    expect(connectionProblem(fetchFailure("EPROTO", "write EPROTO 40:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number"))).toBe("not-tls");
    expect(connectionProblem(fetchFailure("EPROTO", "write EPROTO something else"))).toBeUndefined();
  });

  it("leaves other failures alone", () => {
    expect(connectionProblem(fetchFailure("ECONNREFUSED"))).toBeUndefined();
    expect(connectionProblem(new TesseraError("Unavailable"))).toBeUndefined();
    expect(connectionProblem("not an error")).toBeUndefined();
    expect(describeConnectionProblem(fetchFailure("ECONNREFUSED"))).toBeUndefined();
  });
});
