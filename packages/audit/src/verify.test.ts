import { createHash, generateKeyPairSync, sign } from "node:crypto";
import { describe, expect, it } from "vitest";
import { GENESIS, canonicalBody, checkpointMessage, finishRecord, lineOf, sha256Hex, type CheckpointRecord, type RequestRecord } from "./record.js";
import { checkLine, verifyTrail, type TrailChunk } from "./verify.js";

const request = (seq: number, prev: string, outcome = "allowed"): RequestRecord =>
  ({ seq, time: "2026-01-05T12:00:00.000Z", kind: "request", requestId: `r${seq}`, principal: null, source: "10.0.0.1", action: "kms:Encrypt", keyId: null, keyVersion: null, outcome, errorCode: null, latencyMs: 1, hmac: {}, prev, hash: "" }) as RequestRecord;

async function* chunks(lines: string[]): AsyncGenerator<TrailChunk> {
  yield { lines, where: (i) => `line ${i + 1}` };
}

/** Lines of a chain built from `make(seq, prev)`. */
function chain(n: number, make: (seq: number, prev: string) => string): string[] {
  const out: string[] = [];
  let prev = GENESIS;
  for (let seq = 1; seq <= n; seq++) {
    const line = make(seq, prev);
    out.push(line);
    prev = JSON.parse(line).hash;
  }
  return out;
}

describe("record format", () => {
  it("keeps the exact bytes of a checkpoint that is not final (older trails verify unchanged)", () => {
    const c = { seq: 2, time: "t", kind: "checkpoint", covers: { seq: 1, hash: "a" }, signer: "s", signature: "sig", prev: "a", hash: "" } as CheckpointRecord;
    expect(canonicalBody(c)).toBe('{"seq":2,"time":"t","kind":"checkpoint","covers":{"seq":1,"hash":"a"},"signer":"s","signature":"sig","prev":"a"}');
    expect(checkpointMessage(c).toString()).toBe("tessera-audit-checkpoint|1|a|t");
  });

  it("puts final in the checkpoint's bytes and in its signed message", () => {
    const c = { seq: 2, time: "t", kind: "checkpoint", covers: { seq: 1, hash: "a" }, signer: "s", signature: "sig", final: true, prev: "a", hash: "" } as CheckpointRecord;
    expect(canonicalBody(c)).toBe('{"seq":2,"time":"t","kind":"checkpoint","covers":{"seq":1,"hash":"a"},"signer":"s","signature":"sig","final":true,"prev":"a"}');
    expect(checkpointMessage(c).toString()).toBe("tessera-audit-checkpoint|1|a|t|final");
  });
});

describe("checkLine", () => {
  const [one, two] = chain(2, (seq, prev) => finishRecord(request(seq, prev)));
  const first = { seq: 1, hash: JSON.parse(one!).hash as string };

  it("accepts a record that follows the one before it", () => {
    expect(checkLine(two!, first)).toMatchObject({ ok: true, seq: 2, kind: "request" });
  });

  it.each([
    ["malformed", "not json at all"],
    ["malformed", two!.replace(/,"hash":"[0-9a-f]+"\}$/, "}")],
    ["edited", two!.replace('"latencyMs":1', '"latencyMs":2')],
    ["unchained", finishRecord(request(2, "f".repeat(64)))],
    ["missing", finishRecord(request(3, first.hash))],
    ["reordered", one!],
  ])("refuses a %s line", (code, line) => {
    expect(checkLine(line, first)).toMatchObject({ ok: false, code });
  });
});

describe("verifyTrail", () => {
  it("is generic over outcome values and record kinds it does not know", async () => {
    const lines = chain(3, (seq, prev) => {
      if (seq === 2) return finishRecord(request(seq, prev, "intent"));
      if (seq === 3) {
        const body = JSON.stringify({ seq, time: "t", kind: "future", anything: [1, 2], prev });
        return lineOf(body, sha256Hex(body));
      }
      return finishRecord(request(seq, prev));
    });
    expect(await verifyTrail(chunks(lines), { allowOpenTail: true })).toMatchObject({ ok: true, lastSeq: 3 });
  });

  it("fails an open tail unless allowed, and passes a trail ending in a final checkpoint signed by the key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const signer = createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 32);
    const lines = chain(2, (seq, prev) => finishRecord(request(seq, prev)));
    expect((await verifyTrail(chunks(lines), { publicKey: pem })).problem).toMatchObject({ code: "open-tail", seq: 2 });
    expect(await verifyTrail(chunks(lines), { publicKey: pem, allowOpenTail: true })).toMatchObject({ ok: true, lastSeq: 2, unsignedTail: 2 });
    const head = JSON.parse(lines[1]!).hash as string;
    const c = { seq: 3, time: "t", kind: "checkpoint", covers: { seq: 2, hash: head }, signer, final: true, prev: head, hash: "" } as Omit<CheckpointRecord, "signature">;
    const signed = { ...c, signature: sign(null, checkpointMessage(c), privateKey).toString("base64") } as CheckpointRecord;
    expect(await verifyTrail(chunks([...lines, finishRecord(signed)]), { publicKey: pem })).toMatchObject({ ok: true, final: true, checkpoints: 1 });
  });

  it("checks a checkpoint's node against the chain's: named and signed, it cannot pass for another node's", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = publicKey.export({ type: "spki", format: "pem" }).toString();
    const signer = createHash("sha256").update(publicKey.export({ type: "spki", format: "der" })).digest("hex").slice(0, 32);
    const lines = chain(1, (seq, prev) => finishRecord(request(seq, prev)));
    const head = JSON.parse(lines[0]!).hash as string;
    const c = { seq: 2, time: "t", kind: "checkpoint", covers: { seq: 1, hash: head }, signer, node: "node-a", prev: head, hash: "" } as Omit<CheckpointRecord, "signature">;
    expect(checkpointMessage(c).toString()).toBe(`tessera-audit-checkpoint|1|${head}|t|node=node-a`);
    const signed = finishRecord({ ...c, signature: sign(null, checkpointMessage(c), privateKey).toString("base64") } as CheckpointRecord);
    expect(await verifyTrail(chunks([...lines, signed]), { publicKey: pem, allowOpenTail: true, node: "node-a" })).toMatchObject({ ok: true, checkpoints: 1 });
    expect((await verifyTrail(chunks([...lines, signed]), { publicKey: pem, allowOpenTail: true, node: "node-b" })).problem).toMatchObject({ code: "checkpoint-node", seq: 2 });
    // Renaming the node breaks the signature (and the hash): the name is part of what is signed.
    const renamed = { ...(JSON.parse(signed) as CheckpointRecord), node: "node-b", hash: "" };
    expect((await verifyTrail(chunks([...lines, finishRecord(renamed)]), { publicKey: pem, allowOpenTail: true, node: "node-b" })).problem).toMatchObject({ code: "checkpoint-signature", seq: 2 });
  });
});
