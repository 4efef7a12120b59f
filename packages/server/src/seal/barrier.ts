/**
 * The barrier: holds the root keys while unsealed and nothing while sealed. Everything that needs key
 * material seals and opens its records through the barrier's root ring and gets `Sealed` otherwise.
 * Listeners hear when the barrier seals so caches of decrypted material can be zeroed.
 *
 * It also owns every change of the stored seal record — init, unseal upgrades, rekey, root rotation,
 * seal migration, restore — each a compare-and-set of `meta.seal`, so two writers never interleave.
 */
import { TESSERA_VERSION, TesseraError, type SealStatus } from "@tessera/protocol";
import { hash } from "node:crypto";
import { equalBytes, zero } from "../crypto/index.js";
import type { MetaRepo, Repositories, Store } from "../store/index.js";
import { newRootKey, ROOT_KEY_LENGTH, RootRing, type RootKey } from "./root-ring.js";
import type { InitOptions, Opened, Seal, SealRecord } from "./seal.js";
import { createEscrow, escrowKeysVouched, zeroEscrowKeys, type EscrowKeys, type EscrowRecord } from "./share-escrow.js";
import { openWithShares, quorumOf } from "./shamir-seal.js";
import { ShareCollector } from "./shares.js";
import type { SealedData } from "./sealed-data.js";

export const SEAL_META = "seal";

/**
 * A rotation's new root in the seal record, sealed under the root it replaces: other nodes on the
 * database hold that root and take the new one from here (`storedRecordChanged`). Only a holder of
 * the old root can have written it; the AAD binds the key to the id the record gives it.
 */
interface RootHandover {
  root: string;
  sealed: string;
}

/** What `storedRecordChanged` did, or why it could not follow, for the node's log. */
export interface RecordChangeNote {
  level: "info" | "warn";
  message: string;
}

const handoverAad = (id: string): Buffer => Buffer.from(`tessera/root-handover/v1|id=${id}`, "utf8");

/**
 * A rekey's new escrow MAC key in the seal record, sealed under the current root: other unsealed nodes
 * of the database (which hold the root, not the new shares) take it to keep vouching for the record.
 * The AAD binds it to the escrow's public key.
 */
const escrowHandoverAad = (escrow: EscrowRecord): Buffer => Buffer.from(`tessera/escrow-handover/v1|publicKey=${hash("sha256", escrow.publicKey)}`, "utf8");

export class Barrier {
  private stored: SealRecord | undefined;
  private ringOpen: RootRing | undefined;
  /** The escrow's verified public key and MAC key while unsealed (zeroed on seal). */
  private escrowKey: EscrowKeys | undefined;
  private problem: string | null = null;
  private readonly migrationShares = new ShareCollector();
  private readonly sealListeners: (() => void)[] = [];
  private readonly unsealListeners: (() => void)[] = [];
  private readonly unsealChecks: ((ring: RootRing) => Promise<void>)[] = [];
  private readonly sealed_: SealedData[] = [];

  constructor(
    private readonly store: Pick<Store, "meta" | "transaction">,
    private readonly seal: Seal,
    /**
     * Other nodes share the database (PostgreSQL): rotations and rekeys write handovers for them
     * (`storedRecordChanged`). Off for a store only this server opens, whose workers are told over IPC:
     * a handover is the new root readable with the old one, written only where a node needs it.
     */
    private readonly options: { handOverToOtherNodes?: boolean } = {},
  ) {}

  /** Reads the stored seal record; call once at start (and after a restore replaced it). */
  async load(): Promise<void> {
    this.stored = await this.store.meta.get<SealRecord>(SEAL_META);
    if (this.stored !== undefined && this.stored.type !== this.seal.type && !["shamir", "pkcs11"].includes(this.stored.type)) {
      throw new Error(`storage was initialised with the "${this.stored.type}" seal, which this Tessera cannot open`);
    }
  }

  /**
   * Re-reads the seal configuration when this node has none yet: another node sharing the database
   * initialised it. An unsealed barrier keeps its record; a sealed one re-reads it at every unseal.
   */
  async refresh(): Promise<void> {
    if (this.record === undefined) await this.load();
  }

