/**
 * `tessera server`: reads configuration (or dev defaults), builds the app, listens, and shuts down
 * cleanly on SIGINT/SIGTERM. Dev mode initialises (1-of-1) and unseals itself.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve as resolvePath } from "node:path";
import { buildApp, type AppOptions, type TesseraApp } from "./app.js";
import { ConfigError, isLoopback, loadConfigFile, parseAddress, readHsmPin, readTlsFiles, resolveConfig, type SealConfig, type ServerConfig } from "./config/config.js";
import { Pkcs11Seal, ShamirSeal, type RootKey, type Seal } from "./seal/index.js";
import type { MigrateStorageOptions, MigrateStorageReport, ServerRunOptions } from "@tessera/protocol";
import { migrateStorage } from "./store/migrate-storage.js";
import { PostgresStore, SqliteStore, type Store } from "./store/index.js";
import cluster from "node:cluster";
import { WORKER_ENV, WORKER_RESTART_ENV, workerAuditPath, workerName, type PeerEvent } from "./workers/messages.js";
import type { QuorumEvent } from "./service/quorum-sequence.js";
import { WorkerLink } from "./workers/worker-link.js";
import { WorkerPool } from "./workers/worker-pool.js";

/** The options of `tessera server` (the CLI's contract with the server, in protocol). */
export type ServerCommandOptions = ServerRunOptions;

interface DevState {
  unsealKey: string;
  rootToken: string;
}

const DEV_WARNING = `
==> WARNING: Tessera is running in DEV MODE.
    Plain HTTP, a single unseal key kept next to the data, and a root token printed below.
    Never use dev mode for real keys.`;

