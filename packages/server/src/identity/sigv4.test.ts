/**
 * SigV4 verification: the AWS documentation's worked example (IAM ListUsers, 2015-08-30), and
 * requests signed by @smithy/signature-v4 — the signer inside @aws-sdk/client-kms — accepted and,
 * when anything is off, refused with the right reason and AWS exception name.
 */
import { createHash, createHmac } from "node:crypto";
import { SignatureV4 } from "@smithy/signature-v4";
import { describe, expect, it } from "vitest";
import { TesseraError, isTesseraError } from "@tessera/protocol";
import { ManualClock } from "../clock.js";
import type { SigV4Request } from "./authenticator.js";
import type { Principal } from "../principal/index.js";
import { SigV4Verifier, canonicalRequest, deriveSigningKey, stringToSign, type SigV4Reason } from "./sigv4.js";

// The example credentials and values of the AWS SigV4 documentation.
const DOC_SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

describe("SigV4 primitives against the AWS documentation example", () => {
  it("derives the documented signing key", () => {
    expect(deriveSigningKey(Buffer.from(DOC_SECRET), "20150830", "us-east-1", "iam").toString("hex")).toBe(
      "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9",
    );
  });

  it("builds the documented canonical request, string to sign and signature (IAM ListUsers)", () => {
    const req = {
      method: "GET",
      path: "/",
      query: "Action=ListUsers&Version=2010-05-08",
      headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8", host: "iam.amazonaws.com", "x-amz-date": "20150830T123600Z" },
    };
    const emptyHash = createHash("sha256").update("").digest("hex");
    const canonical = canonicalRequest(req, ["content-type", "host", "x-amz-date"], emptyHash);
    expect(createHash("sha256").update(canonical).digest("hex")).toBe("f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59");
    const sts = stringToSign("20150830T123600Z", "20150830/us-east-1/iam/aws4_request", canonical);
    const key = deriveSigningKey(Buffer.from(DOC_SECRET), "20150830", "us-east-1", "iam");
    expect(createHmac("sha256", key).update(sts).digest("hex")).toBe("5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  });
});

// ----- the verifier against requests signed by @smithy/signature-v4 -----

class NodeSha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === "string" ? data : Buffer.from(data as Uint8Array));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

const NOW = Date.UTC(2026, 10, 28, 12, 0, 0);
const ACCESS_KEY_ID = "TSRKEXAMPLE000000001";
const SECRET = "tessera-secret-access-key-example-0123456789";
const principal = { id: `access-key:${ACCESS_KEY_ID}`, kind: "service", role: "app", authMethod: "access-key" } as unknown as Principal;

const accessKeys = {
  resolve: async (id: string) => {
    if (id === ACCESS_KEY_ID) return { secret: Buffer.from(SECRET), principal };
    // As AccessKeyService.resolve reports them: Unauthenticated with a typed reason.
    if (id === "TSRKDISABLED00000001") throw new TesseraError("Unauthenticated", "the access key is inactive", { cause: { reason: "inactive-access-key" } });
    throw new TesseraError("Unauthenticated", "unknown access key", { cause: { reason: "unknown-access-key" } });
  },
};

async function signed(
  o: { secret?: string; accessKeyId?: string; region?: string; service?: string; at?: number; body?: string; applyChecksum?: boolean } = {},
): Promise<SigV4Request> {
  const signer = new SignatureV4({
    credentials: { accessKeyId: o.accessKeyId ?? ACCESS_KEY_ID, secretAccessKey: o.secret ?? SECRET },
    region: o.region ?? "us-east-1",
    service: o.service ?? "kms",
    sha256: NodeSha256,
    applyChecksum: o.applyChecksum ?? false,
  });
  const body = o.body ?? '{"KeyId":"alias/orders","Plaintext":"aGVsbG8="}';
  const out = await signer.sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: "127.0.0.1",
      port: 8200,
      path: "/",
      query: {},
      headers: { host: "127.0.0.1:8200", "content-type": "application/x-amz-json-1.1", "x-amz-target": "TrentService.Encrypt" },
      body,
    },
    { signingDate: new Date(o.at ?? NOW) },
  );
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(out.headers)) headers[k.toLowerCase()] = v;
  return { method: "POST", path: "/", query: "", headers, body: Buffer.from(body) };
}

const noSeal = { onSeal: () => undefined };
const verifier = () => new SigV4Verifier(accessKeys, "us-east-1", new ManualClock(NOW), noSeal);

