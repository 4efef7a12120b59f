/**
 * Shell blocks in the documentation, and the script that runs them the way a reader would: the
 * blocks of one page in order, in one shell, so a variable or file one block makes is there for the
 * next (see readme-snippets.test.ts for the conventions).
 */

/** Fence languages that are shell commands: every one of them is run unless marked. */
const SHELL_FENCE = /^(\s*)```(?:sh|bash|shell)\s*$/;
const CLOSING_FENCE = /^\s*```\s*$/;
/** `<!-- not-run: why -->` on the line before a block (blank lines between are allowed). */
const NOT_RUN = /^\s*<!--\s*not-run:(.*?)-->\s*$/;

export interface ShellBlock {
  /** 1-based index among the page's shell blocks. */
  index: number;
  /** 1-based line number of the first line inside the fence. */
  firstLine: number;
  /** The block's lines, with the fence's indentation removed. */
  lines: string[];
  /** Why the block is not run (its `not-run` marker), or undefined for a block that runs. */
  notRun: string | undefined;
}

export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split("\n");
  const blocks: ShellBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = SHELL_FENCE.exec(lines[i]!);
    if (open === null) continue;
    const indent = open[1]!.length;
    let end = i + 1;
    while (end < lines.length && !CLOSING_FENCE.test(lines[end]!)) end++;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const marker = before >= 0 ? NOT_RUN.exec(lines[before]!) : null;
    blocks.push({
      index: blocks.length + 1,
      firstLine: i + 2,
      lines: lines.slice(i + 1, end).map((l) => l.slice(Math.min(indent, l.length - l.trimStart().length))),
      notRun: marker === null ? undefined : marker[1]!.trim(),
    });
    i = end;
  }
  return blocks;
}

/** Printed by the script's ERR trap: the script line and exit status of the command that failed. */
export const FAILED_MARK = "__SNIPPET_FAILED__";

export interface SnippetScript {
  text: string;
  /** For each script line (1-based), the block and page line it came from. */
  origin: (undefined | { block: number; line: number })[];
}

/**
 * One bash script of the runnable blocks, in order, under `set -Eeuo pipefail`; a failing command's
 * line is reported by an ERR trap so the test can name the page line.
 */
export function snippetScript(blocks: readonly ShellBlock[]): SnippetScript {
  const text: string[] = ["set -Eeuo pipefail", `trap 'printf "\\n${FAILED_MARK} %s %s\\n" "$LINENO" "$?" >&2' ERR`];
  const origin: SnippetScript["origin"] = [undefined, undefined, undefined];
  for (const block of blocks) {
    if (block.notRun !== undefined) continue;
    block.lines.forEach((line, i) => {
      text.push(line);
      origin.push({ block: block.index, line: block.firstLine + i });
    });
  }
  return { text: `${text.join("\n")}\n`, origin };
}

/**
 * A line ending in `&& echo "message"` is a check the reader sees pass by its message; under `set -e`
 * a failing command before `&&` does not stop the script, so the test looks for the message instead.
 * Messages that expand variables or commands (`$`, backquotes) cannot be known in advance and are
 * not collected.
 */
const ECHO_CHECK = /&&\s*echo\s+(?:"([^"$`\\]+)"|([A-Za-z0-9_.,:-]+))'?\s*$/;

/** The messages of the runnable blocks' `… && echo MESSAGE` checks, with the page line of each. */
export function echoChecks(blocks: readonly ShellBlock[]): { line: number; message: string }[] {
  const checks: { line: number; message: string }[] = [];
  for (const block of blocks) {
    if (block.notRun !== undefined) continue;
    block.lines.forEach((text, i) => {
      const m = ECHO_CHECK.exec(text);
      if (m !== null) checks.push({ line: block.firstLine + i, message: (m[1] ?? m[2])! });
    });
  }
  return checks;
}

/** The script line a failure was reported at: the ERR trap's first mark, else bash's own "line N:". */
export function failedScriptLine(stderr: string): { line: number; status: number | undefined } | undefined {
  const mark = new RegExp(`^${FAILED_MARK} (\\d+) (\\d+)$`, "m").exec(stderr);
  if (mark !== null) return { line: Number(mark[1]), status: Number(mark[2]) };
  const shell = /: line (\d+): /.exec(stderr);
  return shell === null ? undefined : { line: Number(shell[1]), status: undefined };
}
