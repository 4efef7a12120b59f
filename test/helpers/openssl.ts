/** The `openssl` command line as an independent implementation in interoperability tests. */
import { execFileSync } from "node:child_process";

/** Runs openssl in `cwd` and returns its stdout; throws when it exits non-zero. */
export function opensslIn(cwd: string, ...args: string[]): Buffer {
  return execFileSync("openssl", args, { cwd, stdio: "pipe" });
}

/** Exit status of an openssl command in `cwd` (0 = success), for the checks that are expected to fail. */
export function opensslStatusIn(cwd: string, ...args: string[]): number {
  try {
    opensslIn(cwd, ...args);
    return 0;
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}
