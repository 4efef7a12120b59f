/**
 * The versioned secrets store (docs/secrets.md): `tessera secret put|get|list|history|delete|undelete|mount`.
 *
 * `put` takes `FIELD=VALUE` pairs (`FIELD=@FILE` reads the value from a file, `FIELD=-` from stdin)
 * or a whole JSON object with `--data-file`; a value given on the command line is visible to other
 * users of the machine (ps, shell history), so prefer `@FILE` or `-` for real secrets. `get` prints
 * the fields, or one field's raw value with `--field` (for `$(…)` in scripts).
 */
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import type { Cli } from "../cli.js";
import { readInput, readStdin } from "../io.js";
import { examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

const mountOption = () => new Option("--mount <mount>", "secrets mount (default: secret)");
const versionList = (value: string): number[] => {
  const parse = integer(1);
  return value.split(",").map((v) => parse(v));
};

export function registerSecretCommands(program: Command, cli: Cli): void {
  const secret = program
    .command("secret")
    .helpGroup("Secrets:")
    .summary("store and read versioned secrets (a database password, an API token)")
    .description("Versioned key/value secrets kept encrypted under a Tessera key per mount (docs/secrets.md); the same store as the Vault KV v2 API.");

  interface PutOptions { mount?: string; cas?: number; dataFile?: string }
  withGlobalOptions(
    secret
      .command("put")
      .summary("write a new version of a secret")
      .description("Write a new version of the secret at PATH from FIELD=VALUE pairs (FIELD=@FILE reads a file, FIELD=- reads stdin; one final newline is dropped from either) or --data-file (a JSON object).")
      .argument("<path>", "secret path, e.g. payments/db")
      .argument("[fields...]", "FIELD=VALUE, FIELD=@FILE or FIELD=-")
      .addOption(mountOption())
      .addOption(new Option("--cas <version>", "write only if the current version is this (0: only if the secret is new)").argParser(integer(0)))
      .option("--data-file <file>", "read the whole secret as a JSON object from FILE ('-' for stdin)"),
  )
    .addHelpText("after", examples("tessera secret put payments/db password=@db-password.txt user=app", "tessera secret put payments/db --data-file secret.json --cas 3"))
    .action(
      cli.action(async (path: string, fields: string[], opts: PutOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const data: Record<string, unknown> = {};
        if (opts.dataFile !== undefined) {
          if (fields.length > 0) throw new UsageError("give FIELD=VALUE pairs or --data-file, not both");
          let parsed: unknown;
          try {
            parsed = JSON.parse((await readInput(cli.io, opts.dataFile)).toString("utf8"));
          } catch {
            throw new UsageError(`--data-file ${opts.dataFile} is not JSON`);
          }
          if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw new UsageError("--data-file must hold a JSON object");
          Object.assign(data, parsed);
        }
        let stdinUsed = false;
        for (const field of fields) {
          const eq = field.indexOf("=");
          if (eq <= 0) throw new UsageError(`"${field}" is not FIELD=VALUE`);
          const [name, value] = [field.slice(0, eq), field.slice(eq + 1)];
          if (value === "-") {
            if (stdinUsed) throw new UsageError("only one field can be read from stdin");
            stdinUsed = true;
            data[name] = (await readStdin(cli.io)).toString("utf8").replace(/\r?\n$/, "");
          } else if (value.startsWith("@")) data[name] = (await readInput(cli.io, value.slice(1))).toString("utf8").replace(/\r?\n$/, "");
          else data[name] = value;
        }
        if (Object.keys(data).length === 0) throw new UsageError("nothing to write: give FIELD=VALUE pairs or --data-file");
        const written = await client.putSecret(path, data, { ...given("mount", opts.mount), ...given("cas", opts.cas) });
        if (out.json) out.data(written);
        else out.note(`Wrote version ${written.version} of ${path}.`);
      }),
    );

  interface GetOptions { mount?: string; version?: number; field?: string }
  withGlobalOptions(
    secret
      .command("get")
      .summary("read a secret")
      .description("Print a version of the secret at PATH (the current one unless --version): its fields, or one field's value with --field.")
      .argument("<path>", "secret path")
      .addOption(mountOption())
      .addOption(new Option("--version <n>", "version to read (default: the current one)").argParser(integer(1)))
      .option("--field <name>", "print only this field's value"),
  )
    .addHelpText("after", examples("tessera secret get payments/db", "PGPASSWORD=$(tessera secret get payments/db --field password) psql …"))
    .action(
      cli.action(async (path: string, opts: GetOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const read = await client.getSecret(path, { ...given("mount", opts.mount), ...given("version", opts.version) });
        if (opts.field !== undefined) {
          if (!(opts.field in read.data)) throw new UsageError(`version ${read.version} of ${path} has no field "${opts.field}" (fields: ${Object.keys(read.data).join(", ")})`);
          const value = read.data[opts.field];
          if (out.json) out.data(value);
          else out.line(typeof value === "string" ? value : JSON.stringify(value));
          return;
        }
        if (out.json) return out.data(read);
        out.fields([["Version", read.version], ["Created", read.createdTime]]);
        out.line();
        out.table(["Field", "Value"], Object.entries(read.data).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
      }),
    );

  withGlobalOptions(
    secret
      .command("list")
      .summary("list secrets under a prefix")
      .argument("[prefix]", "prefix (default: the mount's top level); names ending in / have secrets below")
      .addOption(mountOption()),
  ).action(
    cli.action(async (prefix: string | undefined, opts: { mount?: string }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const listed = await client.listSecrets(prefix ?? "", given("mount", opts.mount));
      if (out.json) return out.data(listed);
      for (const name of listed.keys) out.line(name);
    }),
  );

  withGlobalOptions(
    secret
      .command("history")
      .summary("show a secret's versions, who read each and when")
      .description("Show the versions of the secret at PATH with their state, read count and last reader — whether an old version is still in use — and its settings.")
      .argument("<path>", "secret path")
      .addOption(mountOption()),
  ).action(
    cli.action(async (path: string, opts: { mount?: string }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const meta = await client.secretMetadata(path, given("mount", opts.mount));
      if (out.json) return out.data(meta);
      out.fields([
        ["Path", `${meta.mount}/${meta.path}`],
        ["Current version", meta.currentVersion],
        ["Max versions", meta.maxVersions === 0 ? "mount default" : meta.maxVersions],
        ["Check-and-set required", meta.casRequired ? "yes" : "no"],
        ["Delete versions after", meta.deleteVersionAfter === 0 ? "never" : `${meta.deleteVersionAfter}s`],
      ]);
      out.line();
      out.table(
        ["Version", "Created", "State", "Reads", "Last read", "Last reader"],
        meta.versions.map((v) => [v.version, v.createdTime, v.destroyed ? "destroyed" : v.deletedTime !== null ? `deleted ${v.deletedTime}` : "readable", v.readCount, v.lastReadTime ?? "-", v.lastReader ?? "-"]),
      );
    }),
  );

  interface DeleteOptions { mount?: string; versions?: number[]; destroy?: boolean; all?: boolean }
  withGlobalOptions(
    secret
      .command("delete")
      .summary("delete, destroy, or remove a secret entirely")
      .description(
        "Soft-delete versions of the secret at PATH (default: the current one; `undelete` brings them back); with --destroy, destroy the data of --versions for good; " +
          "with --all, remove the secret with every version and its metadata.",
      )
      .argument("<path>", "secret path")
      .addOption(mountOption())
      .addOption(new Option("--versions <list>", "comma-separated versions, e.g. 1,2").argParser(versionList))
      .option("--destroy", "destroy the data of --versions for good")
      .option("--all", "remove every version and the metadata"),
  )
    .addHelpText("after", examples("tessera secret delete payments/db", "tessera secret delete payments/db --destroy --versions 1,2", "tessera secret delete payments/db --all"))
    .action(
      cli.action(async (path: string, opts: DeleteOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const mount = given("mount", opts.mount);
        if (opts.all === true) {
          if (opts.destroy === true || opts.versions !== undefined) throw new UsageError("--all removes every version: do not combine it with --destroy or --versions");
          await client.deleteSecretMetadata(path, mount);
          if (out.json) return out.data({ path, removed: true });
          return out.note(`Removed ${path} with every version.`);
        }
        if (opts.destroy === true) {
          if (opts.versions === undefined) throw new UsageError("--destroy needs --versions");
          const done = await client.destroySecret(path, opts.versions, mount);
          if (out.json) return out.data(done);
          return out.note(`Destroyed version(s) ${done.versions.join(", ") || "none"} of ${path}.`);
        }
        const done = await client.deleteSecret(path, { ...mount, ...given("versions", opts.versions) });
        if (out.json) return out.data(done);
        out.note(`Deleted version(s) ${done.versions.join(", ") || "none"} of ${path}.`);
      }),
    );

  withGlobalOptions(
    secret
      .command("undelete")
      .summary("bring back soft-deleted versions")
      .argument("<path>", "secret path")
      .requiredOption("--versions <list>", "comma-separated versions", versionList)
      .addOption(mountOption()),
  ).action(
    cli.action(async (path: string, opts: { mount?: string; versions: number[] }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const done = await client.undeleteSecret(path, opts.versions, given("mount", opts.mount));
      if (out.json) return out.data(done);
      out.note(`Undeleted version(s) ${done.versions.join(", ") || "none"} of ${path}.`);
    }),
  );

  interface MountOptions { key?: string; maxVersions?: number; casRequired?: boolean; deleteVersionAfter?: number }
  withGlobalOptions(
    secret
      .command("mount")
      .summary("show or configure a mount: its key and defaults")
      .description("Show a mount's configuration, or set it: the key that wraps new versions (needs kms:GenerateDataKey on it), and defaults for max versions, check-and-set and delete-after.")
      .argument("[mount]", "mount name (default: secret)")
      .option("--key <key>", "key (name or id) for new versions; older versions are re-wrapped under it as they are read")
      .addOption(new Option("--max-versions <n>", "versions a secret keeps by default").argParser(integer(0, 1000)))
      .option("--cas-required", "require check-and-set on every write")
      .addOption(new Option("--delete-version-after <seconds>", "versions count as deleted this long after they were written (0: never)").argParser(integer(0))),
  )
    .addHelpText("after", examples("tessera secret mount", "tessera secret mount payments --key payment-db --max-versions 5"))
    .action(
      cli.action(async (mount: string | undefined, opts: MountOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const name = mount ?? "secret";
        const change = { ...given("key", opts.key), ...given("maxVersions", opts.maxVersions), ...given("casRequired", opts.casRequired), ...given("deleteVersionAfter", opts.deleteVersionAfter) };
        const config = Object.keys(change).length > 0 ? await client.configureSecretMount(name, change) : await client.secretMount(name);
        if (out.json) return out.data(config);
        out.fields([
          ["Mount", config.mount],
          ["Key", `${config.keyName} (${config.keyId})`],
          ["Max versions", config.maxVersions],
          ["Check-and-set required", config.casRequired ? "yes" : "no"],
          ["Delete versions after", config.deleteVersionAfter === 0 ? "never" : `${config.deleteVersionAfter}s`],
        ]);
      }),
    );
}
