/**
 * Server configuration: a JSON file for production (`tessera server --config FILE`), or dev defaults.
 * Unknown or malformed fields are refused with a message naming the field.
 *
 * ```json
 * {
 *   "listener": { "address": "0.0.0.0:8200", "tls_cert_file": "/etc/tessera/tls.crt", "tls_key_file": "/etc/tessera/tls.key" },
 *   "storage": { "sqlite": { "path": "/var/lib/tessera/tessera.db" } },
 *   // or, for several nodes sharing one database:
 *   // "storage": { "postgres": { "url": "postgres://tessera@db.internal:5432/tessera", "password_file": "/etc/tessera/pgpass",
 *   //                            "pool_size": 10, "tls": { "ca_file": "/etc/tessera/db-ca.pem" } } },
 *   // "node_id": "tessera-1",
 *   "workers": "auto",
 *   "seal": { "pkcs11": { "lib": "/usr/lib/softhsm/libsofthsm2.so", "token_label": "tessera", "key_label": "tessera-root" } },
 *   "backup": { "directory": "/var/backups/tessera", "interval_seconds": 86400, "keep": 7 },
 *   "log_level": "info"
 * }
 * ```
 */
import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { isIP } from "node:net";
import { dirname, join, resolve } from "node:path";
import { Type, type Static } from "@sinclair/typebox";
import { Value, ValueErrorType } from "@sinclair/typebox/value";
import type { RetentionPolicy } from "@tessera/protocol";
import type { DetectorOptions } from "../audit/detectors.js";
import { compileWindow } from "../policy/policy-document.js";

const strict = { additionalProperties: false } as const;

const VAULT_MOUNT_PATTERN = "^[a-z0-9][a-z0-9_-]{0,63}$";
/** First path segments the native API serves under /v1: a Vault mount cannot take one. */
/** The file sink's settings (docs/audit.md "Sinks"). */
export interface AuditFileConfig {
  path: string;
  maxBytes?: number;
  compress?: boolean;
  keepFiles?: number;
  maxAgeMs?: number;
}

export const RESERVED_VAULT_MOUNTS: readonly string[] = Object.freeze(["alerts", "audit", "auth", "batch", "decrypt", "keys", "policies", "random", "reencrypt", "roles", "sys", "secrets"]);