  get initialized(): boolean {
    return this.stored !== undefined;
  }

  get sealed(): boolean {
    return this.ringOpen === undefined;
  }

  /** The configured seal. */
  get sealProvider(): Seal {
    return this.seal;
  }

  /** The stored record (undefined before init). */
  get record(): SealRecord | undefined {
    return this.stored;
  }

  /** The stored seal type differs from the configured one: unseal with `migrate` moves it over. */
  get migration(): { from: string; to: string } | undefined {
    return this.stored !== undefined && this.stored.type !== this.seal.type ? { from: this.stored.type, to: this.seal.type } : undefined;
  }

  onSeal(listener: () => void): void {
    this.sealListeners.push(listener);
  }

  onUnseal(listener: () => void): void {
    this.unsealListeners.push(listener);
  }

  /**
   * A check that runs with the reconstructed roots before the barrier opens: if it throws, the
   * roots are zeroed, the barrier stays sealed and the unseal fails with that error.
   */
  addUnsealCheck(check: (ring: RootRing) => Promise<void>): void {
    this.unsealChecks.push(check);
  }

  /** Registers stored data sealed under the root, for root rotation to re-seal (sealed-data.ts). */
  registerSealedData(data: SealedData): void {
    this.sealed_.push(data);
  }

  sealedData(): readonly SealedData[] {
    return this.sealed_;
  }

  /** Why an automatic unseal has not succeeded (null when nothing is wrong); shown in status and logs. */
  reportProblem(message: string | null): void {
    this.problem = message;
  }

  /** Progress is the seal's own count of held shares, so every caller sees shares still pending. */
  status(): SealStatus {
    const q = this.stored === undefined ? { threshold: 0, shares: 0 } : quorumOf(this.stored);
    const migration = this.migration;
    return {
      initialized: this.initialized,
      sealed: this.sealed,
      sealType: this.stored?.type ?? null,
      threshold: q.threshold,
      shares: q.shares,
      progress: this.sealed ? (migration ? this.migrationShares.count : this.seal.pending()) : 0,
      version: TESSERA_VERSION,
      recoveryShares: (this.stored?.type ?? this.seal.type) === "pkcs11",
      ...(this.sealed && this.problem !== null && { error: this.problem }),
      ...(migration && { migration }),
      ...(this.ringOpen !== undefined && this.ringOpen.all().length > 1 && { rootRotation: true }),
    };
  }

  /**
   * Initialises storage: a fresh root protected by the seal, plus whatever `alsoWrite` stores (the
   * root token) in the same transaction. Leaves the barrier sealed. Returns the seal's secrets.
   */
  async initialize(options: InitOptions, alsoWrite: (tx: Repositories) => Promise<void>): Promise<string[]> {
    const root = newRootKey();
    try {
      const { record, secrets } = await this.seal.protect([root], options);
      await this.store.transaction(async (tx) => {
        if ((await tx.meta.get(SEAL_META)) !== undefined) throw new TesseraError("InvalidState", "Tessera is already initialised");
        await tx.meta.put(SEAL_META, record);
        await alsoWrite(tx);
      });
      this.stored = record;
      return secrets;
    } finally {
      zero(root.key);
    }
  }

  /** Adds one unseal share (Shamir) or recovery share (PKCS#11); unseals once the seal has enough. */
  async unseal(input: string | undefined): Promise<SealStatus> {
    this.requireRecord();
    if (!this.sealed) return this.status();
    // Shares are checked against the record as stored now, not as this process first read it: another
    // node may have rekeyed (the old shares must stop opening it here too) or rotated the root since.
    await this.load();
    const record = this.requireRecord();
    if (this.migration !== undefined) {
      throw new TesseraError("InvalidState", `storage is sealed with the ${this.migration.from} seal and the server is configured for ${this.migration.to}: unseal with migrate (tessera operator unseal --migrate)`);
    }
    const result = await this.seal.submit(record, input);
    if (result.opened !== undefined) await this.adopt(result.opened, record);
    return this.status();
  }