/** Starts the server; resolves once it has stopped. Throws ConfigError for bad options. */
export async function runServer(opts: ServerCommandOptions): Promise<void> {
  if (opts.dev === (opts.config !== undefined)) throw new ConfigError("give exactly one of --dev or --config FILE");
  if (!opts.dev && (opts.listen !== undefined || opts.devRootToken !== undefined || opts.data !== undefined)) {
    throw new ConfigError("--listen, --dev-root-token and --data apply to --dev only; put them in the configuration file");
  }
  if (!opts.dev && opts.devTls === true) throw new ConfigError("--dev-tls applies to --dev only; configure listener.tls_cert_file for production");
  let tempDir: string | undefined;
  let config: ServerConfig;
  if (opts.dev) {
    const { host, port } = parseAddress(opts.listen ?? "127.0.0.1:8200", "--listen");
    if (!isLoopback(host)) throw new ConfigError(`dev mode listens on loopback only; "${host}" is not a loopback address`);
    let dataDir = opts.data;
    if (dataDir === undefined) dataDir = tempDir = mkdtempSync(join(tmpdir(), "tessera-dev-"));
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    config = {
      host,
      port,
      tls: null,
      storage: { kind: "sqlite", path: join(dataDir, "tessera.db") },
      // One process: dev mode's unseal key and temporary directory belong to one process.
      workers: 1,
      leaseTtlMs: 15_000,
      heartbeatMs: 5000,
      logLevel: "warn",
      // A JSON-lines file fsynced per batch on the thread pool: durable without stalling requests.
      audit: { database: false, stdout: false, file: { path: join(dataDir, "audit", "audit.jsonl") } },
      schedulerIntervalMs: 30_000,
      usageFlushIntervalMs: 5_000,
      trustDomain: "tessera.local",
      aws: { region: "us-east-1", accountId: "000000000000" },
      vault: { transitMount: "transit", kvMounts: ["secret"], listVerb: true },
      alerts: { webhooks: [], detectors: {} },
      seal: { type: "shamir" },
      backup: null,
      retention: null,
      keyCacheSize: null,
      quotas: null,
    };
  } else {
    config = loadConfigFile(opts.config!);
  }

  if (config.workers > 1 && cluster.isPrimary) return runPrimary(config, opts);
  // A worker of a multi-worker server: its slot names its audit chain and file, its lease and its row in `nodes`.
  const slot = cluster.isWorker && process.env[WORKER_ENV] !== undefined ? Number(process.env[WORKER_ENV]) : undefined;
  const link = slot === undefined ? undefined : new WorkerLink();
  const workerId = slot === undefined ? undefined : workerName(slot, config.nodeId);
  // How the process this worker replaces ended ("signal SIGKILL"), when the primary restarted the slot
  // (anything else in the variable is recorded as "unknown": the trail holds only the primary's words).
  const restartedAfter = workerId !== undefined ? process.env[WORKER_RESTART_ENV] || undefined : undefined;
  const replaced = restartedAfter === undefined ? undefined : /^(signal [A-Z0-9]{1,16}|code -?[0-9]{1,5})$/.test(restartedAfter) ? restartedAfter : "unknown";

  const auditFile = opts.auditFile !== undefined ? { ...config.audit.file, path: resolvePath(opts.auditFile) } : config.audit.file;
  const audit = { ...config.audit, ...(auditFile !== undefined && { file: { ...auditFile, path: slot === undefined ? auditFile.path : workerAuditPath(auditFile.path, slot) } }) };
  let https: AppOptions["https"] = config.tls ? { ...readTlsFiles(config.tls), clientAuth: config.tls.clientAuth } : null;
  let devCaPath: string | undefined;
  if (opts.dev && opts.devTls === true) {
    const dataDir = opts.data ?? tempDir!;
    try {
      https = await devTlsCertificate(config, audit, dataDir, opts.devRootToken);
    } catch (err) {
      if (tempDir) rmSync(tempDir, { recursive: true, force: true });
      throw err;
    }
    // Absolute: the printed `export TESSERA_CACERT=…` must work from any directory the user runs the CLI in.
    devCaPath = resolvePath(dataDir, "ca.pem");
  }

  const seal = await createSeal(config.seal, process.env);
  const store = openStore(config, workerId);
  const node =
    workerId !== undefined
      ? { id: workerId, address: `${config.host}:${config.port}`, heartbeatMs: config.heartbeatMs, takeOver: replaced !== undefined }
      : config.nodeId !== undefined
        ? { id: config.nodeId, address: `${config.host}:${config.port}`, heartbeatMs: config.heartbeatMs }
        : undefined;
  const app = await buildApp({
    seal,
    backups: config.backup,
    ...(config.retention !== null && { retention: config.retention }),
    ...(config.keyCacheSize !== null && { keyCacheSize: config.keyCacheSize }),
    ...(config.quotas !== null && { quotas: config.quotas }),
    store,
    ...(node !== undefined && { node }),
    ...(link !== undefined && { peers: workerPeers(link, store) }),
    lease: { ttlMs: config.leaseTtlMs },
    ...(config.storage.kind === "postgres" && { coherence: { mode: config.storage.coherence } }),
    logger: { level: config.logLevel },
    https,
    audit,
    schedulerIntervalMs: config.schedulerIntervalMs,
    usageFlushIntervalMs: config.usageFlushIntervalMs,
    trustDomain: config.trustDomain,
    aws: config.aws,
    vault: config.vault,
    alerts: { webhooks: config.alerts.webhooks, detectors: config.alerts.detectors },
  });

  let dev: DevState | undefined;
  try {
    if (opts.dev) dev = await devInitAndUnseal(app, join(opts.data ?? tempDir!, "dev-state.json"), opts.devRootToken);
    // Unsealed as the siblings are (their unseal shares so far) before serving.
    await link?.join(
      (event) => takeIn(app, store, event),
      async (event) => {
        await app.rekey.takeIn(event);
        await app.generateRoot.takeIn(event);
      },
    );
    // Joined (restarted) during a root rotation: the siblings hold its new root before this worker serves.
    if (link !== undefined) await app.rotation.retell();
    // A worker that replaces a dead one says so in its trail before it serves (fail closed: unrecorded, it does not serve).
    if (replaced !== undefined) await app.jobs.workerRestarted(workerId!, replaced);
    app.scheduler.start();
    await app.http.listen({ host: config.host, port: config.port });
    link?.ready();
  } catch (err) {
    await app.close();
    if (tempDir) rmSync(tempDir, { recursive: true, force: true });
    throw err;
  }

  const scheme = https ? "https" : "http";
  const host = config.host.includes(":") ? `[${config.host}]` : config.host;
  // The port bound: the configured one, or the one the system chose for port 0.
  const bound = app.http.server.address();
  const address = `${scheme}://${host}:${typeof bound === "object" && bound !== null ? bound.port : config.port}`;
  if (dev) {
    process.stdout.write(
      `${devCaPath ? DEV_WARNING.replace("Plain HTTP", "HTTPS with a dev CA") : DEV_WARNING}\n\n` +
        `Tessera ${opts.data ? `(data in ${resolvePath(opts.data)})` : "(temporary state, deleted on exit)"} listening on ${address}\n\n` +
        `    Unseal key: ${dev.unsealKey}\n` +
        `    Root token: ${dev.rootToken}\n\n` +
        `    export TESSERA_ADDR='${address}'\n` +
        `    export TESSERA_TOKEN='${dev.rootToken}'\n` +
        (devCaPath ? `    export TESSERA_CACERT='${devCaPath}'    # Tessera's CA: signed this listener's certificate\n` : "") +
        "\n",
    );
  } else {
    const s = app.barrier.status();
    const how = s.migration
      ? `sealed with the ${s.migration.from} seal, configured for ${s.migration.to}: migrate with \`tessera operator unseal --migrate\``
      : seal.auto
        ? s.sealed
          ? `sealed: unsealing with the HSM (${(seal as Pkcs11Seal).where()})`
          : "unsealed with the HSM"
        : "sealed: unseal with `tessera operator unseal`";
    // One start-up line per server: the first worker speaks for all.
    const workers = slot === undefined ? "" : `, ${config.workers} workers`;
    if (slot === undefined || slot === 1) process.stdout.write(`Tessera listening on ${address} (storage ${describeStorage(config)}${workers}); ${s.initialized ? how : "not initialised: run `tessera operator init`"}\n`);
  }

  await new Promise<void>((resolveStop) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      app.http.log.warn({ signal }, "shutting down");
      void app.close().finally(() => {
        if (tempDir) rmSync(tempDir, { recursive: true, force: true });
        // A worker's IPC channel would keep it alive: let it go once the app is closed.
        link?.close();
        if (link !== undefined && process.connected) process.disconnect();
        resolveStop();
      });
    };
    // A second signal force-quits a single process; a worker ignores it — the primary passes SIGTERM on,
    // and a supervisor signalling the whole process group already did: the worker's final checkpoint must not be cut off.
    const onSignal = link === undefined ? process.once.bind(process) : process.on.bind(process);
    onSignal("SIGINT", stop);
    onSignal("SIGTERM", stop);
    // A worker whose primary is gone stops too: nobody would relay its changes any more.
    if (link !== undefined) process.once("disconnect", () => stop("SIGHUP"));
    if (opts.exitWithParent === true) stopWithParent(stop);
  });
}

