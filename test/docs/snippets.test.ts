/** The snippet runner's own rules: which blocks run, and that a failure is traced to its page line. */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { echoChecks, failedScriptLine, shellBlocks, snippetScript } from "./snippets.js";

const PAGE = [
  "# Page", //                                   1
  "", //                                         2
  "<!-- not-run: starts a server -->", //        3
  "", //                                         4
  "```sh", //                                    5
  "tessera server --dev", //                     6
  "```", //                                      7
  "```json", //                                  8
  '{ "not": "shell" }', //                       9
  "```", //                                      10
  "1. A list item:", //                          11
  "   ```bash", //                               12
  "   X=$(echo made-here)", //                   13
  "   ```", //                                   14
  "```sh", //                                    15
  'test "$X" = made-here', //                    16
  "false   # fails here", //                     17
  "echo never", //                               18
  "```", //                                      19
].join("\n");

describe("shellBlocks", () => {
  it("finds sh and bash blocks (also indented ones), with their not-run reasons", () => {
    const blocks = shellBlocks(PAGE);
    expect(blocks.map((b) => [b.index, b.firstLine, b.notRun, b.lines])).toEqual([
      [1, 6, "starts a server", ["tessera server --dev"]],
      [2, 13, undefined, ["X=$(echo made-here)"]],
      [3, 16, undefined, ['test "$X" = made-here', "false   # fails here", "echo never"]],
    ]);
  });

  it("a marker applies only to the block right after it", () => {
    expect(shellBlocks("<!-- not-run: x -->\ntext\n```sh\ntrue\n```").map((b) => b.notRun)).toEqual([undefined]);
  });
});

describe("snippetScript", () => {
  it("runs the blocks of a page in one shell and names the page line of the command that failed", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-snippet-self-"));
    try {
      const { text, origin } = snippetScript(shellBlocks(PAGE));
      writeFileSync(join(dir, "s.sh"), text);
      const r = spawnSync("bash", [join(dir, "s.sh")], { encoding: "utf8" });
      expect(r.status).toBe(1);
      expect(r.stdout).not.toContain("never");
      const failed = failedScriptLine(r.stderr);
      expect(failed?.status).toBe(1);
      expect(origin[failed!.line]).toEqual({ block: 3, line: 17 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("an unset variable fails the page too (set -u), traced to its line", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-snippet-self-"));
    try {
      const { text, origin } = snippetScript(shellBlocks("```sh\ntrue\necho \"$NOT_SET\"\n```"));
      writeFileSync(join(dir, "s.sh"), text);
      const r = spawnSync("bash", [join(dir, "s.sh")], { encoding: "utf8" });
      expect(r.status).not.toBe(0);
      expect(origin[failedScriptLine(r.stderr)!.line]).toEqual({ block: 1, line: 3 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("echoChecks", () => {
  it("collects the messages of `… && echo MESSAGE` checks in runnable blocks, with their page lines", () => {
    const page = [
      "```sh", //                                                                       1
      'cmp a b && echo "identical files"', //                                           2
      "cmp a b && echo identical", //                                                   3
      "sh -c 'test \"$X\" = y && echo \"inside sh -c\"'", //                            4
      'echo "not a check"', //                                                          5
      'test -s f && echo "has $(wc -c < f) bytes"', //                                  6
      "```", //                                                                         7
      "<!-- not-run: x -->", //                                                         8
      "```sh", //                                                                       9
      'false && echo "in a block that does not run"', //                                10
      "```", //                                                                         11
    ].join("\n");
    expect(echoChecks(shellBlocks(page))).toEqual([
      { line: 2, message: "identical files" },
      { line: 3, message: "identical" },
      { line: 4, message: "inside sh -c" },
    ]);
  });

  it("the message of a failed check is missing from the output, although the script exits 0 (why the test looks for it)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-snippet-self-"));
    try {
      const blocks = shellBlocks('```sh\ntest 1 = 2 && echo "one is two"\necho done\n```');
      writeFileSync(join(dir, "s.sh"), snippetScript(blocks).text);
      const r = spawnSync("bash", [join(dir, "s.sh")], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe("done\n");
      expect(echoChecks(blocks)).toEqual([{ line: 2, message: "one is two" }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
