/**
 * Managed keys: creation, versions, lifecycle and the cryptographic operations on them. Knows
 * nothing of callers or HTTP; the service layer authorises before calling in.
 *
 * Writes read the current row from storage, compute the next row with the pure functions of
 * lifecycle.ts and store it with a revision compare-and-set inside a transaction; a lost race is
 * retried. After a write the keyring entry is invalidated.
 */
import { randomUUID } from "node:crypto";
import {
  TesseraError,
  canonicalKeySpec,
  checkKeyUsage,
  convergentKeySpecs,
  derivableKeySpecs,
  creationUsage,
  isAsymmetricKeySpec,
  isTesseraError,
  minAvailableVersion,
  parseCiphertext,
  type CiphertextAlgorithm,
  type CreateKeyRequest,
  type EncryptionContext,
  type KeyMetadata,
  type KeySpec,
  type KeyVersionInfo,
  type ParsedCiphertext,
} from "@tessera/protocol";
import { zero } from "../crypto/index.js";
import { decryptEnvelope, deriveWorkKey, encryptEnvelope } from "../format/envelope.js";
import { keyVersionAad } from "../format/keyring-record.js";
import { derivePairwisePsk, pskIdentity } from "../format/pairwise-psk.js";
import { versionMaterial } from "./sealed-versions.js";
import { iso, isoOrNull, type Clock } from "../clock.js";
import type { Barrier, RootRing } from "../seal/index.js";
import type { Eraser, KeyRow, Repositories, Store, VersionRow } from "../store/index.js";
import * as lifecycle from "./lifecycle.js";
import { type KeyHandle, Keyring, WHOLE_MATERIAL_V4 } from "./keyring.js";
import { UsageRecorder } from "./usage.js";
import { keepMaterial, newKeyMaterial } from "./key-material.js";
import { AsymmetricOperations } from "./asymmetric-operations.js";
import { MacOperations } from "./mac-operations.js";
const MAX_WRITE_ATTEMPTS = 5;

/**
 * Checked first inside the transaction of work the server does by itself (rotation, destruction):
 * throws unless this node still holds the background-work lease, so work done under a lost lease
 * never commits (service/job-lease.ts).
 */
export type Fence = (tx: Repositories) => Promise<void>;

export interface Encrypted {
  keyId: string;
  keyVersion: number;
  ciphertext: Uint8Array;
}

export interface Decrypted {
  keyId: string;
  keyVersion: number;
  /** Caller owns the buffer and should zero it once encoded. */
  plaintext: Buffer;
}

export class KeyService {
  readonly keyring: Keyring;
  readonly usage: UsageRecorder;
  /** Sign, Verify, GetPublicKey, RSA-OAEP and ECDH with asymmetric keys. */
  readonly asymmetric: AsymmetricOperations;
  /** GenerateMac and VerifyMac (HMAC keys). */
  readonly macs: MacOperations;

  constructor(
    private readonly store: Store,
    private readonly barrier: Barrier,
    private readonly clock: Clock,
    /** Told after every committed destruction of material, so the store's files are erased (store/eraser.ts). */
    private readonly eraser: Pick<Eraser, "record" | "destroyed">,
    /** Most keys kept unwrapped in memory (keyring.ts). */
    keyCacheSize?: number,
  ) {
    this.keyring = new Keyring(store, barrier, keyCacheSize);
    this.usage = new UsageRecorder(store, clock);
    barrier.registerSealedData(versionMaterial);
    this.asymmetric = new AsymmetricOperations(this.usage);
    this.macs = new MacOperations(this.usage);
  }

  // ── reads ────────────────────────────────────────────────────────────────────────────────────

  /** A key by id, name, or `alias/<name>` (an alias, else the key of that name). */
  async resolve(ref: string): Promise<KeyHandle> {
    if (ref.startsWith("alias/")) {
      this.barrier.assertUnsealed();
      const alias = await this.store.aliases.get(ref);
      if (alias !== undefined) return this.keyring.resolve(alias.keyId);
      // No such alias: alias/NAME names the key called NAME, if there is one.
      const name = ref.slice("alias/".length);
      try {
        return await this.keyring.resolve(name);
      } catch (err) {
        if (isTesseraError(err) && err.code === "NotFound") throw new TesseraError("NotFound", `alias ${ref} is not found, and no key is named "${name}"`);
        throw err;
      }
    }
    return this.keyring.resolve(ref);
  }

  // ── aliases ──────────────────────────────────────────────────────────────────────────────────

  async createAlias(name: string, keyId: string): Promise<void> {
    validateAliasName(name);
    const now = this.clock.now();
    await this.store.aliases.insert({ name, keyId, createdAt: now, updatedAt: now });
  }

