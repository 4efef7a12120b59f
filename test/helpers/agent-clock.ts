/**
 * A clock shared by an in-process server (its ManualClock) and an in-process agent (the agent's
 * `AgentClock`): moving it moves both, and wakes the agent's sleepers that have come due. Tests use
 * it to take an agent through certificate and token lifetimes without waiting for them.
 */
import { setTimeout as delay } from "node:timers/promises";
import type { ManualClock } from "@tessera/server";
import type { AgentClock } from "../../packages/cli/src/agent/clock.js";

interface Sleeper {
  at: number;
  wake: () => void;
}

export class LockstepClock implements AgentClock {
  readonly #server: ManualClock;
  #sleepers: Sleeper[] = [];

  constructor(server: ManualClock) {
    this.#server = server;
  }

  now(): number {
    return this.#server.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted) return resolve();
      const sleeper: Sleeper = {
        at: this.now() + ms,
        wake: () => {
          this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
          signal?.removeEventListener("abort", sleeper.wake);
          resolve();
        },
      };
      this.#sleepers.push(sleeper);
      signal?.addEventListener("abort", sleeper.wake, { once: true });
      if (ms <= 0) queueMicrotask(sleeper.wake);
    });
  }

  /** Sleepers not yet woken. */
  get sleeping(): number {
    return this.#sleepers.length;
  }

  /**
   * Moves time by `ms`, wakes what came due, then waits (real time, up to 15 s) until `loops` sleepers
   * are asleep again with none due: the agent has finished what the new time asked of it.
   */
  async advance(ms: number, loops = 2): Promise<void> {
    this.#server.advance(ms);
    for (const s of this.#sleepers.filter((s) => s.at <= this.now())) s.wake();
    await this.settle(loops);
  }

  async settle(loops = 2): Promise<void> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      await delay(10);
      const due = this.#sleepers.filter((s) => s.at <= this.now());
      for (const s of due) s.wake();
      if (due.length === 0 && this.#sleepers.length >= loops) return;
      if (Date.now() > deadline) throw new Error(`the agent did not settle: ${this.#sleepers.length} sleeping`);
    }
  }
}
