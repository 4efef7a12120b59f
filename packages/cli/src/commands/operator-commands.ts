/**
 * Running a server: `tessera status` and `tessera operator init | unseal | seal`.
 */
import type { SealStatus } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import type { Cli } from "../cli.js";
import { readSecret } from "../io.js";
import type { Output } from "../output.js";
import { examples, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";
import { loadServer } from "./load-server.js";
import { registerRootOfTrustCommands } from "./root-of-trust-commands.js";

/** `tessera status` exits 2 when the server is sealed or not initialised, like `vault status`. */
export const EXIT_SEALED = 2;

function printSealStatus(out: Output, status: SealStatus): void {
  out.fields([
    ["Initialized", status.initialized],
    ["Sealed", status.sealed],
    ["Seal Type", status.sealType],
    ["Total Shares", status.shares],
    ["Threshold", status.threshold],
    ["Unseal Progress", status.sealed ? `${status.progress}/${status.threshold}` : undefined],
    ["Recovery Shares", status.recoveryShares === true ? true : undefined],
    ["Migration", status.migration ? `${status.migration.from} → ${status.migration.to} (tessera operator unseal --migrate)` : undefined],
    ["Root Rotation", status.rootRotation === true ? "under way" : undefined],
    ["Error", status.error],
    ["Version", status.version],
    ["Node", status.node],
  ]);
  for (const n of status.nodes ?? []) {
    out.fields([[`Node ${n.id}`, `${n.state}${n.live ? "" : " (not live)"}, version ${n.version}, last seen ${n.lastSeen}`]]);
  }
}

export function registerStatusCommand(program: Command, cli: Cli): void {
  withGlobalOptions(
    program
      .command("status")
      .helpGroup("Server:")
      .summary("show whether the server is sealed")
      .description(
        "Show whether the server is initialised and sealed, its unseal threshold and progress, and its " +
          "version. Exit code: 0 when unsealed, 2 when sealed or not initialised, 1 when the server cannot be " +
          "reached.",
      ),
  )
    .addHelpText("after", examples("tessera status", "tessera status --address https://tessera.internal:8200 --json"))
    .action(
      cli.action(async (_opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const status = await client.sealStatus();
        if (out.json) out.data(status);
        else printSealStatus(out, status);
        return status.initialized && !status.sealed ? 0 : EXIT_SEALED;
      }),
    );
}

export function registerOperatorCommands(program: Command, cli: Cli): void {
  const operator = program
    .command("operator")
    .helpGroup("Server:")
    .summary("initialise, unseal, seal, re-key, back up and restore the server")
    .description(
      "Initialise a new server; seal it, or unseal it with Shamir shares (an HSM-sealed server unseals itself); " +
        "new shares (rekey), a new root token (generate-root) or a new root key (rotate-root) from a quorum; " +
        "encrypted backups and restores; and moving a single node's SQLite database to PostgreSQL " +
        "(docs/operations.md, docs/cluster.md).",
    )
    .addHelpText("after", examples("tessera operator init --shares 5 --threshold 3", "tessera operator unseal", "tessera operator seal"));

  withGlobalOptions(
    operator
      .command("init")
      .summary("initialise a new server")
      .description(
        "Initialise a new server: split its unseal key into --shares Shamir shares, any --threshold of which " +
          "unseal it, and create the root token. The shares and the root token are printed this once only.",
      )
      .addOption(new Option("--shares <n>", "number of unseal shares (1-255)").argParser(integer(1, 255)).default(5))
      .addOption(new Option("--threshold <k>", "shares needed to unseal (1-shares)").argParser(integer(1, 255)).default(3)),
  )
    .addHelpText("after", examples("tessera operator init --shares 5 --threshold 3", "tessera operator init --shares 1 --threshold 1 --json"))
    .action(
      cli.action(async (opts: { shares: number; threshold: number }, cmd: Command) => {
        if (opts.threshold > opts.shares) throw new UsageError("--threshold cannot be greater than --shares");
        const { client, out } = cli.connect(cmd);
        const result = await client.init({ shares: opts.shares, threshold: opts.threshold });
        if (out.json) return out.data(result);
        result.shares.forEach((share, i) => out.line(`Unseal Share ${i + 1}: ${share}`));
        out.line();
        out.line(`Root Token: ${result.rootToken}`);
        out.line();
        if (result.sealType === "pkcs11") out.line(`Tessera is initialised and ${result.sealed === false ? "unsealed with the HSM" : "sealed (the HSM could not be reached: see tessera status)"}.`);
        else {
          out.line(`Tessera is initialised and sealed. Unseal it with ${result.threshold} of these ${result.shares.length} shares:`);
          out.line("  tessera operator unseal   (run once per share; it asks for the share)");
        }
        out.line();
        out.line("These shares and the root token are shown only now and Tessera cannot show them again.");
        if (result.sealType === "pkcs11") out.line("With the HSM seal these are recovery shares: the HSM unseals; a quorum of them rekeys, generates a root token, or recovers without the HSM.");
        out.line("Give each share to a different person and store each one apart from the others and from the");
        out.line("root token: anyone holding the threshold of shares can unseal every key. Use the root token to");
        out.line("create narrower tokens (`tessera token create`), then revoke it.");
      }),
    );

  registerRootOfTrustCommands(operator, cli);

  withGlobalOptions(
    operator
      .command("unseal")
      .summary("submit one unseal share")
      .description(
        "Submit one unseal share; once the threshold is reached the server unseals. The share is the " +
          "argument, or is read from stdin when omitted (typed without echo at a terminal, which keeps it out " +
          "of shell history).",
      )
      .argument("[share]", "unseal share; omit to type or pipe it")
      .option("--reset", "discard the shares submitted so far")
      .option("--migrate", "submit a share of the stored seal to move it to the configured seal type (Shamir ↔ HSM)"),
  )
    .addHelpText("after", examples("tessera operator unseal", "tessera operator unseal --reset"))
    .action(
      cli.action(async (share: string | undefined, opts: { reset?: boolean; migrate?: boolean }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        if (opts.reset === true && share !== undefined) throw new UsageError("give a share or --reset, not both");
        let request: { reset: true; migrate?: true } | { share: string; migrate?: true };
        const migrate = opts.migrate === true ? { migrate: true as const } : {};
        if (opts.reset === true) request = { reset: true, ...migrate };
        else {
          const value = share ?? (await readSecret(cli.io, "Unseal share (not shown): "));
          if (value === "") throw new UsageError("no unseal share given");
          request = { share: value, ...migrate };
        }
        const status = await client.unseal(request);
        if (out.json) out.data(status);
        else printSealStatus(out, status);
      }),
    );

  withGlobalOptions(
    operator
      .command("seal")
      .summary("seal the server")
      .description("Seal the server: it forgets its root key and refuses key operations (Sealed) until unsealed again.")
  )
    .addHelpText("after", examples("tessera operator seal"))
    .action(
      cli.action(async (_opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const status = await client.seal();
        if (out.json) out.data(status);
        else printSealStatus(out, status);
      }),
    );

  withGlobalOptions(
    operator
      .command("migrate-storage")
      .summary("copy a single node's SQLite database into PostgreSQL")
      .description(
        "Copy every row of a stopped node's SQLite database into an empty PostgreSQL database, in one transaction, " +
          "so that one or more nodes can run on it (docs/cluster.md). Sealed material is copied as it is: the same " +
          "unseal shares open the copy. A target that holds any Tessera data is refused. The password comes from " +
          "--password-file or PGPASSWORD, never from the URL. Runs in this process and needs the server package.",
      )
      .requiredOption("--from <sqlite:PATH>", "the stopped node's database file, as sqlite:PATH")
      .requiredOption("--to <postgres:URL>", "the empty target database, as postgres:postgres://USER@HOST:PORT/DB")
      .option("--password-file <file>", "the target's password (first line); default: PGPASSWORD"),
  )
    .addHelpText("after", examples("tessera operator migrate-storage --from sqlite:/var/lib/tessera/tessera.db --to postgres:postgres://tessera@db.internal:5432/tessera --password-file /etc/tessera/pgpass"))
    .action(
      cli.action(async (opts: { from: string; to: string; passwordFile?: string }, cmd: Command) => {
        if (!opts.from.startsWith("sqlite:")) throw new UsageError("--from takes sqlite:PATH");
        if (!/^(postgres:)?postgres(ql)?:\/\//.test(opts.to)) throw new UsageError("--to takes postgres:URL (postgres:postgres://USER@HOST:PORT/DB)");
        const out = cli.output(cmd);
        const { runMigrateStorage } = await loadServer();
        const report = await runMigrateStorage({ from: opts.from, to: opts.to, ...(opts.passwordFile !== undefined && { passwordFile: opts.passwordFile }) });
        if (out.json) return out.data(report);
        for (const t of report.tables) out.line(`${t.name.padEnd(16)} ${t.rows}`);
        out.line();
        out.line(`Copied ${report.tables.reduce((n, t) => n + t.rows, 0)} rows. Point every node's storage.postgres at the target, start them and unseal each with the same shares.`);
      }),
    );
}
