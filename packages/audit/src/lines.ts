/**
 * Reading trail lines of either format: the head of a line (seq, hash, time) without parsing all of
 * it, and the record a line stands for, with format 2's context references resolved.
 */
import { V2_PREFIX, decodeV2, expandContext, splitV2, type ParsedV2, type RequestContext } from "./compact.js";
import { splitLine, type AuditRecord } from "./record.js";

/** A line's seq, hash (hex, whatever the format) and time (ISO); undefined when it is not a record line. */
export function lineHead(line: string): { seq: number; hash: string; time: string } | undefined {
  try {
    if (line.startsWith(V2_PREFIX)) {
      const parts = splitV2(line);
      const r = JSON.parse(line) as ParsedV2;
      return parts === undefined ? undefined : { seq: r.s, hash: parts.hash, time: new Date(r.t).toISOString() };
    }
    const parts = splitLine(line);
    const r = JSON.parse(line) as { seq: number; time: string };
    return parts === undefined ? undefined : { seq: r.seq, hash: parts.hash, time: r.time };
  } catch {
    return undefined;
  }
}

/** A record as readers see it: format 1's fields whatever the line's format (docs/audit.md). */
export type DecodedRecord = AuditRecord | (Omit<AuditRecord, "prev"> & { prev?: string; context?: number });

/**
 * Decodes the lines of one trail in order. It remembers the contexts that format-2 lines spell out
 * (a bounded number, newest kept), so later references resolve; a reference to a record it has not
 * seen (a query that starts mid-trail) is found by `unresolved` + `learn` from the line of that record.
 */
export class TrailDecoder {
  private readonly contexts = new Map<number, RequestContext>();

  constructor(private readonly limit = 100_000) {}

  /** The seq a format-2 line refers to for its context when this decoder does not know it yet. */
  unresolved(line: string): number | undefined {
    if (!line.startsWith(V2_PREFIX)) return undefined;
    const m = /^\{"v":2,"s":\d+,"t":-?\d+,"[ui]":"(?:[^"\\]|\\.)*","c":(\d+)/.exec(line);
    return m === null || this.contexts.has(Number(m[1])) ? undefined : Number(m[1]);
  }

  /** Remembers the context a line spells out (if it does). */
  learn(line: string): void {
    if (!line.startsWith(V2_PREFIX)) return;
    const r = JSON.parse(line) as ParsedV2;
    if (r.x !== undefined) this.remember(r.s, expandContext(r.x));
  }

  private remember(seq: number, c: RequestContext): void {
    if (this.contexts.size >= this.limit) this.contexts.delete(this.contexts.keys().next().value!);
    this.contexts.set(seq, c);
  }

  decode(line: string): DecodedRecord {
    if (!line.startsWith(V2_PREFIX)) return JSON.parse(line) as AuditRecord;
    const parts = splitV2(line);
    if (parts === undefined) throw new SyntaxError("not a Tessera audit record (no trailing hash)");
    const r = JSON.parse(line) as ParsedV2;
    if (r.x !== undefined) this.remember(r.s, expandContext(r.x));
    return decodeV2(r, parts.hash, (seq) => this.contexts.get(seq));
  }
}
