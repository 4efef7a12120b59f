/**
 * Wire schemas of the operator's root-of-trust operations: rekey, generate-root, rotate-root,
 * backup and restore (docs/api.md, docs/operations.md).
 */
import { Type, type Static } from "@sinclair/typebox";

const strict = { additionalProperties: false } as const;
const Share = Type.String({ minLength: 1, maxLength: 1024 });
const Nonce = Type.String({ minLength: 1, maxLength: 64 });

export const RekeyInitRequest = Type.Object({ shares: Type.Integer({ minimum: 1, maximum: 255 }), threshold: Type.Integer({ minimum: 1, maximum: 255 }) }, strict);
export type RekeyInitRequest = Static<typeof RekeyInitRequest>;

export const QuorumShareRequest = Type.Object({ nonce: Nonce, share: Share }, strict);
export type QuorumShareRequest = Static<typeof QuorumShareRequest>;

/** A rekey attempt: shares submitted out of the current threshold; `newShares` once complete (shown once). */
export const RekeyStatus = Type.Object({
  started: Type.Boolean(),
  nonce: Type.Optional(Type.String()),
  progress: Type.Integer(),
  required: Type.Integer(),
  newShares: Type.Optional(Type.Integer()),
  newThreshold: Type.Optional(Type.Integer()),
  complete: Type.Boolean(),
  shares: Type.Optional(Type.Array(Type.String())),
});
export type RekeyStatus = Static<typeof RekeyStatus>;

/**
 * A generate-root attempt. `otp` only in the answer that started it; `encodedToken` (the new root
 * token XOR the OTP, base64) only in the answer that completed it — only the starter can decode it.
 */
export const GenerateRootStatus = Type.Object({
  started: Type.Boolean(),
  nonce: Type.Optional(Type.String()),
  progress: Type.Integer(),
  required: Type.Integer(),
  complete: Type.Boolean(),
  otp: Type.Optional(Type.String()),
  encodedToken: Type.Optional(Type.String()),
});
export type GenerateRootStatus = Static<typeof GenerateRootStatus>;

export const RotateRootStatus = Type.Object({
  /** "idle", or the step under way. */
  state: Type.Union([Type.Literal("idle"), Type.Literal("resealing"), Type.Literal("finishing")]),
  rootId: Type.String(),
  /** Records looked at and re-sealed so far in this rotation. */
  scanned: Type.Integer(),
  resealed: Type.Integer(),
  total: Type.Integer(),
});
export type RotateRootStatus = Static<typeof RotateRootStatus>;

/** The first line of a restore request's body, before the backup's bytes. */
export const RestorePreamble = Type.Object(
  {
    /** A quorum of the backup's unseal (or recovery) shares, when its root of trust is shares. */
    shares: Type.Optional(Type.Array(Share, { maxItems: 255 })),
    /** Replace the state of an initialised node. */
    force: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type RestorePreamble = Static<typeof RestorePreamble>;

export const RestoreResult = Type.Object({
  backupId: Type.String(),
  createdAt: Type.String(),
  rows: Type.Integer(),
  sealType: Type.String(),
  sealed: Type.Boolean(),
});
export type RestoreResult = Static<typeof RestoreResult>;