export const ConfigSchema = Type.Object(
  {
    listener: Type.Object(
      {
        address: Type.String({ minLength: 1 }),
        tls_cert_file: Type.Optional(Type.String({ minLength: 1 })),
        tls_key_file: Type.Optional(Type.String({ minLength: 1 })),
        insecure_http: Type.Optional(Type.Boolean()),
        /** "request" (default with TLS): ask for a client certificate (instance certificates), never require one. */
        client_auth: Type.Optional(Type.Union([Type.Literal("none"), Type.Literal("request")])),
      },
      strict,
    ),
    /** Exactly one of sqlite (one node) or postgres (one or more nodes). */
    storage: Type.Object(
      {
        sqlite: Type.Optional(Type.Object({ path: Type.String({ minLength: 1 }) }, strict)),
        postgres: Type.Optional(
          Type.Object(
            {
              url: Type.String({ pattern: "^postgres(ql)?://" }),
              /** The password; else PGPASSWORD; else none (trust, peer or certificate authentication). */
              password_file: Type.Optional(Type.String({ minLength: 1 })),
              pool_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 200 })),
              /** Statement and connection timeout: past it a request fails Unavailable (503) instead of waiting. */
              timeout_ms: Type.Optional(Type.Integer({ minimum: 100, maximum: 120_000 })),
              /**
               * How this node learns of security-state changes other nodes commit (service/cache-coherence.ts):
               * "per-request" (default) reads the change feed before every request — never stale;
               * "notify" relies on LISTEN/NOTIFY alone — no read per request, a short window after a commit elsewhere.
               */
              coherence: Type.Optional(Type.Union([Type.Literal("per-request"), Type.Literal("notify")])),
              tls: Type.Optional(
                Type.Object(
                  {
                    /** CA certificates (PEM) the database's certificate must chain to; default: the system's. */
                    ca_file: Type.Optional(Type.String({ minLength: 1 })),
                    /** Client certificate and key (PEM) for certificate authentication. */
                    cert_file: Type.Optional(Type.String({ minLength: 1 })),
                    key_file: Type.Optional(Type.String({ minLength: 1 })),
                    /** The name the database's certificate must carry, when it is not the URL's host. */
                    server_name: Type.Optional(Type.String({ minLength: 1 })),
                  },
                  strict,
                ),
              ),
            },
            strict,
          ),
        ),
      },
      strict,
    ),
    /** How long the background-work lease lasts unrenewed: a crashed holder's work moves to another node after this. */
    lease_ttl_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 600 })),
    /** How often this node stamps its row in `nodes`; it counts as gone after three missed beats (and a restart under its id waits that long). */
    heartbeat_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
    /**
     * Worker processes serving one listener (docs/operations.md, "Workers"): a number, or "auto" for one
     * per CPU. Default 1: one process, no primary (today's server).
     */
    workers: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 256 }), Type.Literal("auto")])),
    /** This node's id among several sharing one database (default: the host name). Names its audit chain. */
    node_id: Type.Optional(Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$" })),
    /** `{ "type": "shamir" }` (the default) or `{ "pkcs11": {…} }`; the HSM PIN comes from TESSERA_HSM_PIN or `pin_file`, never from here. */
    seal: Type.Optional(
      Type.Union([
        Type.Object({ type: Type.Literal("shamir") }, strict),
        Type.Object(
          {
            pkcs11: Type.Object(
              {
                lib: Type.String({ minLength: 1 }),
                slot: Type.Optional(Type.Integer({ minimum: 0 })),
                token_label: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
                /** One label, or several: the first encrypts, all decrypt (HSM key rotation). */
                key_label: Type.Union([Type.String({ minLength: 1 }), Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 16 })]),
                mechanism: Type.Optional(Type.Union([Type.Literal("aes_gcm"), Type.Literal("aes_key_wrap_pad")])),
                generate_key: Type.Optional(Type.Boolean()),
                pin_file: Type.Optional(Type.String({ minLength: 1 })),
              },
              strict,
            ),
          },
          strict,
        ),
      ]),
    ),
    /** Scheduled encrypted backups (docs/operations.md). */
    backup: Type.Optional(
      Type.Object(
        { directory: Type.String({ minLength: 1 }), interval_seconds: Type.Integer({ minimum: 60, maximum: 30 * 86_400 }), keep: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })) },
        strict,
      ),
    ),
    /** Per-principal request quotas (docs/operations.md, "Quotas"): a default and per-role overrides. */
    quotas: Type.Optional(
      Type.Object(
        {
          default: Type.Optional(Type.Object({ per_second: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }), burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, strict)),
          roles: Type.Optional(Type.Record(Type.String(), Type.Object({ per_second: Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 }), burst: Type.Integer({ minimum: 1, maximum: 1_000_000 }) }, strict))),
          /** How long a refusal is held before it is answered (default 1,000; 0 answers at once). */
          refusal_delay_ms: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000 })),
        },
        strict,
      ),
    ),
    /** Most keys kept unwrapped in memory (default 100,000; docs/performance.md). */
    key_cache_size: Type.Optional(Type.Integer({ minimum: 100, maximum: 10_000_000 })),
    /** Version retention for keys with no policy of their own (docs/retention.md). */
    retention: Type.Optional(
      Type.Object(
        {
          disable_after_seconds: Type.Integer({ minimum: 86_400, maximum: 10 * 365 * 86_400 }),
          destroy_after_seconds: Type.Integer({ minimum: 86_400, maximum: 10 * 365 * 86_400 }),
          keep_at_least: Type.Integer({ minimum: 1, maximum: 1000 }),
        },
        strict,
      ),
    ),
    log_level: Type.Optional(
      Type.Union([Type.Literal("fatal"), Type.Literal("error"), Type.Literal("warn"), Type.Literal("info"), Type.Literal("debug"), Type.Literal("trace"), Type.Literal("silent")]),
    ),
    audit: Type.Optional(
      Type.Object(
        {
          database: Type.Optional(Type.Boolean()),
          file: Type.Optional(
            Type.Object(
              {
                path: Type.String({ minLength: 1 }),
                max_bytes: Type.Optional(Type.Integer({ minimum: 4096 })),
                /** gzip rotated files (default true). */
                compress: Type.Optional(Type.Boolean()),
                /** Keep at most this many rotated files; older ones are deleted (default: keep all). */
                keep_files: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
                /** Delete rotated files older than this many days (default: keep all). */
                max_age_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 36_500 })),
              },
              strict,
            ),
          ),
          /** `sync` (default): no request answered before its record is datasynced. `batch`: datasync every `batch_interval_ms`. */
          durability: Type.Optional(Type.Union([Type.Literal("sync"), Type.Literal("batch")])),
          batch_interval_ms: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          stdout: Type.Optional(Type.Boolean()),
          timeout_ms: Type.Optional(Type.Integer({ minimum: 50, maximum: 60_000 })),
          checkpoint_interval_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 86_400 })),
        },
        strict,
      ),
    ),
    scheduler_interval_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    usage_flush_interval_seconds: Type.Optional(Type.Integer({ minimum: 1, maximum: 3600 })),
    alerts: Type.Optional(
      Type.Object(
        {
          webhooks: Type.Optional(Type.Array(Type.Object({ url: Type.String({ pattern: "^https?://" }), secret: Type.String({ minLength: 16 }) }, strict), { maxItems: 16 })),
          allowed_hours: Type.Optional(Type.Object({ tz: Type.String(), days: Type.Optional(Type.String()), hours: Type.Optional(Type.String()) }, strict)),
          allowed_hours_by_role: Type.Optional(Type.Record(Type.String(), Type.Object({ tz: Type.String(), days: Type.Optional(Type.String()), hours: Type.Optional(Type.String()) }, strict))),
          allowed_hours_by_key: Type.Optional(Type.Record(Type.String(), Type.Object({ tz: Type.String(), days: Type.Optional(Type.String()), hours: Type.Optional(Type.String()) }, strict))),
          /** Most principals, sources and keys each detector remembers (docs/audit.md). */
          max_tracked: Type.Optional(Type.Integer({ minimum: 100, maximum: 10_000_000 })),
          new_source: Type.Optional(Type.Boolean()),
          first_use: Type.Optional(Type.Boolean()),
          retiring_version: Type.Optional(Type.Boolean()),
          rate_spike: Type.Optional(
            Type.Union([
              Type.Literal(false),
              Type.Object(
                { window_seconds: Type.Optional(Type.Integer({ minimum: 10 })), factor: Type.Optional(Type.Number({ minimum: 1.5 })), min_requests: Type.Optional(Type.Integer({ minimum: 1 })) },
                strict,
              ),
            ]),
          ),
          denial_burst: Type.Optional(
            Type.Union([Type.Literal(false), Type.Object({ threshold: Type.Optional(Type.Integer({ minimum: 2 })), window_seconds: Type.Optional(Type.Integer({ minimum: 1 })) }, strict)]),
          ),
        },
        strict,
      ),
    ),
    /** Region and account id used in the AWS-compatible API's ARNs and SigV4 scope. */
    aws: Type.Optional(Type.Object({ region: Type.String({ pattern: "^[a-z0-9-]{1,32}$" }), account_id: Type.String({ pattern: "^[0-9]{12}$" }) }, strict)),
    /**
     * The Vault-compatible API (docs/vault-compatibility.md): on unless `enabled` is false; transit
     * served under /v1/<transit_mount>/ (default "transit"), KV v2 under /v1/<m>/ for each of `kv_mounts`
     * (default ["secret"]; `kv_mount` is the one-mount shorthand).
     */
    vault: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          transit_mount: Type.Optional(Type.String({ pattern: VAULT_MOUNT_PATTERN })),
          kv_mount: Type.Optional(Type.String({ pattern: VAULT_MOUNT_PATTERN })),
          kv_mounts: Type.Optional(Type.Array(Type.String({ pattern: VAULT_MOUNT_PATTERN }), { minItems: 1, maxItems: 32 })),
          /** Accept Vault's LIST verb (default true): every connection's bytes then pass a small rewriter (docs/vault-compatibility.md). */
          list_verb: Type.Optional(Type.Boolean()),
        },
        strict,
      ),
    ),
    /** SPIFFE trust domain of instance certificates (spiffe://<trust_domain>/vm/<vm id>). */
    trust_domain: Type.Optional(Type.String({ pattern: "^[a-z0-9][a-z0-9.-]{0,252}$" })),
  },
  strict,
);
export type ConfigFile = Static<typeof ConfigSchema>;

