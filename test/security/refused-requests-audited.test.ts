/**
 * Issue 8, item 5: every refused request leaves an audit record — on its own, or counted in a summary
 * once its source floods — and is answered in the documented error format. A fuzz run sends many
 * malformed requests of each kind to both APIs over a real socket and checks every answer and the
 * accounting: individual `api:Rejected` records + the counts of the summaries = requests sent.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorCatalogue, isErrorCode } from "@tessera/protocol";
import { ManualClock, verifyTrail } from "@tessera/server";
import { send, signedHeaders, startListening, type Credentials, type HeaderList, type ListeningApp, type RawResponse } from "../helpers/raw-http.js";
import { decodeLines } from "../helpers/audit-records.js";

const NOW = Date.UTC(2026, 0, 5, 12);
const BURST = 60;
let t: ListeningApp;
let creds: Credentials;

/** A small deterministic PRNG (mulberry32), so a failing run can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}
const rand = prng(8_005);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
const word = (n: number) => Array.from({ length: n }, () => pick([..."abcdefghijklmnopqrstuvwxyz0123456789-_."])).join("");

interface Probe {
  kind: string;
  api: "native" | "aws";
  /** The catalogue code (native) or AWS exception name expected. */
  expect: string;
  run(): Promise<RawResponse>;
}

beforeAll(async () => {
  process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
  // The clock stands still, so no bucket refills: the burst is all a source gets.
  t = await startListening(new ManualClock(NOW), { refusals: { perSource: { burst: BURST, perSecond: 1 }, global: { burst: 10_000, perSecond: 100 } } });
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "operator" });
  creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
  await t.native("POST", "/v1/keys", { name: "fuzz" });
});
afterAll(async () => t.close());

function nativeProbes(): Probe[] {
  const p: Probe[] = [];
  const json: HeaderList = [["content-type", "application/json"]];
  for (let i = 0; i < 25; i++) {
    const method = pick(["GET", "POST", "PUT", "DELETE", "PATCH"]);
    const path = pick([`/v1/nope-${word(6)}`, `/${word(8)}`, `/v1/keys/${word(5)}/${word(7)}`, `/v1/sys/${word(4)}?x=${word(3)}`]);
    p.push({ kind: "no route", api: "native", expect: "NotFound", run: () => send(t.port, method, path, method === "GET" ? [] : json, method === "GET" ? undefined : "{}") });
  }
  for (const [method, path] of [["DELETE", "/v1/random"], ["PUT", "/v1/keys/fuzz/encrypt"], ["GET", "/v1/decrypt"], ["PATCH", "/v1/sys/init"], ["DELETE", "/v1/keys"], ["GET", "/"], ["PUT", "/"]] as const) {
    for (let i = 0; i < 3; i++) p.push({ kind: "no such method", api: "native", expect: "NotFound", run: () => send(t.port, method, path) });
  }
  const bad = ["%ZZ", "%", "%E0%A4%A", "a%G1b", "%C3%28", "%ED%A0%80", `${word(3)}%Z${word(2)}`];
  for (let i = 0; i < 25; i++) {
    const seg = pick(bad);
    const path = pick([`/v1/keys/${seg}/encrypt`, `/v1/keys/${seg}`, `/v1/policies/${seg}`, `/v1/keys/${seg}/versions/1/enable`]);
    p.push({ kind: "bad percent-encoding", api: "native", expect: "InvalidInput", run: () => send(t.port, "POST", path, json, "{}") });
  }
  for (let i = 0; i < 20; i++) {
    const long = "k".repeat(257 + Math.floor(rand() * 2000));
    const path = pick([`/v1/keys/${long}/encrypt`, `/v1/keys/${long}`, `/v1/roles/${long}`, `/v1/keys/${long}/derive`]);
    p.push({ kind: "over-long parameter", api: "native", expect: "InvalidInput", run: () => send(t.port, path.endsWith("derive") || path.endsWith("encrypt") ? "POST" : "GET", path, json, "{}") });
  }
  for (let i = 0; i < 25; i++) {
    const body = pick(["{", "[]", "null", '"x"', "1", '{"plaintext":5}', '{"plaintext":"aGk=","zzz":1}', "not json", '{"plaintext":"hello world"}']);
    p.push({ kind: "malformed body", api: "native", expect: "InvalidInput", run: () => send(t.port, "POST", "/v1/keys/fuzz/encrypt", json, body) });
  }
  for (let i = 0; i < 5; i++) p.push({ kind: "wrong media type", api: "native", expect: "InvalidInput", run: () => send(t.port, "POST", "/v1/random", [["content-type", "text/plain"]], "16") });
  for (let i = 0; i < 3; i++) {
    p.push({ kind: "body over 1 MiB", api: "native", expect: "TooLarge", run: () => send(t.port, "POST", "/v1/random", json, `{"numberOfBytes":1,"pad":"${"x".repeat(1100 * 1024)}"}`) });
  }
  return p;
}