async function refusal(req: SigV4Request | Promise<SigV4Request>): Promise<{ reason: SigV4Reason; awsType: string }> {
  try {
    await verifier().authenticate(await req, "127.0.0.1");
  } catch (err) {
    expect(isTesseraError(err) && err.code).toBe("Unauthenticated");
    return (err as { cause: { reason: SigV4Reason; awsType: string } }).cause;
  }
  throw new Error("the request was accepted");
}

describe("SigV4Verifier", () => {
  it("accepts requests signed by @smithy/signature-v4, with or without x-amz-content-sha256", async () => {
    for (const applyChecksum of [false, true]) {
      const p = await verifier().authenticate(await signed({ applyChecksum }), "10.0.0.7");
      expect(p).toMatchObject({ id: `access-key:${ACCESS_KEY_ID}`, role: "app", loginSource: "10.0.0.7" });
    }
    // Within the ±5 minute window.
    await verifier().authenticate(await signed({ at: NOW - 4 * 60_000 }), "x");
    await verifier().authenticate(await signed({ at: NOW + 4 * 60_000 }), "x");
  });

  it("refuses a wrong secret and a changed body or header as bad signatures", async () => {
    expect(await refusal(signed({ secret: "not-the-secret" }))).toEqual({ reason: "bad-signature", awsType: "InvalidSignatureException" });
    const tampered = await signed();
    tampered.body = Buffer.from('{"KeyId":"alias/other","Plaintext":"aGVsbG8="}');
    expect((await refusal(tampered)).reason).toBe("bad-signature");
    const target = await signed();
    target.headers = { ...target.headers, "x-amz-target": "TrentService.Decrypt" };
    expect((await refusal(target)).reason).toBe("bad-signature");
    const hashed = await signed({ applyChecksum: true });
    hashed.body = Buffer.from("{}");
    expect(await refusal(hashed)).toEqual({ reason: "body-hash-mismatch", awsType: "InvalidSignatureException" });
  });

  it("refuses a skewed clock, a wrong scope, unknown and inactive keys, and incomplete signatures with distinct reasons", async () => {
    expect(await refusal(signed({ at: NOW - 6 * 60_000 }))).toEqual({ reason: "clock-skew", awsType: "InvalidSignatureException" });
    expect(await refusal(signed({ at: NOW + 6 * 60_000 }))).toEqual({ reason: "clock-skew", awsType: "InvalidSignatureException" });
    expect(await refusal(signed({ region: "eu-west-1" }))).toEqual({ reason: "wrong-scope", awsType: "InvalidSignatureException" });
    expect(await refusal(signed({ service: "s3" }))).toEqual({ reason: "wrong-scope", awsType: "InvalidSignatureException" });
    expect(await refusal(signed({ accessKeyId: "TSRKUNKNOWN000000001" }))).toEqual({ reason: "unknown-access-key", awsType: "UnrecognizedClientException" });
    expect(await refusal(signed({ accessKeyId: "TSRKDISABLED00000001" }))).toEqual({ reason: "inactive-access-key", awsType: "UnrecognizedClientException" });

    const unsignedHost = await signed();
    unsignedHost.headers = { ...unsignedHost.headers, authorization: String(unsignedHost.headers["authorization"]).replace("host;", "") };
    // As AWS's JSON services answer it: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization."
    expect(await refusal(unsignedHost)).toEqual({ reason: "unsigned-header", awsType: "InvalidSignatureException" });
    const noAuth = await signed();
    noAuth.headers = { ...noAuth.headers, authorization: undefined };
    expect((await refusal(noAuth)).reason).toBe("malformed");
    const unsignedTarget = await signed();
    unsignedTarget.headers = { ...unsignedTarget.headers, authorization: String(unsignedTarget.headers["authorization"]).replace(";x-amz-target", "") };
    expect(await refusal(unsignedTarget)).toEqual({ reason: "unsigned-header", awsType: "InvalidSignatureException" });
    const absent = await signed();
    absent.headers = { ...absent.headers, "content-type": undefined };
    expect(await refusal(absent)).toEqual({ reason: "malformed", awsType: "IncompleteSignatureException" });
    const noDate = await signed();
    noDate.headers = { ...noDate.headers, "x-amz-date": undefined };
    expect((await refusal(noDate)).awsType).toBe("IncompleteSignatureException");
  });

  it("passes on failures that are not about the caller (a sealed server) instead of calling the key unknown", async () => {
    const sealed = new SigV4Verifier(
      { resolve: async () => Promise.reject(new TesseraError("Sealed")) },
      "us-east-1",
      new ManualClock(NOW),
      noSeal,
    );
    const err = await sealed.authenticate(await signed(), "x").catch((e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe("Sealed");
  });
});