export interface ServerConfig {
  host: string;
  port: number;
  tls: { certFile: string; keyFile: string; clientAuth: "none" | "request" } | null;
  storage: StorageConfig;
  /** Set for PostgreSQL storage (several nodes); undefined for SQLite (one node). */
  nodeId?: string;
  /** Worker processes (1: a single process, no primary). */
  workers: number;
  leaseTtlMs: number;
  heartbeatMs: number;
  logLevel: NonNullable<ConfigFile["log_level"]>;
  audit: {
    database: boolean;
    file?: AuditFileConfig;
    stdout: boolean;
    timeoutMs?: number;
    checkpointIntervalMs?: number;
    durability?: { mode: "sync" | "batch"; intervalMs?: number };
  };
  schedulerIntervalMs: number;
  usageFlushIntervalMs: number;
  trustDomain: string;
  aws: { region: string; accountId: string };
  /** The Vault-compatible API's mounts; null when it is turned off. */
  vault: { transitMount: string; kvMounts: string[]; listVerb: boolean } | null;
  alerts: { webhooks: { url: string; secret: string }[]; detectors: DetectorOptions };
  seal: SealConfig;
  backup: { directory: string; intervalMs: number; keep: number } | null;
  retention: RetentionPolicy | null;
  keyCacheSize: number | null;
  /** Per-principal quotas (service/quotas.ts takes this shape). */
  quotas: { default?: { perSecond: number; burst: number }; roles: Record<string, { perSecond: number; burst: number }>; refusalDelayMs?: number } | null;
}