  /** Points alias `name` at `keyId` if it still points at `expected` (else `Conflict`: it moved meanwhile). */
  async updateAlias(name: string, keyId: string, expected: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await aliasPointingAt(tx, name, expected);
      if (!(await tx.aliases.update(name, keyId, this.clock.now()))) throw new TesseraError("NotFound", `alias ${name} does not exist`);
    });
  }

  async aliasTarget(name: string): Promise<string> {
    const a = await this.store.aliases.get(name);
    if (a === undefined) throw new TesseraError("NotFound", `alias ${name} does not exist`);
    return a.keyId;
  }

  /** Deletes alias `name` if it still points at `expected` (else `Conflict`). */
  async deleteAlias(name: string, expected: string): Promise<void> {
    await this.store.transaction(async (tx) => {
      await aliasPointingAt(tx, name, expected);
      if (!(await tx.aliases.delete(name))) throw new TesseraError("NotFound", `alias ${name} does not exist`);
    });
  }

  listAliases(keyId?: string) {
    return this.store.aliases.list(keyId);
  }

  /** The key a ciphertext names, with the parsed ciphertext; unknown keys are `InvalidCiphertext`. */
  async resolveCiphertext(bytes: Uint8Array): Promise<{ parsed: ParsedCiphertext; handle: KeyHandle | undefined }> {
    this.barrier.assertUnsealed();
    const parsed = parseCiphertext(bytes);
    return { parsed, handle: await this.keyring.byIdOrUndefined(parsed.keyId) };
  }

  async describe(ref: string): Promise<KeyMetadata> {
    return toMetadata((await this.resolve(ref)).row);
  }

  async list(limit: number, marker: string | undefined): Promise<{ rows: KeyRow[]; nextMarker: string | null }> {
    this.barrier.assertUnsealed();
    if (marker !== undefined && !(await this.store.keys.get(marker))) {
      throw new TesseraError("InvalidInput", "marker does not name a key", { field: "/marker" });
    }
    const rows = await this.store.keys.list(limit + 1, marker);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    return { rows: page, nextMarker: more ? page[page.length - 1]!.id : null };
  }

  async listVersions(ref: string): Promise<{ keyId: string; versions: KeyVersionInfo[] }> {
    const { row } = await this.resolve(ref);
    const versions = await this.store.versions.list(row.id);
    return {
      keyId: row.id,
      versions: versions.map((v) => {
        const pending = this.usage.unflushed(v.keyId, v.version);
        return toVersionInfo(row, {
          ...v,
          useCount: v.useCount + (pending?.count ?? 0),
          lastUsedAt: pending === undefined ? v.lastUsedAt : Math.max(v.lastUsedAt ?? 0, pending.lastUsedAt),
        });
      }),
    };
  }

  // ── writes ───────────────────────────────────────────────────────────────────────────────────

  async create(req: CreateKeyRequest): Promise<KeyMetadata> {
    if (isUuidLike(req.name)) throw new TesseraError("InvalidInput", "a key name must not look like a key id", { field: "/name" });
    const keySpec = canonicalKeySpec(req.keySpec ?? "SYMMETRIC_DEFAULT");
    const keyUsage = creationUsage(keySpec, req.keyUsage);
    if (req.derived === true && !derivableKeySpecs.includes(keySpec)) {
      throw new TesseraError("InvalidInput", `derived mode is for ${derivableKeySpecs.join(", ")} keys only`, { field: "/derived" });
    }
    if (req.convergent === true) {
      if (req.derived !== true) throw new TesseraError("InvalidInput", "convergent encryption needs a derived key (derived: true)", { field: "/convergent" });
      if (!convergentKeySpecs.includes(keySpec)) {
        throw new TesseraError("InvalidInput", `convergent encryption is for ${convergentKeySpecs.join(", ")} keys only`, { field: "/convergent" });
      }
    }
    const origin = req.origin ?? "TESSERA";
    if (origin === "EXTERNAL" && req.rotationPeriodSeconds !== undefined) throw importedKeysDoNotAutoRotate();
    this.barrier.assertUnsealed();
    const now = this.clock.now();
    const row = newKeyRow(req, keySpec, keyUsage, origin, now);
    const id = row.id;
    if (origin === "EXTERNAL") {
      // No material until it is imported: version 1 will be the first import.
      const pending: KeyRow = { ...row, state: "PendingImport", primaryVersion: 0 };
      await this.store.transaction((tx) => tx.keys.insert(pending));
      return toMetadata(pending);
    }
    // Generated before anything is written: an RSA-4096 key pair takes a while, and no transaction waits for it.
    const material = await newKeyMaterial(keySpec);
    const ring = this.barrier.ring();
    let version: VersionRow;
    try {
      version = newVersion(ring, id, 1, now, material);
    } finally {
      zero(material);
    }
    await this.store.transaction(async (tx) => {
      await tx.keys.insert(row);
      await tx.versions.insert(version);
    });
    return toMetadata(row);
  }

  /** Makes a new primary version: new random material, or a new key pair for an asymmetric key. */
  async rotate(ref: string): Promise<KeyMetadata> {
    const material = await newKeyMaterial((await this.resolve(ref)).row.keySpec);
    try {
      return await this.write(ref, async (tx, row) => {
        const now = this.clock.now();
        const next = lifecycle.rotate(row, now);
        await tx.keys.update(next);
        await tx.versions.insert(newVersion(this.barrier.ring(), row.id, next.primaryVersion, now, material));
        return next;
      });
    } finally {
      zero(material);
    }
  }

  /**
   * Imported material as the key's new primary version (the first import makes version 1 and enables
   * a PendingImport key). `material` is checked against the key's spec; the caller zeroes it.
   */
  importMaterial(keyId: string, material: Buffer): Promise<KeyMetadata> {
    return this.write(keyId, async (tx, row) => {
      checkImportedMaterial(row.keySpec, material);
      const now = this.clock.now();
      const next = lifecycle.importMaterial(row, now);
      await tx.keys.update(next);
      await tx.versions.insert(newVersion(this.barrier.ring(), row.id, next.primaryVersion, now, material));
      return next;
    });
  }

  /**
   * Deletes every version's imported material (crypto-shredding, as destruction does) and returns the
   * key to PendingImport; importing again makes a new version. Ciphertexts of the deleted versions
   * no longer decrypt.
   */
  async deleteImportedMaterial(keyId: string): Promise<KeyMetadata> {
    const meta = await this.write(keyId, async (tx, row) => {
      const now = this.clock.now();
      const next = lifecycle.deleteImportedMaterial(row);
      await tx.keys.update(next);
      for (const v of await tx.versions.list(row.id)) {
        if (v.material !== null) await tx.versions.update({ ...v, state: "Destroyed", material: null, destroyedAt: now });
      }
      return next;
    });
    await this.eraser.destroyed();
    return meta;
  }

  enable(ref: string): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.enable(row));
  }

  disable(ref: string): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.disable(row));
  }

  scheduleDeletion(ref: string, windowDays: number | undefined): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.scheduleDeletion(row, this.clock.now(), windowDays));
  }

  cancelDeletion(ref: string, restore: lifecycle.CancelRestore = "prior"): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.cancelDeletion(row, restore));
  }

  setMinDecryptionVersion(ref: string, version: number): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.setMinDecryptionVersion(row, version));
  }

  setMinEncryptionVersion(ref: string, version: number): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.setMinEncryptionVersion(row, version));
  }

  update(ref: string, changes: Parameters<typeof lifecycle.update>[1]): Promise<KeyMetadata> {
    return this.writeRow(ref, (row) => lifecycle.update(row, changes, this.clock.now()));
  }

  async setVersionState(ref: string, version: number, state: "Enabled" | "Disabled"): Promise<KeyVersionInfo> {
    let result: { key: KeyRow; version: VersionRow } | undefined;
    await this.write(ref, async (tx, row) => {
      const current = await tx.versions.get(row.id, version);
      if (current === undefined) throw new TesseraError("NotFound", `key ${row.name} has no version ${version}`);
      const changed = lifecycle.setVersionState(row, current, state);
      await tx.versions.update(changed);
      // Bumping the key's revision serialises version changes with every other write to the key.
      const next = { ...row, revision: row.revision + 1 };
      await tx.keys.update(next);
      result = { key: next, version: changed };
      return next;
    });
    return toVersionInfo(result!.key, result!.version);
  }

  /**
   * Ids of keys whose rotation period has elapsed. The scheduler rotates each through the door
   * (service/system-jobs.ts), so every automatic rotation is audited.
   */
  async dueForRotation(): Promise<string[]> {
    this.barrier.assertUnsealed();
    return (await this.store.keys.dueForRotation(this.clock.now())).map((k) => k.id);
  }

  /**
   * Rotates the key if its period has elapsed — once, however long the server was down. Re-checked
   * on the fresh row inside the transaction: another node (or a retry) may have rotated it already.
   * Returns the new primary version, or null when nothing was due.
   */
  async rotateIfDue(id: string, fence?: Fence): Promise<number | null> {
    let rotated: number | null = null;
    let material: Buffer | undefined;
    try {
      // Only keys listed as due get here, so the material (a key pair, maybe) is rarely made for nothing.
      material = await newKeyMaterial((await this.resolve(id)).row.keySpec);
      const fresh = material;
      await this.write(id, async (tx, row) => {
        const next = lifecycle.nextRotationAt(row);
        if (next === null || next > this.clock.now()) return undefined;
        const rotatedRow = lifecycle.rotate(row, this.clock.now());
        await tx.keys.update(rotatedRow);
        await tx.versions.insert(newVersion(this.barrier.ring(), row.id, rotatedRow.primaryVersion, this.clock.now(), fresh));
        rotated = rotatedRow.primaryVersion;
        return rotatedRow;
      }, fence);
    } catch (err) {
      // Disabled or deleted since it was listed: nothing is due any more.
      if (!(err instanceof TesseraError && (err.code === "InvalidState" || err.code === "NotFound"))) throw err;
    } finally {
      if (material !== undefined) zero(material);
    }
    return rotated;
  }

  /** Ids of keys whose pending-deletion window has passed (destroyed through the door, audited). */
  async dueForDestruction(): Promise<string[]> {
    this.barrier.assertUnsealed();
    return (await this.store.keys.dueForDeletion(this.clock.now())).map((k) => k.id);
  }

  /** Destroys the key if its deletion date has passed: material erased, rows kept. True when destroyed now. */
  async destroyIfDue(id: string, fence?: Fence): Promise<boolean> {
    let destroyed = false;
    await this.write(id, async (tx, row) => {
      if (row.state !== "PendingDeletion" || row.deletionDate === null || row.deletionDate > this.clock.now()) return undefined;
      const now = this.clock.now();
      const next = lifecycle.destroy(row, now);
      await tx.keys.update(next);
      for (const v of await tx.versions.list(row.id)) {
        await tx.versions.update({ ...v, state: "Destroyed", material: null, destroyedAt: v.destroyedAt ?? now });
      }
      destroyed = true;
      return next;
    }, fence);
    // The caller (the destroy job) erases once after all its destructions.
    if (destroyed) await this.eraser.record();
    return destroyed;
  }

  /**
   * Retention (service/retention-service.ts): disables a version that stopped being primary, running
   * `also` in the same transaction (the retention record of it), fenced by the background lease.
   * False when there was nothing to do (no longer Enabled, or it became primary).
   */
  async retireVersion(id: string, version: number, also: (tx: Repositories) => Promise<void>, fence?: Fence): Promise<boolean> {
    let done = false;
    await this.write(id, async (tx, row) => {
      const current = await tx.versions.get(row.id, version);
      if (current === undefined || current.state !== "Enabled" || version >= row.primaryVersion) return undefined;
      await tx.versions.update(lifecycle.setVersionState(row, current, "Disabled"));
      await also(tx);
      done = true;
      return { ...row, revision: row.revision + 1 };
    }, fence);
    return done;
  }

  /**
   * Retention: destroys one version's material (the row stays, Destroyed). Only a Disabled version
   * below the primary; `still` is re-checked inside the transaction and may veto. True when destroyed now.
   */
  async destroyVersion(id: string, version: number, still: (tx: Repositories) => Promise<boolean>, fence?: Fence): Promise<boolean> {
    let done = false;
    await this.write(id, async (tx, row) => {
      if (row.state === "Destroyed" || row.state === "PendingDeletion") return undefined;
      const current = await tx.versions.get(row.id, version);
      if (current === undefined || current.state !== "Disabled" || version >= row.primaryVersion) return undefined;
      if (!(await still(tx))) return undefined;
      await tx.versions.update({ ...current, state: "Destroyed", material: null, destroyedAt: this.clock.now() });
      done = true;
      return { ...row, revision: row.revision + 1 };
    }, fence);
    // The caller (retention) erases once after all its destructions.
    if (done) await this.eraser.record();
    return done;
  }

  /**
   * Vault's trim: destroys the material of every version below `minAvailable` for good (rows stay,
   * Destroyed), in one transaction. `minAvailable` must be ≤ the min decryption version (so only
   * retired versions go) and ≤ the primary; lowering it is refused (what is gone stays gone).
   */
  async trimVersions(ref: string, minAvailable: number): Promise<KeyMetadata> {
    let destroyed = 0;
    const meta = await this.write(ref, async (tx, row) => {
      if (row.state !== "Enabled" && row.state !== "Disabled") throw new TesseraError("InvalidState", `cannot trim key ${row.name}: it is ${row.state}`);
      if (minAvailable > row.minDecryptionVersion) {
        throw new TesseraError("InvalidInput", `cannot trim key ${row.name} above its min decryption version ${row.minDecryptionVersion}`, { field: "/minAvailableVersion" });
      }
      if (minAvailable > row.primaryVersion) throw new TesseraError("InvalidInput", `cannot trim key ${row.name} above its latest version`, { field: "/minAvailableVersion" });
      const versions = await tx.versions.list(row.id);
      const now = this.clock.now();
      destroyed = 0;
      for (const v of versions) {
        if (v.version >= minAvailable || (v.state === "Destroyed" && v.material === null)) continue;
        await tx.versions.update({ ...v, state: "Destroyed", material: null, destroyedAt: v.destroyedAt ?? now });
        destroyed++;
      }
      if (destroyed === 0) {
        if (minAvailable < minAvailableVersion(versions)) throw new TesseraError("InvalidInput", "cannot decrease the minimum available version", { field: "/minAvailableVersion" });
        return undefined;
      }
      // The key's revision serialises this with every other write to the key.
      const next = { ...row, revision: row.revision + 1 };
      await tx.keys.update(next);
      return next;
    });
    if (destroyed > 0) await this.eraser.destroyed();
    return meta;
  }

  /**
   * A key of origin EXTERNAL created with imported material as version 1, in one transaction: a key
   * whose material is refused is never created (Vault's transit import). The caller zeroes `material`.
   */
  async createImported(req: CreateKeyRequest, material: Buffer): Promise<KeyMetadata> {
    const keySpec = canonicalKeySpec(req.keySpec ?? "SYMMETRIC_DEFAULT");
    checkImportedMaterial(keySpec, material);
    if (isUuidLike(req.name)) throw new TesseraError("InvalidInput", "a key name must not look like a key id", { field: "/name" });
    const keyUsage = creationUsage(keySpec, req.keyUsage);
    if (req.derived === true && keySpec !== "SYMMETRIC_DEFAULT") throw new TesseraError("InvalidInput", "derived mode is for SYMMETRIC_DEFAULT keys only", { field: "/derived" });
    if (req.rotationPeriodSeconds !== undefined) throw importedKeysDoNotAutoRotate();
    this.barrier.assertUnsealed();
    const now = this.clock.now();
    const row = newKeyRow(req, keySpec, keyUsage, "EXTERNAL", now);
    const version = newVersion(this.barrier.ring(), row.id, 1, now, material);
    await this.store.transaction(async (tx) => {
      await tx.keys.insert(row);
      await tx.versions.insert(version);
    });
    return toMetadata(row);
  }

  // ── cryptography ─────────────────────────────────────────────────────────────────────────────

  /**
   * Encrypts with the primary version, or with `keyVersion` when given (Vault's `key_version`): at
   * most the primary, at least the key's minEncryptionVersion, and usable (not disabled, retired or
   * destroyed). `field` names the request field that carried the version, for the error.
   */
  encrypt(handle: KeyHandle, plaintext: Uint8Array, context: EncryptionContext | undefined, keyVersion?: number, field = "/keyVersion"): Encrypted {
    const { row } = handle;
    throwIfUnusable(row);
    checkKeyUsage(row, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT");
    const algorithm = algorithmFor(row, context);
    const v = keyVersion === undefined ? row.primaryVersion : encryptionVersion(handle, keyVersion, field);
    const sealing = handle.sealing(algorithm, v);
    if (sealing === undefined) {
      if (v === row.primaryVersion) throw new TesseraError("Internal", `primary version of ${row.name} has no material`);
      throw new TesseraError("Destroyed", `version ${v} of key ${row.name} has been destroyed`);
    }
    const ciphertext = encryptEnvelope({
      algorithm,
      keyId: row.id,
      keyVersion: v,
      material: sealing.material,
      plaintext,
      context,
      header: sealing.header,
      ...(sealing.prepared !== undefined && { prepared: sealing.prepared }),
      ...(sealing.secret !== undefined && { secret: sealing.secret }),
    });
    this.usage.record(row.id, v, handle);
    return { keyId: row.id, keyVersion: v, ciphertext };
  }

  /**
   * Decrypts a parsed ciphertext with its key. The tag is checked before any state check that a
   * tampered header could steer, so tampering always reads as `InvalidCiphertext`.
   */
  decrypt(handle: KeyHandle | undefined, parsed: ParsedCiphertext, context: EncryptionContext | undefined): Decrypted {
    if (handle === undefined) throw new TesseraError("InvalidCiphertext");
    const { row } = handle;
    throwIfUnusable(row);
    checkKeyUsage(row, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT");
    const version = handle.versions.get(parsed.keyVersion);
    if (version === undefined || !ciphertextAlgorithmsOf(row).has(parsed.algorithm)) {
      throw new TesseraError("InvalidCiphertext");
    }
    const material = handle.material(parsed.keyVersion);
    if (material === undefined) throw new TesseraError("Destroyed", `version ${parsed.keyVersion} of key ${row.name} has been destroyed`);
    const plaintext = decryptEnvelope(
      parsed,
      material,
      context,
      parsed.algorithm === "XAES_256_GCM" ? handle.xaesKey(parsed.keyVersion) : undefined,
      WHOLE_MATERIAL_V4.has(parsed.algorithm) ? handle.secretKey(parsed.keyVersion) : undefined,
    );
    const refusal = lifecycle.versionUseError(row, version);
    if (refusal !== undefined) {
      zero(plaintext);
      throw refusal;
    }
    this.usage.record(row.id, parsed.keyVersion, handle);
    return { keyId: row.id, keyVersion: parsed.keyVersion, plaintext };
  }

  /** HKDF work key from a version's material and a caller context (docs/formats.md). */
  derive(handle: KeyHandle, context: EncryptionContext, length: number, keyVersion: number | undefined): { keyVersion: number; key: Buffer } {
    throwIfUnusable(handle.row);
    checkKeyUsage(handle.row, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT");
    if (Object.keys(context).length === 0) throw new TesseraError("InvalidInput", "derive needs a non-empty context", { field: "/context" });
    const v = this.usableVersion(handle, keyVersion);
    return { keyVersion: v, key: deriveWorkKey(this.symmetricMaterial(handle, v), context, length, handle.row.keySpec === "SM4" ? "sm3" : "sha256") };
  }

  /**
   * A copy of a version's material for wrapped export, which the caller zeroes: the key bytes of a
   * symmetric key, the private key as PKCS#8 DER of an asymmetric one. Only keys created `exportable`
   * give their material; exportability is fixed at creation, so asking another key is a usage error.
   */
  exportMaterial(handle: KeyHandle, keyVersion: number | undefined): { keyVersion: number; material: Buffer } {
    const { row } = handle;
    throwIfUnusable(row);
    if (!row.exportable) throw new TesseraError("InvalidKeyUsage", `key ${row.name} was not created exportable; its material cannot be exported`);
    const v = this.usableVersion(handle, keyVersion);
    if (isAsymmetricKeySpec(row.keySpec)) {
      const privateKey = handle.privateKey(v);
      if (privateKey === undefined) throw new TesseraError("Destroyed", `version ${v} of key ${row.name} has been destroyed`);
      return { keyVersion: v, material: privateKey.export({ type: "pkcs8", format: "der" }) };
    }
    return { keyVersion: v, material: Buffer.from(this.symmetricMaterial(handle, v)) };
  }

  /** The pairwise pre-shared key of two VM ids and a purpose (format/pairwise-psk.ts). */
  derivePsk(handle: KeyHandle, parties: { self: string; peer: string; purpose: string }, keyVersion: number | undefined): { keyVersion: number; psk: Buffer; identity: string } {
    throwIfUnusable(handle.row);
    checkKeyUsage(handle.row, "ENCRYPT_DECRYPT", "SYMMETRIC_DEFAULT");
    const v = this.usableVersion(handle, keyVersion);
    const p = { keyId: handle.row.id, keyVersion: v, ...parties };
    return { keyVersion: v, psk: derivePairwisePsk(this.symmetricMaterial(handle, v), p), identity: pskIdentity(p) };
  }

  /** A version that may be used now (default: the primary); counts the use. */
  private usableVersion(handle: KeyHandle, keyVersion: number | undefined): number {
    const { row } = handle;
    const v = keyVersion ?? row.primaryVersion;
    const version = handle.versions.get(v);
    if (version === undefined) throw new TesseraError("NotFound", `key ${row.name} has no version ${v}`);
    const refusal = lifecycle.versionUseError(row, version);
    if (refusal !== undefined) throw refusal;
    this.usage.record(row.id, v, handle);
    return v;
  }

  private symmetricMaterial(handle: KeyHandle, v: number): Buffer {
    const material = handle.material(v);
    if (material === undefined) throw new TesseraError("Destroyed", `version ${v} of key ${handle.row.name} has been destroyed`);
    return material;
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  private writeRow(ref: string, change: (row: KeyRow) => KeyRow): Promise<KeyMetadata> {
    return this.write(ref, async (tx, row) => {
      const next = change(row);
      if (next === row) return row;
      await tx.keys.update(next);
      return next;
    });
  }

  /**
   * Runs a read-modify-write of one key in a transaction, retrying when another writer won the
   * revision race. `change` returns the row it stored (or undefined when it decided to do nothing).
   */
  private async write(ref: string, change: (tx: Repositories, row: KeyRow) => Promise<KeyRow | undefined>, fence?: Fence): Promise<KeyMetadata> {
    this.barrier.assertUnsealed();
    const id = isUuidLike(ref) && !ref.startsWith("alias/") ? ref : (await this.resolve(ref)).row.id;
    for (let attempt = 1; ; attempt++) {
      try {
        const stored = await this.store.transaction(async (tx) => {
          // First, so the fence's check and lock come with the transaction's snapshot.
          if (fence !== undefined) await fence(tx);
          const row = await tx.keys.get(id);
          if (row === undefined) throw new TesseraError("NotFound", `no key with id ${id}`);
          return (await change(tx, row)) ?? row;
        });
        return toMetadata(stored);
      } catch (err) {
        if (!(err instanceof TesseraError && err.code === "Conflict") || attempt >= MAX_WRITE_ATTEMPTS) throw err;
      } finally {
        this.keyring.invalidate(id);
      }
    }
  }
}

function importedKeysDoNotAutoRotate(): TesseraError {
  return new TesseraError("InvalidInput", "keys of origin EXTERNAL do not rotate automatically: import new material to rotate them", {
    field: "/rotationPeriodSeconds",
    cause: { awsType: "UnsupportedOperationException" },
  });
}

/** Imported material must be what the key's spec holds: the spec's length of bytes, or a PKCS#8 private key of its type. */
function checkImportedMaterial(spec: KeySpec, material: Buffer): void {
  try {
    // keepMaterial zeroes what it is given (a copy here) and refuses material not of the spec.
    const kept = keepMaterial(spec, Buffer.from(material));
    if (kept.kind === "symmetric") zero(kept.bytes);
  } catch {
    throw new TesseraError("InvalidInput", `the imported material is not key material of spec ${spec}`, {
      field: "/encryptedKeyMaterial",
      cause: { awsType: "IncorrectKeyMaterialException" },
    });
  }
}

/** A new key's row, Enabled at version 1 (a caller makes it PendingImport when no material comes with it). */
function newKeyRow(req: CreateKeyRequest, keySpec: KeySpec, keyUsage: KeyRow["keyUsage"], origin: KeyRow["origin"], now: number): KeyRow {
  return {
    id: randomUUID(),
    name: req.name,
    description: req.description ?? "",
    tags: { ...(req.tags ?? {}) },
    keySpec,
    keyUsage,
    origin,
    state: "Enabled",
    priorState: null,
    derived: req.derived ?? false,
    convergent: req.convergent ?? false,
    exportable: req.exportable ?? false,
    createdAt: now,
    primaryVersion: 1,
    minDecryptionVersion: 1,
    minEncryptionVersion: 0,
    rotationPeriodSeconds: req.rotationPeriodSeconds ?? null,
    lastRotatedAt: now,
    deletionDate: null,
    destroyedAt: null,
    revision: 1,
  };
}

/** A version row with its material sealed under the ring's current root, bound to its key id and version (the caller zeroes `material`). */
function newVersion(ring: Pick<RootRing, "seal">, keyId: string, version: number, now: number, material: Uint8Array): VersionRow {
  return {
    keyId,
    version,
    state: "Enabled",
    createdAt: now,
    material: ring.seal(material, keyVersionAad(keyId, version)),
    lastUsedAt: null,
    useCount: 0,
    destroyedAt: null,
  };
}

async function aliasPointingAt(tx: Pick<Repositories, "aliases">, name: string, expected: string): Promise<void> {
  const a = await tx.aliases.get(name);
  if (a === undefined) throw new TesseraError("NotFound", `alias ${name} does not exist`);
  if (a.keyId !== expected) throw new TesseraError("Conflict", `alias ${name} changed while the request was being authorised; try again`);
}

function validateAliasName(name: string): void {
  if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(name) || name.startsWith("alias/aws/")) {
    throw new TesseraError("InvalidInput", "alias names are alias/ followed by letters, digits, / _ - (not alias/aws/…)", { field: "/AliasName" });
  }
}

function isUuidLike(value: string): boolean {
  return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value);
}

/** A version `keyVersion` names for encryption (see {@link KeyService.encrypt}); refusals change nothing. */
function encryptionVersion(handle: KeyHandle, keyVersion: number, field: string): number {
  const { row } = handle;
  if (!Number.isInteger(keyVersion) || keyVersion < 1 || keyVersion > row.primaryVersion) {
    throw new TesseraError("InvalidInput", `key ${row.name} has versions 1 to ${row.primaryVersion}: cannot encrypt with version ${keyVersion}`, { field });
  }
  if (keyVersion < row.minEncryptionVersion) {
    throw new TesseraError("InvalidInput", `version ${keyVersion} of key ${row.name} is below its minEncryptionVersion ${row.minEncryptionVersion}`, { field });
  }
  const version = handle.versions.get(keyVersion);
  if (version === undefined) throw new TesseraError("NotFound", `key ${row.name} has no version ${keyVersion}`);
  const refusal = lifecycle.versionUseError(row, version);
  if (refusal !== undefined) throw refusal;
  return keyVersion;
}

/**
 * What a key's ciphertexts may be, by spec and mode (plain, derived, convergent — all fixed at
 * creation): every format version's algorithm for its mode decrypts (v1 ciphertexts keep opening
 * forever); the first of each list is what new encryptions use (docs/formats.md). A key never opens
 * another spec's or mode's ciphertext, whatever a header says: an AES-256 key never opens an SM4,
 * AES-128 or ChaCha20 ciphertext, a convergent key never a random-nonce one, nor the reverse.
 */
interface ModeAlgorithms {
  plain: readonly CiphertextAlgorithm[];
  derived: readonly CiphertextAlgorithm[];
  convergent: readonly CiphertextAlgorithm[];
}
const algorithmsBySpec: Partial<Record<KeySpec, ModeAlgorithms>> = {
  SYMMETRIC_DEFAULT: { plain: ["XAES_256_GCM", "AES_256_GCM"], derived: ["XAES_256_GCM_DERIVED", "AES_256_GCM_DERIVED"], convergent: ["AES_256_GCM_CONVERGENT"] },
  SM4: { plain: ["SM4_GCM"], derived: [], convergent: [] },
  AES_128: { plain: ["AES_128_GCM"], derived: ["AES_128_GCM_DERIVED"], convergent: ["AES_128_GCM_CONVERGENT"] },
  CHACHA20_POLY1305: { plain: ["CHACHA20_POLY1305"], derived: ["CHACHA20_POLY1305_DERIVED"], convergent: ["CHACHA20_POLY1305_CONVERGENT"] },
};

function modeAlgorithms(row: KeyRow): readonly CiphertextAlgorithm[] {
  const table = algorithmsBySpec[row.keySpec];
  if (table === undefined) return [];
  return row.convergent ? table.convergent : row.derived ? table.derived : table.plain;
}

const algorithmSets = new Map<readonly CiphertextAlgorithm[], ReadonlySet<CiphertextAlgorithm>>();

function ciphertextAlgorithmsOf(row: KeyRow): ReadonlySet<CiphertextAlgorithm> {
  const list = modeAlgorithms(row);
  let set = algorithmSets.get(list);
  if (set === undefined) {
    set = new Set(list);
    algorithmSets.set(list, set);
  }
  return set;
}

function algorithmFor(row: KeyRow, context: EncryptionContext | undefined): CiphertextAlgorithm {
  const algorithm = modeAlgorithms(row)[0];
  if (algorithm === undefined) throw new TesseraError("Internal", `key ${row.name} (${row.keySpec}) has no ciphertext algorithm`);
  if (row.derived && (context === undefined || Object.keys(context).length === 0)) {
    throw new TesseraError("InvalidInput", `key ${row.name} is in derived mode: an encryption context is required`, { field: "/context" });
  }
  return algorithm;
}

function throwIfUnusable(row: KeyRow): void {
  const err = lifecycle.usableKeyError(row);
  if (err !== undefined) throw err;
}

export function toMetadata(row: KeyRow): KeyMetadata {
  return {
    keyId: row.id,
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
    createdAt: iso(row.createdAt),
    primaryVersion: row.primaryVersion,
    minDecryptionVersion: row.minDecryptionVersion,
    minEncryptionVersion: row.minEncryptionVersion,
    rotationPeriodSeconds: row.rotationPeriodSeconds,
    lastRotatedAt: iso(row.lastRotatedAt),
    nextRotationAt: isoOrNull(lifecycle.nextRotationAt(row)),
    deletionDate: isoOrNull(row.deletionDate),
    destroyedAt: isoOrNull(row.destroyedAt),
  };
}

export function toVersionInfo(key: KeyRow, v: VersionRow): KeyVersionInfo {
  return {
    version: v.version,
    state: v.state,
    retired: v.version < key.minDecryptionVersion,
    primary: v.version === key.primaryVersion,
    createdAt: iso(v.createdAt),
    lastUsedAt: isoOrNull(v.lastUsedAt),
    useCount: v.useCount,
    destroyedAt: isoOrNull(v.destroyedAt),
  };
}
