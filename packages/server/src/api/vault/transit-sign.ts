/**
 * Transit's signatures and HMACs (Vault's `path_sign_verify.go`, `path_hmac.go`). Vault names a hash
 * and a padding; Tessera's keys name an algorithm, so the algorithm is chosen from the key's spec once
 * the door has resolved it (AsymmetricService's `SigningAlgorithmChoice`), and a combination Tessera
 * does not have is refused inside the door (audited as the failed Sign or Verify it is).
 */
import { TesseraError, type KeySpec, type SigningAlgorithm } from "@tessera/protocol";
import type { CallContext } from "../../service/door.js";
import type { AsymmetricService, SigningAlgorithmChoice } from "../../service/asymmetric-service.js";
import type { MacService } from "../../service/mac-service.js";
import type { KmsService } from "../../service/kms-service.js";
import { badRequest, refused } from "./vault-errors.js";
import { base64Text, bool, int, str, type Json } from "./vault-input.js";
import type { VaultCall, VaultResult } from "./vault-router.js";
import { prefixed, unprefix } from "./vault-ciphertext.js";
import { singleOrBatch } from "./vault-batch.js";
import { keyName } from "./transit-keys.js";
import { macAlgorithmOf } from "./vault-key-types.js";
import { derToJws, jwsToDer } from "./jws.js";

export interface TransitSignDeps {
  service: Pick<KmsService, "rejected">;
  asymmetric: AsymmetricService;
  macs: MacService;
}

const SIGNATURE_ALGORITHMS = ["pss", "pkcs1v15"] as const;
const HASHES = ["sha1", "sha2-224", "sha2-256", "sha2-384", "sha2-512", "sha3-224", "sha3-256", "sha3-384", "sha3-512", "none", "sm3"];
const RSA_HASH_BITS: Readonly<Record<string, string>> = { "sha2-256": "256", "sha2-384": "384", "sha2-512": "512" };
/** ECDSA curves and the one hash each signs with in Tessera. */
const ECDSA: Partial<Record<KeySpec, { hash: string; algorithm: SigningAlgorithm }>> = {
  ECC_NIST_P256: { hash: "sha2-256", algorithm: "ECDSA_SHA_256" },
  ECC_SECG_P256K1: { hash: "sha2-256", algorithm: "ECDSA_SHA_256" },
  ECC_NIST_P384: { hash: "sha2-384", algorithm: "ECDSA_SHA_384" },
  ECC_NIST_P521: { hash: "sha2-512", algorithm: "ECDSA_SHA_512" },
};

const unsupported = (message: string) => new TesseraError("InvalidInput", message, { field: "/hash_algorithm" });

/** The Tessera signing algorithm for Vault's `hash_algorithm` and `signature_algorithm` on a key of `spec`. */
export function signingAlgorithmFor(hash: string | undefined, padding: "pss" | "pkcs1v15" | undefined, prehashed: boolean): SigningAlgorithmChoice {
  return ({ keySpec }) => {
    if (keySpec === "RSA_2048" || keySpec === "RSA_3072" || keySpec === "RSA_4096") {
      const bits = RSA_HASH_BITS[hash ?? "sha2-256"];
      if (bits === undefined) throw unsupported(`Tessera's RSA keys sign with sha2-256, sha2-384 or sha2-512, not ${hash!}`);
      return ((padding ?? "pss") === "pss" ? `RSASSA_PSS_SHA_${bits}` : `RSASSA_PKCS1_V1_5_SHA_${bits}`) as SigningAlgorithm;
    }
    const ecdsa = ECDSA[keySpec];
    if (ecdsa !== undefined) {
      // Vault's default hash is sha2-256 for every curve; Tessera's curves each have their own.
      if (hash !== undefined && hash !== ecdsa.hash) throw unsupported(`a ${keySpec} key signs with ${ecdsa.hash} in Tessera, not ${hash}`);
      return ecdsa.algorithm;
    }
    if (keySpec === "ECC_NIST_EDWARDS25519") {
      if (prehashed) throw unsupported("Ed25519 signs the message itself: prehashed is not supported");
      return "ED25519_SHA_512";
    }
    if (keySpec === "SM2") {
      if (hash !== undefined && hash !== "sm3") throw unsupported(`an SM2 key signs with sm3, not ${hash}`);
      return "SM2DSA";
    }
    if (keySpec === "ML_DSA_44" || keySpec === "ML_DSA_65" || keySpec === "ML_DSA_87") {
      if (prehashed) throw unsupported("ML-DSA signs the message itself: prehashed is not supported");
      return "ML_DSA_SHAKE_256";
    }
    throw new TesseraError("InvalidKeyUsage", `a ${keySpec} key does not sign`);
  };
}

interface SignOptions {
  hash: string | undefined;
  padding: "pss" | "pkcs1v15" | undefined;
  prehashed: boolean;
  jws: boolean;
}

