/**
 * The key and version state machines, as pure functions from a row to the next row. Each returns a
 * new row with `revision + 1` (the store's compare-and-set) or throws `InvalidState`.
 *
 *   Enabled ⇄ Disabled;  Enabled | Disabled → PendingDeletion (7–30 days) → Destroyed
 *   PendingDeletion → (cancel) the state it came from, or Disabled (as AWS KMS does)
 *   Keys of origin EXTERNAL: PendingImport → (import) Enabled; each later import is a new primary
 *   version; deleting the imported material returns them to PendingImport. They never generate
 *   material: no rotation but by import, no automatic rotation.
 */
import { TesseraError, type KeyState } from "@tessera/protocol";
import type { KeyRow, VersionRow } from "../store/index.js";

export const DAY_MS = 86_400_000;
export const DEFAULT_PENDING_WINDOW_DAYS = 30;

const next = (row: KeyRow, changes: Partial<KeyRow>): KeyRow => ({ ...row, ...changes, revision: row.revision + 1 });

function refuse(row: KeyRow, what: string): never {
  throw new TesseraError("InvalidState", `cannot ${what}: key ${row.name} is ${row.state}`);
}

export function enable(row: KeyRow): KeyRow {
  if (row.state === "Enabled") return row;
  if (row.state !== "Disabled") refuse(row, "enable");
  return next(row, { state: "Enabled" });
}

export function disable(row: KeyRow): KeyRow {
  if (row.state === "Disabled") return row;
  if (row.state !== "Enabled") refuse(row, "disable");
  return next(row, { state: "Disabled" });
}

export function scheduleDeletion(row: KeyRow, now: number, windowDays = DEFAULT_PENDING_WINDOW_DAYS): KeyRow {
  if (!Number.isInteger(windowDays) || windowDays < 7 || windowDays > 30) {
    throw new TesseraError("InvalidInput", "pendingWindowDays must be 7–30", { field: "/pendingWindowDays" });
  }
  if (row.state !== "Enabled" && row.state !== "Disabled" && row.state !== "PendingImport") refuse(row, "schedule deletion");
  return next(row, { state: "PendingDeletion", priorState: row.state, deletionDate: now + windowDays * DAY_MS });
}

/** What a cancelled deletion returns the key to: the state before scheduling (native), or `Disabled` (AWS KMS). */
export type CancelRestore = "prior" | "Disabled";

export function cancelDeletion(row: KeyRow, restore: CancelRestore = "prior"): KeyRow {
  if (row.state !== "PendingDeletion") refuse(row, "cancel deletion");
  const prior: KeyState = row.priorState === "Enabled" || row.priorState === "Disabled" || row.priorState === "PendingImport" ? row.priorState : "Disabled";
  // A key with no material cannot be Disabled (which promises material): it returns to PendingImport.
  const restored = prior === "PendingImport" ? prior : restore === "prior" ? prior : "Disabled";
  return next(row, { state: restored, priorState: null, deletionDate: null });
}

/** Called by the scheduler once the deletion date has passed. */
export function destroy(row: KeyRow, now: number): KeyRow {
  if (row.state !== "PendingDeletion" || row.deletionDate === null || row.deletionDate > now) refuse(row, "destroy");
  return next(row, { state: "Destroyed", priorState: null, destroyedAt: now });
}

/** A new primary version. Keys pending deletion or destroyed do not rotate; imported keys rotate by import. */
export function rotate(row: KeyRow, now: number): KeyRow {
  if (row.origin === "EXTERNAL") {
    throw new TesseraError("InvalidState", `key ${row.name} holds imported material: rotate it by importing new material`, { cause: { awsType: "UnsupportedOperationException" } });
  }
  if (row.state !== "Enabled" && row.state !== "Disabled") refuse(row, "rotate");
  return next(row, { primaryVersion: row.primaryVersion + 1, lastRotatedAt: now });
}

/** Imported material becomes the new primary version; a PendingImport key is enabled by it. */
export function importMaterial(row: KeyRow, now: number): KeyRow {
  if (row.origin !== "EXTERNAL") {
    throw new TesseraError("InvalidState", `key ${row.name} was not created with origin EXTERNAL`, { cause: { awsType: "UnsupportedOperationException" } });
  }
  if (row.state !== "PendingImport" && row.state !== "Enabled" && row.state !== "Disabled") refuse(row, "import key material");
  return next(row, { state: row.state === "PendingImport" ? "Enabled" : row.state, primaryVersion: row.primaryVersion + 1, lastRotatedAt: now });
}

/** Deleting imported material: every version's material goes (the caller erases it), the key awaits an import. */
export function deleteImportedMaterial(row: KeyRow): KeyRow {
  if (row.origin !== "EXTERNAL") {
    throw new TesseraError("InvalidState", `key ${row.name} was not created with origin EXTERNAL`, { cause: { awsType: "UnsupportedOperationException" } });
  }
  if (row.state !== "Enabled" && row.state !== "Disabled" && row.state !== "PendingImport") refuse(row, "delete imported key material");
  return next(row, { state: "PendingImport" });
}

