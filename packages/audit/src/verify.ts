/**
 * Verifies an audit trail: every line canonical and correctly hashed, sequence numbers consecutive,
 * each record chained to the one before, every checkpoint signed by the audit key over the record it
 * covers, and — unless the trail is live — the trail ending in the final checkpoint of a clean
 * shutdown. Reports the first bad record and what is wrong with it.
 *
 * Generic over record contents: only `seq`, `prev`, the hash over the line's own bytes, and the
 * checkpoint fields are interpreted, so new kinds and `outcome` values verify unchanged.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { GENESIS, checkpointMessage, sha256Hex, splitLine, type AuditRecord, type CheckpointRecord } from "./record.js";
import { V2_PREFIX, splitV2, v2HashedText, type ParsedV2 } from "./compact.js";

const HEAD = /^\{"seq":(\d{1,15}),"time":"([^"]*)","kind":"(request|checkpoint|repair)"/;
const PREV = /,"prev":"([0-9a-f]{64})"\}$/;

/** What is wrong, as a stable code (tests and scripts switch on it; `what` is for people). */
export type VerifyProblemCode =
  | "malformed" // not a Tessera record line (no trailing hash, not JSON, no seq)
  | "reordered" // seq goes back
  | "missing" // seq skips
  | "unchained" // prev is not the previous record's hash
  | "edited" // the line's bytes do not match its hash
  | "checkpoint-covers" // a checkpoint does not cover the record before it
  | "checkpoint-signer" // signed by another key
  | "checkpoint-signature" // the signature does not verify
  | "checkpoint-node" // the checkpoint names another node than the chain's
  | "unresolved" // a compact record refers to a context no earlier record of the trail spelt out
  | "unanchored" // a trail that starts after seq 1 (older files removed) does not spell out its first record's prev
  | "head-differs" // the record at the server's head seq is not the server's
  | "truncated" // the trail ends before the server's head
  | "open-tail"; // the trail does not end in a final checkpoint (cut short, or live)

export interface VerifyReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  /** Repair records: the server cut a torn tail or copied missing records at a start after a crash. */
  repairs: number;
  firstSeq: number | null;
  lastSeq: number | null;
  firstTime: string | null;
  lastTime: string | null;
  /** Hash of the last record (compare with the server's head to detect a truncated tail). */
  headHash: string | null;
  lastCheckpointSeq: number | null;
  /** The trail ends in the final checkpoint of a clean shutdown. */
  final: boolean;
  /** Records after the last checkpoint: not yet covered by a signature. */
  unsignedTail: number;
  problem?: { code: VerifyProblemCode; seq: number | null; where: string; what: string };
}

export interface VerifyOptions {
  /** Checkpoint public key (SPKI PEM). Without it, signatures are not checked (reported). */
  publicKey?: string;
  /**
   * A head the trail must reach (e.g. the server's, fetched before reading): the record with that seq
   * must be present with that hash. Catches a truncated tail; later records are fine.
   */
  expectHead?: { seq: number; hash: string };
  /**
   * Accept a trail that does not end in a final checkpoint (a live server's). Without it such a trail
   * fails `open-tail`: a copy cut short after a clean shutdown would otherwise verify.
   */
  allowOpenTail?: boolean;
  /**
   * The node whose chain this is (several nodes on one database): a checkpoint naming another node
   * fails `checkpoint-node`. Checkpoints that name no node (written before the node joined a
   * cluster, e.g. a migrated single node's) are accepted.
   */
  node?: string;
  /**
   * The trail's oldest files were removed (retention): accept a trail whose first record is not seq 1,
   * provided that record spells out its `prev` (the first record of every file does). What comes
   * before it cannot be checked; what follows is chained to it and signed by the checkpoints after it.
   */
  retained?: boolean;
}

/** Lines of a trail in order, in chunks (per-line async iteration costs more than verifying a line). */
export interface TrailChunk {
  lines: readonly string[];
  /** Where line `i` of this chunk came from, for reports (file:line, server seq …). */
  where(i: number): string;
}

/** A line that checked: its seq and hash, and the parsed record unless it was a request (fast path). */
export type CheckedLine =
  | {
      ok: true;
      seq: number;
      time: string;
      hash: string;
      kind: string;
      record: AuditRecord | undefined;
      /** Format 2: the seq of the record whose context this one refers to, or `defines` when it spells it out. */
      ref?: number;
      defines?: boolean;
    }
  | { ok: false; code: VerifyProblemCode; seq: number | null; what: string };

/**
 * Checks one line on its own (canonical shape, hash over its bytes) and against the record before it
 * (`prev`: consecutive seq, chained hash). Without `prev` only the line itself is checked (the first
 * line of a rotated file, whose predecessor is in another file).
 */
