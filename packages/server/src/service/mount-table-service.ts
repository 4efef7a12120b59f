/**
 * The mount table of the Vault-compatible API (configuration: `vault.transit_mount`,
 * `vault.kv_mounts`) through the door, as `sys:ReadMounts` on `sys`. The whole table needs the
 * action; the one mount a path lies under is self-service for any authenticated caller, as Vault's
 * `sys/internal/ui/mounts/PATH` is — its CLI asks it before every `vault kv` command, so a principal
 * allowed only secrets:Read must be able to. The table is configuration, never secret material.
 */
import { resources } from "../policy/index.js";
import type { CallContext, Door } from "./door.js";

export interface ApiMount {
  /** The first path segment under /v1/ (no slashes). */
  path: string;
  type: "transit" | "kv";
}

export class MountTableService {
  private readonly mounts: readonly ApiMount[];

  constructor(
    private readonly door: Door,
    mounts: readonly ApiMount[],
  ) {
    this.mounts = Object.freeze(mounts.map((m) => Object.freeze({ ...m })));
  }

  list(ctx: CallContext): Promise<readonly ApiMount[]> {
    return this.door.run(ctx, "sys:ReadMounts", async (s) => {
      await s.authorize(resources.sys);
      return this.mounts;
    });
  }

  /** The mount `path` lies under (its first segment), or undefined; any authenticated caller. */
  mountOf(ctx: CallContext, path: string): Promise<ApiMount | undefined> {
    return this.door.run(ctx, "sys:ReadMounts", async (s) => {
      await s.permitSelf();
      const first = path.replace(/^\/+/, "").split("/", 1)[0];
      return this.mounts.find((m) => m.path === first);
    });
  }
}