function signOptions(call: VaultCall, item: Json): SignOptions {
  const hash = call.params["hash_algorithm"] ?? str(call.body, "hash_algorithm") ?? str(call.body, "algorithm");
  if (hash !== undefined && !HASHES.includes(hash)) throw badRequest(`unsupported hash algorithm ${hash}`);
  const padding = str(call.body, "signature_algorithm");
  if (padding !== undefined && !(SIGNATURE_ALGORITHMS as readonly string[]).includes(padding)) throw badRequest(`unsupported signature algorithm ${padding}`);
  const marshaling = str(call.body, "marshaling_algorithm") ?? "asn1";
  if (marshaling !== "asn1" && marshaling !== "jws") throw badRequest(`unsupported marshaling type ${marshaling}`);
  const salt = call.body["salt_length"];
  if (salt !== undefined && salt !== "auto" && salt !== "hash") {
    throw refused("Tessera's PSS signatures use a salt as long as the hash: salt_length must be auto or hash");
  }
  if (str(item, "context")) throw refused("context applies to derived keys, and Tessera's signing keys are not derived");
  return { hash: hash === "none" ? undefined : hash, padding: padding as SignOptions["padding"], prehashed: bool(call.body, "prehashed") ?? false, jws: marshaling === "jws" };
}

const ecdsaFieldBytes: Partial<Record<SigningAlgorithm, number>> = { ECDSA_SHA_256: 32, ECDSA_SHA_384: 48, ECDSA_SHA_512: 66 };

function macAlgorithm(call: VaultCall) {
  const name = call.params["algorithm"] ?? str(call.body, "algorithm") ?? "sha2-256";
  const algorithm = macAlgorithmOf[name];
  if (algorithm === undefined) throw badRequest(`unsupported algorithm ${name}`);
  return algorithm;
}

export function signHandlers(d: TransitSignDeps) {
  const signOne = async (call: VaultCall, name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const opts = signOptions(call, item);
    const message = base64Text(item, "input", true)!;
    const r = await d.asymmetric.sign(ctx, name, {
      message,
      messageType: opts.prehashed ? "DIGEST" : "RAW",
      signingAlgorithm: signingAlgorithmFor(opts.hash, opts.padding, opts.prehashed),
    });
    const field = ecdsaFieldBytes[r.signingAlgorithm];
    const signature = opts.jws && field !== undefined ? derToJws(Buffer.from(r.signature, "base64"), field) : r.signature;
    return { signature: prefixed(r.keyVersion, signature), key_version: r.keyVersion };
  };

  const verifyOne = async (call: VaultCall, name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const message = base64Text(item, "input", true)!;
    const hmac = str(item, "hmac");
    if (hmac !== undefined) {
      const { version, rest } = unprefix(hmac, "hmac");
      if (Buffer.from(rest, "base64").toString("base64") !== rest) throw badRequest("invalid hmac: not standard base64");
      const r = await d.macs.verifyMac(ctx, name, { message, macAlgorithm: macAlgorithm(call), mac: rest, keyVersion: version });
      return { valid: r.macValid };
    }
    const given = str(item, "signature");
    if (given === undefined) throw badRequest("missing signature to validate");
    const opts = signOptions(call, item);
    const { version, rest } = unprefix(given, "signature");
    let signature: string;
    if (opts.jws && /^[A-Za-z0-9_-]+$/.test(rest)) {
      const raw = Buffer.from(rest, "base64url");
      // Only ECDSA signatures are re-marshalled; jws for other keys is plain base64url.
      signature = raw.length % 2 === 0 && raw.length >= 64 && raw.length <= 132 ? jwsToDer(raw).toString("base64") : raw.toString("base64");
    } else {
      if (Buffer.from(rest, "base64").toString("base64") !== rest) throw badRequest("invalid signature: not standard base64");
      signature = rest;
    }
    const r = await d.asymmetric.verify(ctx, name, {
      message,
      messageType: opts.prehashed ? "DIGEST" : "RAW",
      signingAlgorithm: signingAlgorithmFor(opts.hash, opts.padding, opts.prehashed),
      signature,
      keyVersion: version,
    });
    return { valid: r.signatureValid };
  };

  const hmacOne = async (call: VaultCall, name: string, item: Json, ctx: CallContext): Promise<Json> => {
    const message = base64Text(item, "input", true)!;
    const r = await d.macs.generateMac(ctx, name, { message, macAlgorithm: macAlgorithm(call) });
    const asked = int(item, "key_version");
    if (asked !== undefined && asked !== 0 && asked !== r.keyVersion) throw refused(`Tessera computes HMACs with the latest key version (${r.keyVersion}) only`);
    return { hmac: prefixed(r.keyVersion, r.mac), key_version: r.keyVersion };
  };

  return {
    sign: (call: VaultCall): Promise<VaultResult> => {
      const name = keyName(call);
      return singleOrBatch(d.service, call, (item, ctx) => signOne(call, name, item, ctx));
    },
    verify: (call: VaultCall): Promise<VaultResult> => {
      const name = keyName(call);
      return singleOrBatch(d.service, call, (item, ctx) => verifyOne(call, name, item, ctx));
    },
    hmac: (call: VaultCall): Promise<VaultResult> => {
      const name = keyName(call);
      return singleOrBatch(d.service, call, (item, ctx) => hmacOne(call, name, item, ctx));
    },
  };
}
