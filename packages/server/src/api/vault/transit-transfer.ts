/**
 * Transit paths that move keys and versions (Vault's `path_trim.go`, `path_backup.go`,
 * `path_restore.go`, `path_wrapping_key.go`, `path_import.go`): each validates Vault's fields and
 * calls one service method — trim (`kms:TrimKeyVersions`), a backup sealed under the root key
 * (`kms:BackupKey`, `kms:RestoreKey`), and BYOK import through the mount's wrapping key.
 */
import type { KmsService } from "../../service/kms-service.js";
import type { KeyBackupService } from "../../service/key-backup-service.js";
import type { TransitImportService } from "../../service/transit-import-service.js";
import type { OaepHash } from "../../service/transit-import-service.js";
import { badRequest, refused } from "./vault-errors.js";
import { base64, base64Text, bool, duration, int, str, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";
import { keyName, readKey, type TransitKeyDeps } from "./transit-keys.js";
import { specFor } from "./vault-key-types.js";

export interface TransitTransferDeps extends TransitKeyDeps {
  service: KmsService;
  keyBackups: KeyBackupService;
  transitImports: TransitImportService;
}

/** Vault's `hash_function` names and the OAEP hash each means. */
const HASHES: Readonly<Record<string, OaepHash>> = Object.freeze({ SHA1: "sha1", SHA224: "sha224", SHA256: "sha256", SHA384: "sha384", SHA512: "sha512" });

function wrapped(b: Json): { ciphertext: Buffer; hash: OaepHash } {
  if (str(b, "public_key") !== undefined) throw refused("importing only a public key is not supported: import the private key (ciphertext)");
  const name = str(b, "hash_function") ?? "SHA256";
  const hash = HASHES[name];
  if (hash === undefined) throw badRequest(`unsupported hash function ${name}: one of SHA1, SHA224, SHA256, SHA384, SHA512`);
  // The RSA-4096 part alone is 512 bytes; the largest key (RSA-4096 PKCS#8) wraps to well under 8 KiB.
  const ciphertext = base64(b, "ciphertext", true)!;
  if (ciphertext.length <= 512 || ciphertext.length > 16_384) throw badRequest("ciphertext is not a wrapped key (RSA-OAEP of an AES-256 key ‖ AES-KWP of the key)");
  return { ciphertext, hash };
}

export function transferHandlers(d: TransitTransferDeps) {
  return {
    /** Destroys versions below `min_available_version` for good; answers the key's read. */
    async trim(call: VaultCall): Promise<VaultResult> {
      const min = int(call.body, "min_available_version");
      if (min === undefined) throw badRequest("missing min_available_version");
      if (min < 1) throw badRequest("minimum available version should be positive");
      const k = await d.service.trimKeyVersions(call.ctx, keyName(call), min);
      return { data: await readKey(d, call.ctx, k.keyId) };
    },

    /** `{"backup": "<base64>"}`: the key sealed under the root key (never plaintext material). */
    async backup(call: VaultCall): Promise<VaultResult> {
      const r = await d.keyBackups.backupKey(call.ctx, keyName(call));
      return { data: { backup: r.backup } };
    },

    /** `restore` (name from the backup or the body) and `restore/:name`; `force` replaces a live key. */
    async restore(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      if (str(b, "backup") === undefined || str(b, "backup") === "") throw badRequest("'backup' must be supplied");
      const backup = base64Text(b, "backup", true)!;
      const bodyName = str(b, "name");
      const name = call.params["name"] !== undefined ? keyName(call) : bodyName !== undefined ? keyName({ ...call, params: { name: bodyName } }) : undefined;
      if (name?.includes("/") === true) throw badRequest("'name' cannot contain a '/'");
      const force = bool(b, "force") ?? false;
      await d.keyBackups.restoreKey(call.ctx, { backup, ...(name !== undefined && { name }), force });
      return null;
    },

    /** `{"public_key": "<PEM>"}`: the mount's RSA-4096 wrapping key, made on first use. */
    async wrappingKey(call: VaultCall): Promise<VaultResult> {
      return { data: { public_key: await d.transitImports.wrappingKey(call.ctx) } };
    },

    /** A new key whose version 1 is the material wrapped to the wrapping key. */
    async importKey(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      const name = keyName(call);
      const w = wrapped(b);
      const { spec, usage } = specFor(str(b, "type") ?? "aes256-gcm96", int(b, "key_size"));
      if (bool(b, "allow_plaintext_backup") === true) throw refused("plaintext backup is not supported: Tessera never releases key material in plaintext");
      if (bool(b, "allow_rotation") === true) throw refused("imported keys rotate only by importing new material (import_version) in Tessera: allow_rotation must be false");
      const period = duration(b, "auto_rotate_period");
      if (period !== undefined && period !== 0) throw refused("imported keys do not rotate automatically in Tessera: auto_rotate_period must be 0");
      const derived = bool(b, "derived") ?? false;
      if (derived && usage !== "ENCRYPT_DECRYPT") throw refused("derived applies to aes256-gcm96 and sm4 keys in Tessera");
      if (bool(b, "convergent_encryption") === true) throw refused("convergent encryption is not supported: Tessera's ciphertexts always use a random nonce");
      const k = await d.transitImports.importKey(call.ctx, { name, keySpec: spec, keyUsage: usage, ...(derived && { derived }), ...(bool(b, "exportable") === true && { exportable: true }) }, w);
      return { data: await readKey(d, call.ctx, k.keyId) };
    },

    /** A new primary version of an imported key. */
    async importVersion(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      if (int(b, "version") !== undefined) throw refused("version applies to public-key imports, which Tessera does not support: each import makes the next version");
      const k = await d.transitImports.importVersion(call.ctx, keyName(call), wrapped(b));
      return { data: await readKey(d, call.ctx, k.keyId) };
    },
  };
}
