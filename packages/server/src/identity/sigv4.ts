/**
 * AWS Signature Version 4 verification for the AWS-compatible API, against Tessera access keys.
 * Canonical request over the signed headers and the body hash, credential scope (date, configured
 * region, service `kms`, `aws4_request`), a ±5 minute clock-skew limit, HMAC-SHA256 key derivation
 * and a constant-time comparison. Every failure is `Unauthenticated`; `cause.awsType` carries the
 * exception name AWS would answer with, for the AWS adapter, and `cause.reason` the precise reason
 * (several reasons share one AWS name, as AWS answers them).
 *
 * Invariants:
 * - `host` and `x-amz-date` are always signed, and `x-amz-target` whenever the request has one: the
 *   target names the operation, so an unsigned one would let a captured DescribeKey be replayed as
 *   ScheduleKeyDeletion.
 * - A header named in SignedHeaders must be in the request (it is not signed as empty).
 * - Derived signing keys are cached per access key and day, and zeroed and forgotten when the
 *   server seals (the secrets they derive from are sealed too).
 */
import { createHmac, timingSafeEqual, type KeyObject } from "node:crypto";
import { TesseraError, isTesseraError } from "@tessera/protocol";
import { secretKey, sha256Hex, zero } from "../crypto/index.js";
import type { Clock } from "../clock.js";
import type { Barrier } from "../seal/index.js";
import type { AccessKeyService } from "./access-key-service.js";
import type { CredentialAuthenticator, SigV4Request } from "./authenticator.js";
import type { Principal } from "../principal/index.js";

const MAX_SKEW_MS = 5 * 60_000;
const AUTH = /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/,\s]+)\/([^/,\s]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;_.-]+),\s*Signature=([0-9a-f]{64})$/;

export type SigV4Failure = "IncompleteSignatureException" | "InvalidSignatureException" | "UnrecognizedClientException";
export type SigV4Reason =
  | "malformed" // no or incomplete Authorization header, unsigned x-amz-date, a signed header missing, date not matching the scope
  | "unsigned-header" // host, or a present x-amz-target, is not among the signed headers
  | "clock-skew" // x-amz-date more than 5 minutes from the server's clock
  | "wrong-scope" // region or service in the credential scope is not this server's
  | "unknown-access-key"
  | "inactive-access-key"
  | "bad-signature" // wrong secret, or anything signed was changed
  | "body-hash-mismatch"; // x-amz-content-sha256 does not match the body

const AWS_TYPE: Record<SigV4Reason, SigV4Failure> = {
  malformed: "IncompleteSignatureException",
  // As AWS's JSON services answer an unsigned Host ("'Host' or ':authority' must be a 'SignedHeader'").
  "unsigned-header": "InvalidSignatureException",
  "clock-skew": "InvalidSignatureException",
  "wrong-scope": "InvalidSignatureException",
  "unknown-access-key": "UnrecognizedClientException",
  "inactive-access-key": "UnrecognizedClientException",
  "bad-signature": "InvalidSignatureException",
  "body-hash-mismatch": "InvalidSignatureException",
};

function refuse(reason: SigV4Reason, message: string): TesseraError {
  return new TesseraError("Unauthenticated", message, { cause: { awsType: AWS_TYPE[reason], reason } });
}

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data).digest();

