/**
 * "Verify trail" in the browser, independently of the server's own checks: reads this node's raw
 * trail lines (`GET /v1/audit/lines`) and the audit public key, and checks what `tessera audit verify
 * --server --allow-open-tail` checks (packages/audit/src/verify.ts): every line's SHA-256 over its own
 * bytes, consecutive sequence numbers, each record chained to the one before, every checkpoint covering
 * the record before it and signed (Ed25519, WebCrypto) by the audit key, and the server's head reached.
 */
import { api } from "./api.js";

const GENESIS = "0".repeat(64);
const HASH_SUFFIX = /,"hash":"([0-9a-f]{64})"\}$/;

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
  for (;;) {
    const page = await api<{ lines: string[]; nextAfter: number | null }>("GET", `/v1/audit/lines?after=${after}&limit=5000`);
    for (const line of page.lines) {
      if (line === "") continue;
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
