/**
 * `tessera key …`: create, list, show and manage keys and their versions. The key is always the
 * first argument, by name or id.
 */
import { Option, type Command } from "commander";
import { keySpecNames, keyUsages } from "@tessera/protocol/core";
import type { KeySpec, KeyUsage } from "@tessera/protocol";
import { collectPair, formatDuration, integer, parseDuration, parseRotationPeriod } from "../args.js";
import type { Cli } from "../cli.js";
import { examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";
import { registerAliasCommands } from "./alias-commands.js";
import { printKey, printRetention, printVersion, printVersions, rotation } from "./key-output.js";

export function registerKeyCommands(program: Command, cli: Cli): void {
  const keys = program
    .command("key")
    .helpGroup("Key management:")
    .summary("create and manage keys and key versions")
    .description("Create, list, show, rotate, enable, disable and delete keys, and manage their versions.")
    .addHelpText("after", examples("tessera key create payment-db --rotation-period 90d", "tessera key list", "tessera key show payment-db"));

  /** A `key <name> <key>` subcommand; the caller adds options, then {@link withGlobalOptions}. */
  const keyCommand = (name: string, summary: string, description: string, example: string): Command =>
    keys.command(name).summary(summary).description(description).argument("<key>", "key name or id").addHelpText("after", examples(example));

  interface CreateOptions { description?: string; tag?: Record<string, string>; rotationPeriod?: number; derived?: boolean; exportable?: boolean; spec?: KeySpec; usage?: KeyUsage; origin?: "tessera" | "external" }
  withGlobalOptions(
    keys
      .command("create")
      .summary("create a key")
      .description(
        "Create a key with its first version: by default a symmetric key (SYMMETRIC_DEFAULT, AES-256); --spec SM4 " +
          "for SM4-GCM, HMAC_224/256/384/512 or HMAC_SM3 for MAC keys, and with --usage an RSA, elliptic-curve, " +
          "Ed25519, SM2 or ML-DSA key pair for signing, encryption or key agreement. With --rotation-period the key " +
          "rotates itself: a new primary version (a new key pair) each period, old versions kept for decryption " +
          "and verification.",
      )
      .argument("<name>", "unique name: letters, digits and / _ + = . @ -")
      .addOption(new Option("--spec <spec>", "key spec (default SYMMETRIC_DEFAULT)").choices(keySpecNames))
      .addOption(new Option("--usage <usage>", "key usage (required for asymmetric specs; implied for SM4 and HMAC)").choices(keyUsages))
      .option("--description <text>", "what the key protects")
      .addOption(new Option("--tag <key=value>", "tag; repeat for more").argParser(collectPair))
      .addOption(new Option("--rotation-period <duration>", "rotate automatically, e.g. 90d, 12h (at least 1h)").argParser(parseDuration))
      .option("--derived", "derived mode: every encryption and derivation needs a context (HKDF per context)")
      .option("--exportable", "allow the key's versions to be exported wrapped")
      .addOption(
        new Option("--origin <origin>", "external: no material is generated; import it (tessera key import-params, key import)")
          .choices(["tessera", "external"]),
      ),
  )
    .addHelpText(
      "after",
      examples(
        "tessera key create payment-db --description 'card vault' --tag team=payments --rotation-period 90d",
        "tessera key create vm-keys --derived",
        "tessera key create gm-db --spec SM4 --rotation-period 30d",
        "tessera key create webhooks --spec HMAC_256",
        "tessera key create release-signer --spec ECC_NIST_P256 --usage SIGN_VERIFY",
      ),
    )
    .action(
      cli.action(async (name: string, opts: CreateOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client.createKey({
          name,
          ...given("keySpec", opts.spec),
          ...given("keyUsage", opts.usage),
          ...given("description", opts.description),
          ...given("tags", opts.tag),
          ...given("rotationPeriodSeconds", opts.rotationPeriod),
          ...given("derived", opts.derived),
          ...given("exportable", opts.exportable),
          ...given("origin", opts.origin === undefined ? undefined : (opts.origin.toUpperCase() as "TESSERA" | "EXTERNAL")),
        });
        if (out.json) out.data(result);
        else printKey(out, result);
      }),
    );

  interface ListOptions { limit?: number; marker?: string }
  withGlobalOptions(
    keys
      .command("list")
      .summary("list keys")
      .description("List the keys you may describe, one page at a time.")
      .addOption(new Option("--limit <n>", "keys per page").argParser(integer(1)))
      .option("--marker <marker>", "start after this marker (printed when there are more keys)"),
  )
    .addHelpText("after", examples("tessera key list", "tessera key list --limit 50 --json"))
    .action(
      cli.action(async (opts: ListOptions, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const page = await client.listKeys({ ...given("limit", opts.limit), ...given("marker", opts.marker) });
        if (out.json) return out.data(page);
        out.table(
          ["NAME", "KEY ID", "STATE", "PRIMARY", "ROTATION"],
          page.keys.map((k) => [k.name, k.keyId, k.state, k.primaryVersion, rotation(k.rotationPeriodSeconds)]),
        );
        if (page.nextMarker !== null) out.note(`More keys: tessera key list --marker ${page.nextMarker}`);
      }),
    );

  withGlobalOptions(
    keys
      .command("show")
      .summary("show a key and its versions")
      .description("Show a key's metadata and its versions, with when each was last used and how often.")
      .argument("<key>", "key name or id"),
  )
    .addHelpText("after", examples("tessera key show payment-db", "tessera key show payment-db --json | jq '.versions'"))
    .action(
      cli.action(async (key: string, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const [metadata, { versions }, retention] = await Promise.all([client.describeKey(key), client.listVersions(key), client.keyRetention(key)]);
        if (out.json) return out.data({ ...metadata, versions, retention });
        printKey(out, metadata);
        if (retention.policy !== null) out.fields([["retention", `disable ${formatDuration(retention.policy.disableAfterSeconds)} after retirement, destroy ${formatDuration(retention.policy.destroyAfterSeconds)} later, keep ${retention.policy.keepAtLeast} (${retention.policySource})`]]);
        out.line();
        printVersions(out, versions, retention);
      }),
    );

  withGlobalOptions(
    keys
      .command("grants")
      .summary("list a key's grants")
      .description("List the AWS-style grants on a key (made with the AWS API's CreateGrant): who each allows, which operations, under which constraint.")
      .argument("<key>", "key name or id"),
  )
    .addHelpText("after", examples("tessera key grants payment-db", "tessera key grants payment-db --json | jq '.grants[].grantId'"))
    .action(
      cli.action(async (key: string, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.listKeyGrants(key);
        if (out.json) return out.data(r);
        const constraint = (c: (typeof r.grants)[number]["constraints"]) =>
          c === null ? "-" : c.encryptionContextEquals !== undefined ? `equals ${JSON.stringify(c.encryptionContextEquals)}` : `subset ${JSON.stringify(c.encryptionContextSubset ?? {})}`;
        out.table(
          ["GRANT ID", "NAME", "GRANTEE ROLE", "RETIRING ROLE", "OPERATIONS", "CONSTRAINT"],
          r.grants.map((g) => [g.grantId, g.name || "-", g.granteeRole, g.retiringRole ?? "-", g.operations.join(","), constraint(g.constraints)]),
        );
      }),
    );

  const simple = [
    ["rotate", "rotate a key now", "Add a new version and make it primary. Older versions still decrypt.", "rotateKey"],
    ["enable", "enable a disabled key", "Enable a disabled key so it can be used again.", "enableKey"],
    ["disable", "disable a key", "Disable a key: every use is refused (Disabled) until it is enabled again.", "disableKey"],
    ["cancel-deletion", "cancel a scheduled deletion", "Cancel a scheduled deletion; the key returns to the state it had before (enabled or disabled).", "cancelKeyDeletion"],
  ] as const;
  for (const [name, summary, description, call] of simple) {
    const cmd = keyCommand(name, summary, description, `tessera key ${name} payment-db`);
    withGlobalOptions(cmd).action(
      cli.action(async (key: string, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client[call](key);
        if (out.json) out.data(result);
        else printKey(out, result);
      }),
    );
  }

  interface RetentionOptions { disableAfter?: number; destroyAfter?: number; keepAtLeast?: number; clear?: boolean }
  const retentionCmd = keyCommand(
    "retention",
    "show or set a key's version retention",
    "Show the key's version retention — what it will disable and destroy, and when, and who still uses old versions — or set it: " +
      "a version is disabled --disable-after it stopped being primary and destroyed --destroy-after that, keeping the --keep-at-least newest; " +
      "a version used within --disable-after is not destroyed (an alert names who). --clear removes the key's own policy (docs/retention.md).",
    "tessera key retention payment-db --disable-after 30d --destroy-after 7d --keep-at-least 2",
  )
    .addOption(new Option("--disable-after <duration>", "disable a version this long after it stopped being primary (at least 1d), e.g. 30d").argParser(parseDuration))
    .addOption(new Option("--destroy-after <duration>", "destroy it this long after it was disabled (at least 1d), e.g. 7d").argParser(parseDuration))
    .addOption(new Option("--keep-at-least <n>", "never touch the newest N versions").argParser(integer(1, 1000)))
    .option("--clear", "remove the key's own policy");
  withGlobalOptions(retentionCmd).action(
    cli.action(async (key: string, opts: RetentionOptions, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const setting = opts.disableAfter !== undefined || opts.destroyAfter !== undefined || opts.keepAtLeast !== undefined;
      if (setting && opts.clear === true) throw new UsageError("--clear removes the policy: do not combine it with the settings");
      let result;
      if (opts.clear === true) result = await client.clearKeyRetention(key);
      else if (setting) {
        if (opts.disableAfter === undefined || opts.destroyAfter === undefined) throw new UsageError("give both --disable-after and --destroy-after (and --keep-at-least, default 1)");
        result = await client.setKeyRetention(key, { disableAfterSeconds: opts.disableAfter, destroyAfterSeconds: opts.destroyAfter, keepAtLeast: opts.keepAtLeast ?? 1 });
      } else result = await client.keyRetention(key);
      if (out.json) out.data(result);
      else printRetention(out, result);
    }),
  );

  interface UpdateOptions { description?: string; rotationPeriod?: number | "off" }
  const update = keyCommand(
    "update",
    "change a key's description or rotation period",
    "Change a key's description or automatic rotation period.",
    "tessera key update payment-db --rotation-period off",
  )
    .option("--description <text>", "new description")
    .addOption(new Option("--rotation-period <duration>", "rotate automatically every period (at least 1h), or 'off'").argParser(parseRotationPeriod));
  withGlobalOptions(update).action(
    cli.action(async (key: string, opts: UpdateOptions, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      if (opts.description === undefined && opts.rotationPeriod === undefined) {
        throw new UsageError("nothing to update: give --description or --rotation-period");
      }
      const period = opts.rotationPeriod === "off" ? null : opts.rotationPeriod;
      const result = await client.updateKey(key, { ...given("description", opts.description), ...given("rotationPeriodSeconds", period) });
      if (out.json) out.data(result);
      else printKey(out, result);
    }),
  );

  const scheduleDeletion = keyCommand(
    "schedule-deletion",
    "schedule a key's destruction",
    "Disable a key now and destroy its material after a waiting period (7-30 days, default 30). Until " +
      "then `tessera key cancel-deletion` brings it back; afterwards its ciphertexts can never be " +
      "decrypted.",
    "tessera key schedule-deletion old-key --days 7",
  ).addOption(new Option("--days <n>", "waiting period in days (7-30, default 30)").argParser(integer(7, 30)));
  withGlobalOptions(scheduleDeletion).action(
    cli.action(async (key: string, opts: { days?: number }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const result = await client.scheduleKeyDeletion(key, given("pendingWindowDays", opts.days));
      if (out.json) out.data(result);
      else printKey(out, result);
    }),
  );

  const setMin = keyCommand(
    "set-min-decryption-version",
    "retire versions below a version",
    "Refuse (Disabled) ciphertexts of every version below VERSION. Re-encrypt them first with `tessera reencrypt`.",
    "tessera key set-min-decryption-version payment-db 3",
  ).argument("<version>", "lowest version that may still decrypt", integer(1));
  withGlobalOptions(setMin).action(
    cli.action(async (key: string, version: number, _opts: unknown, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const result = await client.setMinDecryptionVersion(key, { minDecryptionVersion: version });
      if (out.json) out.data(result);
      else printKey(out, result);
    }),
  );

  const versionCommands = [
    ["enable-version", "enable one version of a key", "Enable a disabled version of a key so its ciphertexts decrypt again.", "enableKeyVersion"],
    [
      "disable-version",
      "disable one version of a key",
      "Disable one version of a key: its ciphertexts are refused (Disabled). The primary version cannot be disabled.",
      "disableKeyVersion",
    ],
  ] as const;
  for (const [name, summary, description, call] of versionCommands) {
    const cmd = keyCommand(name, summary, description, `tessera key ${name} payment-db 2`).argument("<version>", "version number", integer(1));
    withGlobalOptions(cmd).action(
      cli.action(async (key: string, version: number, _opts: unknown, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const result = await client[call](key, version);
        if (out.json) out.data(result);
        else printVersion(out, result);
      }),
    );
  }

  registerAliasCommands(keys, cli);
}
