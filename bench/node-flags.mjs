/**
 * The Node/V8 flags `tessera` runs with: the ones on bin/tessera's first line (`#!/usr/bin/env -S node
 * FLAGS`), so the benches start their Tessera servers as users' `tessera server` starts.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

export const TESSERA_NODE_FLAGS = readFileSync(fileURLToPath(new URL("../bin/tessera", import.meta.url)), "utf8")
  .split("\n", 1)[0]
  .split(" ")
  .filter((w) => w.startsWith("--"));
