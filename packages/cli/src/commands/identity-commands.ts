/**
 * Identity and policy commands: `policy`, `role`, `login`, `approle`, `access-key`, `join-token`,
 * `cert`, `ca`, `auth jwt issuer`, and `token renew`.
 */
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS } from "@tessera/protocol/core";
import type { LoginResponse, SimulateRequest } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { collect, collectPair, integer, oneOf, parseDuration } from "../args.js";
import type { Cli } from "../cli.js";
import { readInput, readSecret } from "../io.js";
import type { Output } from "../output.js";
import { contextOption, examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";
import { AUTH_METHODS, collectClaim, issuerBody, jwtUnbound, roleBody, type IssuerOptions, type RoleOptions } from "../identity-args.js";

const DEFAULT_DIR = join(homedir(), ".tessera");
/** Loaded only by the commands that need X.509 (keeps every other command's start-up fast). */
const mtls = () => import("./mtls.js");

/** The token alone on stdout (so `TESSERA_TOKEN=$(tessera login …)` works); what it carries on stderr. */
function printLogin(out: Output, r: LoginResponse): void {
  if (out.json) return out.data(r);
  out.line(r.token);
  const attributes = Object.entries(r.attributes).map(([k, v]) => `${k}=${v}`).join(", ");
  out.note(`Logged in: role ${r.role ?? "-"}, auth ${r.authMethod}, accessor ${r.accessor}, expires ${r.expiresAt ?? "never"}${attributes === "" ? "" : `, attributes ${attributes}`}.`);
}

async function readJson(cli: Cli, path: string): Promise<unknown> {
  const text = (await readInput(cli.io, path)).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON: ${(err as Error).message}`);
  }
}

/** Logins and certificate commands prove themselves with something other than a Tessera token. */
const OTHER_CREDENTIAL = { credential: "other" } as const;

const strings = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function registerIdentityCommands(program: Command, cli: Cli): void {
  // ── policy ───────────────────────────────────────────────────────────────────────────────────
  const policy = program.command("policy").helpGroup("Access:").summary("write, read and simulate policies").description("Manage policy documents (docs/policy.md) and ask the simulator what a principal may do.");
  withGlobalOptions(policy.command("put").summary("create or replace a policy").argument("<name>").argument("<file>", "JSON policy document ('-' for stdin)").option("--force", "allow changing the built-in operator policy"))
    .addHelpText("after", examples("tessera policy put payment-decrypt payment-decrypt.json"))
    .action(
      cli.action(async (name: string, file: string, opts: { force?: boolean }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.putPolicy(name, await readJson(cli, file), opts.force);
        if (out.json) out.data(r);
        else out.line(`Policy ${r.name} written.`);
      }),
    );
  withGlobalOptions(policy.command("get").summary("print a policy").argument("<name>")).action(
    cli.action(async (name: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.getPolicy(name);
      out.data(out.json ? r : r.document);
    }),
  );
  withGlobalOptions(policy.command("list").summary("list policies")).action(
    cli.action(async (_o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listPolicies();
      if (out.json) out.data(r);
      else for (const n of r.names) out.line(n);
    }),
  );
  withGlobalOptions(policy.command("delete").summary("delete a policy").argument("<name>").option("--force", "delete even if roles use it, or if it is the operator policy")).action(
    cli.action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.deletePolicy(name, opts.force);
      if (out.json) out.data({});
      else out.line(`Policy ${name} deleted.`);
    }),
  );
  withGlobalOptions(
    policy
      .command("simulate")
      .summary("ask whether a principal may do an action")
      .description("Evaluate a hypothetical request without doing it, and say which statement decided. The exit code is 0 for allow and deny alike.")
      .option("--role <role>", "simulate a principal of this role")
      .option("--accessor <accessor>", "simulate the principal of this existing token")
      .addOption(new Option("--attr <key=value>", "principal attribute (vm_id=…); repeat for more").argParser(collectPair))
      .addOption(new Option("--auth-method <method>", "how the principal logged in (default token)").choices(AUTH_METHODS))
      .requiredOption("--action <action>", "e.g. kms:Decrypt")
      .option("--resource <resource>", "key name or id, or a typed resource: key/NAME, policy/NAME, role/NAME, policy/*, audit …")
      .addOption(contextOption())
      .option("--source <ip>", "caller address")
      .option("--time <iso>", "request time, e.g. 2026-01-05T21:00:00+08:00"),
  )
    .addHelpText("after", examples(
        "tessera policy simulate --role payment-vm --attr vm_id=vm-1 --action kms:Decrypt --resource payment-db --context vm=vm-1 --source 10.0.3.7",
        "tessera policy simulate --role team-admin --action policy:PutPolicy --resource policy/orders-app",
      ))
    .action(
      cli.action(async (o: { role?: string; accessor?: string; attr?: Record<string, string>; authMethod?: string; action: string; resource?: string; context?: Record<string, string>; source?: string; time?: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        if ((o.role === undefined) === (o.accessor === undefined)) throw new UsageError("give exactly one of --role or --accessor");
        const time = o.time === undefined ? undefined : new Date(o.time);
        if (time !== undefined && Number.isNaN(time.getTime())) throw new UsageError(`--time "${o.time}" is not a date`);
        const req: SimulateRequest = {
          action: o.action,
          ...given("role", o.role),
          ...given("accessor", o.accessor),
          ...given("attributes", o.attr),
          ...given("authMethod", o.authMethod),
          ...given("resource", o.resource),
          ...given("context", o.context),
          ...given("source", o.source),
          ...given("time", time?.toISOString()),
        };
        const d = await client.simulate(req);
        if (out.json) return out.data(d);
        const statement = (s: { policy?: string; statement?: number; sid?: string }) => `policy ${s.policy}, statement ${s.statement}${s.sid ? ` "${s.sid}"` : ""}`;
        const on = `${o.action} on ${d.resource ?? o.resource ?? "?"}`;
        if (d.reason === "default-deny") {
          // Say why nothing allowed it: no statement matched, or which matched but failed which conditions.
          const unmet = d.unmet ?? [];
          out.line(unmet.length === 0 ? `denied: default-deny (no statement allows ${on})` : `denied: default-deny (statements allow ${on}, but their conditions failed)`);
          for (const u of unmet) out.line(`  ${statement(u)}: failed ${u.failed.join(", ")}`);
        } else out.line(`${d.allowed ? "allowed" : "denied"}: ${d.reason}${d.policy === undefined ? "" : ` (${statement(d)})`}`);
        for (const w of d.warnings ?? []) out.line(`warning: ${o.action} is ${w.code}: ${w.message}`);
      }),
    );

  // ── role ─────────────────────────────────────────────────────────────────────────────────────
  const role = program.command("role").helpGroup("Access:").summary("bind policies to principals").description("Create and manage roles: the policies, token lifetimes and login bindings (AppRole, JWT) of a class of principals.");
  for (const verb of ["create", "update"] as const) {
    withGlobalOptions(
      role
        .command(verb)
        .summary(verb === "create" ? "create (or replace) a role" : "change a role, keeping settings not given")
        .argument("<name>")
        .option("--policy <policy>", "policy to bind; repeat for more", strings)
        .option("--description <text>")
        .addOption(new Option("--token-ttl <duration>", "lifetime of login tokens (default 1h)").argParser(parseDuration))
        .addOption(new Option("--token-max-ttl <duration>", "how far renewals may extend a token").argParser(parseDuration))
        .addOption(new Option("--cert-ttl <duration>", "lifetime of instance certificates (default 24h)").argParser(parseDuration))
        .option("--approle", "allow AppRole logins (role id + secret id)")
        .addOption(new Option("--secret-id-ttl <duration>", "default secret id lifetime").argParser(parseDuration))
        .addOption(new Option("--secret-id-uses <n>", "default uses per secret id (0 = unlimited)").argParser(integer(0)))
        .option("--bound-cidr <cidr>", "secret ids only work from here; repeat for more", strings)
        .option("--jwt-issuer <name>", "allow JWT logins from this configured issuer")
        .addOption(new Option("--bound-claim <claim=pattern>", "a claim the JWT must carry (dotted path; * globs; * alone = present); repeat, the same claim twice accepts either").argParser(collectClaim))
        .addOption(new Option("--claim-attr <claim=attribute>", "copy a JWT claim into a principal attribute").argParser(collectPair))
        .option("--bound-audience <aud>", "accepted JWT audience (default: the issuer's)", strings)
        .option("--force", "allow changes to the built-in operator role"),
    )
      .addHelpText(
        "after",
        examples(
          "tessera role create payment-vm --policy payment-decrypt --token-ttl 15m --cert-ttl 24h",
          "tessera role create ci --policy ci-encrypt --approle --secret-id-uses 1 --bound-cidr 10.20.0.0/16",
          "tessera role create gce-app --policy app --jwt-issuer gce --bound-claim google.compute_engine.instance_id='*' --claim-attr google.compute_engine.instance_name=vm_id",
        ),
      )
      .action(
        cli.action(async (name: string, o: RoleOptions & { force?: boolean }, cmd: Command) => {
          const { client, out } = cli.connect(cmd);
          if (verb === "create" && o.policy === undefined) throw new UsageError("give at least one --policy");
          const body = roleBody(o, verb === "update" ? await client.getRole(name) : undefined);
          if (jwtUnbound(body)) out.note(`Warning: role ${name} binds no JWT claims: any token of its issuer with an accepted audience can log in with it.`);
          const r = await client.putRole(name, body, o.force);
          if (out.json) out.data(r);
          else out.line(`Role ${r.name} written (policies: ${r.policies.join(", ") || "none"}).`);
        }),
      );
  }
  withGlobalOptions(role.command("get").summary("show a role").argument("<name>")).action(
    cli.action(async (name: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      out.data(await client.getRole(name));
    }),
  );
  withGlobalOptions(role.command("list").summary("list roles")).action(
    cli.action(async (_o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listRoles();
      if (out.json) out.data(r);
      else for (const n of r.names) out.line(n);
    }),
  );
  withGlobalOptions(role.command("delete").summary("delete a role and revoke everything issued under it").argument("<name>").option("--force", "allow deleting the built-in operator role")).action(
    cli.action(async (name: string, opts: { force?: boolean }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.deleteRole(name, opts.force);
      if (out.json) out.data({});
      else out.line(`Role ${name} deleted; its tokens, secret ids, join tokens, access keys and certificates are revoked.`);
    }),
  );

  // ── login ────────────────────────────────────────────────────────────────────────────────────
  const login = program.command("login").helpGroup("Access:").summary("log in and print a Tessera token").description("Prove an identity and get a short-lived Tessera token (printed; --json gives {\"token\": …}).");
  withGlobalOptions(login.command("approle").summary("log in with a role id and secret id").requiredOption("--role-id <id>").requiredOption("--secret-id <id|->", "the secret id, or - to read it from stdin"))
    .addHelpText("after", examples("export TESSERA_TOKEN=$(tessera login approle --role-id 5f0c… --secret-id - < secret-id)"))
    .action(
      cli.action(async (o: { roleId: string; secretId: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const secret = o.secretId === "-" ? await readSecret(cli.io, "Secret id: ") : o.secretId;
        printLogin(out, await client.loginAppRole(o.roleId, secret));
      }, OTHER_CREDENTIAL),
    );
  withGlobalOptions(login.command("jwt").summary("log in with a signed workload token (JWT/OIDC)").requiredOption("--role <role>").requiredOption("--jwt-file <file>", "file holding the JWT ('-' for stdin)"))
    .addHelpText("after", examples("tessera login jwt --role gce-app --jwt-file /run/identity/token"))
    .action(
      cli.action(async (o: { role: string; jwtFile: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const jwt = (await readInput(cli.io, o.jwtFile)).toString("utf8").trim();
        printLogin(out, await client.loginJwt(o.role, jwt));
      }, OTHER_CREDENTIAL),
    );
  // `--token` here is the join token (as the issue's `tessera login join --token …` says), so this
  // command takes --address and --json itself instead of the global options.
  login
    .command("join")
    .summary("enrol this VM with a join token")
    .description(
      "Generate an EC P-256 key pair here, send a CSR with the single-use join token, and store the instance " +
        "certificate Tessera's CA issues: DIR/key.pem (0600), DIR/cert.pem and DIR/ca.pem. Prints the Tessera token.",
    )
    .requiredOption("--token <join-token>", "the join token an operator created (not a Tessera token)")
    .option("--vm-id <id>", "this VM's id (if the join token does not fix one)")
    .option("--dir <dir>", "where to write key and certificates", DEFAULT_DIR)
    .addOption(new Option("--address <url>", "address of the Tessera server").env("TESSERA_ADDR").default("http://127.0.0.1:8200"))
    .addOption(new Option("--ca-cert <file>", "PEM CA certificate to trust for the server's TLS certificate").env("TESSERA_CACERT"))
    .option("--json", "print the result as JSON (a failure: the error body, on stderr)")
    .addHelpText("after", examples("tessera login join --token tsj_… --vm-id web-7 --json"))
    .action(
      cli.action(async (o: { token: string; vmId?: string; dir: string; caCert?: string }, cmd: Command) => {
        const { address } = cli.globals(cmd);
        const out = cli.output(cmd);
        const { TesseraClient } = await import("@tessera/client/core");
        const ca = o.caCert === undefined || o.caCert === "" ? undefined : await readFile(o.caCert).catch(() => {
          throw new UsageError(`cannot read the CA certificate file "${o.caCert}"`);
        });
        const client = new TesseraClient({ address, ...(ca && { tls: { ca } }) });
        const { keyPem, csrPem } = await (await mtls()).certificateRequest(o.vmId ?? "vm");
        const r = await client.join({ joinToken: o.token, csr: csrPem, ...given("vmId", o.vmId) });
        await mkdir(o.dir, { recursive: true, mode: 0o700 });
        await writeFile(join(o.dir, "key.pem"), keyPem, { mode: 0o600 });
        await chmod(join(o.dir, "key.pem"), 0o600);
        await writeFile(join(o.dir, "cert.pem"), r.certificate);
        await writeFile(join(o.dir, "ca.pem"), r.caCertificate);
        if (out.json) out.data({ ...r.token, vmId: r.vmId, serial: r.serial, certificateExpiresAt: r.expiresAt, dir: o.dir });
        else {
          printLogin(out, r.token);
          out.note(`Enrolled ${r.vmId} (serial ${r.serial}); certificate valid until ${r.expiresAt}, stored in ${o.dir}.`);
        }
      }, OTHER_CREDENTIAL),
    );
  const mtlsOptions = (c: Command) => c.option("--dir <dir>", "directory with key.pem and cert.pem", DEFAULT_DIR);
  withGlobalOptions(mtlsOptions(login.command("cert").summary("log in with this VM's instance certificate (mutual TLS)"))).action(
    cli.action(async (o: { dir: string }, cmd: Command) => {
      const out = cli.output(cmd);
      const client = await (await mtls()).certificateClient(cli.globals(cmd), o.dir);
      printLogin(out, await client.certLogin());
    }, OTHER_CREDENTIAL),
  );

  // ── cert, ca, join-token ─────────────────────────────────────────────────────────────────────
  const cert = program.command("cert").helpGroup("Access:").summary("renew and revoke instance certificates");
  withGlobalOptions(mtlsOptions(cert.command("renew").summary("renew this VM's certificate with the current one"))).action(
    cli.action(async (o: { dir: string }, cmd: Command) => {
      const out = cli.output(cmd);
      const m = await mtls();
      const client = await m.certificateClient(cli.globals(cmd), o.dir);
      const { keyPem, csrPem } = await m.certificateRequest("vm");
      const r = await client.renewCertificate(csrPem);
      await writeFile(join(o.dir, "key.pem"), keyPem, { mode: 0o600 });
      await writeFile(join(o.dir, "cert.pem"), r.certificate);
      await writeFile(join(o.dir, "ca.pem"), r.caCertificate);
      if (out.json) out.data(r);
      else out.line(`Renewed: serial ${r.serial}, valid until ${r.expiresAt}.`);
    }, OTHER_CREDENTIAL),
  );
  withGlobalOptions(cert.command("list").summary("list enrolled VMs' certificates").option("--limit <n>", "at most this many", integer(1, 1000)).option("--marker <serial>", "continue after this serial (from a previous page)")).action(
    cli.action(async (o: { limit?: number; marker?: string }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listCertificates({ ...given("limit", o.limit), ...given("marker", o.marker) });
      if (out.json) return out.data(r);
      for (const c of r.certificates) out.line(`${c.serial}  ${c.vmId}  ${c.role}  ${c.state}  until ${c.notAfter}`);
      if (r.nextMarker !== null) out.note(`more: --marker ${r.nextMarker}`);
    }),
  );
  withGlobalOptions(cert.command("revoke").summary("revoke a certificate, or every certificate and token of a VM").option("--serial <serial>").option("--vm-id <id>")).action(
    cli.action(async (o: { serial?: string; vmId?: string }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      if ((o.serial === undefined) === (o.vmId === undefined)) throw new UsageError("give exactly one of --serial or --vm-id");
      const r = await client.revokeCertificates(o.serial !== undefined ? { serial: o.serial } : { vmId: o.vmId! });
      if (out.json) out.data(r);
      else out.line(`Revoked ${r.certificates} certificate(s) and ${r.tokens} token(s).`);
    }),
  );
  // `tessera ca show` (or just `tessera ca`): the CA certificate VMs and clients trust.
  withGlobalOptions(program.command("ca").helpGroup("Access:").summary("print Tessera's instance CA certificate (PEM)").argument("[show]", "the only subcommand (default)")).action(
    cli.action(async (sub: string | undefined, _o: object, cmd: Command) => {
      if (sub !== undefined && sub !== "show") throw new UsageError(`unknown ca subcommand "${sub}" (expected show)`);
      const { client, out } = cli.connect(cmd);
      const r = await client.caCertificate();
      if (out.json) out.data(r);
      else out.bytes(Buffer.from(r.certificate ?? "(no CA yet: it is created at the first enrolment)\n"));
    }),
  );
  const joinTokens = program.command("join-token").helpGroup("Access:").summary("create single-use tokens that enrol VMs");
  withGlobalOptions(
    joinTokens
      .command("create")
      .summary("create a join token bound to a role")
      .requiredOption("--role <role>")
      .addOption(new Option("--ttl <duration>", "lifetime (default 15m)").argParser(parseDuration))
      .addOption(new Option("--uses <n>", "how many enrolments (default 1)").argParser(integer(1, 10000)))
      .option("--vm-id <id>", "fix the VM id the certificate will name"),
  )
    .addHelpText("after", examples("tessera join-token create --role payment-vm --ttl 15m --vm-id pay-1"))
    .action(
      cli.action(async (o: { role: string; ttl?: number; uses?: number; vmId?: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.createJoinToken({ role: o.role, ...given("ttlSeconds", o.ttl), ...given("uses", o.uses), ...given("vmId", o.vmId) });
        if (out.json) out.data(r);
        else out.fields([["joinToken", r.joinToken], ["accessor", r.accessor], ["role", r.role], ["vmId", r.vmId], ["uses", r.usesLeft], ["expiresAt", r.expiresAt]]);
      }),
    );
  withGlobalOptions(joinTokens.command("list").summary("list unspent join tokens")).action(
    cli.action(async (_o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listJoinTokens();
      if (out.json) out.data(r);
      else out.table(["ACCESSOR", "ROLE", "VM", "USES LEFT", "EXPIRES"], r.joinTokens.map((t) => [t.accessor, t.role, t.vmId, t.usesLeft, t.expiresAt]));
    }),
  );
  withGlobalOptions(joinTokens.command("revoke").summary("revoke a join token").argument("<accessor>")).action(
    cli.action(async (accessor: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.revokeJoinToken(accessor);
      if (out.json) out.data({});
      else out.line("Join token revoked.");
    }),
  );

  // ── approle ──────────────────────────────────────────────────────────────────────────────────
  const approle = program.command("approle").helpGroup("Access:").summary("role ids and secret ids for automation");
  withGlobalOptions(approle.command("role-id").summary("print a role's role id").argument("<role>")).action(
    cli.action(async (r: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const res = await client.roleId(r);
      if (out.json) out.data(res);
      else out.line(res.roleId);
    }),
  );
  const secretId = approle.command("secret-id").summary("create and revoke secret ids");
  withGlobalOptions(
    secretId
      .command("create")
      .summary("create a secret id for a role")
      .argument("<role>")
      .option("--cidr <cidr>", "only usable from here; repeat for more", strings)
      .addOption(new Option("--ttl <duration>").argParser(parseDuration))
      .addOption(new Option("--uses <n>", "0 = unlimited").argParser(integer(0))),
  )
    .addHelpText("after", examples("tessera approle secret-id create ci --ttl 1h --uses 1 --cidr 10.20.0.0/16 --json"))
    .action(
      cli.action(async (r: string, o: { cidr?: string[]; ttl?: number; uses?: number }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const res = await client.createSecretId(r, { ...given("cidrs", o.cidr), ...given("ttlSeconds", o.ttl), ...given("uses", o.uses) });
        if (out.json) out.data(res);
        else out.fields([["secretId", res.secretId], ["accessor", res.accessor], ["expiresAt", res.expiresAt ?? "never"], ["uses", res.uses ?? "unlimited"], ["cidrs", res.cidrs.join(", ")]]);
      }),
    );
  withGlobalOptions(secretId.command("revoke").summary("revoke a secret id").argument("<accessor>")).action(
    cli.action(async (accessor: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.revokeSecretId(accessor);
      if (out.json) out.data({});
      else out.line("Secret id revoked.");
    }),
  );

  // ── access keys ──────────────────────────────────────────────────────────────────────────────
  const keys = program.command("access-key").helpGroup("Access:").summary("access keys for the AWS-compatible API (SigV4)");
  withGlobalOptions(keys.command("create").summary("create an access key for a role (the secret is shown once)").requiredOption("--role <role>", "role whose policies apply (required)").option("--description <text>"))
    .addHelpText("after", examples("tessera access-key create --role billing-app --json"))
    .action(
      cli.action(async (o: { role: string; description?: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.createAccessKey(o.role, o.description);
        if (out.json) out.data(r);
        else out.fields([["accessKeyId", r.accessKeyId], ["secretAccessKey", r.secretAccessKey], ["role", r.role]]);
      }),
    );
  withGlobalOptions(keys.command("list").summary("list access keys")).action(
    cli.action(async (_o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listAccessKeys();
      if (out.json) out.data(r);
      else out.table(["ACCESS KEY ID", "ROLE", "STATE", "CREATED", "DESCRIPTION"], r.accessKeys.map((k) => [k.accessKeyId, k.role, k.state, k.createdAt, k.description]));
    }),
  );
  for (const [verb, state] of [["disable", "Inactive"], ["enable", "Active"]] as const) {
    withGlobalOptions(keys.command(verb).summary(`${verb} an access key`).argument("<id>")).action(
      cli.action(async (id: string, _o: object, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.setAccessKeyState(id, state);
        if (out.json) out.data(r);
        else out.line(`Access key ${id} is ${r.state}.`);
      }),
    );
  }
  withGlobalOptions(keys.command("delete").summary("delete an access key").argument("<id>")).action(
    cli.action(async (id: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.deleteAccessKey(id);
      if (out.json) out.data({});
      else out.line(`Access key ${id} deleted.`);
    }),
  );

  // ── auth jwt issuer ──────────────────────────────────────────────────────────────────────────
  const issuer = program.command("auth").helpGroup("Access:").summary("configure login methods").command("jwt").summary("JWT/OIDC issuers").command("issuer").summary("trusted JWT issuers");
  withGlobalOptions(
    issuer
      .command("put")
      .summary("trust an issuer's signing keys (create or replace)")
      .description("Trust JWTs from an issuer: its exact iss value, where its public signing keys are (one of --jwks-url, --jwks-file, --jwks) and the audiences tokens must name. Needs auth:ConfigureJwt.")
      .argument("<name>", "name roles use in --jwt-issuer")
      .requiredOption("--issuer <iss>", "the exact iss claim")
      .option("--jwks-url <url>", "JWKS URL, fetched and cached; an unknown kid refetches (https; http only on loopback)")
      .option("--jwks-file <path>", "a JWKS file on the server's machine")
      .option("--jwks <file|->", "a JWKS file here ('-' for stdin), sent to the server inline")
      .option("--audience <aud>", "accepted audience (required); repeat for more", strings)
      .addOption(new Option("--algorithm <alg>", `allowed algorithm, one of ${JWT_ALGORITHMS.join(", ")} (default ${DEFAULT_JWT_ALGORITHMS.join(", ")}); repeat`).argParser(collect(oneOf(JWT_ALGORITHMS))))
      .addOption(new Option("--clock-skew <seconds>", "tolerance for exp, nbf, iat (default 60)").argParser(integer(0, 300)))
      .addOption(new Option("--refresh-cooldown <seconds>", "least time between JWKS refetches on an unknown kid (default 30)").argParser(integer(0, 3600))),
  )
    .addHelpText(
      "after",
      examples(
        "tessera auth jwt issuer put gce --issuer https://accounts.google.com --jwks-url https://www.googleapis.com/oauth2/v3/certs --audience https://kms.internal",
        "tessera auth jwt issuer put k8s --issuer https://kubernetes.default.svc --jwks jwks.json --audience tessera --algorithm RS256",
      ),
    )
    .action(
      cli.action(async (name: string, o: Omit<IssuerOptions, "jwks"> & { jwks?: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const jwks = o.jwks === undefined ? undefined : await readJson(cli, o.jwks);
        const r = await client.putJwtIssuer(name, issuerBody({ ...o, jwks }));
        if (out.json) out.data(r);
        else out.line(`Issuer ${name} written.`);
      }),
    );
  withGlobalOptions(issuer.command("list").summary("list issuers")).action(
    cli.action(async (_o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.listJwtIssuers();
      if (out.json) out.data(r);
      else for (const n of r.names) out.line(n);
    }),
  );
  withGlobalOptions(issuer.command("get").summary("show an issuer").argument("<name>")).action(
    cli.action(async (name: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      out.data(await client.getJwtIssuer(name));
    }),
  );
  withGlobalOptions(issuer.command("delete").summary("stop trusting an issuer (its roles can no longer log in)").argument("<name>")).action(
    cli.action(async (name: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      await client.deleteJwtIssuer(name);
      if (out.json) out.data({});
      else out.line(`Issuer ${name} deleted.`);
    }),
  );

  // ── token renew ──────────────────────────────────────────────────────────────────────────────
  const token = program.commands.find((c) => c.name() === "token");
  if (token !== undefined) {
    withGlobalOptions(token.command("renew").summary("extend this login token (up to its role's maximum)")).action(
      cli.action(async (_o: object, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const r = await client.renewSelf();
        if (out.json) out.data(r);
        else out.line(`Token renewed until ${r.expiresAt}.`);
      }),
    );
  }
}
