/**
 * Wire schemas of GenerateMac and VerifyMac (HMAC keys, docs/api.md). A MAC names no version: the
 * response of GenerateMac says which version made it, and VerifyMac checks against the version the
 * caller names, else the key's primary version — one HMAC per request, never a search over versions
 * (as Verify does for signatures).
 */
import { Type, type Static } from "@sinclair/typebox";
import { MacAlgorithm } from "./key-spec-schemas.js";
import { Base64 } from "./schemas.js";

const strict = { additionalProperties: false } as const;

/** The largest message GenerateMac and VerifyMac take (AWS KMS's limit is 4096 bytes). */
export const MAX_MAC_MESSAGE_BYTES = 4096;

export const GenerateMacRequest = Type.Object({ message: Base64, macAlgorithm: MacAlgorithm }, strict);
export type GenerateMacRequest = Static<typeof GenerateMacRequest>;
export const GenerateMacResponse = Type.Object({ keyId: Type.String(), keyVersion: Type.Integer(), macAlgorithm: MacAlgorithm, mac: Type.String() });
export type GenerateMacResponse = Static<typeof GenerateMacResponse>;

export const VerifyMacRequest = Type.Object(
  {
    message: Base64,
    macAlgorithm: MacAlgorithm,
    mac: Base64,
    /** The version that made the MAC (GenerateMac's `keyVersion`); the primary version when absent. */
    keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  strict,
);
export type VerifyMacRequest = Static<typeof VerifyMacRequest>;
/** A MAC that does not verify is `macValid: false`, not an error (the AWS API answers KMSInvalidMacException). */
export const VerifyMacResponse = Type.Object({ keyId: Type.String(), keyVersion: Type.Integer(), macAlgorithm: MacAlgorithm, macValid: Type.Boolean() });
export type VerifyMacResponse = Static<typeof VerifyMacResponse>;