  /**
   * Seal migration: a quorum of the stored record's shares (unseal shares, or recovery shares)
   * opens its roots, the configured seal protects them (the same shares stay: unseal shares become
   * recovery shares and back), and the node unseals.
   */
  async unsealMigrating(input: string): Promise<SealStatus> {
    const record = this.requireRecord();
    if (this.migration === undefined) throw new TesseraError("InvalidState", `storage already uses the ${this.seal.type} seal; nothing to migrate`);
    if (!this.sealed) return this.status();
    const { threshold } = quorumOf(record);
    const shared = await this.migrationShares.add(input, threshold);
    if (shared === undefined) return this.status();
    try {
      await this.migrateWith(record, shared);
    } catch (err) {
      // Migrated meanwhile by a sibling worker (or another node) with these same shares, which stay the
      // shares of the migrated record: open what it stored, as an unseal would.
      const current = err instanceof TesseraError && err.code === "Conflict" ? await this.store.meta.get<SealRecord>(SEAL_META) : undefined;
      if (current === undefined || current.type !== this.seal.type) throw err;
      this.stored = current;
      await this.adopt(await openWithShares(current, shared), current);
    } finally {
      zero(shared);
    }
    return this.status();
  }

  private async migrateWith(record: SealRecord, shared: Uint8Array): Promise<void> {
    const opened = await openWithShares(record, shared);
    try {
      opened.replacement = await this.seal.reprotect(opened.roots, opened.escrow, opened.escrowKey);
    } catch (err) {
      for (const r of opened.roots) zero(r.key);
      zeroEscrowKeys(opened.escrowKey);
      throw err;
    }
    await this.adopt(opened, record);
  }

  /** Auto seals: asks the seal to open the stored record by itself (the HSM). Throws what it met. */
  async autoOpen(): Promise<Opened> {
    const record = this.requireRecord();
    if (!this.seal.auto) throw new TesseraError("InvalidState", "the configured seal needs shares");
    if (this.migration !== undefined) throw new TesseraError("InvalidState", `storage is sealed with the ${this.migration.from} seal: migrate with tessera operator unseal --migrate`);
    const result = await this.seal.submit(record, undefined);
    if (result.opened === undefined) throw new TesseraError("Internal", "the seal did not open");
    return result.opened;
  }

  /**
   * Opens the barrier with roots a seal produced for `from` (the record they were opened from):
   * runs the unseal checks, stores a replacement record if the seal made one, then tells listeners.
   */
  async adopt(opened: Opened, from: SealRecord = this.requireRecord()): Promise<void> {
    const ring = new RootRing(opened.roots);
    try {
      if (!this.sealed) throw new TesseraError("InvalidState", "already unsealed");
      for (const check of this.unsealChecks) await check(ring);
      if (opened.replacement !== undefined) await this.compareAndSet(from, opened.replacement);
      if (!this.sealed) throw new TesseraError("InvalidState", "already unsealed");
    } catch (err) {
      ring.zero();
      zeroEscrowKeys(opened.escrowKey);
      this.seal.reset();
      this.migrationShares.reset();
      if (err instanceof TesseraError && err.message === "already unsealed") return;
      throw err;
    }
    this.ringOpen = ring;
    this.escrowKey = opened.escrowKey;
    this.problem = null;
    for (const l of this.unsealListeners) l();
  }

  resetUnseal(): SealStatus {
    this.seal.reset();
    this.migrationShares.reset();
    return this.status();
  }

  /** Forgets the roots (zeroed) and tells listeners to drop decrypted material. */
  sealNow(): void {
    this.seal.reset();
    this.migrationShares.reset();
    if (this.ringOpen === undefined) return;
    this.ringOpen.zero();
    this.ringOpen = undefined;
    zeroEscrowKeys(this.escrowKey);
    this.escrowKey = undefined;
    for (const l of this.sealListeners) l();
  }

  /** The root ring, or `Sealed` / `NotInitialized`. Callers must not keep it across awaits that may seal. */
  ring(): RootRing {
    if (this.ringOpen !== undefined) return this.ringOpen;
    throw new TesseraError(this.initialized ? "Sealed" : "NotInitialized");
  }

