/**
 * Vault's KV version 2 engine (`/v1/<kv mount>/…`) on Tessera's secrets store (service/secrets-service.ts,
 * docs/secrets.md): Vault's paths and shapes onto SecretsService calls, so the native API, the CLI,
 * the SDK and the agent read what Vault clients write, and the reverse. Each KV mount is the secrets
 * mount of the same name (one table per mount); each call is authorised and audited as the `secrets:`
 * action of its operation (`subkeys` as secrets:ReadSubkeys, which reveals key names, never values).
 */
import {
  MAX_SECRET_PATH,
  SECRET_SEGMENT,
  isTesseraError,
  type SecretMetadata,
  type SecretVersionInfo,
} from "@tessera/protocol";
import type { CallContext } from "../../service/door.js";
import type { SecretsService } from "../../service/secrets-service.js";
import { badRequest } from "./vault-errors.js";
import { bool, duration, int, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult, VaultRoute } from "./vault-router.js";

export interface KvDeps {
  secrets: SecretsService;
  kvMount: string;
}

const SEGMENT = new RegExp(`^${SECRET_SEGMENT}$`);

/**
 * A secret path from the URL, checked here (the adapter's refusal, audited as such) before any
 * service call: segments of `[A-Za-z0-9._@=+-]`, none `.` or `..`, at most MAX_SECRET_PATH characters.
 */
function secretPath(call: VaultCall): string {
  const path = call.params["path"] ?? "";
  if (path.length > MAX_SECRET_PATH || path.split("/").some((s) => !SEGMENT.test(s) || s === "." || s === "..")) {
    throw badRequest(`invalid secret path: segments of letters, digits and . _ @ = + - only, at most ${MAX_SECRET_PATH} characters`);
  }
  return path;
}

/** Go's time.Duration text for whole seconds, as Vault writes `delete_version_after` ("0s", "1h0m0s"). */
export function goDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

function versions(b: Json, required: boolean): number[] | undefined {
  const v = b["versions"];
  if (v === undefined || v === null) {
    if (required) throw badRequest("no version number provided");
    return undefined;
  }
  const list = Array.isArray(v) ? v : [v];
  const numbers = list.map((x) => (typeof x === "number" ? x : typeof x === "string" && /^[0-9]{1,9}$/.test(x) ? Number(x) : NaN));
  if (numbers.length === 0 || numbers.some((n) => !Number.isSafeInteger(n) || n < 1)) throw badRequest("versions must be a list of version numbers");
  return numbers;
}

const customOrNull = (c: Record<string, string>) => (Object.keys(c).length > 0 ? c : null);

function versionMetadata(v: SecretVersionInfo, custom: Record<string, string>): Json {
  return { created_time: v.createdTime, custom_metadata: customOrNull(custom), deletion_time: v.deletedTime ?? "", destroyed: v.destroyed, version: v.version };
}

function metadataOf(m: SecretMetadata): Json {
  const versions: Json = {};
  for (const v of m.versions) versions[String(v.version)] = { created_time: v.createdTime, deletion_time: v.deletedTime ?? "", destroyed: v.destroyed };
  return {
    cas_required: m.casRequired,
    created_time: m.createdTime,
    current_version: m.currentVersion,
    custom_metadata: customOrNull(m.customMetadata),
    delete_version_after: goDuration(m.deleteVersionAfter),
    max_versions: m.maxVersions,
    oldest_version: m.oldestVersion,
    updated_time: m.updatedTime,
    versions,
  };
}

function customMetadata(b: Json): Record<string, string> | undefined {
  const c = b["custom_metadata"];
  if (c === undefined || c === null) return undefined;
  if (typeof c !== "object" || Array.isArray(c) || Object.values(c).some((v) => typeof v !== "string")) throw badRequest("custom_metadata must be a map of strings");
  return c as Record<string, string>;
}