function awsProbes(): Probe[] {
  const p: Probe[] = [];
  const signed = (o: Parameters<typeof signedHeaders>[2], c: Credentials = creds) => signedHeaders(t.port, c, o);
  const post = (headers: HeaderList, body: string) => send(t.port, "POST", "/", headers, body);
  const bodies = ["{", "[]", "null", "3", '"s"', "not json", '{"KeyId":', "\u0000\u0001"];
  for (let i = 0; i < 25; i++) {
    const target = pick(["TrentService.Encrypt", "TrentService.Nope", "Foo.Bar", "TrentService.ScheduleKeyDeletion"]);
    const body = pick(bodies);
    p.push({
      kind: "unsigned",
      api: "aws",
      expect: "IncompleteSignatureException",
      run: () => post([["content-type", "application/x-amz-json-1.1"], ["x-amz-target", target]], body),
    });
  }
  for (let i = 0; i < 15; i++) {
    const body = pick(bodies);
    p.push({
      kind: "wrong secret",
      api: "aws",
      expect: "InvalidSignatureException",
      run: async () => post(await signed({ target: "TrentService.Encrypt", body, at: NOW }, { ...creds, secretAccessKey: "wrong" }), body),
    });
  }
  for (let i = 0; i < 10; i++) {
    p.push({
      kind: "unsigned target",
      api: "aws",
      expect: "InvalidSignatureException",
      run: async () => post(await signed({ target: "TrentService.DescribeKey", body: '{"KeyId":"fuzz"}', at: NOW, unsigned: ["x-amz-target"] }), '{"KeyId":"fuzz"}'),
    });
  }
  for (let i = 0; i < 10; i++) {
    p.push({ kind: "missing target", api: "aws", expect: "UnknownOperationException", run: async () => post(await signed({ body: "{}", at: NOW }), "{}") });
  }
  for (let i = 0; i < 10; i++) {
    // Signed as Node joins repeated headers, so the signature holds and the duplicate itself is refused.
    p.push({
      kind: "duplicate target",
      api: "aws",
      expect: "UnknownOperationException",
      run: async () => {
        const h = await signed({ target: "TrentService.ListKeys, TrentService.ListKeys", body: "{}", at: NOW });
        return post([...h.filter(([k]) => k !== "x-amz-target"), ["x-amz-target", "TrentService.ListKeys"], ["x-amz-target", "TrentService.ListKeys"]], "{}");
      },
    });
  }
  for (let i = 0; i < 20; i++) {
    const [target, type] = pick([
      ["TrentService.Nope", "UnsupportedOperationException"],
      [`TrentService.${word(6).replace(/[-_.]/g, "x")}`, "UnsupportedOperationException"],
      ["Foo.Bar", "UnknownOperationException"],
      ["TrentService.", "UnknownOperationException"],
      ["TrentService.Encrypt;x", "UnknownOperationException"],
    ] as const);
    p.push({ kind: "unsupported target", api: "aws", expect: type, run: async () => post(await signed({ target, body: "{}", at: NOW }), "{}") });
  }
  for (let i = 0; i < 20; i++) {
    const body = pick(bodies);
    p.push({ kind: "not a JSON object", api: "aws", expect: "SerializationException", run: async () => post(await signed({ target: "TrentService.ListKeys", body, at: NOW }), body) });
  }
  for (let i = 0; i < 20; i++) {
    const [target, body] = pick([
      ["TrentService.Encrypt", '{"KeyId":"fuzz","Plaintext":"hello world"}'],
      ["TrentService.Encrypt", '{"KeyId":"fuzz","Plaintext":""}'],
      ["TrentService.Encrypt", '{"KeyId":"fuzz","Plaintext":"aGVsbG9="}'],
      ["TrentService.Decrypt", '{"CiphertextBlob":"!!!!"}'],
      ["TrentService.ReEncrypt", '{"CiphertextBlob":"a-b_","DestinationKeyId":"fuzz"}'],
      ["TrentService.Encrypt", '{"KeyId":5,"Plaintext":"aGk="}'],
    ] as const);
    p.push({ kind: "invalid field", api: "aws", expect: "ValidationException", run: async () => post(await signed({ target, body, at: NOW }), body) });
  }
  for (let i = 0; i < 3; i++) {
    const body = `{"Pad":"${"x".repeat(1100 * 1024)}"}`;
    p.push({ kind: "body over 1 MiB", api: "aws", expect: "ValidationException", run: async () => post(await signed({ target: "TrentService.ListKeys", body, at: NOW }), body) });
  }
  return p;
}

