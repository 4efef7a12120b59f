/**
 * How `tessera key …` shows keys and versions without --json: labels are the API's field names.
 */
import type { KeyMetadata, KeyVersionInfo } from "@tessera/protocol";
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
    ["rotationPeriod", rotation(key.rotationPeriodSeconds)],
    ["nextRotationAt", key.nextRotationAt],
    ["lastRotatedAt", key.lastRotatedAt],
    ["derived", key.derived],
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

export function printVersions(out: Output, versions: readonly KeyVersionInfo[]): void {
  out.table(
    ["VERSION", "STATE", "PRIMARY", "CREATED", "LAST USED", "USES"],
    versions.map((v) => [v.version, versionState(v), v.primary ? "yes" : "", v.createdAt, v.lastUsedAt, v.useCount]),
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
