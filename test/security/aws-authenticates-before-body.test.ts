/**
 * Issue 8, item 5: the AWS API verifies the signature before it looks at the operation or the body,
 * so an unsigned caller learns nothing about what a body should look like — every unsigned request
 * gets the same answer — and a body that does not match its signed hash is a signature failure
 * whatever it contains. Each refusal is audited with the SigV4 failure's typed reason.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "@tessera/server";
import { send, signedHeaders, startListening, type Credentials, type HeaderList, type ListeningApp } from "../helpers/raw-http.js";

const NOW = Date.UTC(2026, 0, 5, 12);
let t: ListeningApp;
let creds: Credentials;

beforeAll(async () => {
  t = await startListening(new ManualClock(NOW));
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "operator" });
  creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
  await t.native("POST", "/v1/keys", { name: "orders" });
});
afterAll(async () => t.close());

const post = (headers: HeaderList, body: string) => send(t.port, "POST", "/", headers, body);
const answer = (r: { status: number; text: string }) => ({ status: r.status, ...(JSON.parse(r.text) as { __type: string; message: string }) });

/** The api:Rejected record of the request whose id the answer carried. */
async function recordOf(requestId: string) {
  const r = await t.native("GET", "/v1/audit/entries?action=api:Rejected&limit=1000");
  return (r.body.records as { requestId: string; errorCode: string; detail?: Record<string, string> }[]).find((x) => x.requestId === requestId);
}

describe("the AWS API authenticates before it reads the body", () => {
  it("answers every unsigned request alike, whatever its target and body", async () => {
    const shapes: [string | undefined, string][] = [
      ["TrentService.Encrypt", "{"],
      ["TrentService.Encrypt", "[]"],
      ["TrentService.Encrypt", '{"KeyId":"orders","Plaintext":"hello world"}'],
      ["TrentService.Encrypt", '{"KeyId":"orders","Plaintext":"aGk="}'],
      ["TrentService.Nope", "{}"],
      ["Foo.Bar", "null"],
      [undefined, "{}"],
    ];
    const answers = [];
    for (const [target, body] of shapes) {
      const headers: HeaderList = [["content-type", "application/x-amz-json-1.1"]];
      if (target !== undefined) headers.push(["x-amz-target", target]);
      const res = await post(headers, body);
      answers.push(answer(res));
      const rec = await recordOf(String(res.headers["x-amzn-requestid"]));
      expect(rec).toMatchObject({ errorCode: "Unauthenticated", detail: { reason: "malformed" } });
    }
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(answers[0]).toMatchObject({ status: 400, __type: "IncompleteSignatureException" });
  });

  it("refuses a malformed body under a wrong signature as a signature failure", async () => {
    for (const body of ["{", "[]", '{"KeyId":"orders","Plaintext":"hello world"}']) {
      const headers = await signedHeaders(t.port, { ...creds, secretAccessKey: "not-the-secret" }, { target: "TrentService.Encrypt", body, at: NOW });
      const res = await post(headers, body);
      expect(answer(res)).toMatchObject({ status: 400, __type: "InvalidSignatureException" });
      expect(await recordOf(String(res.headers["x-amzn-requestid"]))).toMatchObject({ errorCode: "Unauthenticated", detail: { reason: "bad-signature", operation: "Encrypt" } });
    }
  });

  it("a body that does not match its signed hash is a signature failure, even when it is not JSON", async () => {
    const good = '{"KeyId":"orders","Plaintext":"aGk="}';
    // x-amz-content-sha256 signed: the signature holds, the body does not match it.
    const hashed = await signedHeaders(t.port, creds, { target: "TrentService.Encrypt", body: good, at: NOW, contentSha256: true });
    const res = await post(hashed, "{not json");
    expect(answer(res)).toMatchObject({ status: 400, __type: "InvalidSignatureException" });
    expect(await recordOf(String(res.headers["x-amzn-requestid"]))).toMatchObject({ errorCode: "Unauthenticated", detail: { reason: "body-hash-mismatch" } });
    // Without it, the body is part of the signature itself.
    const plain = await signedHeaders(t.port, creds, { target: "TrentService.Encrypt", body: good, at: NOW });
    expect(answer(await post(plain, "[1,2]"))).toMatchObject({ status: 400, __type: "InvalidSignatureException" });
    // And the same request with its own body goes through.
    expect((await post(plain, good)).status).toBe(200);
  });

  it("only a signed caller is told what is wrong with the operation or the body", async () => {
    const cases: [string | undefined, string, string][] = [
      ["TrentService.Encrypt", "{", "SerializationException"],
      ["TrentService.Encrypt", "[]", "SerializationException"],
      ["TrentService.Nope", "{}", "UnsupportedOperationException"],
      [undefined, "{}", "UnknownOperationException"],
      ["TrentService.Encrypt", '{"KeyId":"orders","Plaintext":"hello world"}', "ValidationException"],
    ];
    for (const [target, body, type] of cases) {
      const res = await post(await signedHeaders(t.port, creds, { ...(target !== undefined && { target }), body, at: NOW }), body);
      expect(answer(res)).toMatchObject({ status: 400, __type: type });
      // The record names who it was: the signature was verified first.
      const r = await t.native("GET", "/v1/audit/entries?action=api:Rejected&limit=1000");
      const rec = (r.body.records as { requestId: string; principal: { id: string } | null }[]).find((x) => x.requestId === res.headers["x-amzn-requestid"]);
      expect(rec?.principal?.id).toBe(`access-key:${creds.accessKeyId}`);
    }
  });
});
