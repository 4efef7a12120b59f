/**
 * What commands print: JSON with the API's field names under `--json`, aligned text otherwise.
 * Results go to stdout; errors, hints and warnings go to stderr and never contain secrets.
 */
import type { Io } from "./io.js";

export type Cell = string | number | boolean | null | undefined;

export class Output {
  readonly json: boolean;
  readonly #io: Io;

  constructor(io: Io, json: boolean) {
    this.#io = io;
    this.json = json;
  }

  /** Prints `value` as JSON; used for every result under `--json`. */
  data(value: unknown): void {
    this.#io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  line(text = ""): void {
    this.#io.stdout.write(`${text}\n`);
  }

  bytes(value: Uint8Array): void {
    this.#io.stdout.write(value);
  }

  /** A note for the person at the terminal (stderr, so it never mixes with results). */
  note(text: string): void {
    this.#io.stderr.write(`${text}\n`);
  }

  /** `label  value` lines, labels aligned; rows whose value is `undefined` are skipped. */
  fields(rows: readonly (readonly [string, Cell])[]): void {
    const shown = rows.filter(([, value]) => value !== undefined);
    const width = Math.max(0, ...shown.map(([label]) => label.length));
    for (const [label, value] of shown) this.line(`${label.padEnd(width)}  ${cell(value)}`);
  }

  /** A table with a header row; columns padded to their widest cell. */
  table(headers: readonly string[], rows: readonly (readonly Cell[])[]): void {
    const text = rows.map((row) => row.map(cell));
    const widths = headers.map((h, i) => Math.max(h.length, ...text.map((row) => row[i]?.length ?? 0)));
    const format = (row: readonly string[]): string =>
      row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join("  ").trimEnd();
    this.line(format(headers));
    for (const row of text) this.line(format(row));
  }
}

function cell(value: Cell): string {
  return value === null || value === undefined || value === "" ? "-" : String(value);
}
