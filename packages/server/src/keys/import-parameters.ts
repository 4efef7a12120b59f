/**
 * BYOK import parameters: a one-time RSA wrapping key pair and an import token per request
 * (GetParametersForImport), held in this process's memory only.
 *
 * Invariants:
 * - A token is bound to one key id and one wrapping algorithm, expires after 24 hours (as AWS's),
 *   and is single use: `take` removes it whatever the import then makes of it.
 * - The private key never leaves memory: not stored, not logged; sealing drops every pending
 *   parameter set (OpenSSL cleanses a KeyObject's key when it is freed). A restart or seal means new
 *   parameters. Only the node that issued them can take them (several nodes: docs/distribution.md).
 * - At most `maxPending` sets are held; beyond it the oldest is dropped, so a caller allowed to ask
 *   for parameters cannot exhaust memory.
 * - Tokens are found by their SHA-256, so the map holds no token.
 */
import { generateKeyPair, type KeyObject } from "node:crypto";
import { promisify } from "node:util";
import { TesseraError, type ImportWrappingAlgorithm, type ImportWrappingKeySpec } from "@tessera/protocol";
import { secretBytes, sha256Hex, zero } from "../crypto/index.js";
import type { Clock } from "../clock.js";
import type { Barrier } from "../seal/index.js";

export const IMPORT_PARAMETERS_TTL_MS = 24 * 3600 * 1000;
const DEFAULT_MAX_PENDING = 1000;
const generate = promisify(generateKeyPair);
const BITS: Record<ImportWrappingKeySpec, number> = { RSA_3072: 3072, RSA_4096: 4096 };

interface Pending {
  keyId: string;
  algorithm: ImportWrappingAlgorithm;
  privateKey: KeyObject;
  expiresAt: number;
}

export interface IssuedParameters {
  /** DER SubjectPublicKeyInfo of the wrapping key. */
  publicKey: Buffer;
  importToken: Buffer;
  expiresAt: number;
}

export class ImportParameters {
  private readonly pending = new Map<string, Pending>();

  constructor(
    barrier: Pick<Barrier, "onSeal">,
    private readonly clock: Clock,
    private readonly maxPending = DEFAULT_MAX_PENDING,
  ) {
    barrier.onSeal(() => this.pending.clear());
  }

  async issue(keyId: string, algorithm: ImportWrappingAlgorithm, spec: ImportWrappingKeySpec): Promise<IssuedParameters> {
    const { publicKey, privateKey } = await generate("rsa", { modulusLength: BITS[spec], publicExponent: 0x10001 });
    const importToken = secretBytes(32);
    const expiresAt = this.clock.now() + IMPORT_PARAMETERS_TTL_MS;
    this.dropExpired();
    while (this.pending.size >= this.maxPending) this.pending.delete(this.pending.keys().next().value!);
    this.pending.set(sha256Hex(importToken), { keyId, algorithm, privateKey, expiresAt });
    return { publicKey: publicKey.export({ type: "spki", format: "der" }), importToken, expiresAt };
  }

  /**
   * Spends a token issued for `keyId`: its wrapping algorithm and private key. Unknown, spent, for
   * another key, or expired: `InvalidInput` on /importToken (AWS: InvalidImportToken / ExpiredImportToken).
   */
  take(keyId: string, importToken: Buffer): { algorithm: ImportWrappingAlgorithm; privateKey: KeyObject } {
    const h = sha256Hex(importToken);
    zero(importToken);
    const found = this.pending.get(h);
    if (found === undefined || found.keyId !== keyId) {
      throw new TesseraError("InvalidInput", "the import token is unknown, already used, or for another key", { field: "/importToken", cause: { awsType: "InvalidImportTokenException" } });
    }
    this.pending.delete(h);
    if (found.expiresAt <= this.clock.now()) {
      throw new TesseraError("InvalidInput", "the import token has expired; get new import parameters", { field: "/importToken", cause: { awsType: "ExpiredImportTokenException" } });
    }
    return { algorithm: found.algorithm, privateKey: found.privateKey };
  }

  private dropExpired(): void {
    const now = this.clock.now();
    for (const [h, p] of this.pending) if (p.expiresAt <= now) this.pending.delete(h);
  }
}
