import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { contextJson, encodeRequestV2 } from "./compact.js";
import { TrailDecoder, lineHead } from "./lines.js";
import { GENESIS, checkpointMessage, finishRecord, type CheckpointRecord, type RequestRecord } from "./record.js";
import { verifyTrail, type TrailChunk, type VerifyOptions } from "./verify.js";

const { privateKey, publicKey } = generateKeyPairSync("ed25519");
const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
const signer = createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 32);
const principal = { id: "hmac:ab12", kind: "vm", displayName: "pay-1", role: "payment-vm", authMethod: "cert" };

async function* chunks(lines: string[]): AsyncGenerator<TrailChunk> {
  yield { lines, where: (i) => `line ${i + 1}` };
}
const verify = (lines: string[], options: VerifyOptions = { publicKey: pem }) => verifyTrail(chunks(lines), options);

const request = (seq: number, prev: string, extra: Partial<RequestRecord> = {}): RequestRecord => ({
  seq,
  time: `2026-11-29T12:00:00.${String(seq).padStart(3, "0")}Z`,
  kind: "request",
  requestId: `6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a${String(seq).padStart(2, "0")}`,
  principal,
  source: "10.0.3.7",
  action: "kms:Encrypt",
  keyId: "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11",
  keyVersion: 3,
  outcome: "allowed",
  errorCode: null,
  latencyMs: 0.412,
  hmac: {},
  prev,
  hash: "",
  ...extra,
});

function checkpoint(seq: number, prev: { seq: number; hash: string }, final = false): string {
  const c: Omit<CheckpointRecord, "hash" | "signature"> = { seq, time: "2026-11-29T12:00:01.000Z", kind: "checkpoint", covers: prev, signer, ...(final && { final: true }), prev: prev.hash };
  return finishRecord({ ...c, signature: sign(null, checkpointMessage(c), privateKey).toString("base64"), hash: "" });
}

/**
 * A trail upgraded in place: format 1 requests, then compact ones (the first spelling out `prev` and
 * its context, as the first record of a file does), checkpoints (always format 1) in between.
 * `edit` may change a compact record before it is encoded (a forger who recomputes its hash).
 */
function mixedTrail(edit: (r: RequestRecord) => void = () => undefined): string[] {
  const lines: string[] = [];
  let prev = { seq: 0, hash: GENESIS };
  const push = (line: string) => {
    lines.push(line);
    prev = { seq: lineHead(line)!.seq, hash: lineHead(line)!.hash };
  };
  for (let seq = 1; seq <= 3; seq++) push(finishRecord(request(seq, prev.hash)));
  const ctx = contextJson(request(4, prev.hash));
  const v2 = (r: RequestRecord, context: string | number, explicitPrev = false) => {
    edit(r);
    push(encodeRequestV2(r, context, explicitPrev).line);
  };
  v2(request(4, prev.hash), ctx, true);
  v2(request(5, prev.hash, { hmac: { "context.vm": "9c1f".repeat(16) }, detail: { reason: "x", method: "POST" } }), 4);
  v2(request(6, prev.hash, { requestId: "system-1/0" }), 4);
  push(checkpoint(7, prev));
  v2(request(8, prev.hash), 4);
  push(checkpoint(9, prev, true));
  return lines;
}

