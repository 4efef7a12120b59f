/**
 * The audit log: chains every request's entry into the trail and makes it durable in every sink
 * before the request is answered.
 *
 * Invariants:
 * - Group commit: entries that arrive while a batch is being written form the next batch, so many
 *   concurrent requests share one fsync / one transaction.
 * - A batch is durable only when every sink wrote it; if one fails, the others roll it back and the
 *   chain head does not move, so all sinks keep the same gapless chain.
 * - Fail closed, bounded: a request waits at most `timeoutMs` for its entry; then it fails
 *   (`Unavailable`) even if a hung sink later completes the write (the entry is then in the trail —
 *   a record of a request that was refused is better than a gap). While a sink is failing, new
 *   entries are refused at once beyond `maxPending`, so memory stays bounded; the log retries with
 *   backoff and recovers by itself.
 * - Sensitive values (encryption-context values, token accessors) are stored only as HMAC-SHA256
 *   under the audit key, which is sealed with everything else.
 * - Start-up (`start`, also run before the first batch): every sink repairs what a crash left (a torn
 *   tail), a sink that missed records another holds gets them copied in, and each repair is written
 *   to the trail as a `repair` record before anything else. Repair records are never dropped: a batch
 *   that fails keeps them queued first.
 * - The checkpoint key pair is checked at every unseal: the public key is derived from the sealed
 *   private key, and a stored public key that differs (edited metadata) refuses the unseal. The public
 *   key served for verification is always the derived one.
 * - `close` writes a final checkpoint (when unsealed) and accepts nothing after it.
 * - Request records are written compact (format 2, @tessera/audit compact.ts): a context is spelt out
 *   the first time a file sees it and referred to by seq after that. The map of contexts written is
 *   forgotten when a sink starts a new file (so references never leave their file) and updated only
 *   once a batch is durable (a refused batch's records never become referents).
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { secretBytes, secretKey, zero } from "../crypto/index.js";
import { iso, type Clock } from "../clock.js";
import { sealedMetaFields, type Barrier, type RootRing } from "../seal/index.js";
import type { MetaRepo, Store } from "../store/index.js";
import type { AuditEntry, AuditRecorder } from "./auditor.js";
import { GENESIS, checkLine, checkpointMessage, contextJson, encodeRequestV2, finishRecord, lineHead, type AuditRecord, type CheckpointRecord, type RepairRecord, type RequestRecord } from "@tessera/audit";
import type { AuditSink, SinkRepair } from "./sinks.js";

const KEYS_META = "audit-keys";
const HMAC_AAD = Buffer.from("tessera/audit-hmac-key/v1", "utf8");
const SIGNING_AAD = Buffer.from("tessera/audit-signing-key/v1", "utf8");

interface StoredKeys {
  hmacKey: string;
  signingKey: string;
  /** A copy, compared with the one derived from `signingKey` at every unseal. */
  publicKey: string;
}

interface AuditKeys {
  hmac: Buffer;
  /** `hmac` as a KeyObject: the fast path of createHmac (crypto/secret-key.ts); dropped with the rest on seal. */
  hmacKey: KeyObject;
  signing: KeyObject;
  /** SPKI PEM, derived from `signing`. */
  publicKey: string;
  signer: string;
}

/** The stored PEM names the same public key as `spki` (DER). A PEM that does not parse does not. */
function samePublicKey(pem: unknown, spki: Buffer): boolean {
  try {
    return typeof pem === "string" && createPublicKey(pem).export({ type: "spki", format: "der" }).equals(spki);
  } catch {
    return false;
  }
}

export interface AuditLogOptions {
  /** How long a request waits for its entry to become durable. */
  timeoutMs?: number;
  /** Entries waiting beyond this are refused at once (a stuck sink must not eat memory). */
  maxPending?: number;
  /** Report problems (failed sink, recovered sink, deleted file) — the alert hook. */
  report?: (event: { level: "error" | "info"; message: string }) => void;
  /** Called with each batch's request records once durable (detectors, metrics). Must not throw. */
  onDurable?: (records: readonly RequestRecord[]) => void;
  /** Called after each successful batch write with its size and duration (metrics). */
  onFlush?: (size: number, ms: number) => void;
  /** This node's id when several nodes share the database: each checkpoint names (and signs) it. */
  node?: string;
}