export type StorageConfig =
  | { kind: "sqlite"; path: string }
  | {
      kind: "postgres";
      url: string;
      password?: string;
      poolSize: number;
      timeoutMs: number;
      coherence: "per-request" | "notify";
      /** TLS to the database: certificates read, verification on (node's TLS options). */
      ssl?: { ca?: string; cert?: string; key?: string; servername?: string; rejectUnauthorized: true };
    };

export type SealConfig =
  | { type: "shamir" }
  | {
      type: "pkcs11";
      lib: string;
      slot?: number;
      tokenLabel?: string;
      keyLabels: string[];
      mechanism: "aes_gcm" | "aes_key_wrap_pad";
      generateKey: boolean;
      pinFile?: string;
    };

export class ConfigError extends Error {
  override name = "ConfigError";
}

export function parseAddress(address: string, field: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(address);
  const port = m ? Number(m[3]) : NaN;
  if (m === null || port > 65535) throw new ConfigError(`${field}: expected HOST:PORT (e.g. 127.0.0.1:8200), got "${address}"`);
  return { host: (m[1] ?? m[2])!, port };
}

export function isLoopback(host: string): boolean {
  if (host === "localhost") return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return host === "::1";
}

/**
 * The storage section: exactly one adapter. For PostgreSQL the password comes from `password_file`
 * (first line, trailing newline dropped) or the PGPASSWORD environment variable — never from the
 * URL, so the configuration file holds no secret — and TLS files are read now, naming the field of
 * a file that cannot be read.
 */
