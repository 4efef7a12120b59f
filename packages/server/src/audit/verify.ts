/**
 * Verifies an audit trail: every line canonical and correctly hashed, sequence numbers consecutive,
 * each record chained to the one before, and every checkpoint signed by the audit key over the
 * record it covers. Reports the first bad record and what is wrong with it.
 */
import { createHash, createPublicKey, verify as verifySignature, type KeyObject } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { GENESIS, checkpointMessage, sha256Hex, splitLine, type AuditRecord } from "./record.js";

const HEAD = /^\{"seq":(\d{1,15}),"time":"([^"]*)","kind":"(request|checkpoint)"/;
const PREV = /,"prev":"([0-9a-f]{64})"\}$/;

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

/** Lines of a trail in order, in chunks (per-line async iteration costs more than verifying a line). */
export interface TrailChunk {
  lines: readonly string[];
  /** Where line `i` of this chunk came from, for reports (file:line, server seq …). */
  where(i: number): string;
}

export async function verifyTrail(chunks: AsyncIterable<TrailChunk>, options: VerifyOptions = {}): Promise<VerifyReport> {
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
  for await (const chunk of chunks)
  for (let i = 0; i < chunk.lines.length; i++) {
    const line = chunk.lines[i]!;
    if (line.length === 0) continue;
    const where = (): string => chunk.where(i);
    // The hash covers the line's own bytes (all but the trailing hash field), so any changed byte shows.
    const parts = splitLine(line);
    if (parts === undefined) return fail(null, where(), "not a Tessera audit record (no trailing hash)");
    // Fast path: the canonical form starts with seq, time, kind and ends with prev, so a request record
    // is checked without parsing all of it; checkpoints are parsed in full.
    const head = HEAD.exec(parts.body);
    const tail = PREV.exec(parts.body);
    let r: AuditRecord;
    if (head !== null && tail !== null && head[3] === "request") {
      r = { seq: Number(head[1]), time: head[2]!, kind: "request", prev: tail[1]!, hash: parts.hash } as AuditRecord;
    } else {
      try {
        r = JSON.parse(line) as AuditRecord;
      } catch {
        return fail(null, where(), "not a JSON record");
      }
    }
    const seq = typeof r.seq === "number" && Number.isSafeInteger(r.seq) ? r.seq : null;
    if (seq !== prevSeq + 1) {
      return fail(seq, where(), seq === null ? "record has no sequence number" : seq <= prevSeq ? `sequence goes back from ${prevSeq} to ${seq} (reordered or duplicated)` : `records ${prevSeq + 1}–${seq - 1} are missing (deleted or moved)`);
    }
    if (r.prev !== prevHash) return fail(seq, where(), "does not chain to the previous record (prev hash differs): a record before it was changed, removed or inserted");
    if (r.hash !== parts.hash || sha256Hex(parts.body) !== parts.hash) return fail(seq, where(), "content does not match its hash (the record was edited)");
    if (r.kind === "checkpoint") {
      if (r.covers.seq !== prevSeq || r.covers.hash !== prevHash) return fail(seq, where(), "checkpoint does not cover the record before it");
      if (key !== undefined) {
        if (r.signer !== signer) return fail(seq, where(), "checkpoint was signed by a different key");
        if (!verifySignature(null, checkpointMessage(r), key, Buffer.from(r.signature, "base64"))) return fail(seq, where(), "checkpoint signature does not verify");
      }
      report.checkpoints++;
      report.lastCheckpointSeq = seq;
      report.unsignedTail = 0;
    } else {
      report.entries++;
      report.unsignedTail++;
    }
    if (options.expectHead !== undefined && seq === options.expectHead.seq) {
      if (r.hash !== options.expectHead.hash) return fail(seq, where(), "this record differs from the one the server holds at that sequence number");
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
export async function* fileLines(paths: readonly string[]): AsyncGenerator<TrailChunk> {
  const firsts: { path: string; seq: number }[] = [];
  for (const path of paths) {
    // The first record's seq orders the files; an empty file sorts last.
    const fh = await open(path, "r");
    const buf = Buffer.alloc(64);
    const { bytesRead } = await fh.read(buf, 0, 64, 0);
    await fh.close();
    const m = /^\{"seq":(\d+)/.exec(buf.subarray(0, bytesRead).toString("utf8"));
    firsts.push({ path, seq: bytesRead === 0 ? Number.MAX_SAFE_INTEGER : m === null ? -1 : Number(m[1]) });
  }
  firsts.sort((a, b) => a.seq - b.seq);
  for (const { path } of firsts) {
    // Split by hand: readline costs more than hashing the lines it yields.
    let n = 0;
    let rest = "";
    for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
      const lines = (rest + (chunk as string)).split("\n");
      rest = lines.pop()!;
      const first = n;
      n += lines.length;
      yield { lines, where: (i) => `${path}:${first + i + 1}` };
    }
    if (rest.length > 0) yield { lines: [rest], where: () => `${path}:${n + 1}` };
  }
}

/** Reads a file trail (current file plus rotated ones) for queries when the database sink is off. */
export class FileTrailReader {
  constructor(private readonly path: string) {}

  private async files(): Promise<string[]> {
    const { readdir } = await import("node:fs/promises");
    const { basename, dirname, join } = await import("node:path");
    const dir = dirname(this.path);
    const base = basename(this.path);
    return (await readdir(dir)).filter((f) => f === base || f.startsWith(`${base}.`)).map((f) => join(dir, f));
  }

  async list(after: number, limit: number, range: { from?: string; to?: string } = {}): Promise<{ seq: number; line: string }[]> {
    const out: { seq: number; line: string }[] = [];
    for await (const chunk of fileLines(await this.files())) {
      for (const line of chunk.lines) {
        if (line.length === 0) continue;
        const r = JSON.parse(line) as { seq: number; time: string };
        if (r.seq <= after || (range.from !== undefined && r.time < range.from) || (range.to !== undefined && r.time > range.to)) continue;
        out.push({ seq: r.seq, line });
        if (out.length >= limit) return out;
      }
    }
    return out;
  }

  async last(): Promise<string | undefined> {
    let last: string | undefined;
    for await (const chunk of fileLines(await this.files())) for (const line of chunk.lines) if (line.length > 0) last = line;
    return last;
  }
}
