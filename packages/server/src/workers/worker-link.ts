/**
 * A worker's side of the IPC channel to its primary: broadcasts this worker's changes to the others
 * (resolving once every joined worker has taken them in), and takes in theirs.
 *
 * Invariants:
 * - A handler runs to completion before the event is acknowledged, so when a broadcast resolves,
 *   every other joined worker has applied it: a request any of them reads from a socket after that
 *   is served with the change in effect.
 * - A worker joins once built and before it listens; the primary answers with the unseal events
 *   since the last seal (applied before `join` resolves) and from then on relays every event to it.
 *   Before joining it has served nothing and cached nothing, so it has missed nothing.
 * - Quorum events are applied one at a time in the order the primary delivers them — the same order
 *   in every worker; this worker's own run its `apply` there (the request's answer), the others'
 *   run the handler. `sequence` settles once every joined worker applied the event.
 * - The siblings' events are applied one at a time in delivered order too (after the replay), and
 *   each is acknowledged only once applied: a root the rotating worker added is in this worker's
 *   ring before it acknowledges any later change sealed under that root.
 */
import { TesseraError } from "@tessera/protocol";
import type { QuorumEvent } from "../service/quorum-sequence.js";
import { isPrimaryMessage, type PeerEvent, type WorkerMessage } from "./messages.js";

export type PeerHandler = (event: PeerEvent) => Promise<void> | void;
export type QuorumHandler = (event: QuorumEvent) => Promise<void>;

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

export class WorkerLink {
  private nextId = 1;
  private readonly pending = new Map<number, () => void>();
  private handler: PeerHandler | undefined;
  private quorumHandler: QuorumHandler | undefined;
  /** This worker's quorum events awaiting their turn, by `sequence` id, and their outcome once applied. */
  private readonly own = new Map<number, { apply: () => Promise<unknown>; outcome?: Outcome }>();
  /** The siblings' events (and the replay) delivered so far, applied one after another in delivered order. */
  private peerTail: Promise<void> = Promise.resolve();
  /** The quorum events delivered so far, applied one after another. */
  private quorumTail: Promise<void> = Promise.resolve();

  constructor(private readonly channel: Pick<NodeJS.Process, "send" | "on" | "off"> = process) {
    channel.on("message", this.onMessage);
  }

  /** Tells every other joined worker; resolves once each acknowledged, exited or was killed by the primary for not answering. */
  broadcast(event: PeerEvent): Promise<void> {
    return this.request((id) => ({ tessera: "broadcast", id, event }));
  }

  /**
   * Runs `apply` at `event`'s place in the order every worker applies quorum events; settles with its
   * outcome once every joined worker applied the event.
   */
  sequence<T>(event: QuorumEvent, apply: () => Promise<T>): Promise<T> {
    const id = this.nextId++;
    const mine: { apply: () => Promise<unknown>; outcome?: Outcome } = { apply };
    this.own.set(id, mine);
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, () => {
        this.own.delete(id);
        const o = mine.outcome;
        if (o === undefined) reject(new TesseraError("Unavailable", "this worker is stopping"));
        else if (o.ok) resolve(o.value as T);
        else reject(o.error);
      });
      this.send({ tessera: "sequence", id, event }, (err) => {
        if (err === null) return;
        this.pending.delete(id);
        this.own.delete(id);
        reject(err);
      });
    });
  }

  /** Joins the siblings: applies the unseal events so far with `handler`, which takes in every later one; `quorum` takes in the siblings' quorum events. */
  join(handler: PeerHandler, quorum?: QuorumHandler): Promise<void> {
    this.handler = handler;
    this.quorumHandler = quorum;
    return this.request((id) => ({ tessera: "join", id }));
  }

  ready(): void {
    this.send({ tessera: "ready" });
  }

  close(): void {
    this.channel.off("message", this.onMessage);
    for (const resolve of this.pending.values()) resolve();
    this.pending.clear();
  }

  private request(message: (id: number) => WorkerMessage): Promise<void> {
    const id = this.nextId++;
    return new Promise<void>((resolve, reject) => {
      this.pending.set(id, resolve);
      this.send(message(id), (err) => {
        if (err === null) return;
        this.pending.delete(id);
        reject(err);
      });
    });
  }

  private send(m: WorkerMessage, done?: (err: Error | null) => void): void {
    this.channel.send!(m, undefined, undefined, done ?? (() => undefined));
  }

  private readonly onMessage = (raw: unknown): void => {
    if (!isPrimaryMessage(raw)) return;
    switch (raw.tessera) {
      case "done":
        this.settle(raw.id);
        return;
      case "replay": {
        const { id, events } = raw;
        this.peerTail = this.peerTail.then(() => this.apply(events)).finally(() => this.settle(id));
        return;
      }
      case "event": {
        const { id, event } = raw;
        this.peerTail = this.peerTail.then(() => this.apply([event])).finally(() => this.send({ tessera: "ack", id }));
        return;
      }
      case "quorum": {
        const { id, event, own } = raw;
        this.quorumTail = this.quorumTail.then(async () => {
          await this.applyQuorum(event, own);
          this.send({ tessera: "ack", id });
        });
        return;
      }
    }
  };

  private async applyQuorum(event: QuorumEvent, ownId: number | undefined): Promise<void> {
    const mine = ownId === undefined ? undefined : this.own.get(ownId);
    if (mine === undefined) {
      await this.quorumHandler?.(event).catch(() => undefined);
      return;
    }
    try {
      mine.outcome = { ok: true, value: await mine.apply() };
    } catch (error) {
      mine.outcome = { ok: false, error };
    }
  }

  private settle(id: number): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.();
  }

  private async apply(events: PeerEvent[]): Promise<void> {
    for (const e of events) if (this.handler !== undefined) await Promise.resolve(this.handler(e)).catch(() => undefined);
  }
}
