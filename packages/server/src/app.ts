/**
 * Composition root: wires store, seal, keys, identity, audit and service, then mounts the adapters.
 * The only place that knows every part; everything else receives the narrow slice it uses.
 */
import { randomUUID } from "node:crypto";
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from "fastify";
import { AuditLog } from "./audit/audit-log.js";
import { DatabaseSink, FileSink, StdoutSink, type AuditSink } from "./audit/sinks.js";
import type { AuditFileConfig } from "./config/config.js";
import { FileTrailReader } from "@tessera/audit";
import { AlertCenter, type Webhook } from "./audit/alerts.js";
import { AnomalyDetectors, type DetectorOptions } from "./audit/detectors.js";
import { Metrics } from "./audit/metrics.js";
import { Activity } from "./audit/activity.js";
import { iso, systemClock, type Clock } from "./clock.js";
import { AccessKeyService } from "./identity/access-key-service.js";
import { AppRoleService } from "./identity/approle-service.js";
import { Authenticator } from "./identity/authenticator.js";
import { JwtService } from "./identity/jwt-service.js";
import { CertificateAuthority } from "./identity/ca.js";
import { MachineIdentity } from "./identity/machine-identity.js";
import { MachineIdentityService } from "./service/machine-identity-service.js";
import { TokenService } from "./identity/token-service.js";
import { PolicyService } from "./policy/index.js";
import { RoleDirectory } from "./principal/index.js";
import { Door } from "./service/door.js";
import { IdentityService } from "./service/identity-service.js";
import { AuditService } from "./service/audit-service.js";
import { ImportParameters, KeyBackups, KeyService, TransitWrappingKey } from "./keys/index.js";
import { Scheduler } from "./scheduler.js";
import { SystemJobs } from "./service/system-jobs.js";
import { Barrier, ShamirSeal, type Seal } from "./seal/index.js";
import { KmsService, type SealPeers } from "./service/kms-service.js";
import { AsymmetricService } from "./service/asymmetric-service.js";
import { SecretsService } from "./service/secrets-service.js";
import { RetentionService } from "./service/retention-service.js";
import { QuotaGate, type QuotaOptions } from "./service/quotas.js";
import { BASE64_FORMAT, type RetentionPolicy } from "@tessera/protocol";
import { isCanonicalBase64Fast } from "./service/bytes.js";
import { MacService } from "./service/mac-service.js";
import { GrantService } from "./service/grant-service.js";
import { DistributionService } from "./service/distribution-service.js";
import { ImportService } from "./service/import-service.js";
import { KeyBackupService } from "./service/key-backup-service.js";
import { TransitImportService } from "./service/transit-import-service.js";
import { Eraser, type Store } from "./store/index.js";
import { nativeApi } from "./api/native/native-api.js";
import { MAX_PATH_PARAM_LENGTH } from "./api/native/errors.js";
import { routerRefusals } from "./api/native/refusals.js";
import { RefusalLog, type RefusalLogOptions } from "./service/refusal-log.js";
import { awsApi } from "./api/aws/aws-api.js";
import { vaultApi } from "./api/vault/vault-api.js";
import { installListVerb } from "./api/vault/list-verb.js";
import { HashService } from "./service/hash-service.js";
import { MountTableService } from "./service/mount-table-service.js";
import { consoleRoutes } from "./api/console/console-routes.js";
import { consoleDirectory, loadConsoleAssets } from "./api/console/console-assets.js";
import { SigV4Verifier } from "./identity/sigv4.js";
import { CacheCoherence, type CoherenceOptions } from "./service/cache-coherence.js";
import { JobLease } from "./service/job-lease.js";
import { NodePresence } from "./service/node-presence.js";
import { AutoUnseal, type AutoUnsealOptions } from "./service/auto-unseal.js";
import { BackupService } from "./service/backup-service.js";
import { GenerateRootService } from "./service/generate-root-service.js";
import { LocalSequencer, type QuorumSequencer } from "./service/quorum-sequence.js";
import { RekeyService } from "./service/rekey-service.js";
import { RootRotationService, type RingPeers } from "./service/root-rotation-service.js";

