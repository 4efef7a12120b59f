/**
 * Transit paths that are not one key's cryptography: random bytes, hashes and exports (plaintext
 * export refused with the reason and what to use instead). Trim, backup, restore and import are in
 * transit-transfer.ts.
 */
import { isAsymmetricKeySpec } from "@tessera/protocol";
import type { KmsService } from "../../service/kms-service.js";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import type { DistributionService } from "../../service/distribution-service.js";
import type { HashService } from "../../service/hash-service.js";
import { badRequest, refused } from "./vault-errors.js";
import { base64, int, str, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";
import { keyName, pem } from "./transit-keys.js";
import { vaultType } from "./vault-key-types.js";

export interface TransitMiscDeps {
  service: KmsService;
  asymmetric: AsymmetricService;
  distribution: DistributionService;
  hashes: HashService;
}

/** As GenerateRandom. */
const MAX_RANDOM_BYTES = 1024;
const SOURCES = ["platform", "seal", "all"];

function format(value: string | undefined): "base64" | "hex" {
  const f = value ?? "base64";
  if (f !== "base64" && f !== "hex") throw badRequest(`unsupported encoding format ${f}; must be "hex" or "base64"`);
  return f;
}

export function miscHandlers(d: TransitMiscDeps) {
  return {
    /** `random`, `random/:a`, `random/:a/:b`, `random/:a/:b/:c`: path segments are a source, a byte count or a format. */
    async random(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      let bytes = int(b, "bytes");
      let fmt = str(b, "format");
      let source = str(b, "source");
      for (const p of [call.params["a"], call.params["b"], call.params["c"]]) {
        if (p === undefined) continue;
        if (/^[0-9]+$/.test(p)) bytes = Number(p);
        else if (SOURCES.includes(p)) source = p;
        else fmt = p;
      }
      if (source !== undefined && !SOURCES.includes(source)) throw badRequest(`unsupported entropy source ${source}; must be "platform", "seal", or "all"`);
      const n = bytes ?? 32;
      if (n < 1 || n > MAX_RANDOM_BYTES) throw badRequest(`bytes must be 1–${MAX_RANDOM_BYTES} in Tessera`);
      const f = format(fmt);
      const r = await d.service.generateRandom(call.ctx, n);
      return { data: { random_bytes: f === "hex" ? Buffer.from(r.plaintext, "base64").toString("hex") : r.plaintext } };
    },

    async hash(call: VaultCall): Promise<VaultResult> {
      const b = call.body;
      const input = base64(b, "input", true, true)!;
      const algorithm = call.params["algorithm"] ?? str(b, "algorithm") ?? "sha2-256";
      const f = format(str(b, "format") ?? "hex");
      const r = await d.hashes.hash(call.ctx, algorithm, input);
      return { data: { sum: r.digest.toString(f) } };
    },

    /** Only `public-key` exports: Tessera never releases secret key material in plaintext. */
    async export(call: VaultCall): Promise<VaultResult> {
      const type = call.params["type"]!;
      if (type !== "public-key") {
        if (type !== "encryption-key" && type !== "signing-key" && type !== "hmac-key") throw badRequest(`invalid export type ${type}`);
        throw refused("plaintext key export is not supported: Tessera never releases key material in plaintext; use byok-export/:destination/:source (wrapped to an RSA key)");
      }
      const k = await d.service.describeKey(call.ctx, keyName(call));
      if (!isAsymmetricKeySpec(k.keySpec)) throw badRequest("key type does not have a public key");
      const versions = await versionsToExport(d, call, k.keyId);
      const keys: Json = {};
      for (const v of versions) keys[String(v)] = pem((await d.asymmetric.getPublicKey(call.ctx, k.keyId, v)).publicKey);
      return { data: { name: k.name, type: vaultType(k), keys } };
    },

    /**
     * Vault's BYOK export: the source key's material wrapped to the destination key's RSA public key
     * with RSA-OAEP (SHA-256) + AES-KWP, by Tessera's wrapped export (`kms:ExportWrapped` on the
     * source, `kms:GetPublicKey` on the destination). Each version is `encapsulatedKey ‖ wrappedKey`
     * (base64); Tessera's OAEP label binds key, version and recipient (docs/vault-compatibility.md).
     */
    async byokExport(call: VaultCall): Promise<VaultResult> {
      const hash = str(call.body, "hash") ?? "SHA256";
      if (hash !== "SHA256") throw refused("Tessera's wrapped export uses SHA-256 for RSA-OAEP: hash must be SHA256");
      const destination = await d.asymmetric.getPublicKey(call.ctx, keyName(call, "destination"), undefined);
      if (!destination.keySpec.startsWith("RSA_")) throw badRequest("the destination key must be an RSA key");
      const source = await d.service.describeKey(call.ctx, keyName(call, "source"));
      const recipientPublicKey = pem(destination.publicKey);
      const keys: Json = {};
      for (const v of await versionsToExport(d, call, source.keyId)) {
        const r = await d.distribution.exportWrapped(call.ctx, source.keyId, { recipientPublicKey, algorithm: "rsa-oaep-aes-kwp", export: "key-material", keyVersion: v });
        keys[String(v)] = Buffer.concat([Buffer.from(r.encapsulatedKey, "base64"), Buffer.from(r.wrappedKey, "base64")]).toString("base64");
      }
      return { data: { name: source.name, type: vaultType(source), keys } };
    },
  };
}

/** `…/:version` (a number or `latest`), else every version that is not destroyed. */
async function versionsToExport(d: Pick<TransitMiscDeps, "service">, call: VaultCall, keyId: string): Promise<number[]> {
  const asked = call.params["version"];
  const { versions } = await d.service.listVersions(call.ctx, keyId);
  if (asked === undefined) return versions.filter((v) => v.state === "Enabled" && !v.retired).map((v) => v.version);
  if (asked === "latest") return [Math.max(...versions.map((v) => v.version))];
  if (!/^[1-9][0-9]{0,9}$/.test(asked)) throw badRequest(`invalid key version ${asked}`);
  return [Number(asked)];
}