  /** Throws unless unsealed. */
  assertUnsealed(): void {
    this.ring();
  }

  /** Seals a secret under the current root. */
  sealSecret(secret: Uint8Array, aad: Uint8Array): Buffer {
    return this.ring().seal(secret, aad);
  }

  /** Opens a record sealed under any root the node holds. */
  openSecret(record: Uint8Array, aad: Uint8Array): Buffer {
    return this.ring().open(record, aad);
  }

  // ── changes of the record while unsealed ────────────────────────────────────────────────────

  /**
   * New shares for the same roots (rekey): the old shares stop opening the stored record. Also a
   * copy of the new escrow's MAC key (the caller zeroes it), for sibling workers (`rekeyedElsewhere`).
   */
  async rekey(options: InitOptions): Promise<{ shares: string[]; macKey: Buffer }> {
    const ring = this.ring();
    const from = this.requireRecord();
    const { escrow, secrets, escrowKey } = await createEscrow(ring.all(), options.shares, options.threshold);
    try {
      const next = {
        ...(await this.seal.reprotect(ring.all(), escrow, escrowKey)),
        ...(this.options.handOverToOtherNodes === true && { escrowHandover: ring.seal(escrowKey.macKey, escrowHandoverAad(escrow)).toString("base64") }),
      };
      await this.compareAndSet(from, next);
    } catch (err) {
      zeroEscrowKeys(escrowKey);
      throw err;
    }
    const macKey = Buffer.from(escrowKey.macKey);
    // The new shares are in force once stored: always hand them out. A node sealed meanwhile keeps no escrow keys.
    if (this.ringOpen !== ring) {
      zeroEscrowKeys(escrowKey);
      return { shares: secrets, macKey };
    }
    zeroEscrowKeys(this.escrowKey);
    this.escrowKey = escrowKey;
    return { shares: secrets, macKey };
  }

  /**
   * Another worker of this server rekeyed (same roots, new escrow): read the stored record again and,
   * while unsealed, take the new escrow's MAC key it relayed — only if that key checks the stored
   * escrow's MAC (which covers its public key), else `InvalidUnsealKey` and nothing changes. Zeroes
   * `macKey` unless kept.
   */
  async rekeyedElsewhere(macKey: Buffer): Promise<void> {
    const record = await this.store.meta.get<SealRecord>(SEAL_META);
    if (record === undefined || this.sealed) {
      zero(macKey);
      if (record !== undefined) this.stored = record;
      return;
    }
    let keys: EscrowKeys;
    try {
      keys = escrowKeysVouched(this.escrowOf(record), macKey);
    } catch (err) {
      zero(macKey);
      throw err;
    }
    zeroEscrowKeys(this.escrowKey);
    this.escrowKey = keys;
    this.stored = record;
  }

  /**
   * Root rotation, step 1: a new root joins the ring (and the record) as current; everything sealed
   * from now on uses it, and records under the old root still open. Resumable: if a rotation is
   * already under way, nothing changes.
   */
  async beginRotation(): Promise<{ from: string; to: string }> {
    const ring = this.ring();
    if (ring.all().length > 1) return { from: ring.all()[0]!.id, to: ring.current.id };
    const root = newRootKey();
    const next = new RootRing([...ring.all(), root]);
    try {
      // Other nodes on this database hold the old root only: they take the new one from the handover.
      const handover: RootHandover | undefined = this.options.handOverToOtherNodes === true ? { root: root.id, sealed: ring.seal(root.key, handoverAad(root.id)).toString("base64") } : undefined;
      await this.rewrite(next.all(), handover === undefined ? {} : { handover });
      // Sealed while the record was written: the record holds both roots (the next unseal resumes the
      // rotation), but this node must stay sealed — never re-open with a ring whose old root is zeroed.
      if (this.ringOpen === undefined) throw new TesseraError("Sealed");
    } catch (err) {
      zero(root.key);
      throw err;
    }
    if (this.ringOpen !== ring) {
      // The change feed told this node of its own record first (storedRecordChanged took the root from
      // the handover): the ring holds the new root already.
      zero(root.key);
      if (this.ringOpen.current.id !== root.id) throw new TesseraError("Sealed");
      return { from: ring.current.id, to: root.id };
    }
    this.ringOpen = next;
    return { from: ring.current.id, to: root.id };
  }

