/**
 * The agent's configuration file (JSON): its schema, and loading it with errors that name the field
 * at fault. Relative paths are resolved against the file's directory, as the server's config does.
 */
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { DEFAULT_ALLOWED_ACTIONS, PROXIED_ACTIONS } from "./proxy-routes.js";

const strict = { additionalProperties: false } as const;
const Path = Type.String({ minLength: 1 });
/** An octal file mode as a string ("0600"), so JSON readers see what `chmod` would. */
const Mode = Type.String({ pattern: "^0?[0-7]{3}$" });

const TemplateConfig = Type.Object(
  {
    name: Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$" }),
    /** The template text inline … */
    contents: Type.Optional(Type.String()),
    /** … or in a file (exactly one of the two). */
    source: Type.Optional(Path),
    /** Render to this file (on tmpfs) … */
    destination: Type.Optional(Path),
    /** … or into this environment variable of `tessera agent exec`'s child (exactly one of the two). */
    env: Type.Optional(Type.String({ pattern: "^[A-Za-z_][A-Za-z0-9_]*$" })),
    mode: Type.Optional(Mode),
    /** User name or numeric uid that owns the rendered file (needs the agent to run as root). */
    owner: Type.Optional(Type.String({ minLength: 1 })),
    group: Type.Optional(Type.String({ minLength: 1 })),
    /** Run after the file was re-rendered with different contents: argv, no shell. */
    command: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  },
  strict,
);

export const AgentConfigSchema = Type.Object(
  {
    server: Type.Object({ address: Type.String({ pattern: "^https?://" }), ca_cert: Type.Optional(Path) }, strict),
    join_token_file: Type.Optional(Path),
    /** The VM id to ask for when the join token does not fix one. */
    vm_id: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$" })),
    state_dir: Path,
    tpm: Type.Optional(
      Type.Object(
        {
          /** tpm2-tools' TCTI, e.g. `device:/dev/tpmrm0` (the kernel resource manager) or `swtpm:host=…,port=…`. */
          tcti: Type.Optional(Type.String({ minLength: 1 })),
          /** Bind the seal to these PCR values, e.g. `sha256:0,7` (firmware and Secure Boot state). */
          pcrs: Type.Optional(Type.String({ pattern: "^(sha1|sha256|sha384):[0-9]+(,[0-9]+)*$" })),
        },
        strict,
      ),
    ),
    listener: Type.Optional(
      Type.Object(
        {
          socket: Type.Optional(Path),
          /** "0600" (default: the agent's user only) or "0660" with `group`. */
          mode: Type.Optional(Type.Union([Type.Literal("0600"), Type.Literal("0660")])),
          group: Type.Optional(Type.String({ minLength: 1 })),
          /** Also listen on 127.0.0.1:PORT (anyone on the VM can connect: prefer the socket). */
          tcp_port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535 })),
          /** Actions the proxy forwards; every other request is refused. */
          allow: Type.Optional(Type.Array(Type.Union(PROXIED_ACTIONS.map((a) => Type.Literal(a))), { uniqueItems: true })),
        },
        strict,
      ),
    ),
    renewal: Type.Optional(
      Type.Object(
        {
          retry_initial_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 600_000 })),
          retry_max_ms: Type.Optional(Type.Integer({ minimum: 10, maximum: 3_600_000 })),
        },
        strict,
      ),
    ),
    /** How often the keys and secrets behind the templates are checked for a new version. */
    poll_seconds: Type.Optional(Type.Number({ minimum: 0.01, maximum: 86_400 })),
    templates: Type.Optional(Type.Array(TemplateConfig)),
  },
  strict,
);
export type AgentConfigFile = Static<typeof AgentConfigSchema>;
export type TemplateConfig = Static<typeof TemplateConfig>;

/** The configuration with defaults applied and paths absolute. */
export interface AgentConfig {
  file: string;
  server: { address: string; caCert: string | undefined };
  joinTokenFile: string | undefined;
  vmId: string | undefined;
  stateDir: string;
  tpm: { tcti: string | undefined; pcrs: string | undefined } | undefined;
  listener: { socket: string | undefined; mode: 0o600 | 0o660; group: string | undefined; tcpPort: number | undefined; allow: readonly string[] };
  renewal: { retryInitialMs: number; retryMaxMs: number };
  pollMs: number;
  templates: ResolvedTemplate[];
}

