/**
 * GenerateMac and VerifyMac through the door: resolve the key, authorise `kms:GenerateMac` /
 * `kms:VerifyMac` on it, compute or check one HMAC, note the version in the audit record. The
 * message and the MAC are never audited.
 */
import {
  MAX_MAC_MESSAGE_BYTES,
  TesseraError,
  type GenerateMacRequest,
  type GenerateMacResponse,
  type VerifyMacRequest,
  type VerifyMacResponse,
} from "@tessera/protocol";
import type { MacOperations } from "../keys/index.js";
import type { CallContext, Door } from "./door.js";

export class MacService {
  constructor(
    private readonly door: Door,
    private readonly macs: MacOperations,
  ) {}

  generateMac(ctx: CallContext, ref: string, req: GenerateMacRequest): Promise<GenerateMacResponse> {
    return this.door.run(ctx, "kms:GenerateMac", async (s) => {
      const message = messageBytes(req.message);
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const { keyVersion, mac } = this.macs.generate(handle, req.macAlgorithm, message);
      s.note(handle.row.id, keyVersion);
      return { keyId: handle.row.id, keyVersion, macAlgorithm: req.macAlgorithm, mac: mac.toString("base64") };
    });
  }

  verifyMac(ctx: CallContext, ref: string, req: VerifyMacRequest): Promise<VerifyMacResponse> {
    return this.door.run(ctx, "kms:VerifyMac", async (s) => {
      const message = messageBytes(req.message);
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      const { keyVersion, valid } = this.macs.verify(handle, req.macAlgorithm, message, Buffer.from(req.mac, "base64"), req.keyVersion);
      s.note(handle.row.id, keyVersion);
      return { keyId: handle.row.id, keyVersion, macAlgorithm: req.macAlgorithm, macValid: valid };
    });
  }
}

function messageBytes(b64: string): Buffer {
  const bytes = Buffer.from(b64, "base64");
  if (bytes.length === 0) throw new TesseraError("InvalidInput", "message must not be empty", { field: "/message" });
  if (bytes.length > MAX_MAC_MESSAGE_BYTES) throw new TesseraError("TooLarge", `message must be at most ${MAX_MAC_MESSAGE_BYTES} bytes`, { field: "/message" });
  return bytes;
}