  /**
   * Root rotation, last step: the record keeps only the current root, in the same transaction as
   * `verify` (which must re-seal whatever still is under an older root); the older root is zeroed.
   * Finished meanwhile by a sibling worker (the record changed and now holds only this current root,
   * authenticated): this node drops the older root as `rootDroppedElsewhere` would.
   */
  async finishRotation(verify: (tx: Repositories, ring: RootRing) => Promise<void>): Promise<string> {
    const ring = this.ring();
    if (ring.all().length === 1) return ring.current.id;
    const keep = new RootRing([ring.current]);
    const from = this.requireRecord();
    const next = await this.seal.reprotect(keep.all(), this.escrowOf(from), this.requireEscrowKey());
    try {
      await this.store.transaction(async (tx) => {
        await verify(tx, ring);
        await this.casIn(tx.meta, from, next);
      });
    } catch (err) {
      if (!(err instanceof TesseraError && err.code === "Conflict")) throw err;
      await this.rootDroppedElsewhere(ring.current.id).catch(() => {
        throw err;
      });
      if (this.sealed) throw new TesseraError("Sealed");
      return ring.current.id;
    }
    this.stored = next;
    // Sealed during the transaction: every root is zeroed already; stay sealed (the rotation is complete in storage).
    if (this.ringOpen === undefined) throw new TesseraError("Sealed");
    if (this.ringOpen !== ring) {
      // The change feed told this node of its own record first: storedRecordChanged dropped the older roots.
      if (this.ringOpen.ids.join(",") !== keep.ids.join(",")) throw new TesseraError("Sealed");
      return keep.current.id;
    }
    const dropped = ring.all().slice(0, -1);
    this.ringOpen = keep;
    for (const r of dropped) zero(r.key);
    return keep.current.id;
  }

  /**
   * Another worker of this server began a root rotation (step 1): `root` joins this node's ring as
   * current — only if the stored record (re-read) authenticates with this node's escrow keys and
   * escrows exactly this ring's roots followed by `root`'s id; else `InvalidState` and nothing
   * changes. A root this ring holds already (a resumed rotation told again) must be the same key.
   * Sealed: only the record is re-read. `root.key` is always zeroed (the ring keeps a copy).
   */
  async rootAddedElsewhere(root: RootKey): Promise<void> {
    try {
      const record = await this.reread();
      const ring = this.ringOpen;
      if (record === undefined || ring === undefined) return;
      const held = ring.all().find((r) => r.id === root.id);
      if (held !== undefined) {
        if (!equalBytes(held.key, root.key)) throw new TesseraError("InvalidState", `root ${root.id} differs from the one this worker holds`);
        return;
      }
      const ids = this.vouchedRootIds(record);
      const expected = [...ring.ids, root.id];
      if (root.key.length !== ROOT_KEY_LENGTH || ids.join(",") !== expected.join(",")) {
        throw new TesseraError("InvalidState", `the stored seal record escrows [${ids.join(", ")}], not [${expected.join(", ")}]: root ${root.id} refused`);
      }
      this.ringOpen = new RootRing([...ring.all(), { id: root.id, key: Buffer.from(root.key) }]);
    } finally {
      zero(root.key);
    }
  }

  /**
   * Another worker of this server finished a root rotation (step 3): this node keeps only root
   * `keep` and zeroes the older ones — only if `keep` is its current root and the stored record
   * (re-read) authenticates with its escrow keys, escrows `keep` and none of the older ones (a next
   * rotation may have added a newer root already); else `InvalidState`.
   */
  async rootDroppedElsewhere(keep: string): Promise<void> {
    const record = await this.reread();
    const ring = this.ringOpen;
    if (record === undefined || ring === undefined || (ring.all().length === 1 && ring.current.id === keep)) return;
    const ids = this.vouchedRootIds(record);
    const dropped = ring.all().slice(0, -1);
    if (ring.current.id !== keep || !ids.includes(keep) || dropped.some((r) => ids.includes(r.id))) {
      throw new TesseraError("InvalidState", `the stored seal record escrows [${ids.join(", ")}] and this worker's current root is ${ring.current.id}: dropping all but ${keep} refused`);
    }
    this.ringOpen = new RootRing([ring.current]);
    for (const r of dropped) zero(r.key);
  }