export function checkLine(line: string, prev: { seq: number; hash: string } | undefined): CheckedLine {
  if (line.startsWith(V2_PREFIX)) return checkV2(line, prev);
  // The hash covers the line's own bytes (all but the trailing hash field), so any changed byte shows.
  const parts = splitLine(line);
  if (parts === undefined) return { ok: false, code: "malformed", seq: null, what: "not a Tessera audit record (no trailing hash)" };
  // Fast path: the canonical form starts with seq, time, kind and ends with prev, so a request record
  // is checked without parsing all of it; other kinds are parsed in full.
  const head = HEAD.exec(parts.body);
  const tail = PREV.exec(parts.body);
  let seq: unknown;
  let time: unknown;
  let kind: unknown;
  let prevHash: unknown;
  let record: AuditRecord | undefined;
  if (head !== null && tail !== null && head[3] === "request") {
    [seq, time, kind, prevHash] = [Number(head[1]), head[2], head[3], tail[1]];
  } else {
    try {
      record = JSON.parse(line) as AuditRecord;
    } catch {
      return { ok: false, code: "malformed", seq: null, what: "not a JSON record" };
    }
    [seq, time, kind, prevHash] = [record.seq, record.time, record.kind, record.prev];
  }
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, code: "malformed", seq: null, what: "record has no sequence number" };
  if (prev !== undefined && seq !== prev.seq + 1) {
    return seq <= prev.seq
      ? { ok: false, code: "reordered", seq, what: `sequence goes back from ${prev.seq} to ${seq} (reordered or duplicated)` }
      : { ok: false, code: "missing", seq, what: `records ${prev.seq + 1}–${seq - 1} are missing (deleted or moved)` };
  }
  if (prev !== undefined && prevHash !== prev.hash) {
    return { ok: false, code: "unchained", seq, what: "does not chain to the previous record (prev hash differs): a record before it was changed, removed or inserted" };
  }
  if (sha256Hex(parts.body) !== parts.hash || (record !== undefined && record.hash !== parts.hash)) {
    return { ok: false, code: "edited", seq, what: "content does not match its hash (the record was edited)" };
  }
  return { ok: true, seq, time: String(time), hash: parts.hash, kind: String(kind), record };
}

/**
 * A compact (format 2) request line: its hash covers its bytes with the previous record's hash as
 * `prev` (compact.ts). Without a previous record, the line must spell out `P`; if it does not, only its
 * shape is checked (`anchored: false`, the first line of a file written before rotation was noticed).
 */
function checkV2(line: string, prev: { seq: number; hash: string } | undefined): CheckedLine {
  const parts = splitV2(line);
  let r: ParsedV2;
  try {
    if (parts === undefined) throw new Error("no hash");
    r = JSON.parse(line) as ParsedV2;
  } catch {
    return { ok: false, code: "malformed", seq: null, what: "not a Tessera audit record (compact record without a trailing hash, or not JSON)" };
  }
  const { s: seq, t } = r;
  if (typeof seq !== "number" || !Number.isSafeInteger(seq) || seq < 1) return { ok: false, code: "malformed", seq: null, what: "record has no sequence number" };
  if (typeof t !== "number" || !Number.isSafeInteger(t)) return { ok: false, code: "malformed", seq, what: "compact record has no time (epoch milliseconds)" };
  if (r.c !== undefined && (typeof r.c !== "number" || !Number.isSafeInteger(r.c) || r.c >= seq || r.x !== undefined)) {
    return { ok: false, code: "malformed", seq, what: "compact record's context reference is not an earlier record" };
  }
  if (r.c === undefined && (typeof r.x !== "object" || r.x === null)) return { ok: false, code: "malformed", seq, what: "compact record has no context" };
  if (prev !== undefined && seq !== prev.seq + 1) {
    return seq <= prev.seq
      ? { ok: false, code: "reordered", seq, what: `sequence goes back from ${prev.seq} to ${seq} (reordered or duplicated)` }
      : { ok: false, code: "missing", seq, what: `records ${prev.seq + 1}–${seq - 1} are missing (deleted or moved)` };
  }
  if (r.P !== undefined && prev !== undefined && r.P !== prev.hash) {
    return { ok: false, code: "unchained", seq, what: "does not chain to the previous record (prev hash differs): a record before it was changed, removed or inserted" };
  }
  const prevHex = r.P ?? prev?.hash;
  const time = new Date(t).toISOString();
  const ok = { ok: true as const, seq, time, hash: parts!.hash, kind: "request", record: undefined, ...(r.c !== undefined ? { ref: r.c } : { defines: true }) };
  if (prevHex === undefined) return ok;
  // With `prev` implicit, a changed or removed predecessor shows here as a hash mismatch.
  if (sha256Hex(v2HashedText(parts!.body, prevHex)) !== parts!.hash) {
    return { ok: false, code: "edited", seq, what: "content does not match its hash (the record was edited, or the record before it was changed, removed or inserted)" };
  }
  return ok;
}

