/**
 * The transit engine's paths (docs/vault-compatibility.md, "Operations"): Vault's path, the
 * operations it answers, and the body fields it reads. Vault's write is POST or PUT; list is LIST or
 * GET with `?list=true`.
 */
import type { VaultRoute } from "./vault-router.js";
import { keyHandlers, type TransitKeyDeps } from "./transit-keys.js";
import { cryptoHandlers } from "./transit-crypto.js";
import { signHandlers, type TransitSignDeps } from "./transit-sign.js";
import { miscHandlers, type TransitMiscDeps } from "./transit-misc.js";
import { transferHandlers, type TransitTransferDeps } from "./transit-transfer.js";

export type TransitDeps = TransitKeyDeps & TransitSignDeps & TransitMiscDeps & TransitTransferDeps;

const ITEM = ["context", "associated_data", "key_version", "reference"];
const BATCH = ["batch_input", "partial_failure_response_code"];
const SIGN = ["input", "hash_algorithm", "algorithm", "prehashed", "signature_algorithm", "marshaling_algorithm", "salt_length", "context", "key_version", ...BATCH];

export function transitRoutes(d: TransitDeps): VaultRoute[] {
  const keys = keyHandlers(d);
  const crypto = cryptoHandlers(d.service);
  const sign = signHandlers(d);
  const misc = miscHandlers(d);
  const transfer = transferHandlers(d);
  const createFields = ["type", "derived", "convergent_encryption", "exportable", "allow_plaintext_backup", "auto_rotate_period", "key_size", "managed_key_name", "managed_key_id"];
  return [
    { path: "keys", ops: { list: keys.list } },
    { path: "keys/:name", ops: { write: keys.create, read: keys.read, delete: keys.delete }, fields: createFields },
    {
      path: "keys/:name/config",
      ops: { write: keys.config },
      fields: ["min_decryption_version", "min_encryption_version", "deletion_allowed", "exportable", "allow_plaintext_backup", "auto_rotate_period"],
    },
    { path: "keys/:name/rotate", ops: { write: keys.rotate }, fields: ["managed_key_name", "managed_key_id"] },
    { path: "keys/:name/trim", ops: { write: transfer.trim }, fields: ["min_available_version"] },
    { path: "keys/:name/import", ops: { write: transfer.importKey }, fields: [...createFields, "ciphertext", "hash_function", "public_key", "context", "allow_rotation"] },
    { path: "keys/:name/import_version", ops: { write: transfer.importVersion }, fields: ["ciphertext", "hash_function", "public_key", "version"] },
    { path: "wrapping_key", ops: { read: transfer.wrappingKey } },
    { path: "encrypt/:name", ops: { write: crypto.encrypt }, fields: ["plaintext", "nonce", "type", "convergent_encryption", ...ITEM, ...BATCH] },
    { path: "decrypt/:name", ops: { write: crypto.decrypt }, fields: ["ciphertext", "nonce", ...ITEM, ...BATCH] },
    { path: "rewrap/:name", ops: { write: crypto.rewrap }, fields: ["ciphertext", "nonce", ...ITEM, ...BATCH] },
    { path: "datakey/:plaintext/:name", ops: { write: crypto.datakey }, fields: ["context", "nonce", "bits", "key_version"] },
    { path: "hmac/:name", ops: { write: sign.hmac }, fields: ["input", "algorithm", "key_version", ...BATCH] },
    { path: "hmac/:name/:algorithm", ops: { write: sign.hmac }, fields: ["input", "algorithm", "key_version", ...BATCH] },
    { path: "sign/:name", ops: { write: sign.sign }, fields: SIGN },
    { path: "sign/:name/:hash_algorithm", ops: { write: sign.sign }, fields: SIGN },
    { path: "verify/:name", ops: { write: sign.verify }, fields: [...SIGN, "signature", "hmac"] },
    { path: "verify/:name/:hash_algorithm", ops: { write: sign.verify }, fields: [...SIGN, "signature", "hmac"] },
    { path: "random", ops: { write: misc.random }, fields: ["bytes", "format", "source"] },
    { path: "random/:a", ops: { write: misc.random }, fields: ["bytes", "format", "source"] },
    { path: "random/:a/:b", ops: { write: misc.random }, fields: ["bytes", "format", "source"] },
    { path: "random/:a/:b/:c", ops: { write: misc.random }, fields: ["bytes", "format", "source"] },
    { path: "hash", ops: { write: misc.hash }, fields: ["input", "algorithm", "format"] },
    { path: "hash/:algorithm", ops: { write: misc.hash }, fields: ["input", "algorithm", "format"] },
    { path: "export/:type/:name", ops: { read: misc.export } },
    { path: "export/:type/:name/:version", ops: { read: misc.export } },
    { path: "byok-export/:destination/:source", ops: { read: misc.byokExport }, fields: ["hash"] },
    { path: "byok-export/:destination/:source/:version", ops: { read: misc.byokExport }, fields: ["hash"] },
    { path: "backup/:name", ops: { read: transfer.backup } },
    { path: "restore", ops: { write: transfer.restore }, fields: ["backup", "name", "force"] },
    { path: "restore/:name", ops: { write: transfer.restore }, fields: ["backup", "force"] },
  ];
}
