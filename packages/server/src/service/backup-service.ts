/**
 * `tessera operator backup` and `restore`, and scheduled backups.
 *
 * A backup is a consistent snapshot of all state (the store's read view; the server keeps serving),
 * written as format/backup-file.ts: sealed records stay sealed (never plaintext key material), and
 * the whole is encrypted and authenticated under a fresh backup key sealed under the root — so it
 * restores only with the root of trust (a quorum of shares, or the HSM). It names a signed audit
 * checkpoint written just before, so what it holds can be matched with the trail.
 *
 * A restore replaces all state in one transaction, and only once every frame has authenticated
 * (any failure rolls back): into an uninitialised node (open: the backup and its root of trust are
 * the credential), or — with `force` and a token allowed `sys:Restore` — over an initialised one.
 * Either way the trail records it. If the node is configured for another seal type than the backup's,
 * the restored roots are protected by the configured seal (the shares stay the same).
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { TESSERA_VERSION, TesseraError, type RestorePreamble, type RestoreResult } from "@tessera/protocol";
import { iso, type Clock } from "../clock.js";
import { secretBytes, zero } from "../crypto/index.js";
import { BackupReader, FrameWriter, backupKeyAad, encodeHeader, type BackupHeader } from "../format/backup-file.js";
import { openRecord } from "../format/keyring-record.js";
import { resources } from "../policy/index.js";
import { HsmError, SEAL_META, ShareCollector, openWithShares, quorumOf, zeroEscrowKeys, type Barrier, type Opened, type RootRing, type SealRecord } from "../seal/index.js";
import type { Eraser, SnapshotRow, Store, StoreSnapshot } from "../store/index.js";
import type { CallContext, Door } from "./door.js";

const FRAME_BYTES = 256 * 1024;
export const BACKUP_FILE_PATTERN = /^tessera-backup-.*\.tsbk$/;

export interface BackupServiceDeps {
  door: Door;
  barrier: Barrier;
  store: Pick<Store, "snapshot" | "replaceAll">;
  /** Told after a restore replaced all state (every sealed record before it), so the store's files are erased. */
  eraser: Pick<Eraser, "destroyed">;
  audit: { checkpointHead(): Promise<{ seq: number; hash: string } | null> };
  clock: Clock;
  /** Drops every cache of stored state (tokens, roles, policies, revocations) after a restore. */
  onReplaced: () => void;
}

export interface BackupStream {
  header: BackupHeader;
  bytes: AsyncIterable<Buffer>;
}

/** The ids of the roots a seal record holds. */
function rootIds(record: SealRecord): string[] {
  const escrow = record["escrow"] as { roots?: { id: string }[] } | undefined;
  return (escrow?.roots ?? []).map((r) => r.id);
}

export class BackupService {
  constructor(private readonly d: BackupServiceDeps) {}

  /** Audits a restore request refused before it reached the door (a malformed preamble). */
  rejected(ctx: CallContext, err: unknown): Promise<void> {
    return this.d.door.rejected(ctx, err);
  }

  /** A backup for the caller to stream (token allowed `sys:Backup` on `sys`). */
  backup(ctx: CallContext): Promise<BackupStream> {
    return this.d.door.run(ctx, "sys:Backup", async (s) => {
      await s.authorize(resources.sys);
      return this.make();
    });
  }

  /** A scheduled backup into `directory`, keeping the newest `keep` files; audited as the system's. */
  async writeScheduled(directory: string, keep: number): Promise<string> {
    return this.d.door.system("sys:Backup", null, async () => {
      const { header, bytes } = await this.make();
      await mkdir(directory, { recursive: true, mode: 0o700 });
      const name = `tessera-backup-${header.createdAt.replace(/[:.]/g, "-")}-${header.backupId.slice(0, 8)}.tsbk`;
      const chunks: Buffer[] = [];
      for await (const b of bytes) chunks.push(b);
      const tmp = join(directory, `.${name}.partial`);
      await writeFile(tmp, Buffer.concat(chunks), { mode: 0o600 });
      await rename(tmp, join(directory, name));
      const all = (await readdir(directory)).filter((f) => BACKUP_FILE_PATTERN.test(f)).sort();
      for (const old of all.slice(0, Math.max(0, all.length - keep))) await rm(join(directory, old), { force: true });
      return name;
    });
  }

