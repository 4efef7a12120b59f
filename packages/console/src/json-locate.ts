/**
 * Where each value of a JSON text starts, by JSON Pointer (RFC 6901), so a validation message that
 * names a field (`/statements/0/effect`) can point at its line. Also reports syntax errors with their
 * position. A small recursive-descent reader; JSON.parse remains the judge of validity.
 */
export interface Located {
  positions: Map<string, { start: number; end: number }>;
}

export function locate(text: string): Located {
  const positions = new Map<string, { start: number; end: number }>();
  let i = 0;
  const ws = () => {
    while (i < text.length && " \t\r\n".includes(text[i]!)) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (pointer: string, keyStart?: number): void => {
    ws();
    const start = i;
    const c = text[i];
    if (c === "{") {
      i++;
      ws();
      while (i < text.length && text[i] !== "}") {
        ws();
        const ks = i;
        const k = str();
        ws();
        i++; // ':'
        value(`${pointer}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`, ks);
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (c === "[") {
      i++;
      let n = 0;
      ws();
      while (i < text.length && text[i] !== "]") {
        value(`${pointer}/${n++}`);
        ws();
        if (text[i] === ",") i++;
        ws();
      }
      i++;
    } else if (c === '"') str();
    else while (i < text.length && !",}] \t\r\n".includes(text[i]!)) i++;
    positions.set(pointer, { start: keyStart ?? start, end: i });
  };
  try {
    value("");
  } catch {
    // Malformed text: the positions found so far are still right.
  }
  return { positions };
}

/** The 1-based line and column of an offset. */
export function lineOf(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split("\n");
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

/** The offset of a JSON.parse SyntaxError, when the engine says ("… at position 42"). */
export function syntaxErrorOffset(err: unknown, text: string): number | undefined {
  const m = /position (\d+)/.exec(String((err as Error).message));
  if (m !== null) return Number(m[1]);
  const lc = /line (\d+) column (\d+)/.exec(String((err as Error).message));
  if (lc === null) return undefined;
  const lines = text.split("\n").slice(0, Number(lc[1]) - 1);
  return lines.reduce((s, l) => s + l.length + 1, 0) + Number(lc[2]) - 1;
}