function storageConfig(s: ConfigFile["storage"], baseDir: string, env: NodeJS.ProcessEnv): StorageConfig {
  if ((s.sqlite === undefined) === (s.postgres === undefined)) throw new ConfigError("storage: give exactly one of storage.sqlite or storage.postgres");
  if (s.sqlite !== undefined) return { kind: "sqlite", path: resolve(baseDir, s.sqlite.path) };
  const p = s.postgres!;
  let url: URL;
  try {
    url = new URL(p.url);
  } catch {
    throw new ConfigError(`configuration field "storage.postgres.url": not a URL`);
  }
  if (url.password !== "") throw new ConfigError(`configuration field "storage.postgres.url": put the password in storage.postgres.password_file or PGPASSWORD, not in the URL`);
  if (url.hostname === "") throw new ConfigError(`configuration field "storage.postgres.url": names no host`);
  if (p.tls !== undefined && /[?&](sslmode|sslcert|sslkey|sslrootcert)=/.test(url.search)) {
    throw new ConfigError(`configuration field "storage.postgres.url": give TLS settings either in storage.postgres.tls or in the URL, not both`);
  }
  if ((p.tls?.cert_file === undefined) !== (p.tls?.key_file === undefined)) {
    throw new ConfigError(`configuration field "storage.postgres.tls": cert_file and key_file go together`);
  }
  const read = (field: string, path: string): string => {
    try {
      return readFileSync(resolve(baseDir, path), "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ConfigError(`configuration field "storage.postgres.${field}": cannot read "${resolve(baseDir, path)}": ${code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (code ?? (err as Error).message)}`);
    }
  };
  let password: string | undefined;
  if (p.password_file !== undefined) {
    password = read("password_file", p.password_file).split(/\r?\n/)[0]!;
    if (password.length === 0) throw new ConfigError(`configuration field "storage.postgres.password_file": the file is empty`);
  } else if (env["PGPASSWORD"] !== undefined && env["PGPASSWORD"] !== "") {
    password = env["PGPASSWORD"];
  }
  const tls = p.tls;
  return {
    kind: "postgres",
    url: p.url,
    ...(password !== undefined && { password }),
    poolSize: p.pool_size ?? 10,
    timeoutMs: p.timeout_ms ?? 5000,
    coherence: p.coherence ?? "per-request",
    ...(tls !== undefined && {
      ssl: {
        ...(tls.ca_file !== undefined && { ca: read("tls.ca_file", tls.ca_file) }),
        ...(tls.cert_file !== undefined && { cert: read("tls.cert_file", tls.cert_file), key: read("tls.key_file", tls.key_file!) }),
        ...(tls.server_name !== undefined && { servername: tls.server_name }),
        rejectUnauthorized: true as const,
      },
    }),
  };
}

/** Validates a parsed config document and resolves relative paths against `baseDir`. */
export function resolveConfig(doc: unknown, baseDir: string, env: NodeJS.ProcessEnv = process.env): ServerConfig {
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) throw new ConfigError("the configuration must be a JSON object");
  const pkcs11Doc = (doc as { seal?: { pkcs11?: Record<string, unknown> } }).seal?.pkcs11;
  if (pkcs11Doc !== undefined && typeof pkcs11Doc === "object" && pkcs11Doc !== null && "pin" in pkcs11Doc) {
    throw new ConfigError('seal.pkcs11.pin: the HSM PIN is never read from the configuration file; set TESSERA_HSM_PIN or seal.pkcs11.pin_file');
  }
  const first = Value.Errors(ConfigSchema, doc).First();
  if (first !== undefined) {
    const path = first.path.replace(/^\//, "").replaceAll("/", ".") || "(top level)";
    const unknown = first.type === ValueErrorType.ObjectAdditionalProperties;
    throw new ConfigError(unknown ? `unknown configuration field "${path}"` : `configuration field "${path}": ${first.message}`);
  }
  const c = doc as ConfigFile;
  const { host, port } = parseAddress(c.listener.address, "listener.address");
  const hasCert = c.listener.tls_cert_file !== undefined;
  const hasKey = c.listener.tls_key_file !== undefined;
  if (hasCert !== hasKey) throw new ConfigError(`listener.${hasCert ? "tls_key_file" : "tls_cert_file"} is required with listener.${hasCert ? "tls_cert_file" : "tls_key_file"}`);
  if (!hasCert) {
    if (c.listener.insecure_http !== true) throw new ConfigError("listener.tls_cert_file and listener.tls_key_file are required (or set listener.insecure_http on a loopback address)");
    if (!isLoopback(host)) throw new ConfigError(`listener.insecure_http is only allowed on a loopback address, not "${host}"`);
  }
  const storage = storageConfig(c.storage, baseDir, env);
  const dataDir = storage.kind === "sqlite" ? dirname(storage.path) : undefined;
  if (c.audit?.batch_interval_ms !== undefined && c.audit.durability !== "batch") throw new ConfigError('audit.batch_interval_ms applies only with audit.durability "batch"');
  if (dataDir === undefined && c.audit?.file === undefined && c.audit?.database !== true && c.audit?.stdout !== true) {
    throw new ConfigError("audit: with storage.postgres give audit.file (a path on this node) or set audit.database (each node its own chain in the database)");
  }
  return {
    host,
    port,
    tls: hasCert ? { certFile: resolve(baseDir, c.listener.tls_cert_file!), keyFile: resolve(baseDir, c.listener.tls_key_file!), clientAuth: c.listener.client_auth ?? "request" } : null,
    storage,
    workers: c.workers === "auto" ? availableParallelism() : (c.workers ?? 1),
    leaseTtlMs: (c.lease_ttl_seconds ?? 15) * 1000,
    heartbeatMs: (c.heartbeat_seconds ?? 5) * 1000,
    ...(storage.kind === "postgres" && { nodeId: c.node_id ?? hostname().replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 63) }),
    logLevel: c.log_level ?? "info",
    // Default: a JSON-lines file beside the database (fsynced per batch off the event loop).
    audit: {
      database: c.audit?.database ?? false,
      stdout: c.audit?.stdout ?? false,
      ...(c.audit?.file
        ? {
            file: {
              path: resolve(baseDir, c.audit.file.path),
              ...(c.audit.file.max_bytes !== undefined && { maxBytes: c.audit.file.max_bytes }),
              ...(c.audit.file.compress !== undefined && { compress: c.audit.file.compress }),
              ...(c.audit.file.keep_files !== undefined && { keepFiles: c.audit.file.keep_files }),
              ...(c.audit.file.max_age_days !== undefined && { maxAgeMs: c.audit.file.max_age_days * 86_400_000 }),
            },
          }
        : dataDir !== undefined && { file: { path: join(dataDir, "audit", "audit.jsonl") } }),
      ...(c.audit?.durability !== undefined && { durability: { mode: c.audit.durability, ...(c.audit.batch_interval_ms !== undefined && { intervalMs: c.audit.batch_interval_ms }) } }),
      ...(c.audit?.timeout_ms !== undefined && { timeoutMs: c.audit.timeout_ms }),
      ...(c.audit?.checkpoint_interval_seconds !== undefined && { checkpointIntervalMs: c.audit.checkpoint_interval_seconds * 1000 }),
    },
    schedulerIntervalMs: (c.scheduler_interval_seconds ?? 30) * 1000,
    usageFlushIntervalMs: (c.usage_flush_interval_seconds ?? 5) * 1000,
    trustDomain: c.trust_domain ?? "tessera.local",
    aws: { region: c.aws?.region ?? "us-east-1", accountId: c.aws?.account_id ?? "000000000000" },
    vault: vaultConfig(c.vault),
    alerts: { webhooks: c.alerts?.webhooks ?? [], detectors: detectorOptions(c.alerts) },
    seal: sealConfig(c.seal, baseDir),
    keyCacheSize: c.key_cache_size ?? null,
    quotas: c.quotas
      ? {
          ...(c.quotas.default && { default: { perSecond: c.quotas.default.per_second, burst: c.quotas.default.burst } }),
          roles: Object.fromEntries(Object.entries(c.quotas.roles ?? {}).map(([role, q]) => [role, { perSecond: q.per_second, burst: q.burst }])),
          ...(c.quotas.refusal_delay_ms !== undefined && { refusalDelayMs: c.quotas.refusal_delay_ms }),
        }
      : null,
    retention: c.retention ? { disableAfterSeconds: c.retention.disable_after_seconds, destroyAfterSeconds: c.retention.destroy_after_seconds, keepAtLeast: c.retention.keep_at_least } : null,
    backup: c.backup ? { directory: resolve(baseDir, c.backup.directory), intervalMs: c.backup.interval_seconds * 1000, keep: c.backup.keep ?? 7 } : null,
  };
}

