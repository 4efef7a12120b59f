/**
 * Transit's data operations on symmetric keys (Vault's `path_encrypt.go`, `path_decrypt.go`,
 * `path_rewrap.go`, `path_datakey.go`): each item one service call, its ciphertext the native blob
 * behind a `vault:vN:` prefix (vault-ciphertext.ts).
 */
import type { CallContext } from "../../service/door.js";
import type { KmsService } from "../../service/kms-service.js";
import { badRequest, refused } from "./vault-errors.js";
import { base64Text, int, requiredStr, str, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";
import { contextOf, nativeCiphertext, prefixed } from "./vault-ciphertext.js";
import { singleOrBatch } from "./vault-batch.js";
import { keyName } from "./transit-keys.js";

const withContext = (item: Json) => {
  const context = contextOf(item);
  return context === undefined ? {} : { context };
};

function noNonce(item: Json): void {
  if (str(item, "nonce")) throw refused("nonce is for convergent encryption, which Tessera does not offer");
}

/** Vault's `key_version`: Tessera encrypts with the latest version only, so any other is refused. */
function checkVersion(item: Json, used: number): void {
  const asked = int(item, "key_version");
  if (asked !== undefined && asked !== 0 && asked !== used) throw refused(`Tessera encrypts with the latest key version (${used}) only`);
}

export function cryptoHandlers(service: KmsService) {
  const encryptOne = async (name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const plaintext = base64Text(item, "plaintext", true, true)!;
    noNonce(item);
    const r = await service.encrypt(ctx, name, { plaintext, ...withContext(item) });
    checkVersion(item, r.keyVersion);
    return { ciphertext: prefixed(r.keyVersion, r.ciphertext), key_version: r.keyVersion };
  };

  const decryptOne = async (name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const ciphertext = nativeCiphertext(requiredStr(item, "ciphertext"));
    const r = await service.decrypt(ctx, { ciphertext, keyId: name, ...withContext(item) });
    return { plaintext: r.plaintext };
  };

  const rewrapOne = async (name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const ciphertext = nativeCiphertext(requiredStr(item, "ciphertext"));
    noNonce(item);
    const context = contextOf(item);
    const r = await service.reEncrypt(ctx, {
      ciphertext,
      sourceKeyId: name,
      destinationKeyId: name,
      ...(context !== undefined && { sourceContext: context, destinationContext: context }),
    });
    checkVersion(item, r.keyVersion);
    return { ciphertext: prefixed(r.keyVersion, r.ciphertext), key_version: r.keyVersion };
  };

  return {
    encrypt: (call: VaultCall): Promise<VaultResult> => {
      const name = keyName(call);
      return singleOrBatch(service, call, (item, ctx) => encryptOne(name, item, ctx));
    },
    decrypt: (call: VaultCall): Promise<VaultResult> => {
      const name = keyName(call);
      return singleOrBatch(service, call, (item, ctx) => decryptOne(name, item, ctx));
    },
    rewrap: (call: VaultCall): Promise<VaultResult> => {
      const name = keyName(call);
      return singleOrBatch(service, call, (item, ctx) => rewrapOne(name, item, ctx));
    },

    async datakey(call: VaultCall): Promise<VaultResult> {
      const name = keyName(call);
      const kind = call.params["plaintext"]!;
      if (kind !== "plaintext" && kind !== "wrapped") throw badRequest(`invalid path variable ${kind}: plaintext or wrapped`);
      const b = call.body;
      noNonce(b);
      const bits = int(b, "bits") ?? 256;
      if (bits !== 128 && bits !== 256 && bits !== 512) throw badRequest("invalid bit length");
      const req = { numberOfBytes: bits / 8, ...withContext(b) };
      const r = kind === "plaintext" ? await service.generateDataKey(call.ctx, name, req) : await service.generateDataKeyWithoutPlaintext(call.ctx, name, req);
      checkVersion(b, r.keyVersion);
      return { data: { ciphertext: prefixed(r.keyVersion, r.ciphertext), key_version: r.keyVersion, ...("plaintext" in r && { plaintext: r.plaintext }) } };
    },
  };
}
