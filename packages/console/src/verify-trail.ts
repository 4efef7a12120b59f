/**
 * "Verify trail" in the browser, independently of the server's own checks: reads this node's raw
 * trail lines (`GET /v1/audit/lines`) and the audit public key, and checks what `tessera audit verify
 * --server --allow-open-tail` checks (packages/audit/src/verify.ts): every line's SHA-256 over its own
 * bytes, consecutive sequence numbers, each record chained to the one before, every checkpoint covering
 * the record before it and signed (Ed25519, WebCrypto) by the audit key, and the server's head reached.
 * Reads both record formats (docs/audit.md): format 1 (`{"seq":…`, explicit `prev`, hex `hash`) and
 * compact format 2 (`{"v":2,"s":…`, `prev` implicit: the hash covers the line without `h` plus
 * `,"prev":"<previous hash, hex>"}`; `h` base64url; a context reference must name an earlier record
 * that spelt one out).
 */
import { api } from "./api.js";

const GENESIS = "0".repeat(64);
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;
const V2_SUFFIX = /,"h":"([A-Za-z0-9_-]{43})"\}$/;

export interface TrailReport {
  ok: boolean;
  entries: number;
  checkpoints: number;
  lastSeq: number | null;
  signaturesChecked: boolean;
  problem?: { seq: number | null; what: string };
}

const hex = (b: ArrayBuffer) => [...new Uint8Array(b)].map((x) => x.toString(16).padStart(2, "0")).join("");
const sha256 = async (text: string) => hex(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
const fromB64 = (s: string): Uint8Array<ArrayBuffer> => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
const b64urlToHex = (s: string) => hex(fromB64(s.replace(/-/g, "+").replace(/_/g, "/") + "=").buffer);

interface Compact {
  v: 2;
  s: number;
  t: number;
  c?: number;
  x?: object;
  P?: string;
}

async function importKey(pem: string): Promise<{ key: CryptoKey; signer: string } | undefined> {
  const der = fromB64(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""));
  try {
    const key = await crypto.subtle.importKey("spki", der, { name: "Ed25519" }, false, ["verify"]);
    return { key, signer: (await sha256Bytes(der)).slice(0, 32) };
  } catch {
    return undefined;
  }
}
const sha256Bytes = async (b: Uint8Array<ArrayBuffer>) => hex(await crypto.subtle.digest("SHA-256", b));

interface Checkpoint {
  seq: number;
  time: string;
  kind: string;
  prev: string;
  covers?: { seq: number; hash: string };
  signer?: string;
  signature?: string;
  final?: boolean;
  node?: string;
}

export async function verifyTrail(): Promise<TrailReport> {
  const head = await api<{ seq: number; hash: string } | null>("GET", "/v1/audit/head");
  const { publicKey } = await api<{ publicKey: string }>("GET", "/v1/audit/public-key");
  const key = await importKey(publicKey);
  const report: TrailReport = { ok: true, entries: 0, checkpoints: 0, lastSeq: null, signaturesChecked: key !== undefined };
  const fail = (seq: number | null, what: string): TrailReport => ({ ...report, ok: false, problem: { seq, what } });
  let prev = { seq: 0, hash: GENESIS };
  let reachedHead = head === null;
  let after = 0;
  const contexts = new Set<number>();
  for (;;) {
    const page = await api<{ lines: string[]; nextAfter: number | null }>("GET", `/v1/audit/lines?after=${after}&limit=5000`);
    for (const line of page.lines) {
      if (line === "") continue;
      if (line.startsWith('{"v":2,')) {
        const m2 = V2_SUFFIX.exec(line);
        if (m2 === null) return fail(null, "a line is not a Tessera audit record");
        const r = JSON.parse(line) as Compact;
        if (r.s !== prev.seq + 1) return fail(r.s, r.s <= prev.seq ? `sequence goes back from ${prev.seq} to ${r.s}` : `records ${prev.seq + 1}–${r.s - 1} are missing`);
        if (r.P !== undefined && r.P !== prev.hash) return fail(r.s, "does not chain to the previous record");
        const h = b64urlToHex(m2[1]!);
        if ((await sha256(`${line.slice(0, m2.index)},"prev":"${prev.hash}"}`)) !== h) return fail(r.s, "content does not match its hash (edited, or the record before it changed)");
        if (r.c !== undefined && !contexts.has(r.c)) return fail(r.s, `refers to the context of record ${r.c}, which does not spell one out`);
        if (r.x !== undefined) contexts.add(r.s);
        report.entries++;
        if (head !== null && r.s === head.seq) {
          if (h !== head.hash) return fail(r.s, "this record differs from the one the server holds at that sequence number");
          reachedHead = true;
        }
        prev = { seq: r.s, hash: h };
        report.lastSeq = r.s;
        continue;
      }
      const m = HASH_SUFFIX.exec(line);
      if (m === null) return fail(null, "a line is not a Tessera audit record");
      const body = `${line.slice(0, m.index)}}`;
      const r = JSON.parse(line) as Checkpoint;
      if (r.seq !== prev.seq + 1) return fail(r.seq, r.seq <= prev.seq ? `sequence goes back from ${prev.seq} to ${r.seq}` : `records ${prev.seq + 1}–${r.seq - 1} are missing`);
      if (r.prev !== prev.hash) return fail(r.seq, "does not chain to the previous record");
      if ((await sha256(body)) !== m[1]) return fail(r.seq, "content does not match its hash (edited)");
      if (r.kind === "checkpoint") {
        if (r.covers?.seq !== prev.seq || r.covers.hash !== prev.hash) return fail(r.seq, "checkpoint does not cover the record before it");
        if (key !== undefined) {
          if (r.signer !== key.signer) return fail(r.seq, "checkpoint signed by a different key");
          const message = `tessera-audit-checkpoint|${r.covers.seq}|${r.covers.hash}|${r.time}${r.final === true ? "|final" : ""}${r.node !== undefined ? `|node=${r.node}` : ""}`;
          const good = typeof r.signature === "string" && (await crypto.subtle.verify({ name: "Ed25519" }, key.key, fromB64(r.signature), new TextEncoder().encode(message)));
          if (!good) return fail(r.seq, "checkpoint signature does not verify");
        }
        report.checkpoints++;
      } else report.entries++;
      if (head !== null && r.seq === head.seq) {
        if (m[1] !== head.hash) return fail(r.seq, "this record differs from the one the server holds at that sequence number");
        reachedHead = true;
      }
      prev = { seq: r.seq, hash: m[1]! };
      report.lastSeq = r.seq;
    }
    // Reading is itself audited: stop at a short page instead of chasing our own new records.
    if (page.nextAfter === null || page.lines.length < 5000) break;
    after = page.nextAfter;
  }
  if (!reachedHead) return fail(prev.seq, `the trail ends at ${prev.seq} but the server's head is ${head!.seq}`);
  return report;
}
