/**
 * `tessera key trim|backup|restore`: destroy a key's retired versions for good, and move one key out
 * and back as a backup sealed under the server's root key (docs/api.md, "Key backup and trim").
 */
import { writeFile } from "node:fs/promises";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import type { Cli } from "../cli.js";
import { readInput } from "../io.js";
import { examples, withGlobalOptions } from "../options.js";
import { printKey } from "./key-output.js";

export function registerKeyTransferCommands(keys: Command, cli: Cli): void {
  const trim = keys
    .command("trim")
    .summary("destroy a key's versions below a version, for good")
    .description(
      "Destroy the material of every version below --min-available-version (Vault's trim). It may not exceed the key's " +
        "min decryption version (`tessera key set-min-decryption-version` first). Ciphertexts of those versions then fail with Destroyed.",
    )
    .argument("<key>", "key name or id")
    .addOption(new Option("--min-available-version <n>", "lowest version to keep").argParser(integer(1)).makeOptionMandatory())
    .addHelpText("after", examples("tessera key trim payment-db --min-available-version 3"));
  withGlobalOptions(trim).action(
    cli.action(async (key: string, opts: { minAvailableVersion: number }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const result = await client.trimKeyVersions(key, { minAvailableVersion: opts.minAvailableVersion });
      if (out.json) out.data(result);
      else printKey(out, result);
    }),
  );

  const backup = keys
    .command("backup")
    .summary("back up one key, sealed under the server's root key")
    .description(
      "Print (or write to --out FILE, mode 0600) a backup of the key: its settings and versions, the material sealed under the " +
        "server's root key — it restores only into a cluster holding that root, and never holds plaintext material.",
    )
    .argument("<key>", "key name or id")
    .option("--out <file>", "write the backup to FILE instead of stdout")
    .addHelpText("after", examples("tessera key backup payment-db --out payment-db.tkbk"));
  withGlobalOptions(backup).action(
    cli.action(async (key: string, opts: { out?: string }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const result = await client.backupKey(key);
      if (opts.out !== undefined) await writeFile(opts.out, `${result.backup}\n`, { mode: 0o600 });
      else if (out.json) out.data(result);
      else out.line(result.backup);
    }),
  );

  const restore = keys
    .command("restore")
    .summary("restore a key backup")
    .description(
      "Restore a key from a backup (a file, or - for stdin): a key that does not exist, or is destroyed or pending deletion, comes back " +
        "with its versions; a live key is replaced only with --force. The key keeps its id, so its old ciphertexts decrypt again.",
    )
    .argument("<file>", "backup file, or - for stdin")
    .option("--name <name>", "restore under this name (default: the backup's)")
    .option("--force", "replace the key if it exists")
    .addHelpText("after", examples("tessera key restore payment-db.tkbk --force"));
  withGlobalOptions(restore).action(
    cli.action(async (file: string, opts: { name?: string; force?: boolean }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const text = (await readInput(cli.io, file)).toString("utf8").trim();
      const result = await client.restoreKey({ backup: text, ...(opts.name !== undefined && { name: opts.name }), ...(opts.force === true && { force: true }) });
      if (out.json) out.data(result);
      else printKey(out, result);
    }),
  );
}
