/**
 * Every shell snippet in README.md, packages/cli/README.md and docs/ runs as written on a dev server.
 *
 * How a page is run, as a reader following it would:
 * - its ```sh (or bash/shell) blocks, in order, in one bash process under `set -Eeuo pipefail`, so a
 *   variable or file made by one block is there for the next;
 * - against a fresh `tessera server --dev` of its own (with `--dev-tls` for pages whose dev server
 *   block says so: DEV_SERVER_FLAGS), with TESSERA_ADDR and TESSERA_TOKEN (and TESSERA_CACERT) exported
 *   as the dev server prints them, `tessera` on PATH (a temp bin dir running bin/tessera, as `npm link`
 *   installs it, but refusing `tessera server`), HOME and the working directory in a fresh temp dir,
 *   stdin empty; the whole process group is killed when the script ends;
 * - a failing command fails the test, naming the page, block and line; so does a check written as
 *   `… && echo "message"` whose message is missing from the output (`set -e` lets a failing command
 *   before `&&` pass silently).
 *
 * A block that cannot run in a test says so in the page, on the line before it:
 *
 *     <!-- not-run: why (e.g. "starts the server in the foreground; the test starts its own") -->
 *
 * Keep those few: a command that needs a production host, a real identity provider or a long time,
 * or that sets up the reader's own shell (starting the server, exporting its address and token).
 * Everything else a page shows must work on a dev server exactly as written.
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, REPO, startServer } from "../helpers/server-process.js";
import { echoChecks, failedScriptLine, shellBlocks, snippetScript, type ShellBlock } from "./snippets.js";

/** Pages whose snippets expect a dev server started with more flags (their not-run dev-server block shows them). */
const DEV_SERVER_FLAGS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  "docs/machine-identity.md": ["--dev-tls"],
  "docs/scenarios/payment-cluster.md": ["--dev-tls"],
  "docs/agent.md": ["--dev-tls"],
});

const ROOT_TOKEN = "snippets-root-token";
const SCRIPT_TIMEOUT_MS = 300_000;

function pages(): string[] {
  const docs = (dir: string): string[] =>
    readdirSync(join(REPO, dir), { withFileTypes: true }).flatMap((e) =>
      e.isDirectory() ? docs(join(dir, e.name)) : e.name.endsWith(".md") ? [join(dir, e.name)] : [],
    );
  return ["README.md", "packages/cli/README.md", ...docs("docs").sort()];
}

function blocksOf(page: string): ShellBlock[] {
  return shellBlocks(readFileSync(join(REPO, page), "utf8"));
}

const work = mkdtempSync(join(tmpdir(), "tessera-snippets-"));
const bin = join(work, "bin");

beforeAll(() => {
  for (const tool of ["bash", "jq", "curl"]) {
    expect(spawnSync(tool, ["--version"], { stdio: "ignore" }).status, `the documentation's snippets need \`${tool}\` on PATH`).toBe(0);
  }
  mkdirSync(bin);
  // `tessera` as `npm link` installs it — except that a snippet may not start a server: the test gives
  // each page its own on a free port, and a snippet's `tessera server` would take the reader's port 8200.
  const wrapper = join(bin, "tessera");
  writeFileSync(
    wrapper,
    [
      "#!/bin/sh",
      'if [ "${1-}" = server ]; then echo "snippets: tessera server must be in a not-run block (the test starts the server)" >&2; exit 97; fi',
      `exec ${JSON.stringify(BIN)} "$@"`,
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
});
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
});

/**
 * Runs the script in a process group of its own, killed as a whole when the script ends or times
 * out, so nothing a snippet started in the background outlives the test.
 */
function runScript(script: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [script], { cwd, env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    const killGroup = () => {
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = setTimeout(killGroup, SCRIPT_TIMEOUT_MS);
    let output = "";
    let stderr = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => {
      output += d;
      stderr += d;
    });
    child.once("error", reject);
    child.once("exit", (code) => {
      clearTimeout(timer);
      killGroup();
      // Output still buffered in the pipes arrives before "close".
      child.once("close", () => resolve({ code, output, stderr }));
    });
  });
}

describe("documentation snippets", () => {
  it("every not-run marker says why", () => {
    for (const page of pages()) {
      for (const b of shellBlocks(readFileSync(join(REPO, page), "utf8"))) {
        if (b.notRun !== undefined) expect(b.notRun, `${page}:${b.firstLine - 1}: a not-run marker needs a reason`).not.toBe("");
      }
    }
  });

  const runnable = pages().filter((page) => blocksOf(page).some((b) => b.notRun === undefined));

  it("finds the pages with snippets", () => {
    expect(runnable).toEqual(expect.arrayContaining(["README.md", "packages/cli/README.md", "docs/scenarios/payment-cluster.md"]));
  });

  it.each(runnable)("%s runs as written on a dev server", async (page) => {
    const dir = join(work, page.replaceAll("/", "_"));
    const home = join(dir, "home");
    mkdirSync(home, { recursive: true });
    const tls = DEV_SERVER_FLAGS[page]?.includes("--dev-tls") === true;
    const data = join(dir, "server-data");
    const server = await startServer(
      ["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT_TOKEN, ...(tls ? ["--data", data] : []), ...(DEV_SERVER_FLAGS[page] ?? [])],
      { scheme: tls ? "https" : "http" },
    );
    try {
      const { text, origin } = snippetScript(blocksOf(page));
      const script = join(dir, "snippets.sh");
      writeFileSync(script, text);
      const env: NodeJS.ProcessEnv = { ...process.env };
      for (const name of Object.keys(env)) if (name.startsWith("TESSERA_") || name.startsWith("AWS_")) delete env[name];
      Object.assign(env, {
        PATH: `${bin}:${process.env["PATH"] ?? ""}`,
        HOME: home,
        TESSERA_ADDR: server.url,
        TESSERA_TOKEN: ROOT_TOKEN,
        ...(tls && { TESSERA_CACERT: join(data, "ca.pem") }),
      });
      const r = await runScript(script, dir, env);
      if (r.code !== 0) {
        const failed = failedScriptLine(r.stderr);
        const from = failed === undefined ? undefined : origin[failed.line];
        const source = readFileSync(join(REPO, page), "utf8").split("\n");
        const where =
          from === undefined
            ? `${page}: a snippet failed (exit ${r.code})`
            : `${page}:${from.line}, block ${from.block}: \`${source[from.line - 1]!.trim()}\` failed${failed?.status === undefined ? "" : ` with exit status ${failed.status}`}`;
        expect.fail(`${where}\n--- output (last 40 lines) ---\n${r.output.split("\n").slice(-40).join("\n")}`);
      }
      for (const check of echoChecks(blocksOf(page))) {
        expect(r.output.includes(check.message), `${page}:${check.line}: the check before \`&& echo "${check.message}"\` failed (its message is not in the output)`).toBe(true);
      }
    } finally {
      await server.stop();
    }
  }, SCRIPT_TIMEOUT_MS + 60_000);
});
