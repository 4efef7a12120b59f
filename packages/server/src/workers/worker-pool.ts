/**
 * The primary of a multi-worker server (`workers` > 1): forks the workers (node:cluster; they share
 * one listening socket, connections handed out round-robin), relays each worker's events to the
 * others, restarts a worker that dies, and stops them all on SIGTERM/SIGINT. It builds no app, opens
 * no store after start-up, and serves no request.
 *
 * Invariants:
 * - A broadcast is acknowledged to its sender only when every other worker alive at that moment
 *   acknowledged it, exited, or was killed for not answering within `ackTimeoutMs`: no live worker
 *   can serve a request with a change not yet taken in once the sender answers.
 * - One process per slot at a time: a slot is re-forked only after its previous process exited, so
 *   two processes never append to one audit chain.
 * - The unseal events since the last seal are kept, in order, and replayed to every worker that
 *   joins (built, not yet listening): a worker restarted after a crash unseals as its siblings did
 *   (Shamir shares) before it serves. They are dropped when the server is sealed, and replaced by a
 *   quorum of the new shares after a rekey (the old ones no longer open the record). An auto seal
 *   (the HSM) needs none of this: each worker unseals itself.
 * - Events go to joined workers only: one not yet joined has served and cached nothing.
 * - Quorum events (rekey, generate-root) go to every joined worker, the sender included, in the order
 *   they arrive here (one IPC channel per worker keeps that order), and are kept nowhere: a worker
 *   that joins after any quorum event (a restart) makes every worker abandon its attempts, in that
 *   same order, so no worker holds an attempt another lacks.
 */
import cluster, { type Worker } from "node:cluster";
import type { QuorumEvent } from "../service/quorum-sequence.js";
import { isWorkerMessage, WORKER_ENV, WORKER_RESTART_ENV, type PeerEvent, type PrimaryMessage, type WorkerMessage } from "./messages.js";

export interface WorkerPoolOptions {
  count: number;
  log: (level: "info" | "warn" | "error", message: string) => void;
  /** How long a worker may take to acknowledge an event before it is killed (default 5000 ms). */
  ackTimeoutMs?: number;
  /** Most unseal events kept for replay (default 1000; a longer stream of wrong shares drops the oldest). */
  maxUnsealEvents?: number;
}

interface Slot {
  n: number;
  worker: Worker | undefined;
  joined: boolean;
  ready: boolean;
  startedAt: number;
  /** Consecutive quick deaths, for the restart back-off. */
  failures: number;
}

interface Outstanding {
  /** Undefined for the primary's own events. */
  from: Worker | undefined;
  id: number;
  waiting: Set<Worker>;
  timer: NodeJS.Timeout;
}

const QUICK_DEATH_MS = 10_000;