  /**
   * The change feed says the stored seal record changed, maybe on another node of this database. A
   * node without a record loads it (another node initialised the database); a sealed node re-reads it
   * at its next unseal. An unsealed node follows a root rotation made elsewhere, checking the record
   * with its own escrow keys first:
   * - step 1 (the record escrows this ring's roots and one more, with a handover for it): the new root,
   *   opened from the handover under a root this node holds, joins the ring as current;
   * - step 3 (the record escrows this ring's current root and none of the older ones): the older
   *   roots are dropped and zeroed.
   * The node keeps the record only when its ring then holds exactly the roots the record escrows.
   * A record its escrow keys do not check (re-keyed on another node) is taken with the new escrow MAC
   * key handed over in it, under the root (`takeEscrowHandover`). Anything else — an escrow neither
   * checks, a handover it cannot open — changes nothing here: the node keeps the record it knew (so a
   * change it would make fails `Conflict` rather than writing an escrow it cannot vouch for) and the
   * returned warning says to seal and unseal it. What it took or dropped comes back as an `info` note,
   * for the node's log (the change itself is audited on the node that made it).
   */
  async storedRecordChanged(): Promise<RecordChangeNote | undefined> {
    if (this.stored === undefined) {
      await this.load();
      return undefined;
    }
    // A store only this server opens: its workers are told of rotations and rekeys over IPC.
    if (this.options.handOverToOtherNodes !== true) return undefined;
    const ring = this.ringOpen;
    if (ring === undefined) return undefined;
    const record = await this.store.meta.get<SealRecord>(SEAL_META);
    // Sealed while the record was read: stay sealed. (Nothing below awaits: the ring cannot change under it.)
    if (record === undefined || this.ringOpen !== ring || JSON.stringify(record) === JSON.stringify(this.stored)) return undefined;
    const follow = "seal and unseal this node to take the stored seal record";
    const warn = (message: string): RecordChangeNote => ({ level: "warn", message: `${message}: ${follow}` });
    const took: string[] = [];
    let ids: string[];
    try {
      ids = this.vouchedRootIds(record);
    } catch {
      // Re-keyed elsewhere: the new escrow's MAC key is handed over under the root.
      if (!this.takeEscrowHandover(record, ring)) return warn("the seal record was changed elsewhere with shares this node's escrow keys do not check, and no escrow key it can open came with it");
      took.push("took the new escrow's MAC key (a rekey)");
      ids = this.vouchedRootIds(record);
    }
    let next = ring;
    const handover = record["handover"] as RootHandover | undefined;
    if (handover !== undefined && !ring.ids.includes(handover.root) && ids.join(",") === [...ring.ids, handover.root].join(",")) {
      let key: Buffer;
      try {
        key = ring.open(Buffer.from(handover.sealed, "base64"), handoverAad(handover.root));
      } catch {
        return warn(`the root rotation begun elsewhere hands over root ${handover.root} sealed under no root this node holds`);
      }
      if (key.length !== ROOT_KEY_LENGTH) {
        zero(key);
        return warn(`the root handed over for ${handover.root} is not a root key`);
      }
      next = new RootRing([...ring.all(), { id: handover.root, key }]);
      took.push(`took root ${handover.root}, current from now on (a root rotation)`);
    } else if (ring.all().length > 1 && ids.includes(ring.current.id) && ring.all().slice(0, -1).every((r) => !ids.includes(r.id))) {
      next = new RootRing([ring.current]);
      took.push(`dropped root(s) ${ring.ids.slice(0, -1).join(", ")} (the root rotation finished)`);
    }
    if (next.ids.join(",") !== ids.join(",")) {
      if (next !== ring && next.current !== ring.current) zero(next.current.key);
      return warn(`the stored seal record escrows roots [${ids.join(", ")}] and this node holds [${ring.ids.join(", ")}]`);
    }
    if (next !== ring) {
      this.ringOpen = next;
      if (next.all().length < ring.all().length) for (const r of ring.all().slice(0, -1)) zero(r.key);
    }
    this.stored = record;
    return took.length === 0 ? undefined : { level: "info", message: `followed the seal record changed on another node: ${took.join("; ")}` };
  }