/** Contexts spelt out in the current file, by their JSON, and the seq of the record that spelt each out. */
const CONTEXTS_MAX = 10_000;
/** Most access-key principal HMACs kept (see `principalMacs`). */
const PRINCIPAL_MACS_MAX = 10_000;

interface Pending {
  entry: AuditEntry | { checkpoint: true; final: boolean } | { repair: SinkRepair };
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** A caller's entry: refused `Unavailable` at `deadline` (performance.now()) unless durable before. */
interface Watched extends Pending {
  deadline: number;
  settled: boolean;
}

export class AuditLog implements AuditRecorder {
  private pending: Pending[] = [];
  /**
   * Callers' entries in the order they came (so in deadline order) from `watchedFrom` on: one timer for
   * all of them, armed for the oldest, instead of a timer and a promise race per request. Each entry
   * is passed once — settled, or refused at its deadline.
   */
  private watched: Watched[] = [];
  private watchedFrom = 0;
  private watchdog: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private head: { seq: number; hash: string } | undefined;
  private keys: AuditKeys | undefined;
  private recovery: Promise<void> | undefined;
  private repairsDurable: Promise<void> = Promise.resolve();
  private closed = false;
  private failing = false;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly report: NonNullable<AuditLogOptions["report"]>;
  private readonly onDurable: AuditLogOptions["onDurable"];
  private readonly onFlush: AuditLogOptions["onFlush"];
  private readonly node: string | undefined;
  private contexts = new Map<string, number>();
  /**
   * HMACs of access-key principal ids, as the trail writes them: every SigV4 request's record carries
   * one, and the same few ids repeat. Forgotten on seal (with the key they were computed under) and
   * when the map reaches {@link PRINCIPAL_MACS_MAX}.
   */
  private principalMacs = new Map<string, string>();

  constructor(
    private readonly sinks: readonly AuditSink[],
    private readonly store: Pick<Store, "meta" | "transaction">,
    private readonly barrier: Barrier,
    private readonly clock: Clock,
    options: AuditLogOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.maxPending = options.maxPending ?? 10_000;
    this.report = options.report ?? (() => undefined);
    this.onDurable = options.onDurable;
    this.onFlush = options.onFlush;
    this.node = options.node;
    barrier.onSeal(() => {
      if (this.keys) zero(this.keys.hmac);
      this.keys = undefined;
      this.principalMacs.clear();
    });
    // Refuses an unseal whose stored public key is not the sealed signing key's (creates the keys on first unseal).
    barrier.addUnsealCheck(async (ring) => zero((await this.openKeys(ring)).hmac));
    barrier.registerSealedData(sealedMetaFields("audit keys", KEYS_META, [{ field: "hmacKey", aad: HMAC_AAD }, { field: "signingKey", aad: SIGNING_AAD }]));
  }

  /**
   * Start-up: repairs the sinks after a crash and makes the repair records durable. Call before
   * serving; throws (`Unavailable`) if the repairs cannot be recorded in time.
   */
  async start(): Promise<void> {
    if (this.sinks.length === 0) return;
    await this.recovered();
    this.kick();
    await this.repairsDurable;
  }

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  /** Entries waiting for the current or next batch. */
  get queueDepth(): number {
    return this.pending.length;
  }

  /** Records one request's entry; resolves once it is durable in every sink. */
  record(entry: AuditEntry): Promise<void> {
    if (this.sinks.length === 0) return Promise.resolve();
    if (this.closed) return Promise.reject(new TesseraError("Unavailable", "the audit log is closed"));
    if (this.pending.length >= this.maxPending) return Promise.reject(new TesseraError("Unavailable", "the audit log is not keeping up; request refused"));
    return this.enqueue(entry);
  }

  /**
   * Appends a signed checkpoint covering the current head (needs the unsealed signing key). `final`
   * marks the end of the trail at a clean shutdown (only `close` sets it).
   */
  async checkpoint(options: { final?: boolean } = {}): Promise<void> {
    if (this.sinks.length === 0 || this.barrier.sealed || this.closed) return;
    await this.loadKeys();
    await this.enqueue({ checkpoint: true, final: options.final === true });
  }