  private async make(): Promise<BackupStream> {
    // The ring is read again where the backup key is sealed: one kept across the awaits below would be
    // zeroed by a seal meanwhile, and the backup key sealed under an all-zero "root".
    const expected = this.d.barrier.ring().current.id;
    const audit = await this.d.audit.checkpointHead();
    let snapshot: StoreSnapshot | undefined;
    let seal: SealRecord | undefined;
    // The snapshot's own seal record must hold the root the backup key is sealed under (a rotation
    // could start between the two reads): try again once if it does not.
    for (let attempt = 0; attempt < 2 && seal === undefined; attempt++) {
      await snapshot?.close();
      snapshot = await this.d.store.snapshot();
      for await (const row of snapshot.rows("meta", 1000)) {
        if (row["name"] === SEAL_META) seal = JSON.parse(String(row["value"])) as SealRecord;
      }
      if (seal !== undefined && !rootIds(seal).includes(expected)) seal = undefined;
    }
    if (snapshot === undefined || seal === undefined) {
      await snapshot?.close();
      throw new TesseraError("Conflict", "the seal record changed while the backup started; retry");
    }
    const snap = snapshot;
    const tables: Record<string, number> = {};
    let rows = 0;
    for (const t of snap.tables) rows += tables[t] = await snap.count(t);
    const backupId = randomUUID();
    let ring: RootRing;
    try {
      ring = this.d.barrier.ring();
    } catch (err) {
      await snap.close();
      throw err;
    }
    if (!rootIds(seal).includes(ring.current.id)) {
      await snap.close();
      throw new TesseraError("Conflict", "the root changed while the backup started; retry");
    }
    const key = secretBytes(32);
    const header: BackupHeader = {
      format: "tessera-backup",
      backupId,
      createdAt: iso(this.d.clock.now()),
      tesseraVersion: TESSERA_VERSION,
      schema: snap.schema,
      seal,
      rootId: ring.current.id,
      wrappedKey: ring.seal(key, backupKeyAad(backupId)).toString("base64"),
      rows,
      tables,
    };
    const headerBytes = encodeHeader(header);
    async function* bytes(): AsyncGenerator<Buffer> {
      try {
        yield headerBytes;
        const writer = new FrameWriter(key, headerBytes);
        let pending: Buffer[] = [Buffer.from(`${JSON.stringify({ audit })}\n`, "utf8")];
        let size = pending[0]!.length;
        let done = 0;
        for (const table of snap.tables) {
          for await (const row of snap.rows(table, 1000)) {
            const line = Buffer.from(`${JSON.stringify({ t: table, r: row })}\n`, "utf8");
            pending.push(line);
            size += line.length;
            done++;
            if (size >= FRAME_BYTES) {
              yield writer.frame(Buffer.concat(pending), done, false);
              pending = [];
              size = 0;
            }
          }
        }
        yield writer.frame(Buffer.concat(pending), done, true);
      } finally {
        zero(key);
        await snap.close();
      }
    }
    return { header, bytes: bytes() };
  }

  /** Restores `body` (a backup file's bytes); see the file comment for who may. */
  restore(ctx: CallContext, preamble: RestorePreamble, body: AsyncIterable<Uint8Array>): Promise<RestoreResult> {
    if (!this.d.barrier.initialized) {
      return this.d.door.open(ctx, "sys:RestoreEmpty", () => this.apply(preamble, body), { rateLimited: true });
    }
    return this.d.door.run(
      ctx,
      "sys:Restore",
      async (s) => {
        await s.authorize(resources.sys);
        if (preamble.force !== true) throw new TesseraError("InvalidState", "this node is initialised: restoring replaces all of its state; give force (tessera operator restore --force) to do so");
        return this.apply(preamble, body);
      },
      { whileSealed: true },
    );
  }

