/**
 * Vault's `sys/mounts` (read) and `sys/internal/ui/mounts/:path`, which the `vault kv` command and
 * hvac ask to learn a mount's type and KV version: Tessera's configured transit and KV mounts in
 * Vault's mount-entry shape (service/mount-table-service.ts decides who may read what). Served on the
 * `sys` pseudo-mount for Vault clients only; enabling, tuning or disabling engines is not offered.
 */
import type { ApiMount, MountTableService } from "../../service/mount-table-service.js";
import { VaultError } from "./vault-errors.js";
import type { Json } from "./vault-input.js";
import type { VaultCall, VaultResult, VaultRoute } from "./vault-router.js";

export interface VaultSysMountsDeps {
  mountTable: MountTableService;
}

const DESCRIPTION: Record<ApiMount["type"], string> = {
  transit: "Tessera keys through Vault's transit API",
  kv: "Tessera's versioned secrets through Vault's KV version 2 API",
};

/** One entry of Vault's mount table. Accessors are stable names, not random ids: the table is configuration. */
function entry(m: ApiMount): Json {
  return {
    accessor: `${m.type}_${m.path}`,
    config: { default_lease_ttl: 0, force_no_cache: false, max_lease_ttl: 0 },
    description: DESCRIPTION[m.type],
    external_entropy_access: false,
    local: false,
    options: m.type === "kv" ? { version: "2" } : null,
    plugin_version: "",
    running_plugin_version: "",
    running_sha256: "",
    seal_wrap: false,
    type: m.type,
    uuid: "",
  };
}

export function vaultSysMountRoutes(d: VaultSysMountsDeps): VaultRoute[] {
  return [
    {
      path: "mounts",
      ops: {
        async read(call: VaultCall): Promise<VaultResult> {
          const data: Json = {};
          for (const m of await d.mountTable.list(call.ctx)) data[`${m.path}/`] = entry(m);
          return { data };
        },
      },
    },
    {
      path: "internal/ui/mounts/*path",
      ops: {
        async read(call: VaultCall): Promise<VaultResult> {
          const path = call.params["path"] ?? "";
          const m = await d.mountTable.mountOf(call.ctx, path);
          // As Vault: an unknown mount is a 403, so this path cannot be used to list the mounts.
          if (m === undefined) throw new VaultError(`preflight capability check returned 403, please ensure client's policies grant access to path "${path}/"`, 403, "AccessDenied", "no-mount");
          return { data: { ...entry(m), path: `${m.path}/` } };
        },
      },
    },
  ];
}
