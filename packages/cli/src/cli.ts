/**
 * What every command shares: the streams, the global options (`--address`, `--token`, `--json`),
 * the client they configure, and the wrapper that turns an action's outcome into an exit code.
 */
import { readFileSync } from "node:fs";
import { httpFetch, TesseraClient, type TlsOptions } from "@tessera/client/core";
import type { Command } from "commander";
import type { Io } from "./io.js";
import { Output } from "./output.js";
import { reportError } from "./report-error.js";
import { UsageError } from "./usage-error.js";

export const DEFAULT_ADDRESS = "http://127.0.0.1:8200";

/** Options every command accepts, defined on the root program. */
export interface GlobalOptions {
  address: string;
  token?: string;
  /** PEM file of a CA to trust for the server's TLS certificate (`TESSERA_CACERT`). */
  caCert?: string;
  json?: boolean;
}

/** How a command is wrapped by {@link Cli.action}. */
export interface ActionOptions {
  /**
   * What the command proves itself with: a Tessera token (default), or something else — a role id and
   * secret id, a JWT, a join token, an instance certificate — for which "no token given" is no hint.
   */
  credential?: "token" | "other";
}

/** An action's exit code; `undefined` means 0. */
export type ActionResult = number | undefined | void;

export class Cli {
  readonly io: Io;
  /** The exit code of the action that ran. */
  exitCode = 0;

  constructor(io: Io) {
    this.io = io;
  }

  globals(cmd: Command): GlobalOptions {
    return cmd.optsWithGlobals<GlobalOptions>();
  }

  output(cmd: Command): Output {
    return new Output(this.io, this.globals(cmd).json === true);
  }

  /**
   * A client for the global address and token, plus the command's output. `streamed`: the command
   * reads a long answer as it arrives (progress), so plain HTTP keeps the global, streaming fetch.
   */
  connect(cmd: Command, tls: TlsOptions = {}, options: { streamed?: boolean } = {}): { client: TesseraClient; out: Output } {
    const { address, token, caCert } = this.globals(cmd);
    if (caCert !== undefined && caCert !== "") {
      try {
        tls = { ...tls, ca: readFileSync(caCert) };
      } catch {
        throw new UsageError(`cannot read the CA certificate file "${caCert}"`);
      }
    }
    let client: TesseraClient;
    try {
      // http:// and https:// go through node:http and node:https rather than the global fetch: same
      // requests and the same trust (Node's CAs, NODE_EXTRA_CA_CERTS, --use-system-ca), but a command
      // starts without loading undici (measured: 0.42 → 0.35 s of CPU for `key list`). Not for
      // `streamed` answers (a backup's progress): that fetch hands over the answer only whole.
      const protocol = new URL(address).protocol;
      const direct = options.streamed !== true;
      const withTls = Object.keys(tls).length > 0 || (direct && protocol === "https:");
      const plain = !withTls && direct && protocol === "http:";
      client = new TesseraClient({ address, ...(token === undefined || token === "" ? {} : { token }), ...(withTls && { tls }), ...(plain && { fetch: httpFetch() }) });
    } catch {
      throw new UsageError(`invalid address "${address}": expected an http:// or https:// URL such as ${DEFAULT_ADDRESS}`);
    }
    return { client, out: this.output(cmd) };
  }

  /**
   * Wraps an action: usage errors go to commander (which prints them and exits 2 through the
   * exit override); other errors are reported and give exit code 1.
   */
  action<A extends unknown[]>(fn: (...args: A) => Promise<ActionResult>, options: ActionOptions = {}): (...args: A) => Promise<void> {
    return async (...args: A): Promise<void> => {
      const cmd = args[args.length - 1] as Command;
      try {
        this.exitCode = (await fn(...args)) ?? 0;
      } catch (err) {
        if (err instanceof UsageError) cmd.error(`error: ${err.message}`, { exitCode: 2, code: "tessera.usage" });
        const { json, token } = this.globals(cmd);
        const tokenMissing = options.credential !== "other" && (token === undefined || token === "");
        this.exitCode = reportError(this.io, err, { json: json === true, tokenMissing });
      }
    };
  }
}