  private async apply(preamble: RestorePreamble, body: AsyncIterable<Uint8Array>): Promise<RestoreResult> {
    const reader = new BackupReader(body);
    const header = await reader.header();
    const opened = await this.openRootOfTrust(header.seal, preamble.shares);
    try {
      const root = opened.roots.find((r) => r.id === header.rootId);
      if (root === undefined) throw new TesseraError("InvalidCiphertext", "the backup is damaged or was altered");
      const key = openRecord(root.key, Buffer.from(header.wrappedKey, "base64"), backupKeyAad(header.backupId));
      const seal = this.d.barrier.sealProvider;
      const record = header.seal.type !== seal.type ? await seal.reprotect(opened.roots, opened.escrow, opened.escrowKey) : (opened.replacement ?? header.seal);
      let rowsRestored: number;
      try {
        rowsRestored = await this.d.store.replaceAll(header.schema, rowsOf(reader, key, record));
      } finally {
        zero(key);
      }
      await this.d.barrier.replaced(record, opened);
      this.d.onReplaced();
      await this.d.eraser.destroyed();
      return { backupId: header.backupId, createdAt: header.createdAt, rows: rowsRestored, sealType: record.type, sealed: this.d.barrier.sealed };
    } catch (err) {
      for (const r of opened.roots) zero(r.key);
      zeroEscrowKeys(opened.escrowKey);
      throw err;
    }
  }

  /** The backup's roots, from a quorum of its shares or from the HSM this node is configured with. */
  private async openRootOfTrust(record: SealRecord, shares: string[] | undefined): Promise<Opened> {
    if (shares !== undefined && shares.length > 0) {
      const { threshold } = quorumOf(record);
      if (shares.length < threshold) throw new TesseraError("InvalidInput", `this backup needs ${threshold} of its shares; ${shares.length} given`, { field: "/shares" });
      const collector = new ShareCollector("/shares");
      let shared: Buffer | undefined;
      for (const share of shares.slice(0, threshold)) shared = await collector.add(share, threshold);
      try {
        return await openWithShares(record, shared!);
      } finally {
        zero(shared);
      }
    }
    const seal = this.d.barrier.sealProvider;
    if (!seal.auto || record.type !== seal.type) {
      throw new TesseraError("InvalidInput", `this backup was sealed with the ${record.type} seal: give a quorum of its ${record.type === "pkcs11" ? "recovery" : "unseal"} shares`, { field: "/shares" });
    }
    try {
      const { opened } = await seal.submit(record, undefined);
      if (opened === undefined) throw new TesseraError("Internal", "the seal did not open");
      return opened;
    } catch (err) {
      if (err instanceof HsmError) {
        throw new TesseraError(err.kind === "unreachable" ? "Unavailable" : "InvalidUnsealKey", `the backup's root does not open with this node's HSM: ${err.message}`, { cause: err });
      }
      throw err;
    }
  }
}

/** The backup's rows, decrypted frame by frame; the seal record is the one this node will keep. */
async function* rowsOf(reader: BackupReader, key: Buffer, record: SealRecord): AsyncGenerator<SnapshotRow> {
  let first = true;
  let carry = "";
  for await (const { body } of reader.frames(key)) {
    const lines = (carry + body.toString("utf8")).split("\n");
    carry = lines.pop() ?? "";
    for (const line of lines) {
      if (first) {
        first = false;
        continue; // the audit checkpoint the backup names
      }
      const { t, r } = JSON.parse(line) as { t: string; r: Record<string, unknown> };
      if (t === "meta" && r["name"] === SEAL_META) yield { table: t, row: { ...r, value: JSON.stringify(record) } };
      else yield { table: t, row: r };
    }
  }
  if (carry !== "") throw new TesseraError("InvalidCiphertext", "the backup is damaged or was altered");
}