export function setMinDecryptionVersion(row: KeyRow, version: number): KeyRow {
  if (row.state === "Destroyed") refuse(row, "change versions");
  if (!Number.isInteger(version) || version < 1 || version > row.primaryVersion) {
    throw new TesseraError("InvalidInput", `minDecryptionVersion must be between 1 and the primary version ${row.primaryVersion}`, {
      field: "/minDecryptionVersion",
    });
  }
  if (row.minEncryptionVersion > 0 && version > row.minEncryptionVersion) {
    throw new TesseraError("InvalidInput", `minDecryptionVersion ${version} would be above minEncryptionVersion ${row.minEncryptionVersion}`, {
      field: "/minDecryptionVersion",
    });
  }
  return next(row, { minDecryptionVersion: version });
}

/**
 * Vault's `min_encryption_version`: 0 = no minimum; else between minDecryptionVersion (a version that
 * may not decrypt must not encrypt) and the primary version.
 */
export function setMinEncryptionVersion(row: KeyRow, version: number): KeyRow {
  if (row.state === "Destroyed") refuse(row, "change versions");
  if (!Number.isInteger(version) || version < 0 || version > row.primaryVersion) {
    throw new TesseraError("InvalidInput", `minEncryptionVersion must be 0 (no minimum) or at most the primary version ${row.primaryVersion}`, {
      field: "/minEncryptionVersion",
    });
  }
  if (version > 0 && version < row.minDecryptionVersion) {
    throw new TesseraError("InvalidInput", `minEncryptionVersion ${version} would be below minDecryptionVersion ${row.minDecryptionVersion}`, {
      field: "/minEncryptionVersion",
    });
  }
  return next(row, { minEncryptionVersion: version });
}

export function update(row: KeyRow, changes: { description?: string; tags?: Record<string, string>; rotationPeriodSeconds?: number | null }, now: number): KeyRow {
  if (row.state === "Destroyed") refuse(row, "update");
  if (row.origin === "EXTERNAL" && changes.rotationPeriodSeconds != null) {
    throw new TesseraError("InvalidInput", "keys of origin EXTERNAL do not rotate automatically: import new material to rotate them", {
      field: "/rotationPeriodSeconds",
      cause: { awsType: "UnsupportedOperationException" },
    });
  }
  const turningOnRotation = changes.rotationPeriodSeconds != null && row.rotationPeriodSeconds === null;
  return next(row, {
    ...(changes.description !== undefined && { description: changes.description }),
    ...(changes.tags !== undefined && { tags: { ...changes.tags } }),
    ...(changes.rotationPeriodSeconds !== undefined && { rotationPeriodSeconds: changes.rotationPeriodSeconds }),
    // A period switched on counts from now, so an old key is not rotated the instant rotation is enabled.
    ...(turningOnRotation && { lastRotatedAt: now }),
  });
}

/** The time automatic rotation is next due, or null. */
export function nextRotationAt(row: KeyRow): number | null {
  if (row.rotationPeriodSeconds === null || row.state !== "Enabled") return null;
  return row.lastRotatedAt + row.rotationPeriodSeconds * 1000;
}

export function setVersionState(key: KeyRow, version: VersionRow, state: "Enabled" | "Disabled"): VersionRow {
  if (key.state === "Destroyed" || key.state === "PendingDeletion") refuse(key, "change versions");
  if (version.state === "Destroyed") {
    throw new TesseraError("InvalidState", `version ${version.version} of ${key.name} is destroyed`);
  }
  if (state === "Disabled" && version.version === key.primaryVersion) {
    throw new TesseraError("InvalidState", `version ${version.version} is the primary version of ${key.name}; rotate the key first`);
  }
  return { ...version, state };
}

/** Why a key cannot be used for cryptography right now, as the error to throw, or undefined. */
export function usableKeyError(row: KeyRow): TesseraError | undefined {
  switch (row.state) {
    case "Enabled":
      return undefined;
    case "PendingImport":
      return new TesseraError("InvalidState", `key ${row.name} has no key material yet: import it first`);
    case "Disabled":
      return new TesseraError("Disabled", `key ${row.name} is disabled`);
    case "PendingDeletion":
      return new TesseraError("InvalidState", `key ${row.name} is pending deletion`);
    case "Destroyed":
      return new TesseraError("Destroyed", `key ${row.name} has been destroyed`);
  }
}

/** Why a version may not be used to decrypt, verify or agree keys (destroyed, retired, disabled), or undefined. */
export function versionUseError(row: KeyRow, v: VersionRow): TesseraError | undefined {
  if (v.state === "Destroyed") return new TesseraError("Destroyed", `version ${v.version} of key ${row.name} has been destroyed`);
  if (v.version < row.minDecryptionVersion) {
    return new TesseraError("Disabled", `version ${v.version} of key ${row.name} is retired (minDecryptionVersion is ${row.minDecryptionVersion})`);
  }
  if (v.state === "Disabled") return new TesseraError("Disabled", `version ${v.version} of key ${row.name} is disabled`);
  return undefined;
}
