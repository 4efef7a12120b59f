/**
 * Audit records and their canonical form (docs/audit.md).
 *
 * A record is one JSON object per line. Its `hash` is SHA-256 (hex) over the canonical JSON of the
 * record without `hash`: the fields in the fixed order below, `hmac` keys sorted. Each record's
 * `prev` is the previous record's `hash` (the first record's `prev` is 64 zeros), so the trail is a
 * hash chain: editing, deleting, inserting or reordering any record breaks it. Checkpoint records sign
 * the chain head with Ed25519, so a trail cannot be rewritten wholesale without the signing key; the
 * checkpoint written at a clean shutdown is marked `final` (signed too), so a trail cut short after it
 * shows as an open tail.
 *
 * Verification reads a line's own bytes (`splitLine`), never re-serialises it: a field added to a kind
 * later (or a new kind, or a new `outcome` value) needs no change to verification.
 */
import { hash } from "node:crypto";

export const GENESIS = "0".repeat(64);

export interface RecordPrincipal {
  id: string;
  kind: string;
  displayName: string;
  role: string | null;
  authMethod: string;
}

interface RecordBase {
  seq: number;
  time: string;
  prev: string;
  hash: string;
}

export interface RequestRecord extends RecordBase {
  kind: "request";
  requestId: string;
  principal: RecordPrincipal | null;
  source: string;
  action: string;
  keyId: string | null;
  keyVersion: number | null;
  outcome: "allowed" | "denied" | "error" | "intent";
  errorCode: string | null;
  latencyMs: number;
  /** HMAC-SHA256 (hex, audit key) of sensitive request values, e.g. `context.vm`, `token`. */
  hmac: Record<string, string>;
  /** Non-sensitive facts in the clear (auditor.ts `AuditDetail`); absent from records that have none. */
  detail?: Record<string, string | number>;
}

export interface CheckpointRecord extends RecordBase {
  kind: "checkpoint";
  /** The record this checkpoint covers (the previous one): its seq and hash are what is signed. */
  covers: { seq: number; hash: string };
  /** Fingerprint (SHA-256 of the SPKI DER, hex, first 16 bytes) of the signing key. */
  signer: string;
  /**
   * Ed25519 signature (base64) over `tessera-audit-checkpoint|<seq>|<hash>|<time>`, plus `|final` when
   * final, plus `|node=<id>` when the checkpoint names its node.
   */
  signature: string;
  /**
   * Present, and `true`, only on the checkpoint written at a clean shutdown: the trail ends here (until
   * the next start chains on). Absent otherwise, so earlier checkpoints keep their exact bytes.
   */
  final?: true;
  /**
   * The node whose chain this checkpoint signs, when several nodes share one database and each writes
   * its own chain (docs/cluster.md). Signed, so a checkpoint cannot be passed off as another node's.
   * Absent on a single node's trail, whose checkpoints keep the form they always had.
   */
  node?: string;
}

/**
 * The server's record of a repair it made to a sink at start, after a crash: a torn tail cut back to
 * the last complete record, or records that other sinks held copied into one that missed them.
 */
export interface RepairRecord extends RecordBase {
  kind: "repair";
  /** The sink repaired (`file`, `database` …). */
  sink: string;
  repair: "cut-torn-tail" | "copied-missing";
  /** The sink's last complete record before the repair (0 for none). */
  afterSeq: number;
  /** Bytes cut (or copied) and their SHA-256 (hex). */
  bytes: number;
  sha256: string;
  /** Where the cut bytes were kept (a file name beside the trail), or null. */
  savedAs: string | null;
}

export type AuditRecord = RequestRecord | CheckpointRecord | RepairRecord;

export const checkpointMessage = (c: Pick<CheckpointRecord, "covers" | "time" | "final" | "node">): Buffer =>
  Buffer.from(`tessera-audit-checkpoint|${c.covers.seq}|${c.covers.hash}|${c.time}${c.final === true ? "|final" : ""}${c.node !== undefined ? `|node=${c.node}` : ""}`, "utf8");

function sortedObject<V>(o: Record<string, V>): Record<string, V> {
  const out: Record<string, V> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return out;
}

/** The record without `hash`, fields in canonical order. Unknown fields are dropped (and so fail verification). */
export function canonicalBody(r: AuditRecord): string {
  if (r.kind === "checkpoint") {
    return JSON.stringify({
      seq: r.seq,
      time: r.time,
      kind: r.kind,
      covers: { seq: r.covers.seq, hash: r.covers.hash },
      signer: r.signer,
      signature: r.signature,
      ...(r.final === true && { final: true }),
      ...(r.node !== undefined && { node: r.node }),
      prev: r.prev,
    });
  }
  if (r.kind === "repair") {
    return JSON.stringify({
      seq: r.seq,
      time: r.time,
      kind: r.kind,
      sink: r.sink,
      repair: r.repair,
      afterSeq: r.afterSeq,
      bytes: r.bytes,
      sha256: r.sha256,
      savedAs: r.savedAs,
      prev: r.prev,
    });
  }
  return JSON.stringify({
    seq: r.seq,
    time: r.time,
    kind: r.kind,
    requestId: r.requestId,
    principal:
      r.principal === null
        ? null
        : { id: r.principal.id, kind: r.principal.kind, displayName: r.principal.displayName, role: r.principal.role, authMethod: r.principal.authMethod },
    source: r.source,
    action: r.action,
    keyId: r.keyId,
    keyVersion: r.keyVersion,
    outcome: r.outcome,
    errorCode: r.errorCode,
    latencyMs: r.latencyMs,
    hmac: sortedObject(r.hmac),
    // Only present when there is detail, so records without it keep the form they always had.
    ...(r.detail !== undefined && Object.keys(r.detail).length > 0 && { detail: sortedObject(r.detail) }),
    prev: r.prev,
  });
}

export function recordHash(r: AuditRecord): string {
  return sha256Hex(canonicalBody(r));
}

/** The line written to sinks: the canonical body with `hash` appended as the last field. */
export function recordLine(r: AuditRecord): string {
  return lineOf(canonicalBody(r), r.hash);
}

export const lineOf = (body: string, hash: string): string => `${body.slice(0, -1)},"hash":"${hash}"}`;

/** Fills in `hash` and returns the sink line, serialising the record once. */
export function finishRecord(r: AuditRecord): string {
  const body = canonicalBody(r);
  r.hash = sha256Hex(body);
  return lineOf(body, r.hash);
}

const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

/**
 * For verification: the body the hash covers, read straight from a line's bytes (a line written by
 * Tessera is its canonical body plus the hash), and the hash it claims. Undefined if malformed.
 */
export function splitLine(line: string): { body: string; hash: string } | undefined {
  const m = HASH_SUFFIX.exec(line);
  if (m === null) return undefined;
  return { body: `${line.slice(0, m.index)}}`, hash: m[1]! };
}

/** One-shot SHA-256 (`crypto.hash`, Node ≥ 21.7): no Hash object per record, the verifier's hot loop. */
export const sha256Hex = (text: string): string => hash("sha256", text, "hex");
