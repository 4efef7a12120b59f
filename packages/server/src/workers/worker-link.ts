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
 */
import { isPrimaryMessage, type PeerEvent, type WorkerMessage } from "./messages.js";

export type PeerHandler = (event: PeerEvent) => Promise<void> | void;

export class WorkerLink {
  private nextId = 1;
  private readonly pending = new Map<number, () => void>();
  private handler: PeerHandler | undefined;

  constructor(private readonly channel: Pick<NodeJS.Process, "send" | "on" | "off"> = process) {
    channel.on("message", this.onMessage);
  }

  /** Tells every other joined worker; resolves once each acknowledged, exited or was killed by the primary for not answering. */
  broadcast(event: PeerEvent): Promise<void> {
    return this.request((id) => ({ tessera: "broadcast", id, event }));
  }

  /** Joins the siblings: applies the unseal events so far with `handler`, which takes in every later one. */
  join(handler: PeerHandler): Promise<void> {
    this.handler = handler;
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
      case "replay":
        void this.apply(raw.events).finally(() => this.settle(raw.id));
        return;
      case "event":
        void this.apply([raw.event]).finally(() => this.send({ tessera: "ack", id: raw.id }));
        return;
    }
  };

  private settle(id: number): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.();
  }

  private async apply(events: PeerEvent[]): Promise<void> {
    for (const e of events) if (this.handler !== undefined) await Promise.resolve(this.handler(e)).catch(() => undefined);
  }
}
