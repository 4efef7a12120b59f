/**
 * The versioned secrets store (docs/secrets.md) through the door: key/value documents at
 * `MOUNT/PATH`, every write a new version, authorised as `secrets:*` on `secret/MOUNT/PATH`.
 *
 * Envelope: each version gets its own 32-byte data key; the document (JSON) is sealed with
 * AES-256-GCM under it, with mount, path and version as associated data (a version cannot be moved
 * to another path or number); the data key is a Tessera ciphertext under the mount's key with
 * `{"tessera:secret": "MOUNT/PATH"}` as encryption context. After the mount key rotates (or the
 * mount is given another key), a read re-wraps that version's data key under the current primary
 * version (lazy re-wrap, compare-and-set), so old key versions stop being needed as secrets are read.
 *
 * Invariants: nothing is decrypted before the caller is authorised on the secret; a version's
 * number is fixed inside the transaction that inserts it, and writers of one path are ordered by a
 * compare-and-set on its current version (a lost race is `Conflict`, retryable); reads record the
 * version's read count and last reader (telemetry: who still uses an old version).
 */
import {
  DEFAULT_MAX_SECRET_VERSIONS,
  DEFAULT_SECRET_MOUNT,
  MAX_SECRET_BYTES,
  MAX_SECRET_PATH,
  SECRET_SEGMENT,
  TesseraError,
  isTesseraError,
  type ConfigureSecretMountRequest,
  type ListSecretsResponse,
  type PutSecretRequest,
  type SecretData,
  type SecretMetadata,
  type SecretMountConfig,
  type SecretVersionRead,
  type SecretVersionWritten,
  type WriteSecretMetadataRequest,
} from "@tessera/protocol";
import { aesGcmOpen, aesGcmSeal, GCM_NONCE_LENGTH, secretBytes, zero } from "../crypto/index.js";
import { iso, isoOrNull, type Clock } from "../clock.js";
import { resources } from "../policy/index.js";
import type { KeyHandle, KeyService } from "../keys/index.js";
import type { SecretMountRow, SecretPathRow, SecretVersionInfo, SecretVersionRow, Store } from "../store/store.js";
import type { Eraser } from "../store/index.js";
import type { CallContext, Door, Scope } from "./door.js";
import { subkeysOf, type Subkeys } from "./secret-subkeys.js";

export { DEFAULT_SECRET_MOUNT };

const SEGMENT = new RegExp(`^${SECRET_SEGMENT}$`);
const DATA_KEY_BYTES = 32;
/** Most names one list answers (a prefix with more children answers the first ones). */
const LIST_LIMIT = 10_000;

export interface SecretsServiceDeps {
  door: Door;
  keys: KeyService;
  store: Store;
  clock: Clock;
  /** Told after every committed deletion of version data, so the store's files are erased (store/eraser.ts). */
  eraser: Pick<Eraser, "record" | "destroyed">;
}

type VersionInfo = Omit<SecretVersionRow, "wrappedKey" | "sealed">;

/** A version's structure (`subkeys`, values replaced by null) and the version's own metadata. */
export interface SecretSubkeysRead {
  path: string;
  version: number;
  subkeys: Subkeys;
  createdTime: string;
  customMetadata: Record<string, string>;
}

export class SecretsService {
  constructor(private readonly d: SecretsServiceDeps) {}

