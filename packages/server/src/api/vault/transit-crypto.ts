/**
 * Transit's data operations on symmetric keys (Vault's `path_encrypt.go`, `path_decrypt.go`,
 * `path_rewrap.go`, `path_datakey.go`): each item one service call, its ciphertext the native blob
 * behind a `vault:vN:` prefix (vault-ciphertext.ts).
 */
import type { CallContext } from "../../service/door.js";
import type { KmsService } from "../../service/kms-service.js";
import { badRequest } from "./vault-errors.js";
import { base64Text, int, requiredStr, str, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";
import { contextOf, nativeCiphertext, prefixed } from "./vault-ciphertext.js";
import { singleOrBatch } from "./vault-batch.js";
import { keyName } from "./transit-keys.js";

const withContext = (item: Json) => {
  const context = contextOf(item);
  return context === undefined ? {} : { context };
};

/**
 * Vault takes a caller's nonce only for convergent version 1 keys, which it no longer creates; for
 * every other key (convergent version 3 derives the nonce) it answers "nonce provided when not allowed".
 */
function noNonce(item: Json): void {
  if (str(item, "nonce")) throw badRequest("nonce provided when not allowed");
}

/** Vault's `key_version`: 0 or absent = the latest; negative refused as Vault does; else the version to encrypt with. */
function encryptVersion(item: Json): { keyVersion?: number } {
  const asked = int(item, "key_version");
  if (asked !== undefined && asked < 0) throw badRequest("requested version for encryption is negative");
  return asked === undefined || asked === 0 ? {} : { keyVersion: asked };
}

export function cryptoHandlers(service: KmsService) {
  const encryptOne = async (name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const plaintext = base64Text(item, "plaintext", true, true)!;
    noNonce(item);
    const r = await service.encrypt(ctx, name, { plaintext, ...withContext(item), ...encryptVersion(item) });
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
    const version = encryptVersion(item).keyVersion;
    const r = await service.reEncrypt(ctx, {
      ciphertext,
      sourceKeyId: name,
      destinationKeyId: name,
      ...(context !== undefined && { sourceContext: context, destinationContext: context }),
      ...(version !== undefined && { destinationKeyVersion: version }),
    });
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
      const req = { numberOfBytes: bits / 8, ...withContext(b), ...encryptVersion(b) };
      const r = kind === "plaintext" ? await service.generateDataKey(call.ctx, name, req) : await service.generateDataKeyWithoutPlaintext(call.ctx, name, req);
      return { data: { ciphertext: prefixed(r.keyVersion, r.ciphertext), key_version: r.keyVersion, ...("plaintext" in r && { plaintext: r.plaintext }) } };
    },
  };
}