function vaultConfig(v: ConfigFile["vault"]): ServerConfig["vault"] {
  if (v?.enabled === false) return null;
  if (v?.kv_mount !== undefined && v.kv_mounts !== undefined) throw new ConfigError("give vault.kv_mount or vault.kv_mounts, not both");
  const transitMount = v?.transit_mount ?? "transit";
  const kvMounts = v?.kv_mounts ?? [v?.kv_mount ?? "secret"];
  const kvField = v?.kv_mounts !== undefined ? "vault.kv_mounts" : "vault.kv_mount";
  const seen = new Set<string>();
  for (const [field, mount] of [["vault.transit_mount", transitMount] as const, ...kvMounts.map((m) => [kvField, m] as const)]) {
    if (RESERVED_VAULT_MOUNTS.includes(mount)) throw new ConfigError(`${field}: "${mount}" is a path of the native API (/v1/${mount}/…); choose another mount`);
    if (seen.has(mount)) throw new ConfigError(`${field}: "${mount}" is mounted twice; vault.transit_mount and each KV mount must differ`);
    seen.add(mount);
  }
  return { transitMount, kvMounts, listVerb: v?.list_verb ?? true };
}

function sealConfig(s: ConfigFile["seal"], baseDir: string): SealConfig {
  if (s === undefined || !("pkcs11" in s)) return { type: "shamir" };
  const p = s.pkcs11;
  if ((p.slot === undefined) === (p.token_label === undefined)) throw new ConfigError("seal.pkcs11: give exactly one of slot or token_label");
  return {
    type: "pkcs11",
    lib: p.lib,
    ...(p.slot !== undefined && { slot: p.slot }),
    ...(p.token_label !== undefined && { tokenLabel: p.token_label }),
    keyLabels: typeof p.key_label === "string" ? [p.key_label] : p.key_label,
    mechanism: p.mechanism ?? "aes_gcm",
    generateKey: p.generate_key ?? false,
    ...(p.pin_file !== undefined && { pinFile: resolve(baseDir, p.pin_file) }),
  };
}

