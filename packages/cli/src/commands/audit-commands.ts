/** `tessera audit verify|query|hash|public-key`. */
import { readdirSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { VerifyReport } from "@tessera/audit";
import type { TesseraClient } from "@tessera/client";
import { AUDIT_OUTCOMES } from "@tessera/protocol/core";
import { Option, type Command } from "commander";
import { integer } from "../args.js";
import type { Cli } from "../cli.js";
import { examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

/**
 * The trail verifier (`@tessera/audit`, with `node:zlib` for rotated files) is loaded by the commands
 * that verify, not by every `tessera` call: each call is a process of its own.
 */
const loadAudit = () => import("@tessera/audit");

export function registerAuditCommands(program: Command, cli: Cli): void {
  const audit = program.command("audit").helpGroup("Audit:").summary("verify and search the audit trail").description("Verify the tamper-evident audit trail and search it (docs/audit.md).");

  withGlobalOptions(
    audit
      .command("verify")
      .summary("check a trail's chain, hashes and signatures")
      .description(
        "Verify an audit trail: from JSON-lines files (offline; give every file of a rotated trail) or, with --server, " +
          "the database trail of the server at --address. Files of several trails (one per worker of a server with " +
          "`workers` > 1: audit-w1.jsonl, audit-w2.jsonl …) are verified trail by trail. Prints OK with counts and the time range, or the first bad " +
          "record and what is wrong with it. Exit code 0 only when everything checks.\n\n" +
          "Offline, the trail must end in the final checkpoint a clean shutdown writes: a copy that was cut short " +
          "fails with an open tail unless --allow-open-tail is given (the trail of a running server). --server " +
          "checks the trail against the server's head instead. Pin the public key out of band (--public-key): a key " +
          "fetched from the server proves only that the server signed the trail.",
      )
      .option("--file <file>", "a trail file, repeated for rotated files, or the trail's directory (every trail file in it)", (v: string, p: string[] | undefined) => [...(p ?? []), v])
      .option("--public-key <pem-file>", "checkpoint public key (from `tessera audit public-key`, kept apart from the server) to check signatures")
      .option("--allow-open-tail", "accept a trail that does not end in a final checkpoint (a live server's files)")
      .option("--retained", "the oldest files were deleted by retention: accept a trail that starts after seq 1, anchored by its first record and signed by its checkpoints")
      .option("--server", "verify the server's database trail, its head and its signatures"),
  )
    .addHelpText(
      "after",
      examples(
        "tessera audit verify --file /var/lib/tessera/audit/audit.jsonl --public-key audit.pub",
        "tessera audit verify --file /var/lib/tessera/audit/audit.jsonl --public-key audit.pub --allow-open-tail   # server running",
        "tessera audit verify --server --public-key audit.pub",
      ),
    )
    .action(
      cli.action(async (o: { file?: string[]; publicKey?: string; allowOpenTail?: boolean; retained?: boolean; server?: boolean }, cmd: Command) => {
        if ((o.file === undefined) === (o.server !== true)) throw new UsageError("give --file (one or more) or --server");
        const out = cli.output(cmd);
        const { fileLines, readableTrailFiles, verifyTrail } = await loadAudit();
        let publicKey = o.publicKey === undefined ? undefined : await readFile(o.publicKey, "utf8");
        let report;
        if (o.server === true) {
          const { client } = cli.connect(cmd);
          publicKey ??= (await client.auditPublicKey()).publicKey;
          const { chains } = await client.auditChains();
          if (chains.length > 1 || (chains[0] ?? "") !== "") {
            // Several nodes (or workers) on one database: every chain, each reported on its own; OK only if
            // all are. Each named explicitly: behind one listener with several workers, consecutive
            // requests may be answered by different workers, so "the answering node's chain" is not one chain.
            const nodes: (VerifyReport & { node: string })[] = [];
            for (const chain of chains) nodes.push({ node: chain, ...(await verifyServerChain(client, publicKey, chain, chain)) });
            const ok = nodes.every((n) => n.ok);
            if (out.json) out.data({ ok, nodes });
            else for (const n of nodes) out.line(`${n.node || "(single node)"}: ${describe(n)}`);
            if (publicKey === undefined) out.note("signatures not checked: give --public-key");
            return ok ? 0 : 1;
          }
          report = await verifyServerChain(client, publicKey, undefined, undefined);
        } else {
          const given = readableTrailFiles(o.file!.flatMap(trailFilesIn));
          if (given.length === 0) throw new UsageError(`no trail files in ${o.file!.join(", ")}`);
          const trails = fileTrails(given);
          if (trails.length > 1) {
            // A server with several workers: one trail per worker (audit-w1.jsonl, audit-w2.jsonl …), each its own chain.
            const reports: (VerifyReport & { trail: string })[] = [];
            for (const [trail, files] of trails) reports.push({ trail, ...(await verifyTrail(fileLines(files), { ...(publicKey !== undefined && { publicKey }), allowOpenTail: o.allowOpenTail === true, retained: o.retained === true })) });
            const ok = reports.every((r) => r.ok);
            if (out.json) out.data({ ok, trails: reports });
            else for (const r of reports) out.line(`${r.trail}: ${describe(r)}`);
            if (publicKey === undefined) out.note("signatures not checked: give --public-key");
            return ok ? 0 : 1;
          }
          report = await verifyTrail(fileLines(given), { ...(publicKey !== undefined && { publicKey }), allowOpenTail: o.allowOpenTail === true, retained: o.retained === true });
        }
        if (out.json) out.data(report);
        else if (report.ok) {
          out.line(describe(report));
          if (publicKey === undefined) out.note("signatures not checked: give --public-key");
          if (report.repairs > 0) out.note(`${report.repairs} repair records: the server repaired a sink after a crash (see docs/audit.md)`);
          if ((report.firstSeq ?? 1) > 1) out.note(`the trail starts at seq ${report.firstSeq} (older files removed by retention): records before it are not checked`);
          if (!report.final) out.note(`open tail: ${report.unsignedTail} records after the last checkpoint${report.lastCheckpointSeq === null ? "" : `, seq ${report.lastCheckpointSeq}`}, not yet covered by a signature`);
        } else out.line(describe(report));
        return report.ok ? 0 : 1;
      }),
    );

  withGlobalOptions(
    audit
      .command("query")
      .summary("search the audit trail")
      .option("--from <time>", "ISO time")
      .option("--to <time>", "ISO time")
      .option("--principal <id|name|role>")
      .option("--key <key-id>")
      .option("--action <action>", "e.g. kms:Decrypt")
      .addOption(new Option("--outcome <outcome>", "allowed, denied (authentication or policy), error (any other refusal or failure), or intent (a change about to be attempted)").choices(AUDIT_OUTCOMES))
      .option("--request-id <id>", "the records of one request (an answer's X-Request-Id, x-amzn-RequestId or Vault request_id)")
      .option("--after <seq>", "page after this sequence number", integer(0))
      .option("--limit <n>", "at most this many (default 100)", integer(1, 1000)),
  )
    .addHelpText(
      "after",
      examples(
        "tessera audit query --outcome denied --from 2026-11-28T00:00:00Z",
        "tessera audit query --principal payment-vm --action kms:Decrypt --json",
        "tessera audit query --request-id 0f8e2c1a-5b3d-4c6e-9a7f-1d2b3c4d5e6f",
      ),
    )
    .action(
      cli.action(async (o: { from?: string; to?: string; principal?: string; key?: string; action?: string; outcome?: string; requestId?: string; after?: number; limit?: number }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.auditQuery({ ...given("from", o.from), ...given("to", o.to), ...given("principal", o.principal), ...given("key", o.key), ...given("action", o.action), ...given("outcome", o.outcome), ...given("requestId", o.requestId), ...given("after", o.after), ...given("limit", o.limit) });
        if (out.json) return out.data(r);
        out.table(
          ["SEQ", "TIME", "PRINCIPAL", "ACTION", "KEY", "OUTCOME", "CODE"],
          r.records.map((x) => {
            const p = x["principal"] as { displayName?: string; role?: string } | null;
            return [x["seq"] as number, x["time"] as string, p ? `${p.displayName ?? ""}${p.role ? ` (${p.role})` : ""}` : "-", (x["action"] as string) ?? (x["kind"] as string), x["keyId"] as string, x["outcome"] as string, x["errorCode"] as string];
          }),
        );
        if (r.nextAfter !== null) out.note(`more: --after ${r.nextAfter}`);
      }),
    );

  withGlobalOptions(audit.command("hash").summary("the HMAC under which the trail stores a value").argument("<value>", "e.g. an encryption-context value or a token accessor"))
    .addHelpText("after", examples("tessera audit hash vm-17   # then: grep <hmac> audit.jsonl"))
    .action(
      cli.action(async (value: string, _o: object, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.auditHash(value);
        if (out.json) out.data(r);
        else out.line(r.hmac);
      }),
    );

  withGlobalOptions(
    audit
      .command("activity")
      .summary("requests per minute by outcome, and the most used keys")
      .description("Show the server node's answered requests by outcome — per minute over the last hour, or per quarter-hour over the last day with --day — and its most used keys (counted since the node started; on several nodes, each its own).")
      .option("--day", "the last day in 15-minute buckets instead of the last hour in minutes"),
  )
    .addHelpText("after", examples("tessera audit activity", "tessera audit activity --day --json"))
    .action(
      cli.action(async (o: { day?: boolean }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.auditActivity(o.day === true ? "day" : "hour");
        if (out.json) return out.data(r);
        const sum = (k: "allowed" | "denied" | "error") => r.buckets.reduce((s, b) => s + b[k], 0);
        out.line(`${r.from} – ${r.to}: ${sum("allowed")} allowed, ${sum("denied")} denied, ${sum("error")} errors`);
        for (const b of r.buckets) if (b.allowed + b.denied + b.error > 0) out.line(`${b.start}  allowed ${b.allowed}  denied ${b.denied}  error ${b.error}`);
        for (const k of r.topKeys) out.line(`top key ${k.keyId}: ${k.count}`);
      }),
    );

  withGlobalOptions(audit.command("public-key").summary("print the checkpoint signing key (PEM) for offline verification")).action(
    cli.action(async (_o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.auditPublicKey();
      if (out.json) out.data(r);
      else out.bytes(Buffer.from(r.publicKey));
    }),
  );

  const alerts = program.command("alerts").helpGroup("Audit:").summary("list and acknowledge anomaly alerts");
  withGlobalOptions(alerts.command("list").summary("list alerts (unacknowledged unless --all)").option("--all", "include acknowledged alerts").option("--limit <n>", "at most this many", integer(1, 1000))).action(
    cli.action(async (o: { all?: boolean; limit?: number }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listAlerts(o.all === true, o.limit ?? 100);
      if (out.json) return out.data(r);
      out.table(
        ["ID", "TIME", "DETECTOR", "SEVERITY", "MESSAGE", "ACK"],
        r.alerts.map((a) => [a["id"] as string, a["time"] as string, a["detector"] as string, a["severity"] as string, a["message"] as string, (a["acknowledgedBy"] as string | null) ?? "-"]),
      );
    }),
  );
  withGlobalOptions(alerts.command("ack").summary("acknowledge an alert").argument("<id>")).action(
    cli.action(async (id: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.ackAlert(id);
      if (out.json) out.data({});
      else out.line(`Alert ${id} acknowledged.`);
    }),
  );
}

/**
 * A `--file` argument as files: a file is itself; a directory (the server's `audit/`) is every file in
 * it but the torn tails a crash repair keeps beside the trail (`torn-…`) and hidden files. What is not
 * trail either way (a `.gz.tmp` being written, a copy given twice) `readableTrailFiles` leaves out.
 */
function trailFilesIn(path: string): string[] {
  let isDir: boolean;
  try {
    isDir = statSync(path).isDirectory();
  } catch {
    return [path]; // reading it reports what is wrong
  }
  if (!isDir) return [path];
  return readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isFile() && !e.name.startsWith(".") && !e.name.startsWith("torn-"))
    .map((e) => join(path, e.name))
    .sort();
}

/**
 * The files given, grouped by trail: a rotated file (`<trail>.<12 digits>`) belongs to its current
 * file's trail. Several trails are several chains (one per worker), verified each on its own.
 */
function fileTrails(files: readonly string[]): [string, string[]][] {
  const trails = new Map<string, string[]>();
  for (const f of files) {
    const trail = f.replace(/\.\d{12}(\.gz)?$/, "");
    trails.set(trail, [...(trails.get(trail) ?? []), f]);
  }
  return [...trails];
}

/** One line: OK with counts and time range, or where the first bad record is and what is wrong. */
function describe(report: VerifyReport): string {
  return report.ok
    ? `OK: ${report.entries} entries, ${report.checkpoints} checkpoints, seq ${report.firstSeq ?? 0}–${report.lastSeq ?? 0}, ${report.firstTime ?? "-"} … ${report.lastTime ?? "-"}`
    : `FAILED at seq ${report.problem!.seq ?? "?"} (${report.problem!.where}): ${report.problem!.what}`;
}

/**
 * Verifies one chain of the server's database trail: the answering node's own (`chain` undefined),
 * checked against its head, or another node's (checked to the end the database holds; a running
 * node's chain is open). `node` names the node its checkpoints must name.
 */
async function verifyServerChain(client: TesseraClient, publicKey: string | undefined, chain: string | undefined, node: string | undefined): Promise<VerifyReport> {
  // Reading the trail is audited too, so the own chain grows while we read: stop at the head read first.
  const { lineHead, verifyTrail } = await loadAudit();
  const head = chain === undefined ? await client.auditHead() : null;
  const end = chain === undefined ? (head?.seq ?? 0) : Number.MAX_SAFE_INTEGER;
  async function* serverLines() {
    let after = 0;
    while (after < end) {
      const page = await client.auditLines(after, 5000, chain);
      const lines = page.lines.filter((line) => (lineHead(line)?.seq ?? 0) <= end);
      const from = after;
      yield { lines, where: (i: number) => `${chain === undefined ? "server" : `node ${chain}`} seq ${from + i + 1}` };
      // A short page is the end as of that read: the chain of the worker answering grows by one record
      // per read (reads are audited), so following it further would never end.
      if (page.nextAfter === null || page.lines.length < 5000) return;
      after = page.nextAfter;
    }
  }
  // A live server's trail is open; its head (read first) is what catches a cut tail.
  return verifyTrail(serverLines(), { ...(publicKey !== undefined && { publicKey }), allowOpenTail: true, ...(head !== null && { expectHead: head }), ...(node ? { node } : {}) });
}
