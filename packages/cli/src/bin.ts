#!/usr/bin/env node
/**
 * The `tessera` command of the installed CLI package. (A Tessera checkout runs `bin/tessera`, which
 * brings the project's own Node 24 along when the system's is older, then runs this.)
 */
import { main } from "./main.js";

// `tessera … | head` closes the pipe early; that is not an error.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await main(process.argv);
