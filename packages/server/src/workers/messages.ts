/**
 * What the primary and its workers say to each other over the cluster IPC channel (node:cluster).
 * Values on this channel stay between processes of one server, run by one user; unseal shares (also
 * as rekey and generate-root shares), a generate-root attempt's one-time pad, a rekeyed escrow's MAC
 * key and a rotation's new root key cross it (see README.md), nothing else secret does.
 */
import type { QuorumEvent } from "../service/quorum-sequence.js";

/** A change a worker made that every other worker must have taken in before the worker answers. */
export type PeerEvent =
  /** Security state committed to the shared database: read the change feed before the next request. */
  | { kind: "changed" }
  /** An unseal share an operator submitted to one worker (`migrate`: for a seal migration): every worker adds it to its own progress. */
  | { kind: "unseal-share"; share: string; migrate?: true }
  /** Unseal progress reset (`tessera operator unseal --reset`). */
  | { kind: "unseal-reset" }
  /** Sealed through one worker: every worker seals. */
  | { kind: "seal" }
  /**
   * Rekeyed through one worker: every worker reads the new seal record and takes its escrow's MAC key
   * (base64). `unsealShares` (Shamir seal) is for the primary only: a quorum of the new shares, kept
   * for replay in place of the unseal events so far (they no longer open the record); not relayed.
   */
  | { kind: "rekeyed"; macKey: string; unsealShares?: string[] }
  /**
   * Root rotation step 1 through one worker: every worker takes the new root (`key`, base64) into its
   * ring once the stored record vouches for its id (`Barrier.rootAddedElsewhere`). Not kept for replay:
   * a worker that joins unseals from the stored record, which holds both roots.
   */
  | { kind: "root-added"; rootId: string; key: string }
  /** Root rotation step 3 through one worker: every worker keeps root `keep` alone and zeroes the others. */
  | { kind: "root-dropped"; keep: string };

/** Worker → primary. */
export type WorkerMessage =
  /** Tell every other worker, then acknowledge (`done`) with the same id. */
  | { tessera: "broadcast"; id: number; event: PeerEvent }
  /** This worker took in an event the primary relayed. */
  | { tessera: "ack"; id: number }
  /** Built, about to listen: send me the unseal events so far, then every event from now on. */
  | { tessera: "join"; id: number }
  /** A quorum event: relay it to every worker, this one included, in the order received; `done` once all applied it. */
  | { tessera: "sequence"; id: number; event: QuorumEvent }
  /** Built, unsealed or not, and listening. */
  | { tessera: "ready" };

/** Primary → worker. */
export type PrimaryMessage =
  /** Every live worker has taken in the broadcast `id`. */
  | { tessera: "done"; id: number }
  /** Another worker's event: take it in, then `ack` with this id. */
  | { tessera: "event"; id: number; event: PeerEvent }
  /**
   * A quorum event, in the one order every worker applies them: apply it after every earlier one,
   * then `ack`. `own`: this worker's `sequence` id, when the event is its own.
   */
  | { tessera: "quorum"; id: number; event: QuorumEvent; own?: number }
  /** Answers `join`: the unseal events since the last seal, in order. */
  | { tessera: "replay"; id: number; events: PeerEvent[] };

/** Ours, not another IPC user's (the cluster module has its own internal messages). */
function tagged(m: unknown): boolean {
  return typeof m === "object" && m !== null && typeof (m as { tessera?: unknown }).tessera === "string";
}

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return tagged(m);
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return tagged(m);
}

/** The environment variable naming a worker's slot (1…N); a restarted worker gets its predecessor's. */
export const WORKER_ENV = "TESSERA_WORKER";
/**
 * Set by the primary when it restarts a slot whose previous process it saw exit: how that process
 * ended (`signal SIGKILL`, `code 1`). The new worker records it in its trail before it serves.
 */
export const WORKER_RESTART_ENV = "TESSERA_WORKER_RESTARTED";

/** The id of worker `slot` among several: names its audit chain and file, its lease and its row in `nodes`. */
export function workerName(slot: number, nodeId: string | undefined): string {
  return nodeId === undefined ? `w${slot}` : `${nodeId}.w${slot}`;
}

/** `…/audit.jsonl` → `…/audit-w2.jsonl`: each worker writes its own chain to its own file. */
export function workerAuditPath(path: string, slot: number): string {
  const slash = path.lastIndexOf("/");
  const dot = path.lastIndexOf(".");
  return dot > slash + 1 ? `${path.slice(0, dot)}-w${slot}${path.slice(dot)}` : `${path}-w${slot}`;
}
