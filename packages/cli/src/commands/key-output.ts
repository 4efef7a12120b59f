/**
 * How `tessera key …` shows keys and versions without --json: labels are the API's field names.
 */
import type { KeyMetadata, KeyRetention, KeyVersionInfo } from "@tessera/protocol";
import { formatDuration } from "../args.js";
import type { Output } from "../output.js";

export function rotation(seconds: number | null): string {
  return seconds === null ? "off" : formatDuration(seconds);
}

function tagsText(tags: Record<string, string>): string {
  return Object.entries(tags)
    .map(([k, v]) => `${k}=${v}`)
    .join(", ");
}

export function printKey(out: Output, key: KeyMetadata): void {
  out.fields([
    ["name", key.name],
    ["keyId", key.keyId],
    ["description", key.description],
    ["state", key.state],
    ["keySpec", key.keySpec],
    ["keyUsage", key.keyUsage],
    ["origin", key.origin === "EXTERNAL" ? "EXTERNAL" : undefined],
    ["primaryVersion", key.primaryVersion],
    ["minDecryptionVersion", key.minDecryptionVersion],
    ["minEncryptionVersion", key.minEncryptionVersion === 0 ? undefined : key.minEncryptionVersion],
    ["rotationPeriod", rotation(key.rotationPeriodSeconds)],
    ["nextRotationAt", key.nextRotationAt],
    ["lastRotatedAt", key.lastRotatedAt],
    ["derived", key.derived],
    ["convergent", key.convergent ? true : undefined],
    ["exportable", key.exportable],
    ["tags", tagsText(key.tags)],
    ["createdAt", key.createdAt],
    ["deletionDate", key.deletionDate ?? undefined],
    ["destroyedAt", key.destroyedAt ?? undefined],
  ]);
}

function versionState(v: KeyVersionInfo): string {
  return v.retired && v.state === "Enabled" ? "Retired" : v.state;
}

export function printVersions(out: Output, versions: readonly KeyVersionInfo[], retention?: KeyRetention): void {
  const r = new Map((retention?.versions ?? []).map((v) => [v.version, v]));
  out.table(
    ["VERSION", "STATE", "PRIMARY", "CREATED", "LAST USED", "USES", "USES SINCE RETIRED", "RETENTION"],
    versions.map((v) => {
      const x = r.get(v.version);
      return [v.version, versionState(v), v.primary ? "yes" : "", v.createdAt, v.lastUsedAt, v.useCount, x === undefined || x.primary ? "" : x.usesSinceRetired + x.refused, retentionText(x)];
    }),
  );
}

/** What retention will do next to a version: `disable 2026-…`, `destroy 2026-… (held: in use)`, or nothing. */
export function retentionText(v: KeyRetention["versions"][number] | undefined): string {
  if (v === undefined) return "";
  if (v.destroyAt !== null) return `destroy ${v.destroyAt}${v.inUse ? " (waits: in use)" : ""}`;
  if (v.disableAt !== null) return `disable ${v.disableAt}`;
  return "";
}

export function printRetention(out: Output, r: KeyRetention): void {
  const p = r.policy;
  out.fields([
    ["policy", p === null ? "none" : `disable ${formatDuration(p.disableAfterSeconds)} after retirement, destroy ${formatDuration(p.destroyAfterSeconds)} later, keep ${p.keepAtLeast} newest (${r.policySource})`],
  ]);
  out.line();
  out.table(
    ["VERSION", "STATE", "RETIRED", "USES SINCE RETIRED", "REFUSED", "NEXT", "USED BY"],
    r.versions.map((v) => [v.version, v.state, v.retiredAt ?? (v.primary ? "primary" : ""), v.usesSinceRetired, v.refused, retentionText(v), v.users.map((u) => `${u.principal} @ ${u.source}`).join(", ")]),
  );
}

export function printVersion(out: Output, v: KeyVersionInfo): void {
  out.fields([
    ["version", v.version],
    ["state", versionState(v)],
    ["primary", v.primary],
    ["createdAt", v.createdAt],
    ["lastUsedAt", v.lastUsedAt],
    ["useCount", v.useCount],
    ["destroyedAt", v.destroyedAt ?? undefined],
  ]);
}
