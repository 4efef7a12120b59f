/**
 * Keyless digests through the door (`kms:Hash`, authorised on the unnamed `random` resource like
 * GenerateRandom): the Vault API's `transit/hash`. The input is never audited.
 */
import { TesseraError } from "@tessera/protocol";
import { digest, isDigestAlgorithm, type DigestAlgorithm } from "../crypto/index.js";
import { resources } from "../policy/index.js";
import type { CallContext, Door } from "./door.js";

/** Largest input hashed in one request (Vault's transit has no limit below the body size). */
export const MAX_HASH_INPUT_BYTES = 1024 * 1024;

export class HashService {
  constructor(private readonly door: Door) {}

  hash(ctx: CallContext, algorithm: string, input: Uint8Array): Promise<{ algorithm: DigestAlgorithm; digest: Buffer }> {
    return this.door.run(ctx, "kms:Hash", async (s) => {
      await s.authorize(resources.random);
      if (!isDigestAlgorithm(algorithm)) throw new TesseraError("InvalidInput", `unsupported hash algorithm ${algorithm}`, { field: "/algorithm" });
      if (input.length > MAX_HASH_INPUT_BYTES) throw new TesseraError("TooLarge", `input must be at most ${MAX_HASH_INPUT_BYTES} bytes`, { field: "/input" });
      return { algorithm, digest: digest(algorithm, input) };
    });
  }
}
