/**
 * Issue 8, item 9: `x-amz-target` names the operation, so it must be signed — otherwise a captured
 * DescribeKey becomes ScheduleKeyDeletion by changing one header. `host` must be signed too, and a
 * header named in SignedHeaders must be present. Refused as AWS refuses an unsigned Host:
 * InvalidSignatureException ("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.").
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "@tessera/server";
import { send, signedHeaders, startListening, type Credentials, type HeaderList, type ListeningApp } from "../helpers/raw-http.js";

const NOW = Date.UTC(2026, 0, 5, 12);
let t: ListeningApp;
let creds: Credentials;
let keyId = "";

beforeAll(async () => {
  t = await startListening(new ManualClock(NOW));
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "operator" });
  creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
  keyId = (await t.native("POST", "/v1/keys", { name: "orders" })).body.keyId;
});
afterAll(async () => t.close());

const post = (headers: HeaderList, body: string) => send(t.port, "POST", "/", headers, body);
const typeOf = (r: { text: string }) => (JSON.parse(r.text) as { __type: string }).__type;
const withTarget = (h: HeaderList, target: string): HeaderList => [...h.filter(([k]) => k !== "x-amz-target"), ["x-amz-target", target]];

describe("SigV4: the operation and the host are signed", () => {
  it("a captured DescribeKey whose unsigned target is changed to ScheduleKeyDeletion is refused, and the key is untouched", async () => {
    const body = JSON.stringify({ KeyId: keyId });
    const captured = await signedHeaders(t.port, creds, { target: "TrentService.DescribeKey", body, at: NOW, unsigned: ["x-amz-target"] });
    expect(captured.find(([k]) => k === "authorization")![1]).not.toContain("x-amz-target");

    const replayed = await post(withTarget(captured, "TrentService.ScheduleKeyDeletion"), body);
    expect([replayed.status, typeOf(replayed)]).toEqual([400, "InvalidSignatureException"]);
    expect((await t.native("GET", `/v1/keys/${keyId}`)).body.state).toBe("Enabled");
    // Unchanged, it is refused just the same: an unsigned target is never accepted.
    const asSent = await post(captured, body);
    expect([asSent.status, typeOf(asSent)]).toEqual([400, "InvalidSignatureException"]);
  });

  it("with the target signed, changing it breaks the signature; unchanged, the request works", async () => {
    const body = JSON.stringify({ KeyId: keyId });
    const signed = await signedHeaders(t.port, creds, { target: "TrentService.DescribeKey", body, at: NOW });
    expect((await post(signed, body)).status).toBe(200);
    const changed = await post(withTarget(signed, "TrentService.ScheduleKeyDeletion"), body);
    expect([changed.status, typeOf(changed)]).toEqual([400, "InvalidSignatureException"]);
    expect((await t.native("GET", `/v1/keys/${keyId}`)).body.state).toBe("Enabled");
  });

  it("an unsigned Host is InvalidSignatureException; a signed header missing from the request is IncompleteSignatureException", async () => {
    const body = "{}";
    const noHost = await signedHeaders(t.port, creds, { target: "TrentService.ListKeys", body, at: NOW, unsigned: ["host"] });
    expect(noHost.find(([k]) => k === "authorization")![1]).not.toMatch(/SignedHeaders=[^,]*host/);
    const r1 = await post(noHost, body);
    expect([r1.status, typeOf(r1)]).toEqual([400, "InvalidSignatureException"]);

    // content-type was signed, then dropped: the verifier must not sign it as empty.
    const signed = await signedHeaders(t.port, creds, { target: "TrentService.ListKeys", body, at: NOW });
    const r2 = await post(
      signed.filter(([k]) => k !== "content-type"),
      body,
    );
    expect([r2.status, typeOf(r2)]).toEqual([400, "IncompleteSignatureException"]);
  });

  it("the audit record says which rule the signature broke", async () => {
    const body = JSON.stringify({ KeyId: keyId });
    const captured = await signedHeaders(t.port, creds, { target: "TrentService.DescribeKey", body, at: NOW, unsigned: ["x-amz-target"] });
    const res = await post(withTarget(captured, "TrentService.ScheduleKeyDeletion"), body);
    const r = await t.native("GET", "/v1/audit/entries?action=api:Rejected&limit=1000");
    const rec = (r.body.records as { requestId: string }[]).find((x) => x.requestId === res.headers["x-amzn-requestid"]);
    expect(rec).toMatchObject({ outcome: "denied", errorCode: "Unauthenticated", detail: { reason: "unsigned-header", operation: "ScheduleKeyDeletion" } });
  });

  it("a signed request without a well-formed, supported target is refused with the reason recorded", async () => {
    const cases: [string | undefined, string, string][] = [
      [undefined, "UnknownOperationException", "missing-target"],
      ["TrentService.Encrypt, TrentService.Decrypt", "UnknownOperationException", "unknown-target"],
      ["Trent.Encrypt", "UnknownOperationException", "unknown-target"],
      ["TrentService.CreateCustomKeyStore", "UnsupportedOperationException", "unsupported-operation"],
    ];
    for (const [target, type, reason] of cases) {
      const body = "{}";
      const res = await post(await signedHeaders(t.port, creds, { ...(target !== undefined && { target }), body, at: NOW }), body);
      expect([res.status, typeOf(res)], String(target)).toEqual([400, type]);
      const r = await t.native("GET", "/v1/audit/entries?action=api:Rejected&limit=1000");
      const rec = (r.body.records as { requestId: string }[]).find((x) => x.requestId === res.headers["x-amzn-requestid"]);
      expect(rec, String(target)).toMatchObject({ outcome: "error", errorCode: "InvalidInput", detail: { reason } });
    }
    // Any media type is read as bytes; the usual one and another both reach the operation.
    for (const type of ["application/x-amz-json-1.1", "application/json"]) {
      const body = JSON.stringify({ KeyId: keyId });
      const signed = (await signedHeaders(t.port, creds, { target: "TrentService.DescribeKey", body, at: NOW, unsigned: ["content-type"] })).map(([k, v]): [string, string] => [k, k === "content-type" ? type : v]);
      const ok = await post(signed, body);
      expect([ok.status, JSON.parse(ok.text).KeyMetadata.KeyId], type).toEqual([200, keyId]);
    }
  });
});
