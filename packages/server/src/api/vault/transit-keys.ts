/**
 * Transit key administration (Vault's `path_keys.go`, `path_config.go`, `path_rotate.go`): create,
 * read, list, config, rotate, delete — each one or more service calls on the key of the same name.
 * Vault-only settings with no Tessera field (`deletion_allowed`) are kept as key tags under `vault:`.
 */
import {
  KeyName,
  isAsymmetricKeySpec,
  isTesseraError,
  minAvailableVersion,
  MIN_ROTATION_PERIOD_SECONDS,
  type KeyMetadata,
  type UpdateKeyRequest,
} from "@tessera/protocol";
import type { CallContext } from "../../service/door.js";
import type { KmsService } from "../../service/kms-service.js";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import { badRequest, refused } from "./vault-errors.js";
import { bool, duration, int, str, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";
import { specFor, vaultType, versionName } from "./vault-key-types.js";

/** The tag that records Vault's `deletion_allowed` on a Tessera key. */
export const DELETION_ALLOWED_TAG = "vault:deletion_allowed";

export interface TransitKeyDeps {
  service: KmsService;
  asymmetric: AsymmetricService;
}

const NAME = new RegExp(KeyName.pattern!);

/** A key name from the path: Tessera's key-name rules (Vault's are looser; docs/vault-compatibility.md). */
export function keyName(call: VaultCall, param = "name"): string {
  const name = call.params[param]!;
  if (name.length > (KeyName.maxLength ?? 128) || !NAME.test(name)) throw badRequest(`invalid key name ${JSON.stringify(name.slice(0, 140))}: letters, digits and _ + = . @ - only, at most 128`);
  return name;
}

const epoch = (iso: string) => Math.floor(Date.parse(iso) / 1000);

/** PEM of a DER SubjectPublicKeyInfo. */
export function pem(derB64: string): string {
  const lines = derB64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PUBLIC KEY-----\n${lines.join("\n")}\n-----END PUBLIC KEY-----\n`;
}

/** A version's public key as Vault shows it: Ed25519 as the raw 32 bytes (base64), others as PEM. */
function vaultPublicKey(k: KeyMetadata, derB64: string): string {
  if (k.keySpec === "ECC_NIST_EDWARDS25519") return Buffer.from(derB64, "base64").subarray(-32).toString("base64");
  return pem(derB64);
}

/** Vault's key read: `keys` per version, versions, flags, type (transit's `path_keys.go` shape). */
export async function readKey(d: TransitKeyDeps, ctx: CallContext, ref: string): Promise<Json> {
  const k = await d.service.describeKey(ctx, ref);
  const { versions } = await d.service.listVersions(ctx, k.keyId);
  const asymmetric = isAsymmetricKeySpec(k.keySpec);
  const keys: Json = {};
  for (const v of versions) {
    if (v.state === "Destroyed") continue;
    if (!asymmetric) {
      keys[String(v.version)] = epoch(v.createdAt);
      continue;
    }
    let publicKey = "";
    if (v.state === "Enabled" && !v.retired) publicKey = vaultPublicKey(k, (await d.asymmetric.getPublicKey(ctx, k.keyId, v.version)).publicKey);
    keys[String(v.version)] = { creation_time: v.createdAt, name: versionName(k.keySpec), public_key: publicKey };
  }
  const encrypts = k.keyUsage === "ENCRYPT_DECRYPT";
  return {
    name: k.name,
    type: vaultType(k),
    keys,
    latest_version: k.primaryVersion,
    min_available_version: minAvailableVersion(versions),
    min_decryption_version: k.minDecryptionVersion,
    min_encryption_version: k.minEncryptionVersion,
    deletion_allowed: k.tags[DELETION_ALLOWED_TAG] === "true",
    derived: k.derived,
    ...(k.derived && { kdf: "hkdf_sha256", convergent_encryption: k.convergent }),
    // Vault's convergent version 3: the nonce is an HMAC of the plaintext under a key derived with the context.
    ...(k.convergent && { convergent_encryption_version: 3 }),
    exportable: k.exportable,
    allow_plaintext_backup: false,
    auto_rotate_period: k.rotationPeriodSeconds ?? 0,
    imported_key: k.origin === "EXTERNAL",
    supports_encryption: encrypts,
    supports_decryption: encrypts,
    supports_derivation: encrypts && !asymmetric,
    supports_signing: k.keyUsage === "SIGN_VERIFY",
  };
}

function rotationPeriod(b: Json): number | null | undefined {
  const period = duration(b, "auto_rotate_period");
  if (period === undefined) return undefined;
  if (period === 0) return null;
  if (period < MIN_ROTATION_PERIOD_SECONDS) throw badRequest("auto rotate period must be 0 to disable or at least an hour");
  return period;
}

export function keyHandlers(d: TransitKeyDeps) {
  return {
    async create(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      const name = keyName(call);
      const type = str(b, "type") ?? "aes256-gcm96";
      const { spec, usage } = specFor(type, int(b, "key_size"));
      if (bool(b, "allow_plaintext_backup") === true) throw refused("plaintext backup is not supported: Tessera never releases key material in plaintext");
      if (str(b, "managed_key_name") !== undefined || str(b, "managed_key_id") !== undefined) throw refused("managed keys are not supported");
      const derived = bool(b, "derived") ?? false;
      const convergent = bool(b, "convergent_encryption") ?? false;
      if (convergent && !derived) throw badRequest("convergent encryption requires derivation to be enabled");
      if (derived && usage !== "ENCRYPT_DECRYPT") throw refused("derived applies to aes256-gcm96, aes128-gcm96 and chacha20-poly1305 keys in Tessera");
      const period = rotationPeriod(b);
      try {
        await d.service.createKey(call.ctx, {
          name,
          keySpec: spec,
          keyUsage: usage,
          ...(derived && { derived }),
          ...(convergent && { convergent }),
          ...(bool(b, "exportable") === true && { exportable: true }),
          ...(typeof period === "number" && { rotationPeriodSeconds: period }),
        });
      } catch (err) {
        // Vault answers a create of an existing key by leaving it as it is.
        if (!(isTesseraError(err) && err.code === "AlreadyExists")) throw err;
        call.warnings.push("the key already exists; it was left unchanged");
      }
      return { data: await readKey(d, call.ctx, name) };
    },

    async read(call: VaultCall): Promise<VaultResult> {
      return { data: await readKey(d, call.ctx, keyName(call)) };
    },

    async list(call: VaultCall): Promise<VaultResult> {
      const names: string[] = [];
      let marker: string | undefined;
      do {
        const page = await d.service.listKeys(call.ctx, 1000, marker);
        for (const k of page.keys) if (k.state !== "PendingDeletion" && k.state !== "Destroyed") names.push(k.name);
        marker = page.nextMarker ?? undefined;
      } while (marker !== undefined);
      // Vault answers an empty list with 404.
      if (names.length === 0) return { errors: [], status: 404 };
      return { data: { keys: names.sort() } };
    },

    async config(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      const k = await d.service.describeKey(call.ctx, keyName(call));
      if (bool(b, "allow_plaintext_backup") === true) throw refused("plaintext backup is not supported: Tessera never releases key material in plaintext");
      const exportable = bool(b, "exportable");
      if (exportable !== undefined && exportable !== k.exportable) throw refused("exportable is fixed when a Tessera key is created");
      const update: UpdateKeyRequest = {};
      const deletion = bool(b, "deletion_allowed");
      if (deletion !== undefined && deletion !== (k.tags[DELETION_ALLOWED_TAG] === "true")) {
        const tags = { ...k.tags };
        if (deletion) tags[DELETION_ALLOWED_TAG] = "true";
        else delete tags[DELETION_ALLOWED_TAG];
        update.tags = tags;
      }
      const period = rotationPeriod(b);
      if (period !== undefined) update.rotationPeriodSeconds = period;
      let minDecryption = int(b, "min_decryption_version");
      if (minDecryption !== undefined && minDecryption < 0) throw badRequest("min decryption version must be positive");
      if (minDecryption === 0) {
        minDecryption = 1;
        call.warnings.push("key versions start at 1; forcing min_decryption_version to 1");
      }
      if (minDecryption !== undefined && minDecryption > k.primaryVersion) throw badRequest("cannot set min decryption version above the latest version");
      const minEncryption = int(b, "min_encryption_version");
      if (minEncryption !== undefined && minEncryption < 0) throw badRequest("min encryption version cannot be negative");
      if (minEncryption !== undefined && minEncryption > k.primaryVersion) {
        throw badRequest(`cannot set min encryption version of ${minEncryption}, latest key version is ${k.primaryVersion}`);
      }
      // Vault checks the final pair, whichever fields were given.
      const finalDecryption = minDecryption ?? k.minDecryptionVersion;
      const finalEncryption = minEncryption ?? k.minEncryptionVersion;
      if (finalEncryption > 0 && finalEncryption < finalDecryption) {
        throw badRequest(
          `cannot set min encryption/decryption values; min encryption version of ${finalEncryption} must be greater than or equal to min decryption version of ${finalDecryption}`,
        );
      }
      if (Object.keys(update).length > 0) await d.service.updateKey(call.ctx, k.keyId, update);
      const setDecryption = async () => {
        if (minDecryption !== undefined && minDecryption !== k.minDecryptionVersion) await d.service.setMinDecryptionVersion(call.ctx, k.keyId, minDecryption);
      };
      const setEncryption = async () => {
        if (minEncryption !== undefined && minEncryption !== k.minEncryptionVersion) await d.service.setMinEncryptionVersion(call.ctx, k.keyId, minEncryption);
      };
      // Each step alone must keep minDecryption ≤ minEncryption (when set): raise the encryption floor first, lower it last.
      if (finalEncryption === 0 || finalEncryption >= k.minDecryptionVersion) {
        await setEncryption();
        await setDecryption();
      } else {
        await setDecryption();
        await setEncryption();
      }
      return { data: await readKey(d, call.ctx, k.keyId) };
    },

    async rotate(call: VaultCall): Promise<VaultResult> {
      const k = await d.service.rotateKey(call.ctx, keyName(call));
      return { data: await readKey(d, call.ctx, k.keyId) };
    },

    /** Vault deletes at once; Tessera schedules deletion with its shortest window (7 days), still cancellable. */
    async delete(call: VaultCall): Promise<VaultResult> {
      const k = await d.service.describeKey(call.ctx, keyName(call));
      if (k.tags[DELETION_ALLOWED_TAG] !== "true") throw badRequest("deletion is not allowed for this key");
      await d.service.scheduleKeyDeletion(call.ctx, k.keyId, 7);
      return null;
    },
  };
}