  /**
   * A rekey made elsewhere: takes the new escrow MAC key from the record's handover (sealed under a
   * root `ring` holds) if it checks the record's escrow; false, and nothing changes, otherwise.
   */
  private takeEscrowHandover(record: SealRecord, ring: RootRing): boolean {
    const sealed = record["escrowHandover"];
    if (typeof sealed !== "string") return false;
    let macKey: Buffer;
    try {
      macKey = ring.open(Buffer.from(sealed, "base64"), escrowHandoverAad(this.escrowOf(record)));
    } catch {
      return false;
    }
    let keys: EscrowKeys;
    try {
      keys = escrowKeysVouched(this.escrowOf(record), macKey);
    } catch {
      zero(macKey);
      return false;
    }
    zeroEscrowKeys(this.escrowKey);
    this.escrowKey = keys;
    return true;
  }

  /** Reads the stored record again (a sibling worker changed it) and keeps it; undefined before init. */
  private async reread(): Promise<SealRecord | undefined> {
    const record = await this.store.meta.get<SealRecord>(SEAL_META);
    if (record !== undefined) this.stored = record;
    return record;
  }

  /** The ids of the roots `record` escrows, once its escrow authenticates with this node's escrow keys (same public key, MAC checks). */
  private vouchedRootIds(record: SealRecord): string[] {
    const mine = this.requireEscrowKey();
    const escrow = this.escrowOf(record);
    const keys = escrowKeysVouched(escrow, mine.macKey);
    if (!equalBytes(keys.publicKey, mine.publicKey)) throw new TesseraError("InvalidState", "the stored escrow's public key is not this worker's");
    return escrow.roots.map((r) => r.id);
  }

  /**
   * Replaces the stored record and opens the barrier with `opened` (restore): the caller wrote the
   * rest of the state; listeners hear a seal first so every cache drops what it held.
   */
  async replaced(record: SealRecord, opened: Opened): Promise<void> {
    this.sealNow();
    this.stored = record;
    await this.adopt(opened, record);
  }

  escrowOf(record: SealRecord): EscrowRecord {
    const e = record["escrow"] as EscrowRecord | undefined;
    if (e === undefined) throw new TesseraError("Internal", "a seal record without an escrow");
    return e;
  }

  private async rewrite(roots: readonly RootKey[], extra: Record<string, unknown> = {}): Promise<void> {
    const from = this.requireRecord();
    const next = { ...(await this.seal.reprotect(roots, this.escrowOf(from), this.requireEscrowKey())), ...extra };
    await this.compareAndSet(from, next);
  }

  private requireEscrowKey(): EscrowKeys {
    if (this.escrowKey === undefined) throw new TesseraError(this.initialized ? "Sealed" : "NotInitialized");
    return this.escrowKey;
  }

  private requireRecord(): SealRecord {
    if (this.stored === undefined) throw new TesseraError("NotInitialized");
    return this.stored;
  }

  private async compareAndSet(from: SealRecord, next: SealRecord): Promise<void> {
    await this.store.transaction(async (tx) => this.casIn(tx.meta, from, next));
    this.stored = next;
  }

  private async casIn(meta: MetaRepo, from: SealRecord, next: SealRecord): Promise<void> {
    const current = await meta.get<SealRecord>(SEAL_META);
    if (JSON.stringify(current) !== JSON.stringify(from)) throw new TesseraError("Conflict", "the seal record changed concurrently; retry");
    await meta.put(SEAL_META, next);
  }
}
