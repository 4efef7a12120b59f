/**
 * Identity and policy commands: `policy`, `role`, `login`, `approle`, `access-key`, `join-token`,
 * `cert`, `ca`, `auth jwt issuer`, and `token renew`.
 */
import { chmod, mkdir, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import type { LoginResponse, SimulateRequest } from "@tessera/protocol";
import { Option, type Command } from "commander";
import { collectPair, integer, parseDuration } from "../args.js";
import type { Cli } from "../cli.js";
import { readInput, readSecret } from "../io.js";
import type { Output } from "../output.js";
import { contextOption, examples, given, withGlobalOptions } from "../options.js";
import { UsageError } from "../usage-error.js";

const DEFAULT_DIR = join(homedir(), ".tessera");
/** Loaded only by the commands that need X.509 (keeps every other command's start-up fast). */
const mtls = () => import("./mtls.js");

function printLogin(out: Output, r: LoginResponse): void {
  if (out.json) return out.data(r);
  out.fields([
    ["token", r.token],
    ["accessor", r.accessor],
    ["role", r.role],
    ["authMethod", r.authMethod],
    ["expiresAt", r.expiresAt ?? "never"],
    ...Object.entries(r.attributes).map(([k, v]) => [`attribute.${k}`, v] as const),
  ]);
}

async function readJson(cli: Cli, path: string): Promise<unknown> {
  const text = (await readInput(cli.io, path)).toString("utf8");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new UsageError(`${path} is not JSON: ${(err as Error).message}`);
  }
}

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
      .option("--auth-method <method>", "cert, jwt, approle, access-key, token")
      .requiredOption("--action <action>", "e.g. kms:Decrypt")
      .option("--resource <key>", "key name or id")
      .addOption(contextOption())
      .option("--source <ip>", "caller address")
      .option("--time <iso>", "request time, e.g. 2026-01-05T21:00:00+08:00"),
  )
    .addHelpText("after", examples("tessera policy simulate --role payment-vm --attr vm_id=vm-1 --action kms:Decrypt --resource payment-db --context vm=vm-1 --source 10.0.3.7"))
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
        const where = d.policy === undefined ? "" : ` (policy ${d.policy}, statement ${d.statement}${d.sid ? ` "${d.sid}"` : ""})`;
        out.line(`${d.allowed ? "allowed" : "denied"}: ${d.reason}${where}`);
      }),
    );

  // ── role ─────────────────────────────────────────────────────────────────────────────────────
  const role = program.command("role").helpGroup("Access:").summary("bind policies to principals").description("Create and manage roles: the policies, token lifetimes and login bindings (AppRole, JWT) of a class of principals.");
  interface RoleOptions {
    policy?: string[];
    description?: string;
    tokenTtl?: number;
    tokenMaxTtl?: number;
    certTtl?: number;
    approle?: boolean;
    secretIdTtl?: number;
    secretIdUses?: number;
    boundCidr?: string[];
    jwtIssuer?: string;
    boundClaim?: Record<string, string>;
    claimAttr?: Record<string, string>;
    boundAudience?: string[];
    force?: boolean;
  }
  const roleBody = (o: RoleOptions): Record<string, unknown> => ({
    policies: o.policy ?? [],
    ...given("description", o.description),
    ...given("tokenTtlSeconds", o.tokenTtl),
    ...given("tokenMaxTtlSeconds", o.tokenMaxTtl),
    ...given("certTtlSeconds", o.certTtl),
    ...(o.approle || o.secretIdTtl !== undefined || o.secretIdUses !== undefined || o.boundCidr !== undefined
      ? { approle: { ...given("secretIdTtlSeconds", o.secretIdTtl), ...given("secretIdUses", o.secretIdUses), ...given("boundCidrs", o.boundCidr) } }
      : {}),
    ...(o.jwtIssuer !== undefined
      ? { jwt: { issuer: o.jwtIssuer, ...given("boundClaims", o.boundClaim), ...given("claimsToAttributes", o.claimAttr), ...given("boundAudiences", o.boundAudience) } }
      : {}),
  });
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
        .addOption(new Option("--bound-claim <claim=pattern>", "a claim the JWT must carry (* globs; * alone = present)").argParser(collectPair))
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
        cli.action(async (name: string, o: RoleOptions, cmd: Command) => {
          const { client, out } = cli.connect(cmd);
          let body = roleBody(o);
          if (verb === "update") {
            const { name: _n, createdAt: _c, updatedAt: _u, ...current } = await client.getRole(name);
            body = { ...current, ...body, policies: o.policy ?? current["policies"] };
          }
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
  withGlobalOptions(login.command("approle").summary("log in with a role id and secret id").requiredOption("--role-id <id>").requiredOption("--secret-id <id|->", "the secret id, or - to read it from stdin")).action(
    cli.action(async (o: { roleId: string; secretId: string }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const secret = o.secretId === "-" ? await readSecret(cli.io, "Secret id: ") : o.secretId;
      printLogin(out, await client.loginAppRole(o.roleId, secret));
    }),
  );
  withGlobalOptions(login.command("jwt").summary("log in with a signed workload token (JWT/OIDC)").requiredOption("--role <role>").requiredOption("--jwt-file <file>", "file holding the JWT ('-' for stdin)"))
    .addHelpText("after", examples("tessera login jwt --role gce-app --jwt-file /run/identity/token"))
    .action(
      cli.action(async (o: { role: string; jwtFile: string }, cmd: Command) => {
        const { client, out } = cli.connect(cmd);
        const jwt = (await readInput(cli.io, o.jwtFile)).toString("utf8").trim();
        printLogin(out, await client.loginJwt(o.role, jwt));
      }),
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
    .option("--json", "print the result as JSON")
    .addHelpText("after", examples("tessera login join --token tsj_… --vm-id web-7 --json"))
    .action(
      cli.action(async (o: { token: string; vmId?: string; dir: string }, cmd: Command) => {
        const { address } = cli.globals(cmd);
        const out = cli.output(cmd);
        const { TesseraClient } = await import("@tessera/client");
        const client = new TesseraClient({ address });
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
      }),
    );
  const mtlsOptions = (c: Command) => c.option("--dir <dir>", "directory with key.pem and cert.pem", DEFAULT_DIR).option("--ca-cert <file>", "CA certificate that signed the server's TLS certificate");
  withGlobalOptions(mtlsOptions(login.command("cert").summary("log in with this VM's instance certificate (mutual TLS)"))).action(
    cli.action(async (o: { dir: string; caCert?: string }, cmd: Command) => {
      const out = cli.output(cmd);
      const r = (await (await mtls()).mtlsRequest(cli.globals(cmd).address, "/v1/auth/cert/login", {}, o)) as LoginResponse;
      printLogin(out, r);
    }),
  );

  // ── cert, ca, join-token ─────────────────────────────────────────────────────────────────────
  const cert = program.command("cert").helpGroup("Access:").summary("renew and revoke instance certificates");
  withGlobalOptions(mtlsOptions(cert.command("renew").summary("renew this VM's certificate with the current one"))).action(
    cli.action(async (o: { dir: string; caCert?: string }, cmd: Command) => {
      const out = cli.output(cmd);
      const m = await mtls();
      const { keyPem, csrPem } = await m.certificateRequest("vm");
      const r = (await m.mtlsRequest(cli.globals(cmd).address, "/v1/auth/cert/renew", { csr: csrPem }, o)) as { certificate: string; serial: string; expiresAt: string };
      await writeFile(join(o.dir, "key.pem"), keyPem, { mode: 0o600 });
      await writeFile(join(o.dir, "cert.pem"), r.certificate);
      if (out.json) out.data(r);
      else out.line(`Renewed: serial ${r.serial}, valid until ${r.expiresAt}.`);
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
  withGlobalOptions(program.command("ca").helpGroup("Access:").summary("print Tessera's instance CA certificate")).action(
    cli.action(async (_o: object, cmd: Command) => {
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
  ).action(
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
      .summary("trust an issuer's signing keys")
      .argument("<name>")
      .requiredOption("--issuer <iss>", "the exact iss claim")
      .option("--jwks-url <url>")
      .option("--jwks-file <file>", "a JWKS file the server reads")
      .option("--audience <aud>", "accepted audience; repeat for more", strings)
      .option("--algorithm <alg>", "allowed algorithm (default RS256, ES256, EdDSA, PS256); repeat", strings),
  ).action(
    cli.action(async (name: string, o: { issuer: string; jwksUrl?: string; jwksFile?: string; audience?: string[]; algorithm?: string[] }, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      const r = await client.putJwtIssuer(name, { issuer: o.issuer, audiences: o.audience ?? [], ...given("jwksUrl", o.jwksUrl), ...given("jwksFile", o.jwksFile), ...given("algorithms", o.algorithm) });
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
  withGlobalOptions(issuer.command("get").argument("<name>")).action(
    cli.action(async (name: string, _o: object, cmd: Command) => {
      const { client, out } = cli.connect(cmd);
      out.data(await client.getJwtIssuer(name));
    }),
  );
  withGlobalOptions(issuer.command("delete").argument("<name>")).action(
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