/**
 * `--dev --dev-tls`: the listener's certificate must come from Tessera's CA, whose key is sealed, so a
 * first app (same store and audit trail) initialises/unseals, issues the certificate and closes; the
 * serving app is then built with it. The CA certificate is written to DATA/ca.pem for clients.
 */
async function devTlsCertificate(config: ServerConfig, audit: AppOptions["audit"], dataDir: string, rootToken: string | undefined): Promise<NonNullable<AppOptions["https"]>> {
  const first = await buildApp({ store: openStore(config), logger: false, ...(audit && { audit }), trustDomain: config.trustDomain });
  try {
    await devInitAndUnseal(first, join(dataDir, "dev-state.json"), rootToken);
    const names = [...new Set(["127.0.0.1", "localhost", "::1", config.host])];
    const server = await first.ca.issueServer(names, 30 * 86_400);
    writeFileSync(join(dataDir, "ca.pem"), await first.ca.certificate());
    return { cert: Buffer.from(server.certificate), key: Buffer.from(server.key), clientAuth: "request" };
  } finally {
    await first.close();
  }
}

/**
 * Dev mode: first start initialises 1-of-1 and writes the unseal key and root token to a 0600 file
 * beside the data (dev only!), later starts read it back and unseal.
 */
async function devInitAndUnseal(app: TesseraApp, statePath: string, rootToken: string | undefined): Promise<DevState> {
  const ctx = { token: undefined, source: "dev-mode", requestId: "dev-init" };
  let state: DevState;
  if (!app.barrier.initialized) {
    const init = await app.service.init(ctx, { shares: 1, threshold: 1 }, rootToken);
    state = { unsealKey: init.shares[0]!, rootToken: init.rootToken };
    writeFileSync(statePath, JSON.stringify(state), { mode: 0o600 });
    chmodSync(statePath, 0o600);
  } else {
    if (!existsSync(statePath)) throw new ConfigError(`the data directory was not created by dev mode (no ${statePath}); use --config`);
    state = JSON.parse(readFileSync(statePath, "utf8")) as DevState;
  }
  await app.service.unseal(ctx, { share: state.unsealKey });
  if (rootToken !== undefined && rootToken !== state.rootToken) {
    throw new ConfigError("--dev-root-token differs from the root token this data directory was created with");
  }
  return state;
}