export function kvRoutes(d: KvDeps): VaultRoute[] {
  const { secrets } = d;
  const mount = d.kvMount;

  const write = async (ctx: CallContext, path: string, data: Json, cas: number | undefined): Promise<Json> => {
    const w = await secrets.put(ctx, mount, path, { data, ...(cas !== undefined && { cas }) });
    return { created_time: w.createdTime, custom_metadata: null, deletion_time: "", destroyed: false, version: w.version };
  };

  /** Vault answers a deleted or destroyed version with 404 and its metadata (when the caller may read it). */
  const deletedVersion = async (ctx: CallContext, path: string, asked: number | undefined, field: "data" | "subkeys" = "data"): Promise<VaultResult | undefined> => {
    let m: SecretMetadata;
    try {
      m = await secrets.metadata(ctx, mount, path);
    } catch {
      return undefined;
    }
    const n = asked === undefined || asked === 0 ? m.currentVersion : asked;
    const v = m.versions.find((x) => x.version === n);
    if (v === undefined || (v.deletedTime === null && !v.destroyed)) return undefined;
    return { data: { [field]: null, metadata: versionMetadata(v, m.customMetadata) }, status: 404 };
  };

  const dataOps = {
    async read(call: VaultCall): Promise<VaultResult> {
      const path = secretPath(call);
      const version = int(call.body, "version");
      try {
        const r = await secrets.get(call.ctx, mount, path, version);
        return {
          data: {
            data: r.data,
            metadata: { created_time: r.createdTime, custom_metadata: customOrNull(r.customMetadata), deletion_time: "", destroyed: false, version: r.version },
          },
        };
      } catch (err) {
        if (isTesseraError(err) && (err.code === "NotFound" || err.code === "Destroyed")) {
          const answer = await deletedVersion(call.ctx, path, version);
          if (answer !== undefined) return answer;
          return { errors: [], status: 404 };
        }
        throw err;
      }
    },
    async write(call: VaultCall): Promise<VaultResult> {
      const data = call.body["data"];
      if (typeof data !== "object" || data === null || Array.isArray(data)) throw badRequest("no data provided");
      const options = call.body["options"];
      const cas = typeof options === "object" && options !== null ? int(options as Json, "cas") : undefined;
      return { data: await write(call.ctx, secretPath(call), data as Json, cas) };
    },
    /** JSON merge patch (RFC 7386) onto the current version, written with check-and-set on it. */
    async patch(call: VaultCall): Promise<VaultResult> {
      const path = secretPath(call);
      const patch = call.body["data"];
      if (typeof patch !== "object" || patch === null || Array.isArray(patch)) throw badRequest("no data provided");
      const current = await secrets.get(call.ctx, mount, path);
      const merged: Json = { ...current.data };
      for (const [k, v] of Object.entries(patch)) {
        if (v === null) delete merged[k];
        else merged[k] = v;
      }
      return { data: await write(call.ctx, path, merged, current.version) };
    },
    /** Soft-deletes the current version. */
    async delete(call: VaultCall): Promise<VaultResult> {
      await secrets.softDelete(call.ctx, mount, secretPath(call), undefined);
      return null;
    },
  };

  /** The version's keys with every value null (secrets:ReadSubkeys); `depth` 0 = every level. */
  const subkeys = async (call: VaultCall): Promise<VaultResult> => {
    const path = secretPath(call);
    const version = int(call.body, "version");
    const depth = int(call.body, "depth") ?? 0;
    if (version !== undefined && version < 0) throw badRequest("version must be a non-negative integer");
    if (depth < 0) throw badRequest("depth must be a non-negative integer");
    try {
      const r = await secrets.subkeys(call.ctx, mount, path, version, depth);
      return {
        data: {
          subkeys: r.subkeys,
          metadata: { created_time: r.createdTime, custom_metadata: customOrNull(r.customMetadata), deletion_time: "", destroyed: false, version: r.version },
        },
      };
    } catch (err) {
      if (isTesseraError(err) && (err.code === "NotFound" || err.code === "Destroyed")) {
        return (await deletedVersion(call.ctx, path, version, "subkeys")) ?? { errors: [], status: 404 };
      }
      throw err;
    }
  };

  const metadataOps = {
    async read(call: VaultCall): Promise<VaultResult> {
      try {
        return { data: metadataOf(await secrets.metadata(call.ctx, mount, secretPath(call))) };
      } catch (err) {
        if (isTesseraError(err) && err.code === "NotFound") return { errors: [], status: 404 };
        throw err;
      }
    },
    async list(call: VaultCall): Promise<VaultResult> {
      const prefix = call.params["path"] === undefined ? "" : secretPath(call);
      const r = await secrets.list(call.ctx, mount, prefix);
      if (r.keys.length === 0) return { errors: [], status: 404 };
      return { data: { keys: r.keys } };
    },
    async write(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      const maxVersions = int(b, "max_versions");
      const casRequired = bool(b, "cas_required");
      const deleteVersionAfter = duration(b, "delete_version_after");
      const custom = customMetadata(b);
      await secrets.writeMetadata(call.ctx, mount, secretPath(call), {
        ...(maxVersions !== undefined && { maxVersions }),
        ...(casRequired !== undefined && { casRequired }),
        ...(deleteVersionAfter !== undefined && { deleteVersionAfter }),
        ...(custom !== undefined && { customMetadata: custom }),
      });
      return null;
    },
    async delete(call: VaultCall): Promise<VaultResult> {
      await secrets.deleteMetadata(call.ctx, mount, secretPath(call));
      return null;
    },
  };

  const config = {
    async read(call: VaultCall): Promise<VaultResult> {
      const m = await secrets.readMount(call.ctx, mount);
      return { data: { cas_required: m.casRequired, delete_version_after: goDuration(m.deleteVersionAfter), max_versions: m.maxVersions } };
    },
    async write(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      const maxVersions = int(b, "max_versions");
      const casRequired = bool(b, "cas_required");
      const deleteVersionAfter = duration(b, "delete_version_after");
      await secrets.configureMount(call.ctx, mount, {
        ...(maxVersions !== undefined && { maxVersions }),
        ...(casRequired !== undefined && { casRequired }),
        ...(deleteVersionAfter !== undefined && { deleteVersionAfter }),
      });
      return null;
    },
  };

  const versionsOp = (op: "softDelete" | "undelete" | "destroy") => async (call: VaultCall): Promise<VaultResult> => {
    const path = secretPath(call);
    const list = versions(call.body, true)!;
    await secrets[op](call.ctx, mount, path, list);
    return null;
  };

  return [
    { path: "config", ops: config, fields: ["max_versions", "cas_required", "delete_version_after"] },
    { path: "data/*path", ops: dataOps, fields: ["data", "options", "version"] },
    { path: "subkeys/*path", ops: { read: subkeys }, fields: ["version", "depth"] },
    { path: "metadata", ops: { list: metadataOps.list } },
    { path: "metadata/*path", ops: metadataOps, fields: ["max_versions", "cas_required", "delete_version_after", "custom_metadata"] },
    { path: "delete/*path", ops: { write: versionsOp("softDelete") }, fields: ["versions"] },
    { path: "undelete/*path", ops: { write: versionsOp("undelete") }, fields: ["versions"] },
    { path: "destroy/*path", ops: { write: versionsOp("destroy") }, fields: ["versions"] },
  ];
}