describe("compact request records (format 2)", () => {
  it("are far smaller than format 1 for a repeated request", () => {
    const lines = mixedTrail();
    expect(lines[7]!.length).toBeLessThan(200);
    expect(lines[7]!.length * 3).toBeLessThan(lines[0]!.length);
    expect(lines[7]).toMatch(/^\{"v":2,"s":8,"t":\d+,"u":"[A-Za-z0-9_-]{22}","c":4,"l":0.412,"h":"[A-Za-z0-9_-]{43}"\}$/);
  });

  it("verify in a trail that mixes both formats, with signed checkpoints", async () => {
    expect(await verify(mixedTrail())).toMatchObject({ ok: true, entries: 7, checkpoints: 2, final: true, firstSeq: 1, lastSeq: 9 });
  });

  it("read back as format 1's records, references resolved", () => {
    const decoder = new TrailDecoder();
    const records = mixedTrail().map((l) => decoder.decode(l));
    const { prev: _p, hash: _h, ...five } = request(5, "", { hmac: { "context.vm": "9c1f".repeat(16) }, detail: { reason: "x", method: "POST" } });
    expect(records[4]).toMatchObject(five);
    expect(records[5]).toMatchObject({ requestId: "system-1/0", principal, action: "kms:Encrypt", keyVersion: 3 });
    // A page that starts after the record spelling the context out finds it on demand.
    const late = new TrailDecoder();
    const line = mixedTrail()[7]!;
    expect(late.unresolved(line)).toBe(4);
    late.learn(mixedTrail()[3]!);
    expect(late.unresolved(line)).toBeUndefined();
    expect(late.decode(line)).toMatchObject({ seq: 8, principal, source: "10.0.3.7", hash: lineHead(line)!.hash });
  });

  // Each field of a compact line, changed in place: verification fails at that record.
  const fields: [string, number, (line: string) => string][] = [
    ["t", 4, (l) => l.replace(/"t":(\d+)/, (_m, t: string) => `"t":${Number(t) + 1}`)],
    ["u", 4, (l) => l.replace(/"u":"(.)/, (_m, c: string) => `"u":"${c === "A" ? "B" : "A"}`)],
    ["i", 5, (l) => l.replace('"i":"system-1/0"', '"i":"system-1/1"')],
    ["x", 3, (l) => l.replace('"source":"10.0.3.7"', '"source":"10.0.3.8"')],
    ["c", 4, (l) => l.replace('"c":4', '"c":1')],
    ["l", 4, (l) => l.replace('"l":0.412', '"l":0.413')],
    ["m", 4, (l) => l.replace('"9c1f', '"8c1f')],
    ["d", 4, (l) => l.replace('"reason":"x"', '"reason":"y"')],
    ["P", 3, (l) => l.replace(/"P":"(.)/, (_m, c: string) => `"P":"${c === "0" ? "1" : "0"}`)],
    ["h", 4, (l) => l.replace(/"h":"(.)/, (_m, c: string) => `"h":"${c === "A" ? "B" : "A"}`)],
  ];
  for (const [field, index, change] of fields) {
    it(`fail verification at the record whose "${field}" was changed`, async () => {
      const lines = mixedTrail();
      const changed = change(lines[index]!);
      expect(changed).not.toBe(lines[index]);
      lines[index] = changed;
      const report = await verify(lines);
      expect(report.ok).toBe(false);
      expect(report.problem!.seq).toBe(index + 1);
    });
  }

  it("fail on a changed sequence number, a deleted, a reordered and an inserted record", async () => {
    const lines = mixedTrail();
    expect((await verify(lines.map((l, i) => (i === 4 ? l.replace('"s":5', '"s":6') : l)))).problem).toMatchObject({ code: "missing", seq: 6 });
    expect((await verify(lines.filter((_, i) => i !== 4))).problem).toMatchObject({ code: "missing", seq: 6 });
    expect((await verify([...lines.slice(0, 4), lines[5]!, lines[4]!, ...lines.slice(6)])).problem).toMatchObject({ code: "missing", seq: 6 });
    expect((await verify([...lines.slice(0, 5), lines[4]!, ...lines.slice(5)])).problem).toMatchObject({ code: "reordered", seq: 5 });
  });

  it("catch a record rewritten with a recomputed hash at the next record (prev is implicit but hashed)", async () => {
    const forged = mixedTrail((r) => {
      if (r.seq === 5) r.latencyMs = 9;
    });
    const report = await verify([...mixedTrail().slice(0, 4), forged[4]!, ...mixedTrail().slice(5)]);
    expect(report.problem).toMatchObject({ code: "edited", seq: 6 });
    // Rewriting every record after it too still fails at the first checkpoint (signed over the real head).
    expect((await verify([...forged.slice(0, 6), ...mixedTrail().slice(6)])).problem).toMatchObject({ code: "unchained", seq: 7 });
  });

  it("refuse a reference to a record that spells no context out", async () => {
    const lines = mixedTrail().slice(0, 3);
    lines.push(encodeRequestV2(request(4, lineHead(lines[2]!)!.hash), 2, false).line);
    expect((await verify(lines, { allowOpenTail: true })).problem).toMatchObject({ code: "unresolved", seq: 4 });
  });

  it("verify a retained tail from a first record that spells out its prev, and not from one that does not", async () => {
    const lines = mixedTrail();
    expect((await verify(lines.slice(3))).problem).toMatchObject({ code: "missing", seq: 4 });
    expect(await verify(lines.slice(3), { publicKey: pem, retained: true })).toMatchObject({ ok: true, firstSeq: 4, entries: 4, checkpoints: 2 });
    expect((await verify(lines.slice(4), { publicKey: pem, retained: true })).problem).toMatchObject({ code: "unanchored", seq: 5 });
    // A retained tail with no checkpoint has nothing signed anchoring it.
    expect((await verify(lines.slice(3, 6), { retained: true, allowOpenTail: true })).problem).toMatchObject({ code: "unanchored" });
  });
});
