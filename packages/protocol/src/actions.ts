/**
 * Every action a caller can be granted. Values go on the wire (grants, policies, audit) and never change.
 */
export const actions = Object.freeze([
  "kms:CreateKey",
  "kms:DescribeKey",
  "kms:ListKeys",
  "kms:UpdateKey",
  "kms:RotateKey",
  "kms:EnableKey",
  "kms:DisableKey",
  "kms:ScheduleKeyDeletion",
  "kms:CancelKeyDeletion",
  "kms:EnableKeyVersion",
  "kms:DisableKeyVersion",
  "kms:Encrypt",
  "kms:Decrypt",
  "kms:GenerateDataKey",
  "kms:GenerateDataKeyWithoutPlaintext",
  "kms:ReEncrypt",
  "kms:Derive",
  "kms:GenerateRandom",
  "auth:CreateToken",
  "auth:LookupToken",
  "auth:RevokeToken",
  "sys:Seal",
] as const);

export type Action = (typeof actions)[number];
