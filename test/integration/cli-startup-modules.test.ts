/**
 * Every `tessera` command is a process of its own, so what the CLI loads before it does anything is paid
 * on every call. The CLI and the SDK take protocol values from `@tessera/protocol/core`, which leaves
 * out the TypeBox wire schemas (about 200 modules of TypeBox, a quarter of a second of CPU) that only the
 * server validates with. This test runs the built CLI with a module hook and lists what it loaded.
 */
import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { BIN, REPO } from "../helpers/server-process.js";

/** Logs each module URL the process loads to stderr, one per line, prefixed so it is easy to pick out. */
const HOOK =
  'data:text/javascript,import{registerHooks}from"node:module";registerHooks({load(u,c,next){process._rawDebug("loaded "+u);return next(u,c)}});';

function loadedBy(args: string[]): string[] {
  const r = spawnSync(process.execPath, ["--import", HOOK, BIN, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
  expect(r.status, r.stderr).toBe(0);
  return r.stderr.split("\n").filter((l) => l.startsWith("loaded ")).map((l) => l.slice("loaded ".length));
}

describe("the CLI's start-up", () => {
  it.each(["--version", "--help", "key create --help"])("`tessera %s` loads no TypeBox and no server code", (line) => {
    const loaded = loadedBy(line.split(" "));
    expect(loaded.some((u) => u.includes("/packages/cli/"))).toBe(true);
    expect(loaded.filter((u) => u.includes("@sinclair/typebox"))).toEqual([]);
    expect(loaded.filter((u) => u.includes("/packages/server/"))).toEqual([]);
  });
});
