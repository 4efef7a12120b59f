/**
 * Vault's transit BYOK through the door (docs/vault-compatibility.md, "Import"): the mount's
 * long-lived wrapping key, and imports of material wrapped to it — RSA-OAEP (the caller's hash) of
 * an ephemeral AES-256 key ‖ AES-KWP (RFC 5649) of the material, the format Tessera's own BYOK import
 * reads (crypto/key-wrap.ts).
 *
 * Invariants:
 * - Authorised before anything is unwrapped: `kms:CreateKey` and `kms:ImportKeyMaterial` on the new
 *   key (import), `kms:ImportKeyMaterial` on the key (import_version), `kms:GetWrappingKey` on `key/*`.
 * - An import creates the key with its material in one transaction: a refused blob or material
 *   leaves nothing behind. Every unwrap failure is one `InvalidCiphertext`.
 * - Unwrapped material is zeroed once sealed.
 */
import { TesseraError, type CreateKeyRequest, type KeyMetadata } from "@tessera/protocol";
import { rsaAesKeyUnwrap, zero, type OaepHash } from "../crypto/index.js";
import type { KeyService, TransitWrappingKey } from "../keys/index.js";
import { resources } from "../policy/index.js";
import type { CallContext, Door } from "./door.js";

export type { OaepHash };

export interface TransitImportServiceDeps {
  door: Door;
  keys: Pick<KeyService, "createImported" | "importMaterial">;
  wrappingKey: Pick<TransitWrappingKey, "publicKey" | "privateKey">;
}

export interface TransitImport {
  /** RSA-OAEP(ephemeral AES-256 key) ‖ AES-KWP(material). */
  ciphertext: Buffer;
  hash: OaepHash;
}

export class TransitImportService {
  constructor(private readonly d: TransitImportServiceDeps) {}

  /** The PEM public wrapping key (made on first use). */
  wrappingKey(ctx: CallContext): Promise<string> {
    return this.d.door.run(ctx, "kms:GetWrappingKey", async (s) => {
      await s.authorize(resources.every("key"));
      return this.d.wrappingKey.publicKey();
    });
  }

  /** A new key of origin EXTERNAL whose version 1 is the unwrapped material. */
  importKey(ctx: CallContext, req: CreateKeyRequest, wrapped: TransitImport): Promise<KeyMetadata> {
    return this.d.door.run(ctx, "kms:CreateKey", async (s) => {
      await s.authorize(resources.newKey(req.name));
      await s.authorize(resources.newKey(req.name), { action: "kms:ImportKeyMaterial" });
      const material = await this.unwrap(wrapped);
      try {
        const meta = await this.d.keys.createImported({ ...req, origin: "EXTERNAL" }, material);
        s.note(meta.keyId, meta.primaryVersion);
        return meta;
      } finally {
        zero(material);
      }
    });
  }

  /** A new primary version of an imported key. */
  importVersion(ctx: CallContext, ref: string, wrapped: TransitImport): Promise<KeyMetadata> {
    return this.d.door.run(ctx, "kms:ImportKeyMaterial", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      if (handle.row.origin !== "EXTERNAL") throw new TesseraError("InvalidState", `key ${handle.row.name} was not imported: only imported keys take imported versions`);
      const material = await this.unwrap(wrapped);
      try {
        const meta = await this.d.keys.importMaterial(handle.row.id, material);
        s.note(meta.keyId, meta.primaryVersion);
        return meta;
      } finally {
        zero(material);
      }
    });
  }

  private async unwrap(w: TransitImport): Promise<Buffer> {
    return rsaAesKeyUnwrap(await this.d.wrappingKey.privateKey(), w.ciphertext, w.hash);
  }
}
