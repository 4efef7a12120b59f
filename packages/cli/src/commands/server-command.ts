/**
 * `tessera server`: runs a server in this process. The server package is loaded only here, at run
 * time (`load-server.ts`), so every other command starts without it and the CLI installs without it.
 */
import type { Command } from "commander";
import type { Cli } from "../cli.js";
import { examples } from "../options.js";
import { UsageError } from "../usage-error.js";
import { loadServer, type ServerRunOptions } from "./load-server.js";

/** Commander's parsed options: every flag optional, `--dev` included. */
type ServerOptions = Partial<ServerRunOptions>;

export function registerServerCommand(program: Command, cli: Cli): void {
  program
    .command("server")
    .helpGroup("Server:")
    .summary("run a Tessera server")
    .description(
      "Run a Tessera server until it receives SIGINT or SIGTERM. Give exactly one of --dev or --config.\n\n" +
        "--dev starts a development server on a loopback address, initialised (one unseal share) and " +
        "unsealed, and prints its unseal key and root token. Its data lives in a temporary directory deleted " +
        "on exit, unless --data names a directory to keep it in. Never keep real keys in a dev server.\n\n" +
        "--config FILE runs a production server as the configuration file says.",
    )
    .option("--dev", "run a development server")
    .option("--config <file>", "configuration file of a production server")
    .option("--listen <host:port>", "loopback address to listen on (default 127.0.0.1:8200)")
    .option("--dev-root-token <token>", "root token for a new dev server instead of a random one")
    .option("--data <dir>", "keep the dev server's data in this directory (default: a temporary one)")
    .option("--audit-file <path>", "also write the audit trail to this JSON-lines file (any mode)")
    .option("--dev-tls", "dev: serve HTTPS with a certificate from Tessera's CA (written to DATA/ca.pem) and accept instance certificates")
    .option("--exit-with-parent", "shut down when the process that started the server exits (npm start uses it)")
    .addHelpText(
      "after",
      examples("tessera server --dev", "tessera server --dev --dev-tls --data ./dev-data", "tessera server --dev --listen 127.0.0.1:8300 --dev-root-token dev-only-token", "tessera server --config /etc/tessera/tessera.json"),
    )
    .action(
      cli.action(async (opts: ServerOptions) => {
        const dev = opts.dev === true;
        if (dev === (opts.config !== undefined)) throw new UsageError("give exactly one of --dev or --config FILE");
        const devOnly = (["listen", "devRootToken", "data", "devTls"] as const).filter((name) => opts[name] !== undefined);
        if (!dev && devOnly.length > 0) throw new UsageError("--listen, --dev-root-token, --data and --dev-tls need --dev; with --config, set them in the file");
        const { runServer } = await loadServer();
        await runServer({
          dev,
          ...(opts.listen === undefined ? {} : { listen: opts.listen }),
          ...(opts.devRootToken === undefined ? {} : { devRootToken: opts.devRootToken }),
          ...(opts.data === undefined ? {} : { data: opts.data }),
          ...(opts.config === undefined ? {} : { config: opts.config }),
          ...(opts.auditFile === undefined ? {} : { auditFile: opts.auditFile }),
          ...(opts.devTls === true && { devTls: true }),
          ...(opts.exitWithParent === true && { exitWithParent: true }),
        });
      }),
    );
}
