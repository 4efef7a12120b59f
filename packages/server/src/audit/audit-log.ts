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
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import { TesseraError } from "@tessera/protocol";
import { secretBytes, zero } from "../crypto/index.js";
import { openRecord, sealRecord } from "../format/keyring-record.js";
import { iso, type Clock } from "../clock.js";
import type { Barrier } from "../seal/index.js";
import type { MetaRepo, Store } from "../store/index.js";
import type { AuditEntry, AuditRecorder } from "./auditor.js";
import { GENESIS, checkpointMessage, seal, type AuditRecord, type CheckpointRecord, type RequestRecord } from "./record.js";
import type { AuditSink } from "./sinks.js";

const KEYS_META = "audit-keys";
const HMAC_AAD = Buffer.from("tessera/audit-hmac-key/v1", "utf8");
const SIGNING_AAD = Buffer.from("tessera/audit-signing-key/v1", "utf8");

interface StoredKeys {
  hmacKey: string;
  signingKey: string;
  publicKey: string;
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
}

interface Pending {
  entry: AuditEntry | { checkpoint: true };
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AuditLog implements AuditRecorder {
  private pending: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private head: { seq: number; hash: string } | undefined;
  private keys: { hmac: Buffer; signing: KeyObject; publicKey: string; signer: string } | undefined;
  private failing = false;
  private readonly timeoutMs: number;
  private readonly maxPending: number;
  private readonly report: NonNullable<AuditLogOptions["report"]>;
  private readonly onDurable: AuditLogOptions["onDurable"];
  private readonly onFlush: AuditLogOptions["onFlush"];

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
    barrier.onSeal(() => {
      if (this.keys) zero(this.keys.hmac);
      this.keys = undefined;
    });
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
    if (this.pending.length >= this.maxPending) return Promise.reject(new TesseraError("Unavailable", "the audit log is not keeping up; request refused"));
    return this.enqueue(entry);
  }

  /** Appends a signed checkpoint covering the current head (needs the unsealed signing key). */
  async checkpoint(): Promise<void> {
    if (this.sinks.length === 0 || this.barrier.sealed) return;
    await this.loadKeys();
    await this.enqueue({ checkpoint: true });
  }

  /** The audit key's HMAC of a value, as stored in the trail (for investigators). */
  async hmacOf(value: string): Promise<string> {
    await this.loadKeys();
    return createHmac("sha256", this.keys!.hmac).update(value, "utf8").digest("hex");
  }

  /** The checkpoint public key (SPKI PEM), for offline verification. */
  async publicKey(): Promise<string> {
    await this.loadKeys();
    return this.keys!.publicKey;
  }

  private enqueue(entry: Pending["entry"]): Promise<void> {
    const done = new Promise<void>((resolve, reject) => this.pending.push({ entry, resolve, reject }));
    this.kick();
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

  private async startHead(): Promise<{ seq: number; hash: string }> {
    if (this.head !== undefined) return this.head;
    let best = { seq: 0, hash: GENESIS };
    for (const sink of this.sinks) {
      const line = await sink.lastLine();
      if (line === undefined) continue;
      const last = JSON.parse(line) as { seq: number; hash: string };
      if (last.seq > best.seq) best = { seq: last.seq, hash: last.hash };
    }
    this.head = best;
    return best;
  }

  private async flushLoop(): Promise<void> {
    let backoff = 50;
    while (this.pending.length > 0) {
      const batch = this.pending.splice(0);
      let lines: { seq: number; time: string; line: string; hash: string; record: AuditRecord }[];
      try {
        lines = await this.chain(batch, await this.startHead());
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
        for (const p of batch) p.resolve();
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
        for (const p of batch) p.reject(new TesseraError("Unavailable", "the audit log could not be written", { cause: err }));
        if (!this.failing) {
          this.failing = true;
          this.report({ level: "error", message: `audit sink failed, requests are refused until it recovers: ${(err as Error).message}` });
        }
        await new Promise((r) => setTimeout(r, backoff));
        backoff = Math.min(backoff * 2, 2000);
      }
    }
  }

  /** Turns a batch into chained records, continuing from `head`. */
  private async chain(batch: Pending[], head: { seq: number; hash: string }): Promise<{ seq: number; time: string; line: string; hash: string; record: AuditRecord }[]> {
    const keys = this.barrier.sealed ? undefined : await this.loadKeys().then(() => this.keys);
    let { seq, hash } = head;
    const out: { seq: number; time: string; line: string; hash: string; record: AuditRecord }[] = [];
    for (const p of batch) {
      let record: AuditRecord;
      if ("checkpoint" in p.entry) {
        if (keys === undefined) throw new TesseraError("Sealed");
        const time = iso(this.clock.now());
        const c: Omit<CheckpointRecord, "hash" | "signature"> = { seq: seq + 1, time, kind: "checkpoint", covers: { seq, hash }, signer: keys.signer, prev: hash };
        record = { ...c, signature: sign(null, checkpointMessage(c), keys.signing).toString("base64"), hash: "" };
      } else {
        const e = p.entry;
        const hmac: Record<string, string> = {};
        const mac = (v: string) => (keys === undefined ? "unavailable-while-sealed" : createHmac("sha256", keys.hmac).update(v, "utf8").digest("hex"));
        for (const [k, v] of Object.entries(e.sensitive ?? {})) hmac[k] = mac(v);
        const principal =
          e.principal === null
            ? null
            : { ...e.principal, id: e.principal.id.startsWith("acc_") ? `hmac:${mac(e.principal.id)}` : e.principal.id };
        record = {
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
          prev: hash,
          hash: "",
        } satisfies RequestRecord;
      }
      const line = seal(record);
      out.push({ seq: record.seq, time: record.time, line, hash: record.hash, record });
      seq = record.seq;
      hash = record.hash;
    }
    return out;
  }

  /** The HMAC and checkpoint keys, created once (race-free) and kept sealed under the root key. */
  private async loadKeys(): Promise<void> {
    if (this.keys !== undefined) return;
    const root = this.barrier.rootKey();
    let stored = await this.store.meta.get<StoredKeys>(KEYS_META);
    if (stored === undefined) {
      const hmacKey = secretBytes(32);
      const { privateKey, publicKey } = generateKeyPairSync("ed25519");
      const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" });
      const candidate: StoredKeys = {
        hmacKey: sealRecord(root, hmacKey, HMAC_AAD).toString("base64"),
        signingKey: sealRecord(root, pkcs8, SIGNING_AAD).toString("base64"),
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
    const pkcs8 = openRecord(root, Buffer.from(stored.signingKey, "base64"), SIGNING_AAD);
    try {
      const signing = createPrivateKey({ key: pkcs8, format: "der", type: "pkcs8" });
      const spki = createPublicKey(stored.publicKey).export({ type: "spki", format: "der" });
      const signer = createHash("sha256").update(spki).digest("hex").slice(0, 32);
      this.keys = { hmac: openRecord(root, Buffer.from(stored.hmacKey, "base64"), HMAC_AAD), signing, publicKey: stored.publicKey, signer };
    } finally {
      zero(pkcs8);
    }
  }

  /** Writes a final checkpoint and closes the sinks (shutdown). */
  async close(): Promise<void> {
    await this.checkpoint().catch(() => undefined);
    await this.flushing;
    for (const sink of this.sinks) await sink.close().catch(() => undefined);
  }
}