export interface AppOptions {
  store: Store;
  clock?: Clock;
  seal?: Seal;
  /** Fastify logger options; false for silence (tests). */
  logger?: FastifyServerOptions["logger"];
  /** TLS listener. `clientAuth` "request" (default) asks clients for a certificate without requiring one. */
  https?: { cert: Buffer; key: Buffer; clientAuth?: "none" | "request" } | null;
  /** Region and account id of the AWS-compatible API's ARNs (default us-east-1, 000000000000). */
  aws?: { region: string; accountId: string };
  /**
   * The Vault-compatible API (docs/vault-compatibility.md): where transit and the KV v2 mounts are
   * mounted (default `transit` and `["secret"]`), and whether the listener accepts Vault's LIST verb (default
   * true: a rewriter before Node's parser, api/vault/list-verb.ts). `null` turns it all off.
   */
  vault?: { transitMount?: string; kvMounts?: readonly string[]; listVerb?: boolean } | null;
  /** SPIFFE trust domain named in instance certificates (default tessera.local). */
  trustDomain?: string;
  /** Anomaly detectors and alert delivery (docs/audit.md). */
  alerts?: { detectors?: DetectorOptions; webhooks?: Webhook[]; retryMs?: number };
  /** The audit trail's sinks (docs/audit.md). Default: the database only. */
  audit?: {
    database?: boolean;
    file?: AuditFileConfig;
    stdout?: boolean;
    /** `sync` (default) or `batch` (docs/audit.md "Durability"); applies to the file sink. */
    durability?: { mode: "sync" | "batch"; intervalMs?: number };
    /** Extra sinks (tests use fakes typed against AuditSink). */
    sinks?: AuditSink[];
    /** How long a request waits for its entry to be durable (default 2 s). */
    timeoutMs?: number;
    checkpointIntervalMs?: number;
  };
  schedulerIntervalMs?: number;
  usageFlushIntervalMs?: number;
  /** Per-principal request quotas by role (service/quotas.ts); none by default. */
  quotas?: QuotaOptions;
  /** Most keys kept unwrapped in memory, least recently used dropped first (default 100,000). */
  keyCacheSize?: number;
  /** Version retention for keys with no policy of their own (docs/retention.md); none by default. */
  retention?: RetentionPolicy;
  /**
   * Throttling of the audit records of refused requests (service/refusal-log.ts): per-source and
   * global token buckets, and how often suppressed ones are summarised (default 10 s).
   */
  refusals?: RefusalLogOptions & { summaryIntervalMs?: number };
  /**
   * This node among several sharing one database: its id (which also names its audit chain — give
   * the store the same one) and the address it listens on. Registers the node for `tessera status`.
   */
  node?: { id: string; address: string; heartbeatMs?: number; takeOver?: boolean };
  /**
   * The sibling worker processes of this server (workers/): told of every state change, unseal share,
   * seal and rekey before the answer, and the one order of quorum events (service/quorum-sequence.ts).
   * Absent in a single process.
   */
  peers?: SealPeers & QuorumSequencer & RingPeers & { changed(): Promise<void> };
  /** The background-work lease (service/job-lease.ts). */
  lease?: { ttlMs?: number; renewMs?: number };
  /** How caches learn of changes committed elsewhere (service/cache-coherence.ts; default per request). */
  coherence?: CoherenceOptions;
  /** Retry delays of the automatic unseal with an auto seal (the HSM). */
  autoUnseal?: Omit<AutoUnsealOptions, "log">;
  /** Records re-sealed per transaction by root rotation (default 500). */
  rootRotationBatch?: number;
  /** Scheduled backups into a directory, keeping the newest `keep`. */
  backups?: { directory: string; intervalMs: number; keep: number } | null;
}

