/**
 * BYOK import through the door (docs/distribution.md, "Bring your own key"): import parameters for a
 * key of origin EXTERNAL, importing material wrapped to them, and deleting imported material.
 *
 * Invariants:
 * - Material arrives only wrapped to a one-time RSA key held in memory (keys/import-parameters.ts),
 *   with RSAES_OAEP_SHA_256 or RSA_AES_KEY_WRAP_SHA_256; it is unwrapped, checked against the key's
 *   spec, sealed under the root key as a new version, and zeroed.
 * - The import token is spent before unwrapping, so a failed import cannot be retried with it.
 * - Every unwrap failure is `InvalidCiphertext` (which check failed is not said).
 */
import { TesseraError, type GetParametersForImportRequest, type GetParametersForImportResponse, type ImportKeyMaterialRequest, type KeyMetadata } from "@tessera/protocol";
import { rsaAesKeyUnwrap, rsaOaepSha256Decrypt, zero } from "../crypto/index.js";
import { iso } from "../clock.js";
import type { ImportParameters, KeyService, KeyHandle } from "../keys/index.js";
import type { CallContext, Door } from "./door.js";

export interface ImportServiceDeps {
  door: Door;
  keys: Pick<KeyService, "importMaterial" | "deleteImportedMaterial">;
  parameters: Pick<ImportParameters, "issue" | "take">;
}

function requireExternal(handle: KeyHandle): void {
  if (handle.row.origin !== "EXTERNAL") {
    throw new TesseraError("InvalidState", `key ${handle.row.name} was not created with origin EXTERNAL: its material cannot be imported`, {
      cause: { awsType: "UnsupportedOperationException" },
    });
  }
}

export class ImportService {
  constructor(private readonly d: ImportServiceDeps) {}

  getParametersForImport(ctx: CallContext, ref: string, req: GetParametersForImportRequest): Promise<GetParametersForImportResponse> {
    return this.d.door.run(ctx, "kms:GetParametersForImport", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      requireExternal(handle);
      const state = handle.row.state;
      if (state !== "PendingImport" && state !== "Enabled" && state !== "Disabled") {
        throw new TesseraError("InvalidState", `cannot import material: key ${handle.row.name} is ${state}`);
      }
      const spec = req.wrappingKeySpec ?? "RSA_4096";
      const issued = await this.d.parameters.issue(handle.row.id, req.wrappingAlgorithm, spec);
      s.note(handle.row.id);
      return {
        keyId: handle.row.id,
        wrappingAlgorithm: req.wrappingAlgorithm,
        wrappingKeySpec: spec,
        publicKey: issued.publicKey.toString("base64"),
        importToken: issued.importToken.toString("base64"),
        parametersValidTo: iso(issued.expiresAt),
      };
    });
  }

  importKeyMaterial(ctx: CallContext, ref: string, req: ImportKeyMaterialRequest): Promise<KeyMetadata> {
    return this.d.door.run(ctx, "kms:ImportKeyMaterial", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      requireExternal(handle);
      const { algorithm, privateKey } = this.d.parameters.take(handle.row.id, Buffer.from(req.importToken, "base64"));
      const wrapped = Buffer.from(req.encryptedKeyMaterial, "base64");
      const material = algorithm === "RSAES_OAEP_SHA_256" ? rsaOaepSha256Decrypt(privateKey, wrapped) : rsaAesKeyUnwrap(privateKey, wrapped);
      try {
        const meta = await this.d.keys.importMaterial(handle.row.id, material);
        s.note(meta.keyId, meta.primaryVersion);
        return meta;
      } finally {
        zero(material);
      }
    });
  }

  deleteImportedKeyMaterial(ctx: CallContext, ref: string): Promise<KeyMetadata> {
    return this.d.door.run(ctx, "kms:DeleteImportedKeyMaterial", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      requireExternal(handle);
      const meta = await this.d.keys.deleteImportedMaterial(handle.row.id);
      s.note(meta.keyId);
      return meta;
    });
  }
}