export interface ResolvedTemplate {
  name: string;
  /** Inline text, or undefined when read from `source`. */
  contents: string | undefined;
  source: string | undefined;
  target: { kind: "file"; path: string; mode: number; owner: string | undefined; group: string | undefined } | { kind: "env"; name: string };
  command: string[] | undefined;
  /** Relative `file:` paths in the template are read from here (the configuration file's directory). */
  baseDir: string;
}

/** A configuration file that cannot be used; the message names the file and the field. */
export class AgentConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "AgentConfigError";
  }
}

export async function loadAgentConfig(file: string): Promise<AgentConfig> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    throw new AgentConfigError(`cannot read the agent configuration ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return resolveAgentConfig(raw, file);
}

function fieldName(path: string): string {
  return path === "" ? "(top level)" : path.slice(1).replaceAll("/", ".");
}

export function resolveAgentConfig(raw: unknown, file: string): AgentConfig {
  const first = Value.Errors(AgentConfigSchema, raw).First();
  if (first !== undefined) {
    const what = first.message === "Unexpected property" ? "is not a known setting" : first.message.toLowerCase();
    throw new AgentConfigError(`${file}: ${fieldName(first.path)} ${what}`);
  }
  const c = raw as AgentConfigFile;
  const base = dirname(resolve(file));
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const seen = new Set<string>();
  const templates = (c.templates ?? []).map((t, i): ResolvedTemplate => {
    const at = `templates.${i}`;
    if (seen.has(t.name)) throw new AgentConfigError(`${file}: ${at}.name "${t.name}" is used twice`);
    seen.add(t.name);
    if ((t.contents === undefined) === (t.source === undefined)) throw new AgentConfigError(`${file}: ${at} needs exactly one of contents and source`);
    if ((t.destination === undefined) === (t.env === undefined)) throw new AgentConfigError(`${file}: ${at} needs exactly one of destination and env`);
    if (t.env !== undefined && (t.mode !== undefined || t.owner !== undefined || t.group !== undefined || t.command !== undefined)) {
      throw new AgentConfigError(`${file}: ${at}: mode, owner, group and command apply to a destination file, not to env`);
    }
    return {
      name: t.name,
      contents: t.contents,
      source: t.source === undefined ? undefined : abs(t.source),
      target:
        t.destination !== undefined
          ? { kind: "file", path: abs(t.destination), mode: parseInt(t.mode ?? "0400", 8), owner: t.owner, group: t.group }
          : { kind: "env", name: t.env! },
      command: t.command,
      baseDir: base,
    };
  });
  const l = c.listener ?? {};
  if (l.mode === "0660" && l.group === undefined) throw new AgentConfigError(`${file}: listener.mode 0660 needs listener.group (who may connect)`);
  const r = c.renewal ?? {};
  const retryInitialMs = r.retry_initial_ms ?? 1000;
  const retryMaxMs = r.retry_max_ms ?? 60_000;
  if (retryMaxMs < retryInitialMs) throw new AgentConfigError(`${file}: renewal.retry_max_ms must be at least renewal.retry_initial_ms`);
  return {
    file: resolve(file),
    server: { address: c.server.address, caCert: c.server.ca_cert === undefined ? undefined : abs(c.server.ca_cert) },
    joinTokenFile: c.join_token_file === undefined ? undefined : abs(c.join_token_file),
    vmId: c.vm_id,
    stateDir: abs(c.state_dir),
    tpm: c.tpm === undefined ? undefined : { tcti: c.tpm.tcti, pcrs: c.tpm.pcrs },
    listener: {
      socket: l.socket === undefined ? undefined : abs(l.socket),
      mode: l.mode === "0660" ? 0o660 : 0o600,
      group: l.group,
      tcpPort: l.tcp_port,
      allow: l.allow ?? DEFAULT_ALLOWED_ACTIONS,
    },
    renewal: { retryInitialMs, retryMaxMs },
    pollMs: Math.round((c.poll_seconds ?? 60) * 1000),
    templates,
  };
}