  /**
   * Writes a signed checkpoint and returns the trail's head, which is that checkpoint (a backup
   * names it, so what it holds can be matched with the trail). Null when no sink is configured.
   */
  async checkpointHead(): Promise<{ seq: number; hash: string } | null> {
    if (this.sinks.length === 0) return null;
    await this.checkpoint();
    return this.head === undefined ? null : { ...this.head };
  }

  /** The audit key's HMAC of a value, as stored in the trail (for investigators). */
  async hmacOf(value: string): Promise<string> {
    await this.loadKeys();
    return createHmac("sha256", this.keys!.hmacKey).update(value, "utf8").digest("hex");
  }

  /** The checkpoint public key (SPKI PEM), for offline verification. */
  async publicKey(): Promise<string> {
    await this.loadKeys();
    return this.keys!.publicKey;
  }

  private enqueue(entry: Pending["entry"]): Promise<void> {
    const done = new Promise<void>((resolve, reject) => {
      const w: Watched = {
        entry,
        deadline: performance.now() + this.timeoutMs,
        settled: false,
        resolve: () => {
          if (w.settled) return;
          w.settled = true;
          resolve();
        },
        reject: (err) => {
          if (w.settled) return;
          w.settled = true;
          reject(err);
        },
      };
      this.pending.push(w);
      this.watched.push(w);
    });
    this.watchdog ??= setTimeout(() => this.watch(), this.timeoutMs);
    this.kick();
    return done;
  }

  /**
   * The watchdog: refuses every entry past its deadline that is not durable yet (it may still be
   * written later; its request has failed closed), forgets settled ones, and re-arms for the oldest
   * left.
   */
  private watch(): void {
    const now = performance.now();
    const w = this.watched;
    let i = this.watchedFrom;
    for (; i < w.length; i++) {
      const e = w[i]!;
      if (e.settled) continue;
      if (e.deadline > now) break;
      e.reject(new TesseraError("Unavailable", "the audit log could not be written in time"));
    }
    this.forgetWatchedBefore(i);
    clearTimeout(this.watchdog);
    this.watchdog = this.watched.length === 0 ? undefined : setTimeout(() => this.watch(), Math.max(1, this.watched[this.watchedFrom]!.deadline - now));
  }

  /** After a durable batch: forgets the settled entries at the front (the watchdog stays armed for the oldest left, or stops). */
  private forgetSettled(): void {
    const w = this.watched;
    let i = this.watchedFrom;
    while (i < w.length && w[i]!.settled) i++;
    this.forgetWatchedBefore(i);
    if (this.watched.length === 0) {
      clearTimeout(this.watchdog);
      this.watchdog = undefined;
    }
  }

  /** Moves the front of `watched` to `i`, compacting the array once most of it lies behind. */
  private forgetWatchedBefore(i: number): void {
    if (i === this.watched.length) {
      this.watched = [];
      this.watchedFrom = 0;
    } else if (i > 1024 && i * 2 > this.watched.length) {
      this.watched = this.watched.slice(i);
      this.watchedFrom = 0;
    } else this.watchedFrom = i;
  }

