/**
 * Wire schemas of the versioned secrets store (docs/secrets.md): key/value documents kept per
 * `MOUNT/PATH`, each write a new version, encrypted under the mount's Tessera key. The same store
 * backs the native `/v1/secrets/…` routes, the Vault KV v2 routes, the CLI's `tessera secret` and
 * the agent's `secret` templates.
 *
 * Invariants: a path is `/`-separated segments of `[A-Za-z0-9._@=+-]` (no empty, `.` or `..`
 * segment), at most 512 characters; a mount is one such segment. Values are strings (as Vault KV
 * clients write them) or any JSON value; the whole document is at most MAX_SECRET_BYTES as JSON.
 */
import { Type, type Static } from "@sinclair/typebox";
import { KeyRef } from "./schemas.js";

const strict = { additionalProperties: false } as const;

/** The largest secret document (its JSON) a version may hold. */
export const MAX_SECRET_BYTES = 512 * 1024;
/** How many versions a path keeps when neither it nor its mount says (Vault's default). */
export const DEFAULT_MAX_SECRET_VERSIONS = 10;
export const MAX_SECRET_PATH = 512;
export const SECRET_SEGMENT = "[A-Za-z0-9._@=+-]+";

export const SecretMount = Type.String({ minLength: 1, maxLength: 64, pattern: `^${SECRET_SEGMENT}$` });
export const SecretData = Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Type.Unknown(), {
  description: "The secret's fields, e.g. {\"password\": \"…\"}.",
});
export type SecretData = Static<typeof SecretData>;
const CustomMetadata = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 512 }), { maxProperties: 64 });
const Versions = Type.Array(Type.Integer({ minimum: 1 }), { minItems: 1, maxItems: 1000 });

export const PutSecretRequest = Type.Object(
  {
    data: SecretData,
    /** Write only if the current version is this (0: only if the path has no version yet). */
    cas: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  strict,
);
export type PutSecretRequest = Static<typeof PutSecretRequest>;

export const SecretVersionWritten = Type.Object({
  path: Type.String(),
  version: Type.Integer(),
  createdTime: Type.String(),
  /** The Tessera key (id) and its version that wrap this secret version's data key. */
  keyId: Type.String(),
  keyVersion: Type.Integer(),
});
export type SecretVersionWritten = Static<typeof SecretVersionWritten>;

/** `?version=N` (0 or absent: the current version). */
export const ReadSecretQuery = Type.Object({ version: Type.Optional(Type.String({ pattern: "^[0-9]{1,9}$" })) }, strict);
export type ReadSecretQuery = Static<typeof ReadSecretQuery>;

export const SecretVersionRead = Type.Object({
  path: Type.String(),
  version: Type.Integer(),
  data: SecretData,
  createdTime: Type.String(),
  customMetadata: CustomMetadata,
});
export type SecretVersionRead = Static<typeof SecretVersionRead>;

export const SecretVersionInfo = Type.Object({
  version: Type.Integer(),
  createdTime: Type.String(),
  /** When the version was soft-deleted (or reached `deleteVersionAfter`); null while readable. */
  deletedTime: Type.Union([Type.String(), Type.Null()]),
  destroyed: Type.Boolean(),
  /** Successful reads of this version, the last one's time and reader (principal id): is it still in use? */
  readCount: Type.Integer(),
  lastReadTime: Type.Union([Type.String(), Type.Null()]),
  lastReader: Type.Union([Type.String(), Type.Null()]),
});
export type SecretVersionInfo = Static<typeof SecretVersionInfo>;

export const SecretMetadata = Type.Object({
  mount: Type.String(),
  path: Type.String(),
  createdTime: Type.String(),
  updatedTime: Type.String(),
  currentVersion: Type.Integer(),
  oldestVersion: Type.Integer(),
  /** Versions kept (older ones are removed on write); 0 = the mount's default. */
  maxVersions: Type.Integer(),
  casRequired: Type.Boolean(),
  /** Seconds after which a version counts as deleted; 0 = never. */
  deleteVersionAfter: Type.Integer(),
  customMetadata: CustomMetadata,
  versions: Type.Array(SecretVersionInfo),
});
export type SecretMetadata = Static<typeof SecretMetadata>;

export const WriteSecretMetadataRequest = Type.Object(
  {
    maxVersions: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    casRequired: Type.Optional(Type.Boolean()),
    deleteVersionAfter: Type.Optional(Type.Integer({ minimum: 0 })),
    customMetadata: Type.Optional(CustomMetadata),
  },
  strict,
);
export type WriteSecretMetadataRequest = Static<typeof WriteSecretMetadataRequest>;

export const SecretVersionsRequest = Type.Object({ versions: Type.Optional(Versions) }, strict);
export type SecretVersionsRequest = Static<typeof SecretVersionsRequest>;
export const SecretVersionsRequired = Type.Object({ versions: Versions }, strict);
export type SecretVersionsRequired = Static<typeof SecretVersionsRequired>;

export const ListSecretsResponse = Type.Object({
  /** Names directly under the prefix; a name ending in `/` has secrets below it. */
  keys: Type.Array(Type.String()),
});
export type ListSecretsResponse = Static<typeof ListSecretsResponse>;

export const SecretMountConfig = Type.Object({
  mount: Type.String(),
  /** The Tessera key (id) that wraps the data keys of new versions. */
  keyId: Type.String(),
  keyName: Type.String(),
  maxVersions: Type.Integer(),
  casRequired: Type.Boolean(),
  deleteVersionAfter: Type.Integer(),
  createdTime: Type.String(),
});
export type SecretMountConfig = Static<typeof SecretMountConfig>;

export const ConfigureSecretMountRequest = Type.Object(
  {
    /** The key that wraps new versions (symmetric, ENCRYPT_DECRYPT); the caller needs kms:GenerateDataKey on it. */
    key: Type.Optional(KeyRef),
    maxVersions: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    casRequired: Type.Optional(Type.Boolean()),
    deleteVersionAfter: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  strict,
);
export type ConfigureSecretMountRequest = Static<typeof ConfigureSecretMountRequest>;