export async function verifyTrail(chunks: AsyncIterable<TrailChunk>, options: VerifyOptions = {}): Promise<VerifyReport> {
  const key: KeyObject | undefined = options.publicKey === undefined ? undefined : createPublicKey(options.publicKey);
  const signer = key === undefined ? undefined : createHash("sha256").update(key.export({ type: "spki", format: "der" })).digest("hex").slice(0, 32);
  const report: VerifyReport = {
    ok: true,
    entries: 0,
    checkpoints: 0,
    repairs: 0,
    firstSeq: null,
    lastSeq: null,
    firstTime: null,
    lastTime: null,
    headHash: null,
    lastCheckpointSeq: null,
    final: false,
    unsignedTail: 0,
  };
  const fail = (code: VerifyProblemCode, seq: number | null, where: string, what: string): VerifyReport => ({ ...report, ok: false, problem: { code, seq, where, what } });
  let prev: { seq: number; hash: string } | undefined = { seq: 0, hash: GENESIS };
  let reachedHead = false;
  // Format 2: the seqs of records that spell out a context (references must point at one of them).
  const contexts = new Set<number>();
  for await (const chunk of chunks)
  for (let i = 0; i < chunk.lines.length; i++) {
    const line = chunk.lines[i]!;
    if (line.length === 0) continue;
    const where = (): string => chunk.where(i);
    if (prev?.seq === 0 && options.retained === true && !/^\{"(?:seq|v)":(?:1,|2,"s":1,)/.test(line)) {
      // A retained tail: the first record anchors the chain by spelling out its prev.
      prev = undefined;
    }
    const c = checkLine(line, prev);
    if (!c.ok) return fail(c.code, c.seq, where(), c.what);
    const { seq } = c;
    if (prev === undefined && !/,"P":"[0-9a-f]{64}","h":"[^"]*"\}$|,"prev":"[0-9a-f]{64}","hash":"[0-9a-f]{64}"\}$/.test(line)) {
      return fail("unanchored", seq, where(), "the trail starts after seq 1 but its first record does not spell out the hash it chains to");
    }
    if (c.defines === true) contexts.add(seq);
    if (c.ref !== undefined && !contexts.has(c.ref) && report.firstSeq !== null && c.ref >= report.firstSeq) {
      return fail("unresolved", seq, where(), `refers to the context of record ${c.ref}, which does not spell one out`);
    }
    report.final = false;
    if (c.kind === "checkpoint") {
      const r = c.record as CheckpointRecord;
      if (prev === undefined ? r.covers?.seq !== seq - 1 || r.covers.hash !== r.prev : r.covers?.seq !== prev.seq || r.covers.hash !== prev.hash) return fail("checkpoint-covers", seq, where(), "checkpoint does not cover the record before it");
      if (r.final !== undefined && r.final !== true) return fail("malformed", seq, where(), "checkpoint's final field is not true");
      if (r.node !== undefined && options.node !== undefined && r.node !== options.node) {
        return fail("checkpoint-node", seq, where(), `checkpoint names node "${r.node}", not "${options.node}": it belongs to another node's chain`);
      }
      if (key !== undefined) {
        if (r.signer !== signer) return fail("checkpoint-signer", seq, where(), "checkpoint was signed by a different key");
        if (typeof r.signature !== "string" || !verifySignature(null, checkpointMessage(r), key, Buffer.from(r.signature, "base64"))) {
          return fail("checkpoint-signature", seq, where(), "checkpoint signature does not verify");
        }
      }
      report.checkpoints++;
      report.lastCheckpointSeq = seq;
      report.unsignedTail = 0;
      report.final = r.final === true;
    } else {
      if (c.kind === "repair") report.repairs++;
      else report.entries++;
      report.unsignedTail++;
    }
    if (options.expectHead !== undefined && seq === options.expectHead.seq) {
      if (c.hash !== options.expectHead.hash) return fail("head-differs", seq, where(), "this record differs from the one the server holds at that sequence number");
      reachedHead = true;
    }
    report.firstSeq ??= seq;
    report.firstTime ??= c.time;
    report.lastSeq = seq;
    report.lastTime = c.time;
    prev = { seq, hash: c.hash };
  }
  report.headHash = report.lastSeq === null || prev === undefined ? null : prev.hash;
  const expect = options.expectHead;
  const lastSeq = prev?.seq ?? 0;
  if (expect !== undefined && !reachedHead) {
    return fail("truncated", lastSeq, "end of trail", `the trail ends at ${lastSeq} but the server's head is ${expect.seq}: the tail was truncated`);
  }
  if (options.retained === true && (report.firstSeq ?? 1) > 1 && report.checkpoints === 0) {
    return fail("unanchored", report.lastSeq, "end of trail", "the trail starts after seq 1 and holds no checkpoint: nothing signed anchors it");
  }
  if (!report.final && options.allowOpenTail !== true) {
    const what =
      report.lastSeq === null
        ? "the trail is empty"
        : report.lastCheckpointSeq === null
          ? `${report.unsignedTail} records and no checkpoint`
          : report.unsignedTail > 0
            ? `${report.unsignedTail} records after the last checkpoint, seq ${report.lastCheckpointSeq}`
            : `the last checkpoint, seq ${report.lastCheckpointSeq}, is not final`;
    return fail("open-tail", report.lastSeq, "end of trail", `open tail: ${what}; the trail does not end in the final checkpoint of a clean shutdown (cut short? for a live trail give --allow-open-tail)`);
  }
  return report;
}