/**
 * The primary of a multi-worker server: applies the database migrations once, then forks the workers
 * and looks after them (workers/worker-pool.ts) until SIGTERM or SIGINT.
 */
async function runPrimary(config: ServerConfig, opts: ServerCommandOptions): Promise<void> {
  if (config.storage.kind === "sqlite") await new SqliteStore({ path: config.storage.path, busyTimeoutMs: 5000 }).close();
  const log = (level: "info" | "warn" | "error", message: string) => {
    if (level !== "info" || config.logLevel === "info" || config.logLevel === "debug" || config.logLevel === "trace") {
      process.stderr.write(`${JSON.stringify({ level, time: Date.now(), pid: process.pid, primary: true, msg: message })}\n`);
    }
  };
  const pool = new WorkerPool({ count: config.workers, log });
  const stop = (signal: NodeJS.Signals) => {
    log("warn", `${signal}: stopping the workers`);
    pool.stop();
  };
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  if (opts.exitWithParent === true) stopWithParent(stop);
  log("info", `starting ${config.workers} workers`);
  const code = await pool.run();
  if (code !== 0) throw new Error("the workers could not start (their messages are above)");
}

/** A worker's siblings: state changes are relayed only on SQLite (PostgreSQL nodes and workers follow the database's feed). */
function workerPeers(link: WorkerLink, store: Store) {
  const tell = (event: PeerEvent) => link.broadcast(event);
  return {
    changed: store.kind === "sqlite" ? () => tell({ kind: "changed" }) : () => Promise.resolve(),
    unsealShare: (share: string, migrate?: boolean) => tell({ kind: "unseal-share", share, ...(migrate === true && { migrate: true as const }) }),
    unsealReset: () => tell({ kind: "unseal-reset" }),
    sealed: () => tell({ kind: "seal" }),
    rekeyed: (macKey: Buffer, unsealShares?: string[]) => tell({ kind: "rekeyed", macKey: macKey.toString("base64"), ...(unsealShares !== undefined && { unsealShares }) }),
    sequence: <T>(event: QuorumEvent, apply: () => Promise<T>) => link.sequence(event, apply),
    // The root's base64 string is made here, synchronously, from the ring's own buffer (never kept, never logged).
    rootAdded: (root: RootKey) => tell({ kind: "root-added", rootId: root.id, key: root.key.toString("base64") }),
    rootDropped: (keep: string) => tell({ kind: "root-dropped", keep }),
  };
}

/** Takes in a sibling worker's event (the sibling audited the request that caused it). */
async function takeIn(app: TesseraApp, store: Store, event: PeerEvent): Promise<void> {
  switch (event.kind) {
    case "changed":
      if (store instanceof SqliteStore) store.changedElsewhere();
      return;
    case "unseal-share":
      // Initialised through another worker before this one served a request (a replay at join):
      // the seal record is read first, as a request's feed read would. (Rotated or rekeyed since this
      // worker was built: the unseal itself reads the record as stored now.)
      await app.barrier.refresh();
      // A wrong share or a migration in progress is the submitting worker's answer to give; here it only must not stop the rest.
      // A migration share once the record is migrated (replayed to a restarted worker) unseals: the shares stay the same.
      await (event.migrate === true && app.barrier.migration !== undefined ? app.barrier.unsealMigrating(event.share) : app.barrier.unseal(event.share)).catch((err: unknown) =>
        app.http.log.warn({ err: (err as Error).message }, "an unseal share relayed from another worker was refused"),
      );
      return;
    case "unseal-reset":
      app.barrier.resetUnseal();
      return;
    case "seal":
      await app.keys.usage.flush().catch(() => undefined);
      app.barrier.sealNow();
      return;
    case "root-added":
    case "root-dropped":
      // Refused (the stored record does not vouch for it): this worker's ring may now differ from its
      // siblings', so it must not serve: it seals and stops, and the primary starts it again, unsealed
      // from the stored record (replayed shares, or the HSM) like any restarted worker.
      await (event.kind === "root-added" ? app.barrier.rootAddedElsewhere({ id: event.rootId, key: Buffer.from(event.key, "base64") }) : app.barrier.rootDroppedElsewhere(event.keep)).catch((err: unknown) => {
        app.http.log.error({ err: (err as Error).message }, "a root rotation relayed from another worker was refused; sealing and restarting this worker");
        app.barrier.sealNow();
        process.kill(process.pid, "SIGTERM");
      });
      return;
    case "rekeyed":
      // A key that does not check the stored escrow changes nothing here; said, since rotation through this worker would then fail.
      await app.barrier.rekeyedElsewhere(Buffer.from(event.macKey, "base64")).catch((err: unknown) => app.http.log.error({ err: (err as Error).message }, "the seal record another worker rekeyed could not be taken in"));
      return;
  }
}

