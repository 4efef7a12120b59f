/**
 * Wire schemas of AWS-style grants as the native API shows them (`GET /v1/keys/{key}/grants`,
 * docs/api.md). Grants are made through the AWS API (CreateGrant); natively they are read-only.
 * Not to be confused with a token's inline `grants` (identity-schemas.ts).
 */
import { Type, type Static } from "@sinclair/typebox";

const Context = Type.Record(Type.String(), Type.String());

export const KeyGrantConstraints = Type.Object({
  /** The request's encryption context must be exactly these pairs (keys compared case-insensitively). */
  encryptionContextEquals: Type.Optional(Context),
  /** The request's encryption context must include these pairs. */
  encryptionContextSubset: Type.Optional(Context),
});
export type KeyGrantConstraints = Static<typeof KeyGrantConstraints>;

export const KeyGrantInfo = Type.Object({
  grantId: Type.String(),
  keyId: Type.String(),
  name: Type.String(),
  /** The AWS principal ARN the grant names, and the Tessera role it maps to. */
  granteePrincipal: Type.String(),
  granteeRole: Type.String(),
  retiringPrincipal: Type.Union([Type.String(), Type.Null()]),
  retiringRole: Type.Union([Type.String(), Type.Null()]),
  issuingAccount: Type.String(),
  /** AWS grant operations: Decrypt, Encrypt, GenerateDataKey, DescribeKey, RetireGrant … */
  operations: Type.Array(Type.String()),
  constraints: Type.Union([KeyGrantConstraints, Type.Null()]),
  createdAt: Type.String({ format: "date-time" }),
});
export type KeyGrantInfo = Static<typeof KeyGrantInfo>;

export const ListKeyGrantsResponse = Type.Object({ keyId: Type.String(), grants: Type.Array(KeyGrantInfo) });
export type ListKeyGrantsResponse = Static<typeof ListKeyGrantsResponse>;
