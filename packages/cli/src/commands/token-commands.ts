/**
 * `tessera token …`: create restricted tokens, look tokens up, revoke them.
 */
import type { Grant, TokenInfo, TokenSelector } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { collect, parseDuration } from "../args.js";
import type { Cli } from "../cli.js";
import { ALLOW_SYNTAX, formatGrant, parseAllow, parseGrantsJson } from "../grants.js";
import { readInput, readSecret, type Io } from "../io.js";
import type { Output } from "../output.js";
import { examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

function printTokenInfo(out: Output, info: TokenInfo & { token?: string }): void {
  out.fields([
    ["token", info.token],
    ["accessor", info.accessor],
    ["displayName", info.displayName],
    ["root", info.root],
    ["createdAt", info.createdAt],
    ["expiresAt", info.expiresAt ?? "never"],
    ...info.grants.map((grant) => ["grant", formatGrant(grant)] as const),
  ]);
}

async function readGrantsFile(io: Io, path: string): Promise<Grant[]> {
  const text = (await readInput(io, path)).toString("utf8");
  try {
    return parseGrantsJson(text);
  } catch (err) {
    throw new UsageError(`${path}: ${(err as Error).message}`);
  }
}

/** `{token}` from the argument (`-` reads it from stdin), `{accessor}`, or undefined for neither. */
async function selector(io: Io, token: string | undefined, accessor: string | undefined): Promise<TokenSelector | undefined> {
  if (token !== undefined && accessor !== undefined) throw new UsageError("give a token or --accessor, not both");
  if (accessor !== undefined) return { accessor };
  if (token === "-") return { token: await readSecret(io, "Token: ") };
  return token === undefined ? undefined : { token };
}

export function registerTokenCommands(program: Command, cli: Cli): void {
  const tokens = program
    .command("token")
    .helpGroup("Access:")
    .summary("create, look up and revoke tokens")
    .description("Create tokens limited to some actions on some keys, look tokens up, and revoke them.")
    .addHelpText("after", examples("tessera token create --ttl 8h --allow kms:Encrypt,kms:Decrypt:payment-db", "tessera token lookup"));

  interface CreateOptions { ttl?: number; displayName?: string; allow?: Grant[]; grantsFile?: string }
  withGlobalOptions(
    tokens
      .command("create")
      .summary("create a token with limited grants")
      .description(
        "Create a token allowed only what its grants say, and print it with its accessor and expiry. The " +
          "token is shown only this once; the accessor names it later (lookup, revoke) without revealing " +
          "it.\n\n" +
          `Each --allow is one grant, ${ALLOW_SYNTAX}: comma-separated actions (kms:Encrypt, kms:*, *), a ` +
          `colon, and comma-separated resources (key names, ids, or patterns such as orders-* or *; other ` +
          `types are written TYPE/NAME, e.g. alias/orders-* — docs/policy.md). The ` +
          `resources follow the LAST colon, since every action contains one itself:\n` +
          "  kms:Encrypt,kms:Decrypt:payment-db    encrypt and decrypt with payment-db\n" +
          "  kms:GenerateDataKey:orders-*,billing  data keys under billing and orders-…\n" +
          "  kms:*:*                               every kms action on everything\n" +
          "  kms:*:key/*                           every kms action on every key\n\n" +
          `--grants-file takes the API's form instead: a JSON array of {"actions": [...], "resources": [...]}. ` +
          `Without any grant the token can only look itself up.`,
      )
      .addOption(new Option("--ttl <duration>", "lifetime, e.g. 30m, 8h, 7d (default 1h, at most 32d)").argParser(parseDuration))
      .option("--display-name <name>", "a name for people reading lookups and audit entries")
      .addOption(new Option("--allow <grant>", `one grant, ${ALLOW_SYNTAX}; repeat for more`).argParser(collect(parseAllow)))
      .option("--grants-file <file>", "JSON file holding an array of grants ('-' for stdin)"),
  )
    .addHelpText(
      "after",
      examples(
        "tessera token create --display-name web-7 --ttl 8h --allow kms:Encrypt,kms:Decrypt:payment-db",
        "tessera token create --allow 'kms:*:orders-*' --allow kms:GenerateRandom:'*' --json",
        "tessera token create --grants-file grants.json",
      ),
    )
    .action(
      cli.action(async (opts: CreateOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const grants = [...(opts.allow ?? []), ...(opts.grantsFile === undefined ? [] : await readGrantsFile(cli.io, opts.grantsFile))];
        const result = await client.createToken({ grants, ...given("ttlSeconds", opts.ttl), ...given("displayName", opts.displayName) });
        if (out.json) out.data(result);
        else printTokenInfo(out, result);
      }),
    );

  withGlobalOptions(
    tokens
      .command("lookup")
      .summary("show a token's grants and expiry")
      .description("Show a token's accessor, grants and expiry: your own token when no argument is given.")
      .argument("[token]", "token to look up ('-' to type or pipe it); omit for your own")
      .option("--accessor <accessor>", "look the token up by its accessor instead"),
  )
    .addHelpText("after", examples("tessera token lookup", "tessera token lookup --accessor 6f1c…"))
    .action(
      cli.action(async (token: string | undefined, opts: { accessor?: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const which = await selector(cli.io, token, opts.accessor);
        const info = which === undefined ? await client.lookupSelf() : await client.lookupToken(which);
        if (out.json) out.data(info);
        else printTokenInfo(out, info);
      }),
    );

  withGlobalOptions(
    tokens
      .command("revoke")
      .summary("revoke a token")
      .description("Revoke a token at once, given the token, its accessor, or --self for the token in use.")
      .argument("[token]", "token to revoke ('-' to type or pipe it)")
      .option("--accessor <accessor>", "revoke the token with this accessor")
      .option("--self", "revoke the token this command authenticates with"),
  )
    .addHelpText("after", examples("tessera token revoke --accessor 6f1c…", "tessera token revoke --self"))
    .action(
      cli.action(async (token: string | undefined, opts: { accessor?: string; self?: boolean }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        let which = await selector(cli.io, token, opts.accessor);
        if (opts.self === true) {
          const own = cli.globals(cmd).token;
          if (which !== undefined) throw new UsageError("give a token, --accessor or --self, only one");
          if (own === undefined || own === "") throw new UsageError("--self needs a token: set TESSERA_TOKEN or pass --token");
          which = { token: own };
        }
        if (which === undefined) throw new UsageError("say which token: give it as an argument, or use --accessor or --self");
        await client.revokeToken(which);
        if (out.json) out.data({});
        else out.line("Token revoked.");
      }),
    );

  withGlobalOptions(
    tokens
      .command("capabilities")
      .summary("say whether your token may do an action")
      .description(
        "Ask whether the token this command authenticates with may do ACTION on RESOURCE, decided as the " +
          "real request would be (your policies, your address, now). RESOURCE is typed as in policies " +
          "(payment-db or key/payment-db, policy/orders-app, role/ci); leave it out for actions on an unnamed " +
          "resource (audit:Read, sys:Seal). Prints allowed or denied; --json gives the API's answer.",
      )
      .argument("<action>", "an action, e.g. kms:RotateKey")
      .argument("[resource]", "the resource it would act on"),
  )
    .addHelpText("after", examples("tessera token capabilities kms:RotateKey payment-db", "tessera token capabilities audit:Read"))
    .action(
      cli.action(async (action: string, resource: string | undefined, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const answer = await client.capabilitiesSelf([{ action, ...given("resource", resource) }]);
        if (out.json) out.data(answer);
        else for (const r of answer.results) out.line(`${r.allowed ? "allowed" : "denied"}: ${r.action} on ${r.resource}`);
      }),
    );
}
