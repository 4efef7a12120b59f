/**
 * GenerateMac and VerifyMac with HMAC keys (HMAC_224/256/384/512, HMAC_SM3), on a key handle the
 * service has resolved and authorised. Knows nothing of callers or HTTP.
 *
 * Checks, in order: the key is usable (enabled), its usage is GENERATE_VERIFY_MAC and the algorithm
 * is its spec's (`InvalidKeyUsage`), then the version. GenerateMac uses the primary version and says
 * so; VerifyMac uses the version the caller names, else the primary, and computes exactly one HMAC
 * (as Verify does for signatures: a caller cannot make the server search versions). Verification
 * recomputes the MAC and compares in constant time; a wrong MAC is `valid: false`, never an error.
 */
import type { KeyObject } from "node:crypto";
import { TesseraError, checkKeyUsage, type MacAlgorithm } from "@tessera/protocol";
import { hmac, verifyHmac } from "../crypto/index.js";
import type { KeyRow, VersionRow } from "../store/index.js";
import * as lifecycle from "./lifecycle.js";
import type { KeyHandle } from "./keyring.js";
import type { UsageRecorder } from "./usage.js";

export class MacOperations {
  constructor(private readonly usage: Pick<UsageRecorder, "record">) {}

  generate(handle: KeyHandle, algorithm: MacAlgorithm, message: Uint8Array): { keyVersion: number; mac: Buffer } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "GENERATE_VERIFY_MAC", algorithm);
    const keyVersion = row.primaryVersion;
    const mac = hmac(algorithm, materialOf(handle, keyVersion), message);
    this.usage.record(row.id, keyVersion, handle);
    return { keyVersion, mac };
  }

  verify(handle: KeyHandle, algorithm: MacAlgorithm, message: Uint8Array, mac: Uint8Array, keyVersion: number | undefined): { keyVersion: number; valid: boolean } {
    const { row } = handle;
    usable(row);
    checkKeyUsage(row, "GENERATE_VERIFY_MAC", algorithm);
    const v = keyVersion ?? row.primaryVersion;
    const refusal = versionRefusal(row, handle.versions.get(v), v);
    if (refusal !== undefined) throw refusal;
    const valid = verifyHmac(algorithm, materialOf(handle, v), message, mac);
    this.usage.record(row.id, v, handle);
    return { keyVersion: v, valid };
  }
}

function usable(row: KeyRow): void {
  const err = lifecycle.usableKeyError(row);
  if (err !== undefined) throw err;
}

/** Why a version may not verify: missing, destroyed, retired below minDecryptionVersion, or disabled. */
function versionRefusal(row: KeyRow, version: VersionRow | undefined, v: number): TesseraError | undefined {
  if (version === undefined) return new TesseraError("NotFound", `key ${row.name} has no version ${v}`);
  if (version.state === "Destroyed") return new TesseraError("Destroyed", `version ${v} of key ${row.name} has been destroyed`);
  if (v < row.minDecryptionVersion) return new TesseraError("Disabled", `version ${v} of key ${row.name} is retired (minDecryptionVersion is ${row.minDecryptionVersion})`);
  if (version.state === "Disabled") return new TesseraError("Disabled", `version ${v} of key ${row.name} is disabled`);
  return undefined;
}

function materialOf(handle: KeyHandle, v: number): KeyObject {
  const material = handle.secretKey(v);
  if (material === undefined) throw new TesseraError("Destroyed", `version ${v} of key ${handle.row.name} has been destroyed`);
  return material;
}