/** RFC 3986 encoding as SigV4 wants it (everything but unreserved characters). */
function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function canonicalQuery(query: string): string {
  if (query === "") return "";
  return query
    .split("&")
    .map((pair) => {
      const i = pair.indexOf("=");
      const k = decodeURIComponent((i === -1 ? pair : pair.slice(0, i)).replace(/\+/g, " "));
      const v = i === -1 ? "" : decodeURIComponent(pair.slice(i + 1).replace(/\+/g, " "));
      return [uriEncode(k), uriEncode(v)] as const;
    })
    .sort((a, b) => (a[0] === b[0] ? (a[1] < b[1] ? -1 : 1) : a[0] < b[0] ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

function headerValue(v: string | string[] | undefined): string {
  const s = Array.isArray(v) ? v.join(",") : (v ?? "");
  return s.trim().replace(/\s+/g, " ");
}

/** `20261128T101500Z` → epoch ms, or NaN. */
function amzDateMs(d: string): number {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  return m ? Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) : NaN;
}

/** kSigning = HMAC chain over "AWS4"‖secret, date, region, service, "aws4_request". */
export function deriveSigningKey(secret: Buffer, date: string, region: string, service: string): Buffer {
  const keyed = Buffer.concat([Buffer.from("AWS4"), secret]);
  const kDate = hmac(keyed, date);
  const kRegion = hmac(kDate, region);
  const kService = hmac(kRegion, service);
  try {
    return hmac(kService, "aws4_request");
  } finally {
    // The intermediate keys derive from the secret as much as the result does.
    zero(keyed, kDate, kRegion, kService);
  }
}

/** The canonical request (method, path, query, signed headers, their list, payload hash). */
export function canonicalRequest(req: Omit<SigV4Request, "body">, signedHeaders: readonly string[], payloadHash: string): string {
  return [
    req.method,
    req.path === "" ? "/" : req.path,
    canonicalQuery(req.query),
    signedHeaders.map((h) => `${h}:${headerValue(req.headers[h])}\n`).join(""),
    signedHeaders.join(";"),
    payloadHash,
  ].join("\n");
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

export class SigV4Verifier implements CredentialAuthenticator<SigV4Request> {
  /** Derived signing keys per access key and day (valid for that scope only, as AWS's own clients cache them). */
  private readonly signingKeys = new Map<string, { secret: Buffer; key: Buffer; keyObject: KeyObject }>();

  constructor(
    private readonly accessKeys: Pick<AccessKeyService, "resolve">,
    private readonly region: string,
    private readonly clock: Clock,
    barrier: Pick<Barrier, "onSeal">,
  ) {
    barrier.onSeal(() => this.forgetSigningKeys());
  }

  async authenticate(req: SigV4Request, source: string): Promise<Principal> {
    const auth = headerValue(req.headers["authorization"]);
    const m = AUTH.exec(auth);
    if (m === null) throw refuse("malformed", "the Authorization header is not a complete AWS4-HMAC-SHA256 signature");
    const [, accessKeyId, scopeDate, region, service, signedHeaderList, signature] = m as unknown as string[];
    const amzDate = headerValue(req.headers["x-amz-date"]);
    const signedHeaders = signedHeaderList!.split(";");
    if (!signedHeaders.includes("host")) throw refuse("unsigned-header", "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
    if (req.headers["x-amz-target"] !== undefined && !signedHeaders.includes("x-amz-target")) {
      throw refuse("unsigned-header", "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.");
    }
    if (!signedHeaders.includes("x-amz-date") || amzDate === "") throw refuse("malformed", "x-amz-date must be present and signed");
    const absent = signedHeaders.find((h) => req.headers[h] === undefined);
    if (absent !== undefined) throw refuse("malformed", `'${absent}' is named as a SignedHeader, but it does not exist in the HTTP request.`);
    const when = amzDateMs(amzDate);
    if (Number.isNaN(when) || amzDate.slice(0, 8) !== scopeDate) throw refuse("malformed", "x-amz-date does not match the credential scope");
    if (Math.abs(when - this.clock.now()) > MAX_SKEW_MS) throw refuse("clock-skew", "Signature expired: the request time is more than 5 minutes from the server's clock");
    if (region !== this.region || service !== "kms") {
      throw refuse("wrong-scope", `Credential should be scoped to a valid region (${this.region}) and the service kms`);
    }
    let resolved;
    try {
      resolved = await this.accessKeys.resolve(accessKeyId!);
    } catch (err) {
      // Sealed, Unavailable …: not a verdict on the caller, and not to be disguised as one.
      if (!isTesseraError(err) || err.code !== "Unauthenticated") throw err;
      const inactive = (err as { cause?: { reason?: string } }).cause?.reason === "inactive-access-key";
      throw refuse(inactive ? "inactive-access-key" : "unknown-access-key", "The security token included in the request is invalid.");
    }
    const payloadHash = headerValue(req.headers["x-amz-content-sha256"]) || sha256Hex(req.body);
    const canonical = canonicalRequest(req, signedHeaders, payloadHash);
    const scope = `${scopeDate}/${region}/${service}/aws4_request`;
    const cacheKey = `${accessKeyId}/${scope}`;
    let cached = this.signingKeys.get(cacheKey);
    // The cache entry is tied to the secret object: a re-resolved (rotated, re-enabled) key derives anew.
    if (cached === undefined || cached.secret !== resolved.secret) {
      if (cached !== undefined) zero(cached.key);
      const key = deriveSigningKey(resolved.secret, scopeDate!, region!, service!);
      // The KeyObject is the fast path of createHmac on Node 24 (crypto/secret-key.ts).
      cached = { secret: resolved.secret, key, keyObject: secretKey(key) };
      if (this.signingKeys.size > 10_000) this.forgetSigningKeys();
      this.signingKeys.set(cacheKey, cached);
    }
    // Hex, compared as text: `digest()` to a Buffer costs about 1.2 µs more on Node 24 (docs/performance.md),
    // and AUTH admits only 64 lower-case hex digits, the form `digest("hex")` gives.
    const expected = createHmac("sha256", cached.keyObject).update(stringToSign(amzDate, scope, canonical)).digest("hex");
    if (!timingSafeEqual(Buffer.from(signature!, "latin1"), Buffer.from(expected, "latin1"))) {
      throw refuse("bad-signature", "The request signature we calculated does not match the signature you provided.");
    }
    if (req.headers["x-amz-content-sha256"] !== undefined && payloadHash !== sha256Hex(req.body)) {
      throw refuse("body-hash-mismatch", "The body does not match x-amz-content-sha256.");
    }
    return { ...resolved.principal, loginSource: source };
  }

  /** Zeroes and forgets every derived signing key. */
  private forgetSigningKeys(): void {
    for (const c of this.signingKeys.values()) zero(c.key);
    this.signingKeys.clear();
  }
}
