/**
 * The changes the server makes by itself — automatic rotation, destruction of keys whose deletion
 * window has passed, purges of expired credentials — each passed through the door under the system
 * principal, so the trail records them like any request: intent, change, outcome. Usage-counter
 * flushes and audit checkpoints are not here: counters are telemetry, and a checkpoint is itself a
 * trail record.
 */
import type { Clock } from "../clock.js";
import type { TokenService } from "../identity/token-service.js";
import type { KeyService } from "../keys/index.js";
import type { Store } from "../store/index.js";
import type { Door } from "./door.js";

export interface SystemJobsDeps {
  door: Pick<Door, "system">;
  keys: Pick<KeyService, "dueForRotation" | "rotateIfDue" | "dueForDestruction" | "destroyIfDue">;
  tokens: Pick<TokenService, "purgeExpired">;
  store: Pick<Store, "joinTokens" | "secretIds">;
  clock: Clock;
}

export class SystemJobs {
  constructor(private readonly d: SystemJobsDeps) {}

  /** Rotates every key whose period has elapsed; returns the ids rotated now. */
  async rotateDue(): Promise<string[]> {
    const rotated: string[] = [];
    for (const id of await this.d.keys.dueForRotation()) {
      if ((await this.d.door.system("kms:RotateKey", id, () => this.d.keys.rotateIfDue(id))) !== null) rotated.push(id);
    }
    return rotated;
  }

  /** Destroys (crypto-shreds) every key whose pending-deletion window has passed; returns their ids. */
  async destroyDue(): Promise<string[]> {
    const destroyed: string[] = [];
    for (const id of await this.d.keys.dueForDestruction()) {
      if (await this.d.door.system("kms:DestroyKey", id, () => this.d.keys.destroyIfDue(id))) destroyed.push(id);
    }
    return destroyed;
  }

  /**
   * Deletes expired tokens and spent or expired join tokens and secret ids. They no longer
   * authenticate anyone, but their rows are still state: one audited system action per run.
   */
  async purgeExpired(): Promise<number> {
    return this.d.door.system("auth:PurgeExpired", null, async () => {
      const now = this.d.clock.now();
      return (await this.d.tokens.purgeExpired()) + (await this.d.store.joinTokens.deleteExpired(now)) + (await this.d.store.secretIds.deleteExpired(now));
    });
  }
}