  put(ctx: CallContext, mount: string, path: string, req: PutSecretRequest): Promise<SecretVersionWritten> {
    return this.d.door.run(ctx, "secrets:Write", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      const json = Buffer.from(JSON.stringify(req.data), "utf8");
      try {
        if (json.length > MAX_SECRET_BYTES) throw new TesseraError("TooLarge", `a secret's data must be at most ${MAX_SECRET_BYTES} bytes of JSON`, { field: "/data" });
        const m = await this.mountForWrite(mount);
        const handle = await this.d.keys.resolve(m.keyId);
        const now = this.d.clock.now();
        let pruned = false;
        const written = await this.d.store.transaction(async (tx) => {
          pruned = false;
          const row = await tx.secrets.getPath(mount, p);
          const casRequired = row?.casRequired === true || m.casRequired;
          const current = row?.currentVersion ?? 0;
          if (req.cas === undefined && casRequired) throw new TesseraError("InvalidInput", `check-and-set is required for ${mount}/${p}: give cas`, { field: "/cas" });
          if (req.cas !== undefined && req.cas !== current) {
            throw new TesseraError("InvalidState", `check-and-set failed: the current version of ${mount}/${p} is ${current}, not ${req.cas}`, { field: "/cas" });
          }
          const version = current + 1;
          const sealed = this.seal(handle, mount, p, version, json);
          s.note(sealed.keyId, sealed.keyVersion);
          await tx.secrets.insertVersion({
            mount,
            path: p,
            version,
            createdAt: now,
            deletedAt: null,
            wrappedKey: sealed.wrappedKey,
            sealed: sealed.sealed,
            readCount: 0,
            lastReadAt: null,
            lastReader: null,
          });
          const keep = keptVersions(row, m);
          const oldest = Math.max(row?.oldestVersion || 1, version - keep + 1);
          if (row === undefined) {
            await tx.secrets.insertPath({ ...newPath(mount, p, now), currentVersion: version, oldestVersion: oldest });
          } else {
            if (!(await tx.secrets.updatePath({ ...row, currentVersion: version, oldestVersion: oldest, updatedAt: now }, current))) {
              throw new TesseraError("Conflict", `${mount}/${p} was written concurrently; retry`);
            }
            if (oldest > row.oldestVersion) pruned = (await tx.secrets.deleteVersionsBelow(mount, p, oldest)) > 0;
          }
          return { path: p, version, createdTime: iso(now), keyId: sealed.keyId, keyVersion: sealed.keyVersion };
        });
        // The oldest version went in passing: erased by the destroy job's next run, not once per write.
        if (pruned) await this.d.eraser.record();
        return written;
      } catch (err) {
        // Two first writes of a path race to insert it: the loser retries like any lost race.
        if (isTesseraError(err) && err.code === "AlreadyExists") throw new TesseraError("Conflict", `${mount}/${p} was written concurrently; retry`);
        throw err;
      } finally {
        zero(json);
      }
    });
  }

  get(ctx: CallContext, mount: string, path: string, version?: number): Promise<SecretVersionRead> {
    return this.d.door.run(ctx, "secrets:Read", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      const { row, v, m, n } = await this.readableVersion(mount, p, version);
      const data = await this.open(s, m, v);
      await this.d.store.secrets.recordRead(mount, p, n, this.d.clock.now(), s.principal.id);
      return { path: p, version: n, data, createdTime: iso(v.createdAt), customMetadata: row.customMetadata };
    });
  }

  metadata(ctx: CallContext, mount: string, path: string): Promise<SecretMetadata> {
    return this.d.door.run(ctx, "secrets:ReadMetadata", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      const row = await this.pathOrThrow(mount, p);
      const m = await this.d.store.secrets.getMount(mount);
      const versions = await this.d.store.secrets.listVersions(mount, p);
      return metadataOf(row, versions, m, this.d.clock.now());
    });
  }

  /**
   * A version's structure without its values (secret-subkeys.ts), for a caller allowed
   * secrets:ReadSubkeys — who need not be allowed secrets:Read. The version is opened here and its
   * values never leave this method; no read of them is recorded (the read count counts value reads).
   */
  subkeys(ctx: CallContext, mount: string, path: string, version: number | undefined, depth: number): Promise<SecretSubkeysRead> {
    return this.d.door.run(ctx, "secrets:ReadSubkeys", async (s) => {
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      if (!Number.isSafeInteger(depth) || depth < 0) throw new TesseraError("InvalidInput", "depth must be a non-negative integer", { field: "/depth" });
      const { row, v, m, n } = await this.readableVersion(mount, p, version);
      const data = await this.open(s, m, v);
      return { path: p, version: n, subkeys: subkeysOf(data, depth), createdTime: iso(v.createdAt), customMetadata: row.customMetadata };
    });
  }

  writeMetadata(ctx: CallContext, mount: string, path: string, req: WriteSecretMetadataRequest): Promise<SecretMetadata> {
    return this.d.door.run(ctx, "secrets:WriteMetadata", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      const now = this.d.clock.now();
      const m = await this.d.store.secrets.getMount(mount);
      let pruned = false;
      const row = await this.d.store.transaction(async (tx) => {
        pruned = false;
        const old = await tx.secrets.getPath(mount, p);
        const next: SecretPathRow = {
          ...(old ?? newPath(mount, p, now)),
          ...(req.maxVersions !== undefined && { maxVersions: req.maxVersions }),
          ...(req.casRequired !== undefined && { casRequired: req.casRequired }),
          ...(req.deleteVersionAfter !== undefined && { deleteVersionAfterSeconds: req.deleteVersionAfter }),
          ...(req.customMetadata !== undefined && { customMetadata: req.customMetadata }),
          updatedAt: now,
        };
        if (old === undefined) {
          await tx.secrets.insertPath(next);
          return next;
        }
        // Fewer versions kept: the oldest ones go now, as on the next write.
        const oldest = Math.max(old.oldestVersion, old.currentVersion - keptVersions(next, m ?? undefined) + 1);
        if (!(await tx.secrets.updatePath({ ...next, oldestVersion: oldest }, old.currentVersion))) {
          throw new TesseraError("Conflict", `${mount}/${p} was written concurrently; retry`);
        }
        if (oldest > old.oldestVersion) pruned = (await tx.secrets.deleteVersionsBelow(mount, p, oldest)) > 0;
        return { ...next, oldestVersion: oldest };
      });
      if (pruned) await this.d.eraser.destroyed();
      return metadataOf(row, await this.d.store.secrets.listVersions(mount, p), m, now);
    });
  }

  /** Destroys every version of the path and its metadata. */
  deleteMetadata(ctx: CallContext, mount: string, path: string): Promise<void> {
    return this.d.door.run(ctx, "secrets:Destroy", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      if (!(await this.d.store.secrets.deletePath(mount, p))) throw new TesseraError("NotFound", `no secret at ${mount}/${p}`);
      await this.d.eraser.destroyed();
    });
  }

  /** Soft delete: the versions (default: the current one) stop being readable until undeleted. */
  softDelete(ctx: CallContext, mount: string, path: string, versions: number[] | undefined): Promise<{ versions: number[] }> {
    return this.markDeleted(ctx, mount, path, versions, true);
  }

  undelete(ctx: CallContext, mount: string, path: string, versions: number[]): Promise<{ versions: number[] }> {
    return this.markDeleted(ctx, mount, path, versions, false);
  }

  private markDeleted(ctx: CallContext, mount: string, path: string, versions: number[] | undefined, deleted: boolean): Promise<{ versions: number[] }> {
    return this.d.door.run(ctx, "secrets:Delete", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      const row = await this.pathOrThrow(mount, p);
      const now = this.d.clock.now();
      const changed: number[] = [];
      for (const n of versions ?? [row.currentVersion]) {
        if (await this.d.store.secrets.setDeleted(mount, p, n, deleted ? now : null)) changed.push(n);
      }
      return { versions: changed };
    });
  }

  /** Destroys the versions' data for good; their metadata stays (destroyed: true). */
  destroy(ctx: CallContext, mount: string, path: string, versions: number[]): Promise<{ versions: number[] }> {
    return this.d.door.run(ctx, "secrets:Destroy", async (s) => {
      // Validated inside the door, so a malformed path is refused with an audit record like any other.
      const p = checkPath(path);
      await s.authorize(resources.secret(checkMount(mount), p));
      await this.pathOrThrow(mount, p);
      const changed: number[] = [];
      for (const n of versions) if (await this.d.store.secrets.destroyVersion(mount, p, n)) changed.push(n);
      if (changed.length > 0) await this.d.eraser.destroyed();
      return { versions: changed };
    });
  }

  /** Names directly under `prefix` (`""` = the mount's top level); a name ending in `/` has secrets below it. */
  list(ctx: CallContext, mount: string, prefix: string): Promise<ListSecretsResponse> {
    return this.d.door.run(ctx, "secrets:List", async (s) => {
      const dir = prefix === "" || prefix === "/" ? "" : `${checkPath(prefix.replace(/\/+$/, ""))}/`;
      await s.authorize(resources.secret(checkMount(mount), dir));
      const names = new Set<string>();
      for (const path of await this.d.store.secrets.listPaths(mount, dir, LIST_LIMIT)) {
        const rest = path.slice(dir.length);
        const slash = rest.indexOf("/");
        names.add(slash < 0 ? rest : rest.slice(0, slash + 1));
      }
      return { keys: [...names] };
    });
  }

  configureMount(ctx: CallContext, mount: string, req: ConfigureSecretMountRequest): Promise<SecretMountConfig> {
    return this.d.door.run(ctx, "secrets:ConfigureMount", async (s) => {
      await s.authorize(resources.secret(checkMount(mount)));
      let keyId: string | undefined;
      if (req.key !== undefined) {
        const handle = await s.resolveKey(req.key, "kms:GenerateDataKey");
        // Choosing the key means every later write asks it for data keys: the caller must be allowed to.
        await s.authorize(handle, { action: "kms:GenerateDataKey" });
        checkMountKey(handle);
        keyId = handle.row.id;
      }
      const old = await this.d.store.secrets.getMount(mount);
      const base = old ?? (await this.mountForWrite(mount, keyId));
      const next: SecretMountRow = {
        ...base,
        ...(keyId !== undefined && { keyId }),
        ...(req.maxVersions !== undefined && { maxVersions: req.maxVersions }),
        ...(req.casRequired !== undefined && { casRequired: req.casRequired }),
        ...(req.deleteVersionAfter !== undefined && { deleteVersionAfterSeconds: req.deleteVersionAfter }),
      };
      await this.d.store.secrets.updateMount(next);
      s.note(next.keyId);
      return this.mountConfig(next);
    });
  }

  readMount(ctx: CallContext, mount: string): Promise<SecretMountConfig> {
    return this.d.door.run(
      ctx,
      "secrets:ConfigureMount",
      async (s) => {
        await s.authorize(resources.secret(checkMount(mount)));
        const m = await this.d.store.secrets.getMount(mount);
        if (m === undefined) throw new TesseraError("NotFound", `no secrets mount ${mount} (it is created by its first write or configuration)`);
        return this.mountConfig(m);
      },
      { readOnly: true },
    );
  }

  // ── internals ────────────────────────────────────────────────────────────────────────────────

  private async mountConfig(m: SecretMountRow): Promise<SecretMountConfig> {
    const name = await this.d.keys.describe(m.keyId).then(
      (k) => k.name,
      () => m.keyId,
    );
    return {
      mount: m.mount,
      keyId: m.keyId,
      keyName: name,
      maxVersions: m.maxVersions || DEFAULT_MAX_SECRET_VERSIONS,
      casRequired: m.casRequired,
      deleteVersionAfter: m.deleteVersionAfterSeconds,
      createdTime: iso(m.createdAt),
    };
  }

  /**
   * The mount, created on first use with a key of its own (`tessera-secrets-MOUNT`, made by the
   * server as part of the authorised request; its creation is in that request's audit record).
   */
  private async mountForWrite(mount: string, keyId?: string): Promise<SecretMountRow> {
    const old = await this.d.store.secrets.getMount(mount);
    if (old !== undefined) return old;
    const id = keyId ?? (await this.mountKey(mount));
    const row: SecretMountRow = { mount, keyId: id, maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0, createdAt: this.d.clock.now() };
    try {
      await this.d.store.secrets.insertMount(row);
      return row;
    } catch (err) {
      if (isTesseraError(err) && err.code === "AlreadyExists") return (await this.d.store.secrets.getMount(mount))!;
      throw err;
    }
  }

  /**
   * A new key for a new mount. Never an existing key found by name: whoever could create a key of
   * that name first would otherwise choose the key a mount's secrets depend on. A name already taken
   * with no mount using it (a crash between the two steps, or someone else's key) is refused; a
   * concurrent first write that got there first is a retryable Conflict.
   */
  private async mountKey(mount: string): Promise<string> {
    const name = `tessera-secrets-${mount}`;
    try {
      return (await this.d.keys.create({ name, description: `Wraps the data keys of secrets mount ${mount} (docs/secrets.md)` })).keyId;
    } catch (err) {
      if (!isTesseraError(err) || err.code !== "AlreadyExists") throw err;
      if ((await this.d.store.secrets.getMount(mount)) !== undefined) throw new TesseraError("Conflict", `secrets mount ${mount} was created concurrently; retry`);
      throw new TesseraError(
        "InvalidState",
        `a key named ${name} exists but is not the key of secrets mount ${mount}; choose the mount's key explicitly: tessera secret mount ${mount} --key KEY`,
      );
    }
  }

  /** Version `version` (0 or absent: the current one) of a path, refused when missing, destroyed or deleted. */
  private async readableVersion(mount: string, p: string, version: number | undefined) {
    const row = await this.pathOrThrow(mount, p);
    const n = version === undefined || version === 0 ? row.currentVersion : version;
    const v = n === 0 ? undefined : await this.d.store.secrets.getVersion(mount, p, n);
    if (v === undefined) throw new TesseraError("NotFound", `${mount}/${p} has no version ${n}`);
    const m = await this.d.store.secrets.getMount(mount);
    if (v.wrappedKey === null || v.sealed === null) throw new TesseraError("Destroyed", `version ${n} of ${mount}/${p} has been destroyed`);
    const deletedAt = deletedTime(v, row, m, this.d.clock.now());
    if (deletedAt !== null) throw new TesseraError("NotFound", `version ${n} of ${mount}/${p} was deleted at ${iso(deletedAt)}`);
    return { row, m, n, v: { ...v, wrappedKey: v.wrappedKey, sealed: v.sealed } };
  }

  private async pathOrThrow(mount: string, path: string): Promise<SecretPathRow> {
    const row = await this.d.store.secrets.getPath(mount, path);
    if (row === undefined) throw new TesseraError("NotFound", `no secret at ${mount}/${path}`);
    return row;
  }

  private seal(handle: KeyHandle, mount: string, path: string, version: number, json: Buffer) {
    const dataKey = secretBytes(DATA_KEY_BYTES);
    try {
      const wrapped = this.d.keys.encrypt(handle, dataKey, wrapContext(mount, path));
      const { nonce, sealed } = aesGcmSeal(dataKey, json, aad(mount, path, version));
      return { keyId: wrapped.keyId, keyVersion: wrapped.keyVersion, wrappedKey: Buffer.from(wrapped.ciphertext), sealed: Buffer.concat([nonce, sealed]) };
    } finally {
      zero(dataKey);
    }
  }

  /** Unwraps the version's data key (re-wrapping it under the mount key's primary when older) and opens the document. */
  private async open(s: Scope, m: SecretMountRow | undefined, v: SecretVersionRow & { wrappedKey: Buffer; sealed: Buffer }): Promise<SecretData> {
    const { parsed, handle } = await this.d.keys.resolveCiphertext(v.wrappedKey);
    const context = wrapContext(v.mount, v.path);
    const unwrapped = this.d.keys.decrypt(handle, parsed, context);
    const dataKey = unwrapped.plaintext;
    try {
      s.note(unwrapped.keyId, unwrapped.keyVersion);
      let plain: Buffer;
      try {
        plain = aesGcmOpen(dataKey, v.sealed.subarray(0, GCM_NONCE_LENGTH), v.sealed.subarray(GCM_NONCE_LENGTH), aad(v.mount, v.path, v.version));
      } catch {
        throw new TesseraError("Internal", `the stored data of ${v.mount}/${v.path} version ${v.version} does not authenticate`);
      }
      try {
        await this.rewrapIfOld(m, v, unwrapped.keyId, unwrapped.keyVersion, dataKey);
        return JSON.parse(plain.toString("utf8")) as SecretData;
      } finally {
        zero(plain);
      }
    } finally {
      zero(dataKey);
    }
  }

  private async rewrapIfOld(m: SecretMountRow | undefined, v: SecretVersionRow & { wrappedKey: Buffer }, keyId: string, keyVersion: number, dataKey: Buffer): Promise<void> {
    if (m === undefined) return;
    const target = await this.d.keys.resolve(m.keyId).catch(() => undefined);
    if (target === undefined || (target.row.id === keyId && target.row.primaryVersion === keyVersion)) return;
    try {
      const wrapped = this.d.keys.encrypt(target, dataKey, wrapContext(v.mount, v.path));
      await this.d.store.secrets.rewrapKey(v.mount, v.path, v.version, v.wrappedKey, Buffer.from(wrapped.ciphertext));
    } catch (err) {
      // The read itself succeeded; a mount key that cannot encrypt now (disabled) leaves the old wrap in place.
      if (!isTesseraError(err)) throw err;
    }
  }
}