  private withTimeout(done: Promise<void>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TesseraError("Unavailable", "the audit log could not be written in time")), this.timeoutMs);
    });
    return Promise.race([done, timeout]).finally(() => clearTimeout(timer));
  }

  private kick(): void {
    if (this.flushing !== undefined) return;
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined;
      if (this.pending.length > 0) this.kick();
    });
  }

  /** Runs the start-up recovery once (again after a failure). */
  private recovered(): Promise<void> {
    this.recovery ??= this.recover().catch((err: unknown) => {
      this.recovery = undefined;
      throw err;
    });
    return this.recovery;
  }

  /**
   * Lets each sink repair a torn tail, finds the chain head (the furthest sink), copies records into
   * a sink that misses them from one that has them, and queues a repair record for each repair first.
   */
  private async recover(): Promise<void> {
    const repairs: SinkRepair[] = [];
    for (const sink of this.sinks) repairs.push(...((await sink.recover?.()) ?? []));
    const heads = new Map<AuditSink, { seq: number; hash: string }>();
    let best = { seq: 0, hash: GENESIS };
    for (const sink of this.sinks) {
      const line = await sink.lastLine();
      if (line === undefined) continue;
      const last = lineHead(line);
      if (last === undefined) throw new TesseraError("Internal", `the last record of audit sink ${sink.name} cannot be read`);
      heads.set(sink, { seq: last.seq, hash: last.hash });
      if (last.seq > best.seq) best = { seq: last.seq, hash: last.hash };
    }
    for (const [sink, head] of heads) {
      if (head.seq >= best.seq) continue;
      const copied = await this.fill(sink, head, best.seq, heads);
      if (copied !== undefined) repairs.push(copied);
    }
    this.head = best;
    if (repairs.length > 0) {
      const queued: Promise<void>[] = [];
      const entries = repairs.map((repair) => {
        let entry!: Pending;
        queued.push(new Promise<void>((resolve, reject) => (entry = { entry: { repair }, resolve, reject })));
        return entry;
      });
      // Repair records go first: nothing else may be written before the trail says what was repaired.
      this.pending.unshift(...entries);
      this.repairsDurable = this.withTimeout(Promise.all(queued).then(() => undefined));
      // Awaited by `start`; when recovery ran lazily instead, a timeout here must not crash the process.
      this.repairsDurable.catch(() => undefined);
    }
  }

  /**
   * Copies records after `head` up to `to` into a sink that missed them (a crash between two sinks'
   * writes of one batch), from a sink that has them; each copied line must chain on. Returns the
   * repair, or undefined (reported) when no sink can supply them: the sink then has a gap.
   */
  private async fill(sink: AuditSink, head: { seq: number; hash: string }, to: number, heads: Map<AuditSink, { seq: number }>): Promise<SinkRepair | undefined> {
    const source = this.sinks.find((s) => s.linesAfter !== undefined && (heads.get(s)?.seq ?? 0) >= to);
    const gap = `audit sink ${sink.name} ends at seq ${head.seq} but the trail reaches ${to}`;
    if (source === undefined) {
      this.report({ level: "error", message: `${gap}; no sink can supply the missing records, so it has a gap` });
      return undefined;
    }
    const digest = createHash("sha256");
    let bytes = 0;
    let prev = head;
    let broken: string | undefined;
    while (prev.seq < to && broken === undefined) {
      const records: { seq: number; time: string; line: string }[] = [];
      for (const line of await source.linesAfter!(prev.seq, 1000)) {
        const c = checkLine(line, prev);
        if (!c.ok) {
          broken = `${source.name} does not continue the chain at seq ${prev.seq + 1} (${c.what})`;
          break;
        }
        if (c.seq > to) break;
        records.push({ seq: c.seq, time: c.time, line });
        prev = { seq: c.seq, hash: c.hash };
      }
      if (records.length === 0) break;
      await sink.write({ records });
      for (const r of records) {
        digest.update(`${r.line}\n`);
        bytes += Buffer.byteLength(r.line) + 1;
      }
    }
    if (prev.seq < to) this.report({ level: "error", message: `${gap}; ${broken ?? `${source.name} ends early`}, so after seq ${prev.seq} it has a gap` });
    if (bytes === 0) return undefined;
    this.report({ level: "info", message: `${gap}: copied ${prev.seq - head.seq} records from ${source.name}` });
    return { sink: sink.name, repair: "copied-missing", afterSeq: head.seq, bytes, sha256: digest.digest("hex"), savedAs: null };
  }

  private async flushLoop(): Promise<void> {
    let backoff = 50;
    while (this.pending.length > 0) {
      try {
        await this.recovered();
      } catch (err) {
        for (const p of this.pending.splice(0)) p.reject(new TesseraError("Unavailable", "the audit log could not be opened", { cause: err }));
        this.reportFailure(err);
        return;
      }
      const batch = this.pending.splice(0);
      let lines: { seq: number; time: string; line: string; hash: string; record: AuditRecord }[];
      let contexts: { added: Map<string, number>; restart: boolean };
      try {
        ({ lines, contexts } = await this.chain(batch, this.head!));
      } catch (err) {
        for (const p of batch) p.reject(err);
        continue;
      }
      const written: AuditSink[] = [];
      const started = performance.now();
      try {
        for (const sink of this.sinks) {
          await sink.write({ records: lines });
          written.push(sink);
        }
        const last = lines[lines.length - 1]!;
        this.head = { seq: last.seq, hash: last.hash };
        if (contexts.restart) this.contexts = contexts.added;
        else for (const [ctx, ref] of contexts.added) this.contexts.set(ctx, ref);
        for (const p of batch) p.resolve();
        this.forgetSettled();
        try {
          this.onFlush?.(lines.length, performance.now() - started);
          this.onDurable?.(lines.map((l) => l.record).filter((r): r is RequestRecord => r.kind === "request"));
        } catch (err) {
          this.report({ level: "error", message: `audit observer failed: ${(err as Error).message}` });
        }
        if (this.failing) {
          this.failing = false;
          this.report({ level: "info", message: "audit sinks recovered; requests are being answered again" });
        }
        backoff = 50;
      } catch (err) {
        for (const sink of written) await sink.rollback().catch(() => undefined);
        // Repair records stay queued first (retried); everything else in the batch is refused.
        const repairs = this.closed ? [] : batch.filter((p) => "repair" in p.entry);
        this.pending.unshift(...repairs);
        for (const p of batch) if (!repairs.includes(p)) p.reject(new TesseraError("Unavailable", "the audit log could not be written", { cause: err }));
        this.reportFailure(err);
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  private reportFailure(err: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.report({ level: "error", message: `audit sink failed, requests are refused until it recovers: ${(err as Error).message}` });
  }

  /**
   * Turns a batch into chained records, continuing from `head`; returns them with the contexts the batch
   * spelt out (`added`) and whether they replace the map rather than extend it (`restart`) — the caller
   * applies them only once the batch is durable. The batch reads the kept map without copying it: with
   * thousands of keys in use the map holds thousands of contexts, and a copy per batch was the largest
   * single cost of a request (docs/performance.md, "Scale of state").
   */
  private async chain(
    batch: Pending[],
    head: { seq: number; hash: string },
  ): Promise<{ lines: { seq: number; time: string; line: string; hash: string; record: AuditRecord }[]; contexts: { added: Map<string, number>; restart: boolean } }> {
    const keys = this.barrier.sealed ? undefined : await this.loadKeys().then(() => this.keys);
    // A new file starts afresh: its first request record spells out `prev` and every context it uses.
    let newFile = this.sinks.some((s) => s.startsNewFile?.() === true);
    const restart = newFile || this.contexts.size >= CONTEXTS_MAX;
    const kept = restart ? undefined : this.contexts;
    const added = new Map<string, number>();
    let { seq, hash } = head;
    const out: { seq: number; time: string; line: string; hash: string; record: AuditRecord }[] = [];
    for (const p of batch) {
      let record: AuditRecord;
      let line: string | undefined;
      if ("checkpoint" in p.entry) {
        if (keys === undefined) throw new TesseraError("Sealed");
        const time = iso(this.clock.now());
        const c: Omit<CheckpointRecord, "hash" | "signature"> = { seq: seq + 1, time, kind: "checkpoint", covers: { seq, hash }, signer: keys.signer, ...(p.entry.final && { final: true }), ...(this.node !== undefined && { node: this.node }), prev: hash };
        record = { ...c, signature: sign(null, checkpointMessage(c), keys.signing).toString("base64"), hash: "" };
      } else if ("repair" in p.entry) {
        record = { seq: seq + 1, time: iso(this.clock.now()), kind: "repair", ...p.entry.repair, prev: hash, hash: "" } satisfies RepairRecord;
      } else {
        const e = p.entry;
        const hmac: Record<string, string> = {};
        const mac = (v: string) => (keys === undefined ? "unavailable-while-sealed" : createHmac("sha256", keys.hmacKey).update(v, "utf8").digest("hex"));
        for (const [k, v] of Object.entries(e.sensitive ?? {})) hmac[k] = mac(v);
        const principal =
          e.principal === null
            ? null
            : { ...e.principal, id: e.principal.id.startsWith("acc_") ? this.principalMac(e.principal.id, keys !== undefined, mac) : e.principal.id };
        const r: RequestRecord = {
          seq: seq + 1,
          time: e.time,
          kind: "request",
          requestId: e.requestId,
          principal,
          source: e.source,
          action: e.action,
          keyId: e.keyId,
          keyVersion: e.keyVersion,
          outcome: e.outcome,
          errorCode: e.errorCode,
          latencyMs: e.latencyMs,
          hmac,
          ...(e.detail !== undefined && { detail: { ...e.detail } }),
          prev: hash,
          hash: "",
        };
        record = r;
        // Format 2 writes time as epoch ms: a time that would not read back the same stays format 1.
        if (readsBack(e.time)) {
          const ctx = contextJson(r);
          const ref = kept?.get(ctx) ?? added.get(ctx);
          const encoded = encodeRequestV2(r, ref ?? ctx, newFile);
          if (ref === undefined) added.set(ctx, r.seq);
          r.hash = encoded.hash;
          line = encoded.line;
        }
      }
      line ??= finishRecord(record);
      newFile = false;
      out.push({ seq: record.seq, time: record.time, line, hash: record.hash, record });
      seq = record.seq;
      hash = record.hash;
    }
    return { lines: out, contexts: { added, restart } };
  }

  /** `hmac:<HMAC of an access key id>` (cached while unsealed; never cached while the key is unavailable). */
  private principalMac(id: string, keyed: boolean, mac: (v: string) => string): string {
    if (!keyed) return `hmac:${mac(id)}`;
    let m = this.principalMacs.get(id);
    if (m === undefined) {
      m = `hmac:${mac(id)}`;
      if (this.principalMacs.size >= PRINCIPAL_MACS_MAX) this.principalMacs.clear();
      this.principalMacs.set(id, m);
    }
    return m;
  }

  private async loadKeys(): Promise<void> {
    if (this.keys !== undefined) return;
    this.keys = await this.openKeys(this.barrier.ring());
  }

  /**
   * The HMAC and checkpoint keys, created once (race-free) and kept sealed under the root key. The
   * public key is derived from the sealed private key; the stored copy is only compared with it, so
   * editing the database's metadata cannot change what `audit verify --server` checks against.
   */
  private async openKeys(ring: RootRing): Promise<AuditKeys> {
    let stored = await this.store.meta.get<StoredKeys>(KEYS_META);
    if (stored === undefined) {
      const hmacKey = secretBytes(32);
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
      const candidate: StoredKeys = {
        hmacKey: ring.seal(hmacKey, HMAC_AAD).toString("base64"),
        signingKey: ring.seal(pkcs8, SIGNING_AAD).toString("base64"),
        publicKey: publicKey.export({ type: "spki", format: "pem" }).toString(),
      };
      zero(hmacKey, pkcs8);
      stored = await this.store.transaction(async (tx: { meta: MetaRepo }) => {
        const existing = await tx.meta.get<StoredKeys>(KEYS_META);
        if (existing !== undefined) return existing;
        await tx.meta.put(KEYS_META, candidate);
        return candidate;
      });
    }
    const pkcs8 = ring.open(Buffer.from(stored.signingKey, "base64"), SIGNING_AAD);
    try {
      const signing = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
      const spki = createPublicKey(signing).export({ type: "spki", format: "der" });
      if (!samePublicKey(stored.publicKey, spki)) {
        throw new TesseraError(
          "InvalidState",
          "the audit public key stored in the database is not the public key of the sealed audit signing key: the database was altered; refusing to unseal",
        );
      }
      const publicKey = createPublicKey(signing).export({ type: "spki", format: "pem" }).toString();
      const signer = createHash("sha256").update(spki).digest("hex").slice(0, 32);
      const hmac = ring.open(Buffer.from(stored.hmacKey, "base64"), HMAC_AAD);
      return { hmac, hmacKey: secretKey(hmac), signing, publicKey, signer };
    } finally {
      zero(pkcs8);
    }
  }

  /** Writes the final checkpoint (when unsealed), refuses records after it, and closes the sinks (shutdown). */
  async close(): Promise<void> {
    const final = this.checkpoint({ final: true });
    this.closed = true;
    await final.catch(() => undefined);
    await this.flushing;
    for (const sink of this.sinks) await sink.close().catch(() => undefined);
  }
}

/** Whether an ISO time reads back as itself from its epoch ms (format 2 stores ms); the last answer is kept, as records of a batch share their time. */
let lastTime = "";
let lastReadsBack = false;
function readsBack(time: string): boolean {
  if (time !== lastTime) {
    lastReadsBack = iso(Date.parse(time)) === time;
    lastTime = time;
  }
  return lastReadsBack;
}
