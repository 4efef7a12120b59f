/**
 * Backups of one key (format/key-backup-file.ts) and their restore.
 *
 * Invariants:
 * - A backup copies each version's material as stored (sealed under the root, bound to key id and
 *   version): nothing is unsealed to make it, and it restores only where that root is held.
 * - A restore checks everything — the backup's seal, its shape, every version's sealed material —
 *   before its one transaction; any failure changes nothing.
 * - The key keeps its id (ciphertexts and sealed material name it), so a restore brings back the same
 *   key: new, destroyed or pending deletion without `force`; live only with `force`. Versions are
 *   never renumbered: a key with versions newer than the backup is refused (their material would go).
 */
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { TesseraError, keySpecNames, keyUsages } from "@tessera/protocol";
import { iso, type Clock } from "../clock.js";
import { keyVersionAad } from "../format/keyring-record.js";
import { openKeyBackup, sealKeyBackup } from "../format/key-backup-file.js";
import type { Barrier } from "../seal/index.js";
import type { Eraser, KeyRow, Store, VersionRow } from "../store/index.js";
import { toMetadata } from "./key-service.js";
import type { Keyring } from "./keyring.js";
import type { KeyMetadata } from "@tessera/protocol";

const lit = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));
const Num = Type.Integer({ minimum: 0 });
const NullableNum = Type.Union([Num, Type.Null()]);

/** What a backup body holds: the key's settings (no revision, no deletion) and every version. */
const BackupBody = Type.Object(
  {
    key: Type.Object({
      id: Type.String({ pattern: "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$" }),
      name: Type.String({ minLength: 1, maxLength: 128 }),
      description: Type.String({ maxLength: 8192 }),
      tags: Type.Record(Type.String(), Type.String()),
      keySpec: lit(keySpecNames),
      keyUsage: lit(keyUsages),
      origin: lit(["TESSERA", "EXTERNAL"] as const),
      state: lit(["Enabled", "Disabled"] as const),
      derived: Type.Boolean(),
      convergent: Type.Boolean(),
      exportable: Type.Boolean(),
      createdAt: Num,
      primaryVersion: Type.Integer({ minimum: 1 }),
      minDecryptionVersion: Type.Integer({ minimum: 1 }),
      minEncryptionVersion: Num,
      rotationPeriodSeconds: NullableNum,
      lastRotatedAt: Num,
    }),
    versions: Type.Array(
      Type.Object({
        version: Type.Integer({ minimum: 1 }),
        state: lit(["Enabled", "Disabled", "Destroyed"] as const),
        createdAt: Num,
        destroyedAt: NullableNum,
        /** The stored sealed record, base64; null when destroyed. */
        material: Type.Union([Type.String(), Type.Null()]),
      }),
      { minItems: 1, maxItems: 100_000 },
    ),
  },
  { additionalProperties: false },
);
export type KeyBackupBody = Static<typeof BackupBody>;
type BackupBody = KeyBackupBody;

export interface RestoreOptions {
  name?: string | undefined;
  force?: boolean | undefined;
}

export class KeyBackups {
  constructor(
    private readonly store: Pick<Store, "keys" | "versions" | "transaction">,
    private readonly barrier: Barrier,
    private readonly keyring: Pick<Keyring, "invalidate">,
    private readonly clock: Clock,
    /** Told after a restore overwrote a key's versions (their sealed records), so the store's files are erased. */
    private readonly eraser: Pick<Eraser, "destroyed">,
  ) {}

  /** The backup of an Enabled or Disabled key. */
  async backup(keyId: string): Promise<Buffer> {
    this.barrier.assertUnsealed();
    const row = await this.store.keys.get(keyId);
    if (row === undefined) throw new TesseraError("NotFound", `no key with id ${keyId}`);
    if (row.state !== "Enabled" && row.state !== "Disabled") throw new TesseraError("InvalidState", `cannot back up key ${row.name}: it is ${row.state}`);
    const versions = await this.store.versions.list(row.id);
    const body: BackupBody = {
      key: {
        id: row.id,
        name: row.name,
        description: row.description,
        tags: row.tags,
        keySpec: row.keySpec,
        keyUsage: row.keyUsage,
        origin: row.origin,
        state: row.state,
        derived: row.derived,
        convergent: row.convergent,
        exportable: row.exportable,
        createdAt: row.createdAt,
        primaryVersion: row.primaryVersion,
        minDecryptionVersion: row.minDecryptionVersion,
        minEncryptionVersion: row.minEncryptionVersion,
        rotationPeriodSeconds: row.rotationPeriodSeconds,
        lastRotatedAt: row.lastRotatedAt,
      },
      versions: versions.map((v) => ({
        version: v.version,
        state: v.material === null ? "Destroyed" : v.state === "Destroyed" ? "Disabled" : v.state,
        createdAt: v.createdAt,
        destroyedAt: v.material === null ? (v.destroyedAt ?? this.clock.now()) : null,
        material: v.material === null ? null : v.material.toString("base64"),
      })),
    };
    const header = { format: "tessera-key-backup" as const, keyId: row.id, name: row.name, createdAt: iso(this.clock.now()) };
    return sealKeyBackup(this.barrier.ring(), header, Buffer.from(JSON.stringify(body), "utf8"));
  }