/**
 * The configured store: SQLite (one node) or PostgreSQL (this node's audit chain named by its id).
 * `worker`: this process is that worker of several, whose audit chain it names.
 */
export function openStore(config: Pick<ServerConfig, "storage" | "nodeId">, worker?: string): Store {
  const s = config.storage;
  if (s.kind === "sqlite") return new SqliteStore({ path: s.path, ...(worker !== undefined && { auditChain: worker, busyTimeoutMs: 5000 }) });
  return new PostgresStore({
    url: s.url,
    ...(s.password !== undefined && { password: s.password }),
    ...(s.ssl !== undefined && { ssl: s.ssl }),
    poolSize: s.poolSize,
    timeoutMs: s.timeoutMs,
    auditChain: worker ?? config.nodeId ?? "",
    applicationName: `tessera ${worker ?? config.nodeId ?? ""}`.trim(),
  });
}

/** Where the data is, for the start-up line: never the password. */
function describeStorage(config: ServerConfig): string {
  const s = config.storage;
  if (s.kind === "sqlite") return s.path;
  const u = new URL(s.url);
  return `postgres ${u.host}${u.pathname}, node ${config.nodeId}`;
}

/**
 * `tessera operator migrate-storage`: copies a stopped node's SQLite database into an empty
 * PostgreSQL database (store/migrate-storage.ts). The password comes from --password-file or
 * PGPASSWORD, never from the URL, as in the configuration file.
 */
export async function runMigrateStorage(opts: MigrateStorageOptions): Promise<MigrateStorageReport> {
  if (!opts.from.startsWith("sqlite:") || opts.from.length === "sqlite:".length) throw new ConfigError("--from: give sqlite:PATH (the database file of the stopped node)");
  const sqlitePath = resolvePath(opts.from.slice("sqlite:".length));
  if (!existsSync(sqlitePath)) throw new ConfigError(`--from: no such file "${sqlitePath}"`);
  const url = opts.to.replace(/^postgres:(?=postgres(ql)?:\/\/)/, "");
  const storage = resolveConfig(
    { listener: { address: "127.0.0.1:0", insecure_http: true }, storage: { postgres: { url, ...(opts.passwordFile !== undefined && { password_file: resolvePath(opts.passwordFile) }) } }, audit: { stdout: true } },
    process.cwd(),
  ).storage;
  if (storage.kind !== "postgres") throw new ConfigError("--to: give postgres:URL");
  return migrateStorage(
    { sqlitePath },
    { url: storage.url, ...(storage.password !== undefined && { password: storage.password }), ...(storage.ssl !== undefined && { ssl: storage.ssl }), applicationName: "tessera migrate-storage" },
  );
}

/** The configured seal; the PKCS#11 one loads pkcs11js (an optional dependency) only now. */
async function createSeal(config: SealConfig, env: NodeJS.ProcessEnv): Promise<Seal> {
  if (config.type === "shamir") return new ShamirSeal();
  const pin = readHsmPin(config, env);
  try {
    return await Pkcs11Seal.create({
      lib: config.lib,
      ...(config.slot !== undefined && { slot: config.slot }),
      ...(config.tokenLabel !== undefined && { tokenLabel: config.tokenLabel }),
      pin,
      keyLabels: config.keyLabels,
      mechanism: config.mechanism,
      generateKey: config.generateKey,
    });
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
}

/** Calls `stop("SIGHUP")` once the parent is gone: an orphan is re-parented (to init or a subreaper), so a changed parent pid means ours is gone. */
function stopWithParent(stop: (signal: NodeJS.Signals) => void): void {
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(watch);
      stop("SIGHUP");
    }
  }, 500);
  watch.unref();
}
