/**
 * Verifies an audit trail: every line canonical and correctly hashed, sequence numbers consecutive,
 * each record chained to the one before, and every checkpoint signed by the audit key over the
 * record it covers. Reports the first bad record and what is wrong with it.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { GENESIS, checkpointMessage, recordHash, recordLine, type AuditRecord } from "./record.js";

export interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstTime: string | null;
  lastTime: string | null;
  /** Hash of the last record (compare with the server's head to detect a truncated tail). */
  headHash: string | null;
  lastCheckpointSeq: number | null;
  /** Records after the last checkpoint: not yet covered by a signature. */
  unsignedTail: number;
  problem?: { seq: number | null; where: string; what: string };
}

export interface VerifyOptions {
  /** Checkpoint public key (SPKI PEM). Without it, signatures are not checked (reported). */
  publicKey?: string;
  /**
   * A head the trail must reach (e.g. the server's, fetched before reading): the record with that seq
   * must be present with that hash. Catches a truncated tail; later records are fine.
   */
  expectHead?: { seq: number; hash: string };
}

export async function verifyTrail(lines: AsyncIterable<{ line: string; where: string }>, options: VerifyOptions = {}): Promise<VerifyReport> {
  const key: KeyObject | undefined = options.publicKey === undefined ? undefined : createPublicKey(options.publicKey);
  const signer = key === undefined ? undefined : createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("hex").slice(0, 32);
  const report: VerifyReport = {
    ok: true,
    entries: 0,
    checkpoints: 0,
    firstSeq: null,
    lastSeq: null,
    firstTime: null,
    lastTime: null,
    headHash: null,
    lastCheckpointSeq: null,
    unsignedTail: 0,
  };
  const fail = (seq: number | null, where: string, what: string): VerifyReport => ({ ...report, ok: false, problem: { seq, where, what } });
  let prevSeq = 0;
  let prevHash = GENESIS;
  let reachedHead = false;
  for await (const { line, where } of lines) {
    if (line.length === 0) continue;
    let r: AuditRecord;
    try {
      r = JSON.parse(line) as AuditRecord;
    } catch {
      return fail(null, where, "not a JSON record");
    }
    const seq = typeof r.seq === "number" ? r.seq : null;
    if (seq !== prevSeq + 1) {
      return fail(seq, where, seq === null ? "record has no sequence number" : seq <= prevSeq ? `sequence goes back from ${prevSeq} to ${seq} (reordered or duplicated)` : `records ${prevSeq + 1}–${seq - 1} are missing (deleted or moved)`);
    }
    if (r.prev !== prevHash) return fail(seq, where, "does not chain to the previous record (prev hash differs): a record before it was changed, removed or inserted");
    let expectedLine: string;
    try {
      expectedLine = recordLine({ ...r, hash: recordHash(r) });
    } catch {
      return fail(seq, where, "record is malformed");
    }
    if (line !== expectedLine) {
      return fail(seq, where, r.hash !== recordHash(r) ? "content does not match its hash (the record was edited)" : "record is not in canonical form (a field was added or reformatted)");
    }
    if (r.kind === "checkpoint") {
      if (r.covers.seq !== prevSeq || r.covers.hash !== prevHash) return fail(seq, where, "checkpoint does not cover the record before it");
      if (key !== undefined) {
        if (r.signer !== signer) return fail(seq, where, "checkpoint was signed by a different key");
        if (!verifySignature(null, checkpointMessage(r), key, Buffer.from(r.signature, "base64"))) return fail(seq, where, "checkpoint signature does not verify");
      }
      report.checkpoints++;
      report.lastCheckpointSeq = seq;
      report.unsignedTail = 0;
    } else {
      report.entries++;
      report.unsignedTail++;
    }
    if (options.expectHead !== undefined && seq === options.expectHead.seq) {
      if (r.hash !== options.expectHead.hash) return fail(seq, where, "this record differs from the one the server holds at that sequence number");
      reachedHead = true;
    }
    report.firstSeq ??= seq;
    report.firstTime ??= r.time;
    report.lastSeq = seq;
    report.lastTime = r.time;
    prevSeq = seq;
    prevHash = r.hash;
  }
  report.headHash = report.lastSeq === null ? null : prevHash;
  const expect = options.expectHead;
  if (expect !== undefined && !reachedHead) {
    return fail(prevSeq, "end of trail", `the trail ends at ${prevSeq} but the server's head is ${expect.seq}: the tail was truncated`);
  }
  return report;
}

/** Lines of several trail files, ordered by the sequence number of their first record. */
export async function* fileLines(paths: readonly string[]): AsyncGenerator<{ line: string; where: string }> {
  const firsts: { path: string; seq: number }[] = [];
  for (const path of paths) {
    const rl = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
    let seq = Number.MAX_SAFE_INTEGER;
    for await (const line of rl) {
      try {
        seq = (JSON.parse(line) as { seq: number }).seq;
      } catch {
        seq = -1;
      }
      break;
    }
    rl.close();
    firsts.push({ path, seq });
  }
  firsts.sort((a, b) => a.seq - b.seq);
  for (const { path } of firsts) {
    let n = 0;
    const rl = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Infinity });
    for await (const line of rl) {
      n++;
      yield { line, where: `${path}:${n}` };
    }
  }
}
