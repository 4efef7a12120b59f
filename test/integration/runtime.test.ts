/**
 * The runtime a new user gets from the README's two commands: Node.js 24 (the `node` devDependency
 * when the system's node is older), the CLI runnable from any node on PATH, and a dev server that
 * never outlives the process that started it.
 */
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, REPO, freePort } from "../helpers/server-process.js";

const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { engines: { node: string }; devDependencies: Record<string, string>; scripts: Record<string, string> };

/** A node older than 24 on this machine, if there is one. */
const olderNode = ["/usr/bin/node", "/usr/local/bin/node"].find(
  (p) => existsSync(p) && Number(spawnSync(p, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.trim().split(".")[0]) < 24,
);

describe("runtime", () => {
  it("runs the tests themselves on Node.js 24 or later", () => {
    expect(Number(process.versions.node.split(".")[0])).toBeGreaterThanOrEqual(24);
    expect(pkg.engines.node).toBe(">=24.11");
  });

  it("brings Node.js 24 as an exact devDependency, so `npm ci` works on a machine with an older node", () => {
    expect(pkg.devDependencies["node"]).toMatch(/^24\.\d+\.\d+$/);
    expect(existsSync(join(REPO, "node_modules", "node", "bin", "node"))).toBe(true);
  });

  it("uses node:sqlite, so installing the server compiles nothing", () => {
    const lock = readFileSync(join(REPO, "package-lock.json"), "utf8");
    expect(lock).not.toContain("better-sqlite3");
    expect(lock).not.toMatch(/"node_modules\/[^"]*(node-gyp-build|prebuild-install)"/);
  });

  // Debian's system node is 20 on these machines; where there is no older node the test is skipped (and says so).
  it.skipIf(olderNode === undefined)("bin/tessera started by an older node re-runs itself under the project's Node 24", () => {
    // Every node process reports its version on stderr as it starts: the older one, then the one it re-ran under.
    const dir = mkdtempSync(join(tmpdir(), "tessera-runtime-"));
    try {
      const probe = join(dir, "report-version.cjs");
      writeFileSync(probe, 'process.stderr.write("node-version " + process.versions.node + "\\n");\n');
      const r = spawnSync(olderNode!, [BIN, "--version"], { encoding: "utf8", timeout: 30_000, env: { ...process.env, NODE_OPTIONS: `--require ${probe}` } });
      expect(r.status).toBe(0);
      expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      const majors = [...r.stderr.matchAll(/^node-version (\d+)\./gm)].map((m) => Number(m[1]));
      expect(majors).toEqual([Number(spawnSync(olderNode!, ["-p", "process.versions.node"], { encoding: "utf8" }).stdout.split(".")[0]), 24]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("`tessera` (and `npm start`) runs with the young generation capped: the flag on bin/tessera's first line reaches node, also through the re-run under Node 24", () => {
    expect(readFileSync(BIN, "utf8").split("\n", 1)[0]).toBe("#!/usr/bin/env -S node --max-semi-space-size=16");
    expect(pkg.scripts["start"]).toContain("exec bin/tessera server --dev");
    const dir = mkdtempSync(join(tmpdir(), "tessera-runtime-"));
    try {
      const probe = join(dir, "report-flags.cjs");
      writeFileSync(probe, 'process.stderr.write("node-flags " + process.versions.node.split(".")[0] + " " + process.execArgv.join(" ") + "\\n");\n');
      const env = { ...process.env, NODE_OPTIONS: `--require ${probe}`, PATH: `${join(REPO, "node_modules", ".bin")}:${process.env["PATH"] ?? ""}` };
      // Executed as a program, as `npm start`, `npm link` and a service unit run it.
      const direct = spawnSync(BIN, ["--version"], { encoding: "utf8", timeout: 30_000, env });
      expect(direct.status, direct.stderr).toBe(0);
      expect(direct.stderr).toMatch(/^node-flags 24 --max-semi-space-size=16$/m);
      if (olderNode !== undefined) {
        const rerun = spawnSync(olderNode, [BIN, "--version"], { encoding: "utf8", timeout: 30_000, env });
        expect(rerun.status).toBe(0);
        expect(rerun.stderr).toMatch(/^node-flags 24 --max-semi-space-size=16$/m);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("a dev server started with --exit-with-parent stops when its parent is killed with SIGKILL", async () => {
    const port = await freePort();
    // parent: a node process that starts the server and then just waits (as npm does for `npm start`).
    const script = `const c=require("node:child_process").spawn(process.execPath,[${JSON.stringify(BIN)},"server","--dev","--listen","127.0.0.1:${port}","--exit-with-parent"],{stdio:["ignore","inherit","inherit"]});console.log("child",c.pid);setInterval(()=>{},1000);`;
    const parent = spawn(process.execPath, ["-e", script], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    parent.stdout!.on("data", (d) => (out += d));
    const deadline = Date.now() + 20_000;
    while (!out.includes("listening on") && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const childPid = Number(/child (\d+)/.exec(out)?.[1]);
    expect(childPid).toBeGreaterThan(0);
    expect(out).toContain("listening on");
    parent.kill("SIGKILL");
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    const stopBy = Date.now() + 10_000;
    while (alive(childPid) && Date.now() < stopBy) await new Promise((r) => setTimeout(r, 100));
    expect(alive(childPid)).toBe(false);
  });

  it("npm start execs the server with --exit-with-parent", () => {
    expect(pkg.scripts["start"]).toMatch(/exec bin\/tessera server --dev --exit-with-parent$/);
  });
});
