/**
 * Backup and restore of one key through the door (docs/api.md, "Key backup and trim"; keys/key-backup.ts).
 *
 * - `kms:BackupKey` on the key: the answer is the key sealed under the root key — never plaintext
 *   material; it restores only in a cluster holding that root.
 * - `kms:RestoreKey` on the key the backup holds (its id and the name it is restored under). The
 *   backup is opened and checked before authorisation (a damaged one is `InvalidCiphertext` and
 *   nothing else is said or done); the change follows the durable intent record.
 */
import type { KeyBackupResponse, KeyMetadata, RestoreKeyRequest } from "@tessera/protocol";
import { TesseraError } from "@tessera/protocol";
import { MAX_KEY_BACKUP_BYTES } from "@tessera/protocol";
import type { KeyBackups } from "../keys/index.js";
import { resources } from "../policy/index.js";
import type { CallContext, Door } from "./door.js";

export interface KeyBackupServiceDeps {
  door: Door;
  backups: Pick<KeyBackups, "backup" | "inspect" | "restore">;
}

export class KeyBackupService {
  constructor(private readonly d: KeyBackupServiceDeps) {}

  backupKey(ctx: CallContext, ref: string): Promise<KeyBackupResponse> {
    return this.d.door.run(ctx, "kms:BackupKey", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      s.note(handle.row.id, handle.row.primaryVersion);
      const blob = await this.d.backups.backup(handle.row.id);
      return { keyId: handle.row.id, name: handle.row.name, backup: blob.toString("base64") };
    });
  }

  restoreKey(ctx: CallContext, req: RestoreKeyRequest): Promise<KeyMetadata> {
    return this.d.door.run(ctx, "kms:RestoreKey", async (s) => {
      const blob = Buffer.from(req.backup, "base64");
      if (blob.length > MAX_KEY_BACKUP_BYTES) throw new TesseraError("TooLarge", "the key backup is too large", { field: "/backup" });
      const { keyId, body } = this.d.backups.inspect(blob);
      const name = req.name ?? body.key.name;
      await s.authorize(resources.key(keyId, name));
      const meta = await this.d.backups.restore(body, { name, force: req.force });
      s.note(meta.keyId, meta.primaryVersion);
      return meta;
    });
  }
}
