/**
 * Compact request records (format 2, docs/audit.md "Compact request records").
 *
 * A request record of format 2 is one JSON line with one-letter fields in this fixed order:
 *
 *   {"v":2,"s":<seq>,"t":<epoch ms>,("u":<UUID as 22 base64url>|"i":<request id>),
 *    ("c":<seq of the record that spelt the context out>|"x":{<context>}),"l":<latency ms>,
 *    ["m":{<hmac, keys sorted>},]["d":{<detail, keys sorted>},]["P":"<prev hash, hex>",]"h":"<hash, base64url>"}
 *
 * Invariants:
 * - `prev` is implicit: the hash covers the line's bytes up to `,"h":` with `,"prev":"<hex of the previous
 *   record's hash>"}` appended — so each record is still chained to the one before it, but the 64
 *   characters are not written. The first record of each file spells `P` out, so a file (or a
 *   retained tail) can be hash-checked from its first line.
 * - The chain's hash values are the same 32 bytes whatever the format; hex is their canonical text
 *   (checkpoints, heads, `prev`), base64url only how a format-2 line writes its own `h`.
 * - The context (principal, source, action, key, version, outcome, error code) is spelt out (`x`) the
 *   first time a file sees it; later records refer to that record's seq (`c`). A reference always
 *   points back into the same file (the writer starts afresh in each file), so deleting old files
 *   never leaves a reference unresolved.
 * - No null fields: an absent principal, key, version or error code is absent from `x`.
 */
import { hash } from "node:crypto";
import type { RecordPrincipal, RequestRecord } from "./record.js";

export const V2_PREFIX = '{"v":2,';

/** What a format-2 request record interns: the fields that repeat from request to request. */
export interface RequestContext {
  principal: RecordPrincipal | null;
  source: string;
  action: string;
  keyId: string | null;
  keyVersion: number | null;
  outcome: RequestRecord["outcome"];
  errorCode: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The context's canonical JSON (`x`): fixed field order, absent instead of null. Also the interning key. */
export function contextJson(c: RequestContext): string {
  const p = c.principal;
  return JSON.stringify({
    ...(p !== null && {
      principal: { id: p.id, kind: p.kind, displayName: p.displayName, ...(p.role !== null && { role: p.role }), authMethod: p.authMethod },
    }),
    source: c.source,
    action: c.action,
    ...(c.keyId !== null && { keyId: c.keyId }),
    ...(c.keyVersion !== null && { keyVersion: c.keyVersion }),
    outcome: c.outcome,
    ...(c.errorCode !== null && { errorCode: c.errorCode }),
  });
}

function sortedJson(o: Readonly<Record<string, string | number>>): string {
  const out: Record<string, string | number> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k]!;
  return JSON.stringify(out);
}

/** The text a format-2 line's hash covers: the line without `h`, with the previous record's hash (hex) as `prev`. */
export const v2HashedText = (bodyWithoutHash: string, prevHex: string): string => `${bodyWithoutHash},"prev":"${prevHex}"}`;

export interface EncodedV2 {
  line: string;
  /** The record's hash, hex (the chain's canonical text). */
  hash: string;
}

/**
 * Encodes a request record in format 2. `context` is either the record's context spelt out (its JSON,
 * from `contextJson`) or the seq of the record that spelt it out; `explicitPrev` writes `P` (the first
 * record of a file).
 */
export function encodeRequestV2(r: Omit<RequestRecord, "hash">, context: string | number, explicitPrev: boolean): EncodedV2 {
  const id = UUID.test(r.requestId) ? `"u":"${Buffer.from(r.requestId.replaceAll("-", ""), "hex").toString("base64url")}"` : `"i":${JSON.stringify(r.requestId)}`;
  const ctx = typeof context === "number" ? `"c":${context}` : `"x":${context}`;
  const hmac = Object.keys(r.hmac).length > 0 ? `,"m":${sortedJson(r.hmac)}` : "";
  const detail = r.detail !== undefined && Object.keys(r.detail).length > 0 ? `,"d":${sortedJson(r.detail)}` : "";
  const body = `{"v":2,"s":${r.seq},"t":${Date.parse(r.time)},${id},${ctx},"l":${JSON.stringify(r.latencyMs)}${hmac}${detail}${explicitPrev ? `,"P":"${r.prev}"` : ""}`;
  // Hex first, then its bytes in base64url: on Node 24 `hash(…, "buffer")` costs several times as much.
  const hex = hash("sha256", v2HashedText(body, r.prev), "hex");
  return { line: `${body},"h":"${Buffer.from(hex, "hex").toString("base64url")}"}`, hash: hex };
}

const V2_SUFFIX = /,"h":"([A-Za-z0-9_-]{43})"\}$/;

/** A format-2 line as parsed (the verifier's and readers' view). */
export interface ParsedV2 {
  v: 2;
  s: number;
  t: number;
  u?: string;
  i?: string;
  c?: number;
  x?: Partial<RequestContext> & { principal?: Partial<RecordPrincipal> };
  l: number;
  m?: Record<string, string>;
  d?: Record<string, string | number>;
  P?: string;
  h: string;
}

/** Splits a format-2 line into the body its hash covers (without `prev`) and its hash as hex. */
export function splitV2(line: string): { body: string; hash: string } | undefined {
  const m = V2_SUFFIX.exec(line);
  if (m === null) return undefined;
  return { body: line.slice(0, m.index), hash: Buffer.from(m[1]!, "base64url").toString("hex") };
}

/** Expands a parsed context (`x`) to the full one, nulls where absent. */
export function expandContext(x: NonNullable<ParsedV2["x"]>): RequestContext {
  const p = x.principal;
  return {
    principal:
      p === undefined
        ? null
        : { id: String(p.id), kind: String(p.kind), displayName: String(p.displayName), role: p.role ?? null, authMethod: String(p.authMethod) },
    source: String(x.source),
    action: String(x.action),
    keyId: x.keyId ?? null,
    keyVersion: x.keyVersion ?? null,
    outcome: x.outcome ?? "allowed",
    errorCode: x.errorCode ?? null,
  };
}

/**
 * A format-2 line as the request record it stands for (format 1's fields, hash in hex), the context
 * found through `resolve` when the line refers to an earlier record. `prev` is set only when the line
 * spells it out. An unresolvable reference leaves the context fields null and names the seq in `context`.
 */
export function decodeV2(p: ParsedV2, hashHex: string, resolve: (seq: number) => RequestContext | undefined): Omit<RequestRecord, "prev"> & { prev?: string; context?: number } {
  const ctx = p.x !== undefined ? expandContext(p.x) : p.c !== undefined ? resolve(p.c) : undefined;
  const requestId = p.u !== undefined ? uuidOf(p.u) : String(p.i);
  return {
    seq: p.s,
    time: new Date(p.t).toISOString(),
    kind: "request",
    requestId,
    principal: ctx?.principal ?? null,
    source: ctx?.source ?? "",
    action: ctx?.action ?? "",
    keyId: ctx?.keyId ?? null,
    keyVersion: ctx?.keyVersion ?? null,
    outcome: ctx?.outcome ?? "allowed",
    errorCode: ctx?.errorCode ?? null,
    latencyMs: p.l,
    hmac: p.m ?? {},
    ...(p.d !== undefined && { detail: p.d }),
    ...(p.P !== undefined && { prev: p.P }),
    ...(ctx === undefined && p.c !== undefined && { context: p.c }),
    hash: hashHex,
  };
}

function uuidOf(b64: string): string {
  const h = Buffer.from(b64, "base64url").toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
