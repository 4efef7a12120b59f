/**
 * Trail lines as records for tests: format 1 lines parsed, compact format 2 lines decoded (context
 * references resolved, format 1's field names), in the order given — as `GET /v1/audit/entries` does.
 */
import { TrailDecoder } from "@tessera/audit";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function decodeLines(lines: readonly string[]): Record<string, any>[] {
  const decoder = new TrailDecoder();
  return lines.filter((l) => l.length > 0).map((l) => decoder.decode(l) as unknown as Record<string, unknown>);
}
