/**
 * Entry point of the `tessera` command (bin/tessera).
 *
 * @example
 * ```ts
 * import { main } from "@tessera/cli";
 * process.exitCode = await main(process.argv);
 * ```
 */
import { CommanderError } from "commander";
import { processIo, type Io } from "./io.js";
import { newCli } from "./program.js";
import { reportError } from "./report-error.js";

/** Exit code for usage errors: unknown commands or options, missing or invalid arguments. */
export const EXIT_USAGE = 2;

/**
 * Runs the command in `argv` (as in `process.argv`: node, script, then arguments) and resolves
 * with its exit code: 0 success, 1 failed request, 2 usage error. Never calls `process.exit`.
 */
export async function main(argv: readonly string[], io: Io = processIo): Promise<number> {
  const { cli, program } = newCli(io);
  try {
    await program.parseAsync([...argv], { from: "node" });
    return cli.exitCode;
  } catch (err) {
    // Help and --version end with exit code 0; every other commander exit is a usage error.
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : EXIT_USAGE;
    return reportError(io, err, { json: false, tokenMissing: false });
  }
}
