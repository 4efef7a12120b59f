/**
 * `tessera key alias …`: list, set and delete aliases — other names for a key (`alias/orders`), usable
 * wherever a key is named. A name may be given as `alias/orders` or bare (`orders`).
 */
import type { Command } from "commander";
import type { Cli } from "../cli.js";
import { examples, withGlobalOptions } from "../options.js";

export function registerAliasCommands(keys: Command, cli: Cli): void {
  const alias = keys
    .command("alias")
    .summary("list, set and delete a key's aliases")
    .description("Aliases are other names for a key (alias/orders), usable wherever a key is named; moving an alias re-points every user of it at once.")
    .addHelpText("after", examples("tessera key alias set orders payment-db", "tessera key alias list payment-db", "tessera key alias delete orders"));

  withGlobalOptions(
    alias
      .command("list")
      .summary("list aliases")
      .description("List the aliases of a key, or every alias when no key is given.")
      .argument("[key]", "key name, id or alias"),
  )
    .addHelpText("after", examples("tessera key alias list payment-db", "tessera key alias list --json"))
    .action(
      cli.action(async (key: string | undefined, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.listAliases(key);
        if (out.json) return out.data(result);
        out.table(
          ["ALIAS", "KEY ID", "UPDATED"],
          result.aliases.map((a) => [a.name, a.keyId, a.updatedAt]),
        );
      }),
    );

  withGlobalOptions(
    alias
      .command("set")
      .summary("create an alias, or point it at another key")
      .description("Create alias NAME for KEY (kms:CreateAlias), or, when NAME exists, point it at KEY instead (kms:UpdateAlias).")
      .argument("<name>", "alias name: alias/orders or orders")
      .argument("<key>", "key name, id or alias"),
  )
    .addHelpText("after", examples("tessera key alias set orders payment-db", "tessera key alias set alias/orders payment-db-2"))
    .action(
      cli.action(async (name: string, key: string, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.setAlias(name, key);
        if (out.json) out.data(result);
        else out.line(`Alias ${result.name} ${result.created ? "created for" : "now points at"} ${key}.`);
      }),
    );

  withGlobalOptions(
    alias
      .command("delete")
      .summary("delete an alias")
      .description("Delete an alias; the key it named is not touched.")
      .argument("<name>", "alias name: alias/orders or orders"),
  )
    .addHelpText("after", examples("tessera key alias delete orders"))
    .action(
      cli.action(async (name: string, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        await client.deleteAlias(name);
        if (out.json) out.data({ deleted: name });
        else out.line(`Alias ${name} deleted.`);
      }),
    );
}