function checkMount(mount: string): string {
  if (!SEGMENT.test(mount) || mount === "." || mount === ".." || mount.length > 64) {
    throw new TesseraError("InvalidInput", `"${mount}" is not a secrets mount name (letters, digits and . _ @ = + -)`, { field: "/mount" });
  }
  return mount;
}

/** A secret path: `/`-separated segments, no empty, `.` or `..` segment, at most MAX_SECRET_PATH characters. */
export function checkPath(path: string): string {
  const segments = path.split("/");
  if (path.length === 0 || path.length > MAX_SECRET_PATH || segments.some((x) => !SEGMENT.test(x) || x === "." || x === "..")) {
    throw new TesseraError("InvalidInput", `"${path.slice(0, 80)}" is not a secret path (segments of letters, digits and . _ @ = + - separated by /)`, { field: "/path" });
  }
  return path;
}

function checkMountKey(handle: KeyHandle): void {
  if (handle.row.keySpec !== "SYMMETRIC_DEFAULT" || handle.row.keyUsage !== "ENCRYPT_DECRYPT") {
    throw new TesseraError("InvalidKeyUsage", `a secrets mount needs a SYMMETRIC_DEFAULT ENCRYPT_DECRYPT key; ${handle.row.name} is ${handle.row.keySpec}`, { field: "/key" });
  }
}