interface Line {
  seq: number;
  kind: string;
  action?: string;
  requestId?: string;
  errorCode?: string | null;
  detail?: Record<string, string | number>;
}

/** The trail after `seq` up to the head as it is now (each read is itself audited, so the head moves on). */
async function trailAfter(seq: number): Promise<{ lines: string[]; records: Line[] }> {
  const head = (await t.native("GET", "/v1/audit/head")).body as { seq: number };
  const lines: string[] = [];
  for (let after = seq; after < head.seq; ) {
    const r = await t.native("GET", `/v1/audit/lines?after=${after}&limit=5000`);
    lines.push(...(r.body.lines as string[]));
    after = r.body.nextAfter;
  }
  const records = (decodeLines(lines) as Line[]).filter((r) => r.seq <= head.seq);
  return { lines: lines.slice(0, records.length), records };
}

describe("refused requests are answered in the documented format and accounted for in the audit trail", () => {
  it("fuzz: every malformed request to either API is a documented error, and records + suppressed counts = requests", async () => {
    const head = (await t.native("GET", "/v1/audit/head")).body as { seq: number };
    const probes = [...nativeProbes(), ...awsProbes()].sort(() => rand() - 0.5);
    const answered: { probe: Probe; res: RawResponse }[] = [];
    for (let i = 0; i < probes.length; i += 8) {
      const batch = probes.slice(i, i + 8);
      answered.push(...(await Promise.all(batch.map(async (probe) => ({ probe, res: await probe.run() })))));
    }

    const requestIds: string[] = [];
    for (const { probe, res } of answered) {
      const where = `${probe.api} ${probe.kind}: ${res.status} ${res.text.slice(0, 200)}`;
      if (probe.api === "native") {
        expect(String(res.headers["content-type"]), where).toMatch(/^application\/json/);
        const body = JSON.parse(res.text) as { error: { code: string; message: string; requestId: string } };
        expect(isErrorCode(body.error.code), where).toBe(true);
        expect(body.error.code, where).toBe(probe.expect);
        expect(res.status, where).toBe(errorCatalogue[probe.expect as keyof typeof errorCatalogue].status);
        expect(typeof body.error.message, where).toBe("string");
        requestIds.push(body.error.requestId);
      } else {
        expect(String(res.headers["content-type"]), where).toMatch(/^application\/x-amz-json-1\.1(;|$)/);
        const body = JSON.parse(res.text) as { __type: string; message: string };
        expect(Object.keys(body).sort(), where).toEqual(["__type", "message"]);
        expect(body.__type, where).toBe(probe.expect);
        expect(res.status, where).toBe(400);
        requestIds.push(String(res.headers["x-amzn-requestid"]));
      }
    }
    expect(new Set(requestIds).size).toBe(probes.length);

    await t.app.scheduler.runOnce("refusal-summaries");
    const { lines, records } = await trailAfter(head.seq);
    const rejected = records.filter((r) => r.kind === "request" && r.action === "api:Rejected");
    const own = rejected.filter((r) => r.detail?.["suppressed"] === undefined);
    const summaries = rejected.filter((r) => r.detail?.["suppressed"] !== undefined);
    const suppressed = summaries.reduce((n, r) => n + Number(r.detail!["suppressed"]), 0);

    expect(own.length + suppressed).toBe(probes.length);
    // The flood from one source was cut off at its burst and summarised per error code.
    expect(own.length).toBe(BURST);
    expect(summaries.length).toBeGreaterThanOrEqual(1);
    expect(summaries.length).toBeLessThanOrEqual(Object.keys(errorCatalogue).length);
    // Records name requests that were answered, once each; detail carries only fixed, non-sensitive fields.
    const answeredIds = new Set(requestIds);
    for (const r of own) expect(answeredIds.has(r.requestId!)).toBe(true);
    expect(new Set(own.map((r) => r.requestId)).size).toBe(own.length);
    for (const r of rejected) for (const k of Object.keys(r.detail ?? {})) expect(["reason", "method", "route", "operation", "suppressed", "since"]).toContain(k);
    // SigV4 failures carry their typed reason.
    expect(own.some((r) => r.errorCode === "Unauthenticated" && ["malformed", "bad-signature", "unsigned-header"].includes(String(r.detail?.["reason"])))).toBe(true);

    // The trail with these records (and their detail) still verifies.
    const report = await verifyTrail(
      (async function* () {
        yield { lines: (await trailAfter(0)).lines, where: (i: number) => `line ${i + 1}` };
      })(),
      // A live server's trail: records after its last checkpoint are expected.
      { allowOpenTail: true },
    );
    expect(report.problem).toBeUndefined();
    expect(report.ok).toBe(true);
    expect(lines.length).toBeGreaterThan(0);
  });
});