export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly outstanding = new Map<number, Outstanding>();
  private unsealLog: PeerEvent[] = [];
  /** A quorum event went out since the last abandon: a joining worker makes the others abandon theirs. */
  private quorumActive = false;
  private nextId = 1;
  private stopping = false;
  private everReady = false;
  private readonly ackTimeoutMs: number;
  private readonly maxUnsealEvents: number;
  private resolveStopped: (() => void) | undefined;
  private exitCode = 0;

  constructor(private readonly options: WorkerPoolOptions) {
    this.ackTimeoutMs = options.ackTimeoutMs ?? 5000;
    this.maxUnsealEvents = options.maxUnsealEvents ?? 1000;
  }

  /** Forks every worker; resolves with the exit code once all have stopped (after `stop`, or a start-up failure). */
  run(): Promise<number> {
    const stopped = new Promise<number>((resolve) => (this.resolveStopped = () => resolve(this.exitCode)));
    for (let n = 1; n <= this.options.count; n++) {
      const slot: Slot = { n, worker: undefined, joined: false, ready: false, startedAt: 0, failures: 0 };
      this.slots.push(slot);
      this.fork(slot, undefined);
    }
    return stopped;
  }

  /** SIGTERM to every worker (each closes cleanly: final audit checkpoint); resolves when all exited. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    for (const s of this.slots) s.worker?.process.kill("SIGTERM");
    this.checkStopped();
  }

  /** Forks slot's worker; `previousExit` says how the process it replaces ended (none at start). */
  private fork(slot: Slot, previousExit: string | undefined): void {
    const worker = cluster.fork({ [WORKER_ENV]: String(slot.n), ...(previousExit !== undefined && { [WORKER_RESTART_ENV]: previousExit }) });
    slot.worker = worker;
    slot.joined = false;
    slot.ready = false;
    slot.startedAt = Date.now();
    worker.on("message", (m: unknown) => {
      if (isWorkerMessage(m)) this.onMessage(slot, worker, m);
    });
    worker.on("exit", (code, signal) => this.onExit(slot, worker, code, signal));
  }

  private onMessage(slot: Slot, worker: Worker, m: WorkerMessage): void {
    switch (m.tessera) {
      case "ready":
        slot.ready = true;
        this.everReady = true;
        this.options.log("info", `worker ${slot.n} (pid ${worker.process.pid}) is serving`);
        return;
      case "join":
        // Atomic in this process: the log so far, then every later event (broadcast below) — none missed, none twice.
        slot.joined = true;
        this.send(worker, { tessera: "replay", id: m.id, events: [...this.unsealLog] });
        // Attempts in progress are not replayed (their shares are kept nowhere but in the workers): abandoned everywhere.
        if (this.quorumActive) this.sequence(undefined, 0, { op: "all", step: "abandon", reason: `worker w${slot.n} of this server (re)started while it was in progress` });
        return;
      case "sequence":
        this.sequence(worker, m.id, m.event);
        return;
      case "ack":
        this.acknowledged(worker, m.id);
        return;
      case "broadcast":
        this.broadcast(worker, m.id, m.event);
        return;
    }
  }

  /** Relays a quorum event to every joined worker, `from` included (told it is its own), in arrival order. */
  private sequence(from: Worker | undefined, id: number, event: QuorumEvent): void {
    this.quorumActive = event.step !== "abandon";
    const relayId = this.nextId++;
    const waiting = new Set<Worker>();
    for (const s of this.slots) {
      const w = s.worker;
      if (w === undefined || !s.joined || !w.isConnected()) continue;
      waiting.add(w);
      this.send(w, { tessera: "quorum", id: relayId, event, ...(w === from && { own: id }) });
    }
    this.await(relayId, from, id, waiting);
  }

  private broadcast(from: Worker, id: number, received: PeerEvent): void {
    let event = received;
    if (event.kind === "seal") this.unsealLog = [];
    else if (event.kind === "rekeyed") {
      // The kept shares no longer open the record: a quorum of the new ones does. The workers need only the MAC key.
      if (event.unsealShares !== undefined) this.unsealLog = event.unsealShares.map((share): PeerEvent => ({ kind: "unseal-share", share }));
      event = { kind: "rekeyed", macKey: event.macKey };
    }
    else if (event.kind === "unseal-share" || event.kind === "unseal-reset") {
      this.unsealLog.push(event);
      if (this.unsealLog.length > this.maxUnsealEvents) this.unsealLog.shift();
    }
    const relayId = this.nextId++;
    const waiting = new Set<Worker>();
    for (const s of this.slots) {
      const w = s.worker;
      if (w === undefined || w === from || !s.joined || !w.isConnected()) continue;
      waiting.add(w);
      this.send(w, { tessera: "event", id: relayId, event });
    }
    this.await(relayId, from, id, waiting);
  }

  /** Waits for `waiting` to acknowledge `relayId`, then tells `from` its broadcast `id` is done. */
  private await(relayId: number, from: Worker | undefined, id: number, waiting: Set<Worker>): void {
    const timer = setTimeout(() => {
      const o = this.outstanding.get(relayId);
      if (o === undefined) return;
      for (const w of o.waiting) {
        // Fail closed: a worker that cannot confirm it took a change in must not serve any longer.
        this.options.log("error", `worker pid ${w.process.pid} did not acknowledge a change within ${this.ackTimeoutMs} ms; killing it (it is restarted)`);
        w.process.kill("SIGKILL");
      }
    }, this.ackTimeoutMs);
    timer.unref();
    this.outstanding.set(relayId, { from, id, waiting, timer });
    this.settle(relayId);
  }

  private acknowledged(worker: Worker, relayId: number): void {
    this.outstanding.get(relayId)?.waiting.delete(worker);
    this.settle(relayId);
  }

  private settle(relayId: number): void {
    const o = this.outstanding.get(relayId);
    if (o === undefined || o.waiting.size > 0) return;
    clearTimeout(o.timer);
    this.outstanding.delete(relayId);
    if (o.from?.isConnected() === true) this.send(o.from, { tessera: "done", id: o.id });
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (slot.worker === worker) {
      slot.worker = undefined;
      slot.joined = false;
    }
    // A dead worker holds no cache: nothing to wait for from it.
    for (const [relayId, o] of this.outstanding) {
      if (o.waiting.delete(worker)) this.settle(relayId);
    }
    if (this.stopping) {
      this.checkStopped();
      return;
    }
    const how = signal !== null ? `signal ${signal}` : `code ${code}`;
    if (!this.everReady && !slot.ready) {
      // Never served: a configuration or start-up error every worker would meet again.
      this.options.log("error", `worker ${slot.n} exited (${how}) before serving; stopping`);
      this.exitCode = 1;
      this.stop();
      return;
    }
    const lived = Date.now() - slot.startedAt;
    slot.failures = lived < QUICK_DEATH_MS ? slot.failures + 1 : 0;
    const delay = slot.failures === 0 ? 0 : Math.min(30_000, 250 * 2 ** (slot.failures - 1));
    this.options.log("error", `worker ${slot.n} (pid ${worker.process.pid}) exited (${how}); restarting it${delay > 0 ? ` in ${delay} ms` : ""}`);
    setTimeout(() => {
      if (!this.stopping) this.fork(slot, how);
    }, delay).unref();
  }

  private send(w: Worker, m: PrimaryMessage): void {
    // A worker that exits meanwhile: its exit handler settles what waited for it.
    w.send(m, undefined, () => undefined);
  }

  private checkStopped(): void {
    if (this.slots.every((s) => s.worker === undefined)) this.resolveStopped?.();
  }
}