export interface TesseraApp {
  http: FastifyInstance;
  auditLog: AuditLog;
  alerts: AlertCenter;
  service: KmsService;
  identity: IdentityService;
  policy: PolicyService;
  accessKeys: AccessKeyService;
  /** Tessera's instance CA (dev TLS issues the listener's certificate from it). */
  ca: CertificateAuthority;
  barrier: Barrier;
  keys: KeyService;
  tokens: TokenService;
  scheduler: Scheduler;
  /** The server's own audited changes (automatic rotation, destruction, purges). */
  jobs: SystemJobs;
  retention: RetentionService;
  /** Keeps this node's caches in step with changes committed elsewhere. */
  coherence: CacheCoherence;
  /** The background-work lease: jobs run only on its holder. */
  lease: JobLease;
  /** Unsealing with an auto seal (the HSM), with retries. */
  autoUnseal: AutoUnseal;
  rotation: RootRotationService;
  backups: BackupService;
  rekey: RekeyService;
  generateRoot: GenerateRootService;
  /** Stops schedulers, flushes usage counters, closes the listener and the store. */
  close(): Promise<void>;
}

export const MAX_BODY_BYTES = 1024 * 1024;

export async function buildApp(options: AppOptions): Promise<TesseraApp> {
  const clock = options.clock ?? systemClock;
  const store = options.store;
  const barrier = new Barrier(store, options.seal ?? new ShamirSeal(), { handOverToOtherNodes: store.kind !== "sqlite" });
  await store.migrate();
  await barrier.load();

  // The router's own refusals (bad percent-encoding, over-long parameters) are audited by the service,
  // which exists only further down.
  let refusalService: KmsService | undefined;
  const http = Fastify({
    logger: options.logger ?? false,
    // The service's audit entry is the request record; per-request framework logs would only cost.
    logController: new LogController({ disableRequestLogging: true }),
    // No per-request child logger (a pino child per request showed in profiles); error logs carry the request id explicitly.
    childLoggerFactory: (logger) => logger,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    // Every name or reference the schemas accept (decoded) fits in a path parameter.
    routerOptions: { maxParamLength: MAX_PATH_PARAM_LENGTH },
    frameworkErrors: routerRefusals(() => refusalService),
    return503OnClosing: true,
    keepAliveTimeout: 65_000,
    ajv: {
      customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: false },
      // After ajv-formats, whose own `byte` admits non-zero padding bits: bytes fields take canonical base64 only.
      onCreate: (ajv: { addFormat(name: string, validate: (s: string) => boolean): unknown }) => ajv.addFormat(BASE64_FORMAT, isCanonicalBase64Fast),
    },
    // Client certificates are requested, not required: VMs authenticate with them (checked behind the
    // door against Tessera's CA), everyone else with tokens or signatures.
    ...(options.https
      ? { https: { cert: options.https.cert, key: options.https.key, minVersion: "TLSv1.2" as const, requestCert: options.https.clientAuth !== "none", rejectUnauthorized: false } }
      : {}),
  }) as unknown as FastifyInstance;

  // Every path that destroys material reports it here; erased at once where possible, else by the destroy job.
  const eraser = new Eraser({
    store,
    failed: (err) => http.log.warn({ err }, "could not erase destroyed material from the store's files yet; the destroy job retries"),
  });
  const keys = new KeyService(store, barrier, clock, eraser, options.keyCacheSize);
  const tokens = new TokenService(store.tokens, clock);
  const roles = new RoleDirectory(store.roles);
  const policy = new PolicyService(store, roles, clock);
  const a = options.audit ?? {};
  const sinks: AuditSink[] = [];
  const report = (e: { level: "error" | "info"; message: string }) => http.log[e.level]({ audit: true }, e.message);
  if (a.database !== false) sinks.push(new DatabaseSink(store));
  if (a.file !== undefined) {
    const { path, maxBytes, ...rotated } = a.file;
    const options = { ...rotated, now: () => clock.now(), ...(a.durability !== undefined && { durability: a.durability }) };
    sinks.push(new FileSink(path, maxBytes ?? 64 * 1024 * 1024, (message) => report({ level: "error", message }), undefined, options));
  }
  if (a.stdout === true) sinks.push(new StdoutSink());
  sinks.push(...(a.sinks ?? []));
  // Alerts: detectors watch durable records; an alert is stored, written to the trail and sent to webhooks.
  let auditLogRef: AuditLog | undefined;
  let metricsRef: Metrics | undefined;
  // Dashboards' per-minute counts and top keys (audit/activity.ts), fed like the metrics.
  const activity = new Activity();
  let retentionRef: RetentionService | undefined;
  const alertCenter = new AlertCenter(store.alerts, {
    webhooks: options.alerts?.webhooks ?? [],
    ...(options.alerts?.retryMs !== undefined && { retryMs: options.alerts.retryMs }),
    log: (message) => http.log.warn({ alerts: true }, message),
    onRaised: (row) => metricsRef?.alertRaised(row.detector),
    toTrail: (row) =>
      void auditLogRef
        ?.record({ time: row.time, requestId: row.id, principal: null, source: "tessera", action: "audit:Alert", keyId: null, keyVersion: null, outcome: "allowed", errorCode: null, latencyMs: 0 })
        .catch(() => undefined),
  });
  const detectors = new AnomalyDetectors({ ...options.alerts?.detectors, primaryVersion: (id) => keys.keyring.cachedPrimary(id) }, (alert) => alertCenter.raise(alert));
  const auditLog = new AuditLog(sinks, store, barrier, clock, {
    ...(a.timeoutMs !== undefined && { timeoutMs: a.timeoutMs }),
    ...(options.node !== undefined && { node: options.node.id }),
    report: (e) => {
      report(e);
      if (e.level === "error") alertCenter.raise({ detector: "audit-sink", severity: "high", subject: "audit", message: e.message, seqs: [], time: iso(clock.now()) });
    },
    onDurable: (records) => {
      // Intents announce a change whose outcome record follows; detectors and metrics count answers.
      const answered = records.filter((r) => r.outcome !== "intent");
      metricsRef?.observe(answered);
      activity.observe(answered);
      for (const r of answered) {
        detectors.observe(r);
        retentionRef?.observe(r);
      }
    },
    onFlush: (_size, ms) => metricsRef?.observeFlush(ms),
  });
  auditLogRef = auditLog;
  try {
    // Repairs a torn tail a crash left, and records the repair, before anything else is written.
    await auditLog.start();
  } catch (err) {
    await auditLog.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw err;
  }
  const metrics = new Metrics({ sealed: () => barrier.sealed, auditQueueDepth: () => auditLog.queueDepth });
  metricsRef = metrics;
  const accessKeys = new AccessKeyService(store.accessKeys, barrier, clock, async (role) => (await roles.role(role)) !== undefined);
  const approle = new AppRoleService(store.secretIds, roles, tokens, clock);
  const jwt = new JwtService(store.jwtIssuers, roles, tokens, clock);
  const ca = new CertificateAuthority(store, barrier, clock, options.trustDomain ?? "tessera.local");
  const machineIdentity = new MachineIdentity(ca, store.joinTokens, store.certificates, roles, tokens, clock);
  const aws = options.aws ?? { region: "us-east-1", accountId: "000000000000" };
  const authenticator = new Authenticator(tokens, machineIdentity, new SigV4Verifier(accessKeys, aws.region, clock, barrier));
  const { summaryIntervalMs = 10_000, ...buckets } = options.refusals ?? {};
  const refusals = new RefusalLog(auditLog, clock, buckets);
  // Every cache of security state, and what drops each when the database says it changed elsewhere.
  const coherence = new CacheCoherence(store, {
    key: (id) => keys.keyring.invalidate(id),
    tokens: () => tokens.forget(),
    policies: () => policy.forgetCompiled(),
    roles: () => roles.forgetAll(),
    certificates: () => machineIdentity.forgetRevocations(),
    // The SigV4 signing keys derived from a secret are re-derived once the secret is resolved anew.
    accessKey: (id) => accessKeys.evict(id),
    // A root rotation made on another node reaches this one's ring here (barrier.storedRecordChanged).
    meta: (name) =>
      name === "seal"
        ? barrier.storedRecordChanged().then((note) => {
            if (note !== undefined) http.log[note.level]({ seal: barrier.sealProvider.type }, note.message);
          })
        : undefined,
    all: () => {
      keys.keyring.invalidateAll();
      tokens.forget();
      policy.forgetCompiled();
      roles.forgetAll();
      machineIdentity.forgetRevocations();
      accessKeys.forgetAll();
    },
  }, options.coherence);
  await coherence.start();
  // Before anything else a request does: caches hold nothing another node has changed since.
  http.addHook("onRequest", (_request, _reply, done) => {
    const synced = coherence.sync();
    if (synced === undefined) done();
    else synced.then(() => done(), done);
  });
  const presence = options.node === undefined ? undefined : new NodePresence(store.nodes, options.node.id, options.node.address, () => nodeState(barrier), { ...(options.node.heartbeatMs !== undefined && { intervalMs: options.node.heartbeatMs }), ...(options.node.takeOver === true && { takeOver: true }) });
  await presence?.start();
  barrier.onSeal(() => void presence?.beat().catch(() => undefined));
  barrier.onUnseal(() => void presence?.beat().catch(() => undefined));
  const quotas = new QuotaGate(options.quotas ?? {}, clock);
  const peers = options.peers;
  const door = new Door({ barrier, keys, authenticator, policy, auditor: auditLog, refusals, clock, settle: peers === undefined ? () => coherence.settle() : () => coherence.settle().then(() => peers.changed()), quotas });
  const autoUnseal = new AutoUnseal(door, barrier, { ...options.autoUnseal, log: (level, message) => http.log[level]({ seal: barrier.sealProvider.type }, message) });
  const service = new KmsService({ barrier, authenticator, keys, tokens, policy, door, clock, autoUnseal, ...(presence !== undefined && { presence }), ...(peers !== undefined && { peers }) });
  const asymmetric = new AsymmetricService({ door, keys });
  refusalService = service;
  const identity = new IdentityService({
    door,
    policy,
    roles,
    tokens,
    approle,
    jwt,
    accessKeys,
    keys,
    store,
    eraser,
    clock,
    onRoleDeleted: async () => machineIdentity.forgetRevocations(),
  });
  const machines = new MachineIdentityService(door, machineIdentity);
  const lease = new JobLease(store.leases, options.node?.id ?? "local", {
    ...options.lease,
    onChange: (holding, epoch) => http.log.info({ lease: holding, epoch }, holding ? "this node holds the background-work lease" : "this node gave up or lost the background-work lease"),
  });
  const distribution = new DistributionService({ door, keys });
  const imports = new ImportService({ door, keys, parameters: new ImportParameters(barrier, clock) });
  const keyBackups = new KeyBackupService({ door, backups: new KeyBackups(store, barrier, keys.keyring, clock, eraser) });
  const macs = new MacService(door, keys.macs);
  const grants = new GrantService({ door, store, policy, clock });
  const secrets = new SecretsService({ door, keys, store, clock, eraser });
  const jobs = new SystemJobs({ door, keys, tokens, store, eraser, clock, lease });
  const retention = new RetentionService({ door, keys, store, eraser, clock, lease, defaultPolicy: options.retention, raise: (alert) => alertCenter.raise(alert) });
  retentionRef = retention;
  // One order for every quorum event: the workers' (relayed by the primary), or this process's own.
  const sequencer: QuorumSequencer = peers ?? new LocalSequencer();
  const rekey = new RekeyService(door, barrier, eraser, sequencer, peers);
  const generateRoot = new GenerateRootService(door, barrier, tokens, store, sequencer);
  const rotation = new RootRotationService(door, barrier, store, eraser, { ...(options.rootRotationBatch !== undefined && { batch: options.rootRotationBatch }) }, peers);
  const backups = new BackupService({
    door,
    barrier,
    store,
    eraser,
    audit: auditLog,
    clock,
    onReplaced: () => {
      tokens.forget();
      policy.forgetAll();
      machineIdentity.forgetRevocations();
    },
  });

  // Scheduled backups, like the other background work, run on the lease holder only (one node of a cluster).
  const leasedBackup = async (): Promise<void> => {
    if (!lease.holding) await lease.renew();
    if (lease.holding) await backups.writeScheduled(options.backups!.directory, options.backups!.keep);
  };
  const interval = options.schedulerIntervalMs ?? 30_000;
  const scheduler = new Scheduler(
    [
      { name: "rotate", intervalMs: interval, run: () => jobs.rotateDue() },
      { name: "destroy", intervalMs: interval, run: () => jobs.destroyDue() },
      { name: "usage", intervalMs: options.usageFlushIntervalMs ?? 5_000, run: () => Promise.all([keys.usage.flush(), retention.flush()]) },
      { name: "retention", intervalMs: 10 * interval, run: () => retention.runDue() },
      { name: "purge", intervalMs: 10 * interval, run: () => jobs.purgeExpired() },
      { name: "audit-checkpoint", intervalMs: a.checkpointIntervalMs ?? 60_000, run: () => auditLog.checkpoint() },
      { name: "refusal-summaries", intervalMs: summaryIntervalMs, run: () => refusals.flush() },
      { name: "lease", intervalMs: lease.renewIntervalMs, run: () => lease.renew() },
      ...(options.backups ? [{ name: "backup", intervalMs: options.backups.intervalMs, run: () => leasedBackup() }] : []),
    ],
    { error: (obj, msg) => http.log.error(obj, msg) },
  );
  // Catch up at once after an unseal: rotations and destructions that fell due while sealed or down.
  barrier.onUnseal(() => {
    void scheduler.runOnce("rotate").then(() => scheduler.runOnce("destroy"));
    // A root rotation that a crash or a seal interrupted finishes now.
    void rotation.resumeIfUnderWay().catch((err: unknown) => http.log.error({ err }, "could not finish the root rotation under way; it resumes at the next unseal"));
  });

  const reader = a.database === false && a.file !== undefined ? new FileTrailReader(a.file.path) : store.audit;
  const audit = new AuditService(door, auditLog, reader, alertCenter, metrics, activity, clock, options.node?.id ?? "");
  await http.register(nativeApi, { service, asymmetric, identity, machines, audit, macs, secrets, retention, distribution, imports, grants, keyBackups, sys: { rekey, generateRoot, rotation, backups } });
  await http.register(awsApi, { service, asymmetric, identity, macs, imports, grants, region: aws.region, accountId: aws.accountId });
  if (options.vault !== null) {
    const hashes = new HashService(door);
    const transitMount = options.vault?.transitMount ?? "transit";
    const kvMounts = options.vault?.kvMounts ?? ["secret"];
    const mountTable = new MountTableService(door, [{ path: transitMount, type: "transit" }, ...kvMounts.map((path) => ({ path, type: "kv" as const }))]);
    const transitImports = new TransitImportService({ door, keys, wrappingKey: new TransitWrappingKey(store, barrier, transitMount, () => clock.now()) });
    await http.register(vaultApi, { service, asymmetric, macs, distribution, hashes, secrets, mountTable, keyBackups, transitImports, transitMount, kvMounts });
    if (options.vault?.listVerb !== false) installListVerb(http.server, Boolean(options.https));
  }
  // The web console: static files only; it calls the native API above like any other client.
  await http.register(consoleRoutes, { assets: loadConsoleAssets(consoleDirectory()) });
  // An auto seal (the HSM) unseals at once, and keeps trying while the HSM cannot be reached.
  autoUnseal.start();

  let closed = false;
  return {
    http,
    auditLog,
    alerts: alertCenter,
    service,
    identity,
    policy,
    accessKeys,
    ca,
    barrier,
    keys,
    tokens,
    scheduler,
    jobs,
    retention,
    coherence,
    lease,
    autoUnseal,
    rotation,
    backups,
    rekey,
    generateRoot,
    async close() {
      if (closed) return;
      closed = true;
      autoUnseal.stop();
      await scheduler.stop();
      // Another node takes the background work over at once, not after the lease expires.
      await lease.stop();
      await http.close();
      // Refusals counted but not yet summarised go into the trail before it closes.
      await refusals.flush().catch((err: unknown) => http.log.error({ err }, "could not write the summary of refused requests"));
      await keys.usage.flush().catch((err: unknown) => http.log.error({ err }, "could not flush usage counters"));
      await keys.usage.fold().catch((err: unknown) => http.log.error({ err }, "could not fold the use log into the use counters"));
      await retention.flush().catch((err: unknown) => http.log.error({ err }, "could not flush the uses of old key versions"));
      await auditLog.close();
      barrier.sealNow();
      await presence?.stop();
      await coherence.close();
      await barrier.sealProvider.close().catch(() => undefined);
      await store.close();
    },
  };
}

function nodeState(barrier: Barrier): string {
  if (!barrier.initialized) return "uninitialized";
  return barrier.sealed ? "sealed" : "unsealed";
}