/**
 * The HSM PIN: `TESSERA_HSM_PIN`, else the first line of `pin_file`. Never from the configuration
 * file itself, never logged.
 */
export function readHsmPin(seal: Extract<SealConfig, { type: "pkcs11" }>, env: NodeJS.ProcessEnv): string {
  const fromEnv = env["TESSERA_HSM_PIN"];
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  if (seal.pinFile === undefined) throw new ConfigError("the pkcs11 seal needs the HSM PIN: set TESSERA_HSM_PIN or seal.pkcs11.pin_file");
  let text: string;
  try {
    text = readFileSync(seal.pinFile, "utf8");
  } catch (err) {
    throw new ConfigError(`seal.pkcs11.pin_file: cannot read "${seal.pinFile}": ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const pin = text.split(/\r?\n/)[0] ?? "";
  if (pin === "") throw new ConfigError(`seal.pkcs11.pin_file: "${seal.pinFile}" is empty`);
  return pin;
}

function detectorOptions(a: ConfigFile["alerts"]): DetectorOptions {
  if (a === undefined) return {};
  const windows: [string, { tz: string; days?: string; hours?: string }][] = [
    ...(a.allowed_hours ? [["alerts.allowed_hours", a.allowed_hours] as [string, { tz: string }]] : []),
    ...Object.entries(a.allowed_hours_by_role ?? {}).map(([k, w]) => [`alerts.allowed_hours_by_role.${k}`, w] as [string, { tz: string }]),
    ...Object.entries(a.allowed_hours_by_key ?? {}).map(([k, w]) => [`alerts.allowed_hours_by_key.${k}`, w] as [string, { tz: string }]),
  ];
  for (const [field, w] of windows) {
    try {
      compileWindow(w, "");
    } catch (err) {
      throw new ConfigError(`configuration field "${field}": ${(err as Error).message}`);
    }
  }
  const o: DetectorOptions = {
    allowedHours: {
      ...(a.allowed_hours && { default: a.allowed_hours }),
      ...(a.allowed_hours_by_role && { roles: a.allowed_hours_by_role }),
      ...(a.allowed_hours_by_key && { keys: a.allowed_hours_by_key }),
    },
  };
  if (a.max_tracked !== undefined) o.maxTracked = a.max_tracked;
  if (a.new_source !== undefined) o.newSource = a.new_source;
  if (a.first_use !== undefined) o.firstUse = a.first_use;
  if (a.retiring_version !== undefined) o.retiringVersion = a.retiring_version;
  if (a.rate_spike !== undefined) {
    o.rateSpike =
      a.rate_spike === false
        ? false
        : {
            ...(a.rate_spike.window_seconds !== undefined && { windowSeconds: a.rate_spike.window_seconds }),
            ...(a.rate_spike.factor !== undefined && { factor: a.rate_spike.factor }),
            ...(a.rate_spike.min_requests !== undefined && { minRequests: a.rate_spike.min_requests }),
          };
  }
  if (a.denial_burst !== undefined) {
    o.denialBurst =
      a.denial_burst === false
        ? false
        : { ...(a.denial_burst.threshold !== undefined && { threshold: a.denial_burst.threshold }), ...(a.denial_burst.window_seconds !== undefined && { windowSeconds: a.denial_burst.window_seconds }) };
  }
  return o;
}

/**
 * Reads the listener's certificate and key, naming the configuration field and path at fault: a
 * missing or unreadable file, a file that is not PEM of the right kind, or a key that does not
 * belong to the certificate.
 */
export function readTlsFiles(tls: NonNullable<ServerConfig["tls"]>): { cert: Buffer; key: Buffer } {
  const read = (field: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === "ENOENT" ? "no such file" : code === "EACCES" ? "permission denied" : (code ?? (err as Error).message);
      throw new ConfigError(`listener.${field}: cannot read "${path}": ${why}`);
    }
  };
  const cert = read("tls_cert_file", tls.certFile);
  const key = read("tls_key_file", tls.keyFile);
  let certificate: X509Certificate;
  try {
    // TLS takes PEM only; X509Certificate alone would also accept DER.
    if (!cert.includes("-----BEGIN CERTIFICATE-----")) throw new Error("not PEM");
    certificate = new X509Certificate(cert);
  } catch {
    throw new ConfigError(`listener.tls_cert_file: "${tls.certFile}" is not a PEM certificate`);
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch {
    throw new ConfigError(`listener.tls_key_file: "${tls.keyFile}" is not a PEM private key (unencrypted)`);
  }
  if (!certificate.checkPrivateKey(privateKey)) {
    throw new ConfigError(`listener.tls_key_file: "${tls.keyFile}" is not the key of the certificate in listener.tls_cert_file`);
  }
  return { cert, key };
}

export function loadConfigFile(path: string): ServerConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError(`cannot read configuration file ${path}: ${(err as Error).message}`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`configuration file ${path} is not valid JSON: ${(err as Error).message}`);
  }
  return resolveConfig(doc, dirname(resolve(path)));
}