  /** The key a backup holds, without changing anything (to authorise the restore on it). */
  inspect(blob: Uint8Array): { keyId: string; name: string; body: BackupBody } {
    const { header, body } = openKeyBackup(this.barrier.ring(), blob);
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      throw new TesseraError("InvalidCiphertext", "the key backup is damaged");
    }
    if (!Value.Check(BackupBody, parsed) || parsed.key.id !== header.keyId) throw new TesseraError("InvalidCiphertext", "the key backup is damaged");
    const b = parsed;
    const numbers = b.versions.map((v) => v.version);
    if (new Set(numbers).size !== numbers.length || !numbers.includes(b.key.primaryVersion)) throw new TesseraError("InvalidCiphertext", "the key backup is damaged");
    return { keyId: b.key.id, name: b.key.name, body: b };
  }

  /** Restores a backup `inspect` read (see the invariants above). */
  async restore(b: BackupBody, o: RestoreOptions): Promise<KeyMetadata> {
    const ring = this.barrier.ring();
    const name = o.name ?? b.key.name;
    const now = this.clock.now();
    // Every version's material must open under a root held here, before anything is written.
    const versions: VersionRow[] = b.versions.map((v) => {
      let material: Buffer | null = null;
      if (v.material !== null) {
        const stored = Buffer.from(v.material, "base64");
        const aad = keyVersionAad(b.key.id, v.version);
        try {
          material = ring.reseal(stored, aad) ?? stored;
        } catch {
          throw new TesseraError("InvalidCiphertext", `version ${v.version} in the key backup does not open under a root this cluster holds`);
        }
      }
      const state: VersionRow["state"] = material === null ? "Destroyed" : v.state === "Destroyed" ? "Disabled" : v.state;
      return { keyId: b.key.id, version: v.version, state, createdAt: v.createdAt, material, lastUsedAt: null, useCount: 0, destroyedAt: material === null ? v.destroyedAt : null };
    });
    const maxVersion = Math.max(...versions.map((v) => v.version));
    // Material of the key as it was, overwritten by the backup's (with force): erased from the store's files after.
    let overwrote = false;
    try {
      const meta = await this.store.transaction(async (tx) => {
        overwrote = false;
        const holder = await tx.keys.getByName(name);
        if (holder !== undefined && holder.id !== b.key.id) throw new TesseraError("AlreadyExists", `another key is named ${name}`, { field: "/name" });
        const existing = await tx.keys.get(b.key.id);
        const row: KeyRow = { ...b.key, name, priorState: null, deletionDate: null, destroyedAt: null, revision: (existing?.revision ?? 0) + 1 };
        if (existing === undefined) {
          await tx.keys.insert(row);
          for (const v of versions) await tx.versions.insert(v);
          return toMetadata(row);
        }
        if (existing.name !== name) throw new TesseraError("InvalidInput", `this key exists as ${existing.name}: restore it under that name`, { field: "/name" });
        const live = existing.state !== "Destroyed" && existing.state !== "PendingDeletion";
        if (live && o.force !== true) throw new TesseraError("AlreadyExists", `key ${name} exists; restore with force to replace it`, { field: "/force" });
        if (existing.keySpec !== b.key.keySpec || existing.keyUsage !== b.key.keyUsage) throw new TesseraError("InvalidInput", `key ${name} has another spec than the backup's`, { field: "/backup" });
        const current = await tx.versions.list(existing.id);
        if (current.some((v) => v.version > maxVersion)) {
          throw new TesseraError("InvalidState", `key ${name} has versions newer than the backup (version numbers are never reused): take a new backup`);
        }
        await tx.keys.update(row);
        // Only where the stored bytes change (a record re-sealed since, under another root): the same bytes destroy nothing.
        overwrote = current.some((c) => c.material !== null && !(versions.find((v) => v.version === c.version)?.material?.equals(c.material) ?? false));
        for (const v of versions) {
          const was = current.find((c) => c.version === v.version);
          if (was === undefined) await tx.versions.insert(v);
          else await tx.versions.update({ ...v, lastUsedAt: was.lastUsedAt, useCount: was.useCount, destroyedAt: v.material === null ? (was.destroyedAt ?? now) : null });
        }
        return toMetadata(row);
      });
      if (overwrote) await this.eraser.destroyed();
      return meta;
    } finally {
      this.keyring.invalidate(b.key.id);
    }
  }
}