const wrapContext = (mount: string, path: string) => ({ "tessera:secret": `${mount}/${path}` });
const aad = (mount: string, path: string, version: number) => Buffer.from(`tessera-secret-v1\0${mount}\0${path}\0${version}`, "utf8");

function newPath(mount: string, path: string, now: number): SecretPathRow {
  return { mount, path, currentVersion: 0, oldestVersion: 1, maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0, customMetadata: {}, createdAt: now, updatedAt: now };
}

function keptVersions(row: SecretPathRow | undefined, m: SecretMountRow | undefined): number {
  return row?.maxVersions || m?.maxVersions || DEFAULT_MAX_SECRET_VERSIONS;
}

/** When a version stopped being readable: soft-deleted, or older than the path's (else the mount's) delete-after. */
function deletedTime(v: VersionInfo, row: SecretPathRow, m: SecretMountRow | undefined, now: number): number | null {
  if (v.deletedAt !== null) return v.deletedAt;
  const after = row.deleteVersionAfterSeconds || m?.deleteVersionAfterSeconds || 0;
  if (after === 0) return null;
  const at = v.createdAt + after * 1000;
  return at <= now ? at : null;
}

function metadataOf(row: SecretPathRow, versions: SecretVersionInfo[], m: SecretMountRow | undefined, now: number): SecretMetadata {
  return {
    mount: row.mount,
    path: row.path,
    createdTime: iso(row.createdAt),
    updatedTime: iso(row.updatedAt),
    currentVersion: row.currentVersion,
    oldestVersion: row.oldestVersion,
    maxVersions: row.maxVersions,
    casRequired: row.casRequired,
    deleteVersionAfter: row.deleteVersionAfterSeconds,
    customMetadata: row.customMetadata,
    versions: versions.map((v) => ({
      version: v.version,
      createdTime: iso(v.createdAt),
      deletedTime: isoOrNull(deletedTime(v, row, m, now)),
      destroyed: v.destroyed,
      readCount: v.readCount,
      lastReadTime: isoOrNull(v.lastReadAt),
      lastReader: v.lastReader,
    })),
  };
}
