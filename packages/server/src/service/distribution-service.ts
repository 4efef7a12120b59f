/**
 * Key distribution through the door (docs/distribution.md): wrapped export — a version's material, a
 * fresh data key or a derived key, encrypted to a caller-given public key — and pairwise pre-shared
 * keys for two VMs.
 *
 * Invariants:
 * - Nothing leaves in plaintext: exported bytes exist only inside `wrapToRecipient` and are zeroed.
 * - The recipient key is parsed and checked before authorisation, so the policy decides with its
 *   SHA-256 (`wrapToOwnCertificate`), and the same hash is bound into `info` and `aad`.
 * - Only keys created `exportable` export their material; data keys and derived keys, which
 *   GenerateDataKey and Derive already return in plaintext, export from any key.
 * - A PSK's own party is the caller's `vm_id`, never a request field: a VM gets only PSKs it is a
 *   party to.
 */
import {
  TesseraError,
  PSK_DEFAULT_PURPOSE,
  checkContext,
  type ExportWrappedRequest,
  type ExportWrappedResponse,
  type PairwisePskRequest,
  type PairwisePskResponse,
} from "@tessera/protocol";
import { parseRecipientKey, secretBytes, wrapToRecipient, zero } from "../crypto/index.js";
import { exportBinding } from "../format/export-binding.js";
import type { KeyService } from "../keys/index.js";
import type { CallContext, Door } from "./door.js";

export interface DistributionServiceDeps {
  door: Door;
  keys: Pick<KeyService, "exportMaterial" | "derive" | "derivePsk" | "encrypt">;
}

const b64 = (bytes: Uint8Array): string => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
const invalid = (message: string, field: string) => new TesseraError("InvalidInput", message, { field });

export class DistributionService {
  constructor(private readonly d: DistributionServiceDeps) {}

  exportWrapped(ctx: CallContext, ref: string, req: ExportWrappedRequest): Promise<ExportWrappedResponse> {
    return this.d.door.run(ctx, "kms:ExportWrapped", async (s) => {
      const kind = req.export ?? "key-material";
      checkShape(req, kind);
      checkContext(req.context);
      const recipient = parseRecipientKey(req.recipientPublicKey, req.algorithm);
      const handle = await s.resolveKey(ref);
      await s.authorize(handle, { context: req.context, wrapRecipient: recipient.spkiSha256 });
      let payload: Buffer;
      let keyVersion: number;
      let ciphertext: string | undefined;
      if (kind === "key-material") {
        ({ keyVersion, material: payload } = this.d.keys.exportMaterial(handle, req.keyVersion));
      } else if (kind === "derived-key") {
        ({ keyVersion, key: payload } = this.d.keys.derive(handle, req.context!, req.length ?? 32, req.keyVersion));
      } else {
        payload = secretBytes(req.length ?? 32);
        try {
          const enc = this.d.keys.encrypt(handle, payload, req.context);
          keyVersion = enc.keyVersion;
          ciphertext = b64(enc.ciphertext);
        } catch (err) {
          zero(payload);
          throw err;
        }
      }
      s.note(handle.row.id, keyVersion);
      const { info, aad } = exportBinding({
        algorithm: req.algorithm,
        keyId: handle.row.id,
        keyVersion,
        kind,
        recipientSpkiSha256: recipient.spkiSha256,
        context: req.context,
      });
      let wrapped;
      try {
        wrapped = await wrapToRecipient(recipient, payload, info, aad);
      } finally {
        zero(payload);
      }
      return {
        keyId: handle.row.id,
        keyVersion,
        algorithm: req.algorithm,
        export: kind,
        recipientSpkiSha256: recipient.spkiSha256,
        encapsulatedKey: b64(wrapped.encapsulatedKey),
        wrappedKey: b64(wrapped.wrappedKey),
        info: b64(info),
        aad: b64(aad),
        ...(ciphertext !== undefined && { ciphertext }),
      };
    });
  }

  pairwisePsk(ctx: CallContext, ref: string, req: PairwisePskRequest): Promise<PairwisePskResponse> {
    return this.d.door.run(ctx, "kms:DerivePsk", async (s) => {
      const self = s.principal.attributes["vm_id"];
      if (self === undefined || self === "") throw new TesseraError("AccessDenied", "pairwise keys are for VM identities: this login carries no vm_id");
      if (req.peer === self) throw invalid("the peer must be another VM than the caller", "/peer");
      const purpose = req.purpose ?? PSK_DEFAULT_PURPOSE;
      const handle = await s.resolveKey(ref);
      // Peer and purpose are offered to context conditions (e.g. `encryptionContext: {purpose: "tls"}`).
      await s.authorize(handle, { context: { peer: req.peer, purpose } });
      const out = this.d.keys.derivePsk(handle, { self, peer: req.peer, purpose }, req.keyVersion);
      s.note(handle.row.id, out.keyVersion);
      try {
        return { keyId: handle.row.id, keyVersion: out.keyVersion, self, peer: req.peer, purpose, identity: out.identity, psk: out.psk.toString("base64") };
      } finally {
        zero(out.psk);
      }
    });
  }
}

/** Which fields go with which kind of export. */
function checkShape(req: ExportWrappedRequest, kind: NonNullable<ExportWrappedRequest["export"]>): void {
  if (kind === "key-material") {
    if (req.context !== undefined) throw invalid("key-material exports take no context", "/context");
    if (req.length !== undefined) throw invalid("key-material exports have the material's own length", "/length");
  }
  if (kind === "data-key" && req.keyVersion !== undefined) throw invalid("a data key is always encrypted under the primary version", "/keyVersion");
  if (kind === "derived-key" && (req.context === undefined || Object.keys(req.context).length === 0)) {
    throw invalid("derived-key exports need a non-empty context", "/context");
  }
}
