/**
 * Wire schemas of the native API (`/v1/…`): one TypeBox schema per request and response body.
 * The server validates against them and serves them as OpenAPI; the client uses their static types.
 * Bytes travel as standard base64; times as RFC 3339 strings.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";
import { EncryptionAlgorithm, KeySpec, KeySpecInput, KeyUsage } from "./key-specs.js";

const strict = { additionalProperties: false } as const;

/** Standard base64 (RFC 4648 §4), padded. */
export const Base64 = Type.String({ pattern: "^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$", maxLength: 1_400_000 });

export const KeyName = Type.String({
  minLength: 1,
  maxLength: 128,
  pattern: "^[A-Za-z0-9][A-Za-z0-9/_+=.@-]*$",
  description: "Unique name of a key: letters, digits and / _ + = . @ - ; must not look like a UUID.",
});

/** A key reference: its UUID or its name. */
export const KeyRef = Type.String({ minLength: 1, maxLength: 256 });

export const Context = Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
  description:
    "Encryption context: non-secret strings bound to the ciphertext as additional authenticated data (at most 64 pairs, 8192 bytes encoded).",
  propertyNames: { minLength: 1, maxLength: 1024 },
  maxProperties: 64,
});

export const Tags = Type.Record(Type.String({ minLength: 1, maxLength: 128 }), Type.String({ maxLength: 256 }), { maxProperties: 50 });

export const KeyState = Type.Union([
  Type.Literal("Enabled"),
  Type.Literal("Disabled"),
  Type.Literal("PendingDeletion"),
  Type.Literal("Destroyed"),
]);
export type KeyState = Static<typeof KeyState>;

export const VersionState = Type.Union([Type.Literal("Enabled"), Type.Literal("Disabled"), Type.Literal("Destroyed")]);
export type VersionState = Static<typeof VersionState>;


const Timestamp = Type.String({ format: "date-time" });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const MIN_ROTATION_PERIOD_SECONDS = 3600;
export const MAX_ROTATION_PERIOD_SECONDS = 100 * 365 * 86400;
const RotationPeriod = Type.Integer({
  minimum: MIN_ROTATION_PERIOD_SECONDS,
  maximum: MAX_ROTATION_PERIOD_SECONDS,
  description: "Automatic rotation period in seconds (at least one hour).",
});

export const KeyMetadata = Type.Object({
  keyId: Type.String({ format: "uuid" }),
  name: Type.String(),
  description: Type.String(),
  tags: Tags,
  keySpec: KeySpec,
  keyUsage: KeyUsage,
  state: KeyState,
  derived: Type.Boolean(),
  exportable: Type.Boolean(),
  createdAt: Timestamp,
  primaryVersion: Type.Integer(),
  minDecryptionVersion: Type.Integer(),
  rotationPeriodSeconds: Nullable(Type.Integer()),
  lastRotatedAt: Timestamp,
  nextRotationAt: Nullable(Timestamp),
  deletionDate: Nullable(Timestamp),
  destroyedAt: Nullable(Timestamp),
});
export type KeyMetadata = Static<typeof KeyMetadata>;

export const KeyVersionInfo = Type.Object({
  version: Type.Integer(),
  state: VersionState,
  /** True when the version is below the key's `minDecryptionVersion`. */
  retired: Type.Boolean(),
  primary: Type.Boolean(),
  createdAt: Timestamp,
  lastUsedAt: Nullable(Timestamp),
  useCount: Type.Integer(),
  destroyedAt: Nullable(Timestamp),
});
export type KeyVersionInfo = Static<typeof KeyVersionInfo>;

export const CreateKeyRequest = Type.Object(
  {
    name: KeyName,
    description: Type.Optional(Type.String({ maxLength: 8192 })),
    tags: Type.Optional(Tags),
    /** Default `SYMMETRIC_DEFAULT`. */
    keySpec: Type.Optional(KeySpecInput),
    /** Required for specs with more than one usage and no default (asymmetric keys), as in AWS. */
    keyUsage: Type.Optional(KeyUsage),
    rotationPeriodSeconds: Type.Optional(RotationPeriod),
    derived: Type.Optional(Type.Boolean()),
    exportable: Type.Optional(Type.Boolean()),
  },
  strict,
);
export type CreateKeyRequest = Static<typeof CreateKeyRequest>;

export const UpdateKeyRequest = Type.Object(
  {
    description: Type.Optional(Type.String({ maxLength: 8192 })),
    tags: Type.Optional(Tags),
    rotationPeriodSeconds: Type.Optional(Nullable(RotationPeriod)),
  },
  strict,
);
export type UpdateKeyRequest = Static<typeof UpdateKeyRequest>;

export const ListKeysResponse = Type.Object({ keys: Type.Array(KeyMetadata), nextMarker: Nullable(Type.String()) });
export type ListKeysResponse = Static<typeof ListKeysResponse>;

export const ListVersionsResponse = Type.Object({ keyId: Type.String(), versions: Type.Array(KeyVersionInfo) });
export type ListVersionsResponse = Static<typeof ListVersionsResponse>;

export const ScheduleDeletionRequest = Type.Object(
  { pendingWindowDays: Type.Optional(Type.Integer({ minimum: 7, maximum: 30 })) },
  strict,
);
export type ScheduleDeletionRequest = Static<typeof ScheduleDeletionRequest>;

export const SetMinDecryptionVersionRequest = Type.Object({ minDecryptionVersion: Type.Integer({ minimum: 1 }) }, strict);
export type SetMinDecryptionVersionRequest = Static<typeof SetMinDecryptionVersionRequest>;

export const MAX_PLAINTEXT_BYTES = 4096;

export const EncryptRequest = Type.Object(
  {
    plaintext: Base64,
    context: Type.Optional(Context),
    /**
     * Default SYMMETRIC_DEFAULT (Tessera's envelope). RSAES_OAEP_SHA_1/SHA_256 with an RSA
     * ENCRYPT_DECRYPT key: the ciphertext is the raw OAEP output; no context.
     */
    encryptionAlgorithm: Type.Optional(EncryptionAlgorithm),
  },
  strict,
);
export type EncryptRequest = Static<typeof EncryptRequest>;
export const EncryptResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  ciphertext: Type.String(),
  /** Present for asymmetric encryption. */
  encryptionAlgorithm: Type.Optional(EncryptionAlgorithm),
});
export type EncryptResponse = Static<typeof EncryptResponse>;

export const DecryptRequest = Type.Object(
  {
    ciphertext: Base64,
    context: Type.Optional(Context),
    /** When given, the ciphertext must belong to this key (else `IncorrectKey`). Required for asymmetric decryption. */
    keyId: Type.Optional(KeyRef),
    /** Default SYMMETRIC_DEFAULT. RSAES_OAEP_*: `ciphertext` is raw OAEP output for `keyId`. */
    encryptionAlgorithm: Type.Optional(EncryptionAlgorithm),
    /** Asymmetric decryption: the version the ciphertext was encrypted to (EncryptResponse.keyVersion); default the primary. */
    keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  strict,
);
export type DecryptRequest = Static<typeof DecryptRequest>;
export const DecryptResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  plaintext: Type.String(),
  encryptionAlgorithm: Type.Optional(EncryptionAlgorithm),
});
export type DecryptResponse = Static<typeof DecryptResponse>;

export const DataKeySpec = Type.Union([Type.Literal("AES_256"), Type.Literal("AES_128")]);
export const GenerateDataKeyRequest = Type.Object(
  {
    keySpec: Type.Optional(DataKeySpec),
    numberOfBytes: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    context: Type.Optional(Context),
  },
  strict,
);
export type GenerateDataKeyRequest = Static<typeof GenerateDataKeyRequest>;
export const GenerateDataKeyResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  ciphertext: Type.String(),
  plaintext: Type.String(),
});
export type GenerateDataKeyResponse = Static<typeof GenerateDataKeyResponse>;
export const GenerateDataKeyWithoutPlaintextResponse = Type.Object({
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  ciphertext: Type.String(),
});
export type GenerateDataKeyWithoutPlaintextResponse = Static<typeof GenerateDataKeyWithoutPlaintextResponse>;

export const ReEncryptRequest = Type.Object(
  {
    ciphertext: Base64,
    sourceContext: Type.Optional(Context),
    sourceKeyId: Type.Optional(KeyRef),
    /** Defaults to the ciphertext's own key (re-wrap under its newest version). */
    destinationKeyId: Type.Optional(KeyRef),
    destinationContext: Type.Optional(Context),
  },
  strict,
);
export type ReEncryptRequest = Static<typeof ReEncryptRequest>;
export const ReEncryptResponse = Type.Object({
  sourceKeyId: Type.String(),
  sourceKeyVersion: Type.Integer(),
  keyId: Type.String(),
  keyVersion: Type.Integer(),
  ciphertext: Type.String(),
});
export type ReEncryptResponse = Static<typeof ReEncryptResponse>;

export const DeriveRequest = Type.Object(
  {
    context: Context,
    length: Type.Optional(Type.Integer({ minimum: 16, maximum: 64 })),
    keyVersion: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  strict,
);
export type DeriveRequest = Static<typeof DeriveRequest>;
export const DeriveResponse = Type.Object({ keyId: Type.String(), keyVersion: Type.Integer(), derivedKey: Type.String() });
export type DeriveResponse = Static<typeof DeriveResponse>;

export const GenerateRandomRequest = Type.Object({ numberOfBytes: Type.Integer({ minimum: 1, maximum: 1024 }) }, strict);
export type GenerateRandomRequest = Static<typeof GenerateRandomRequest>;
export const GenerateRandomResponse = Type.Object({ plaintext: Type.String() });
export type GenerateRandomResponse = Static<typeof GenerateRandomResponse>;

export const MAX_BATCH_ITEMS = 1000;

const ItemError = Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) });

export const BatchEncryptRequest = Type.Object(
  {
    items: Type.Array(Type.Object({ keyId: KeyRef, plaintext: Base64, context: Type.Optional(Context) }, strict), {
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
    }),
  },
  strict,
);
export type BatchEncryptRequest = Static<typeof BatchEncryptRequest>;
export const BatchEncryptResponse = Type.Object({ results: Type.Array(Type.Union([EncryptResponse, ItemError])) });
export type BatchEncryptResponse = Static<typeof BatchEncryptResponse>;

export const BatchDecryptRequest = Type.Object(
  {
    items: Type.Array(Type.Object({ ciphertext: Base64, context: Type.Optional(Context) }, strict), {
      minItems: 1,
      maxItems: MAX_BATCH_ITEMS,
    }),
  },
  strict,
);
export type BatchDecryptRequest = Static<typeof BatchDecryptRequest>;
export const BatchDecryptResponse = Type.Object({ results: Type.Array(Type.Union([DecryptResponse, ItemError])) });
export type BatchDecryptResponse = Static<typeof BatchDecryptResponse>;

/** One allow statement of a token's grants: actions and typed resources as in policies (a bare pattern means keys), `*` patterns allowed. */
export const Grant = Type.Object(
  {
    actions: Type.Array(Type.String({ minLength: 1, maxLength: 128, pattern: "^[a-z]+:[A-Za-z*]+$|^\\*$" }), { minItems: 1, maxItems: 64 }),
    resources: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 64 }),
  },
  strict,
);
export type Grant = Static<typeof Grant>;

export const MAX_TOKEN_TTL_SECONDS = 32 * 86400;
export const CreateTokenRequest = Type.Object(
  {
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_TOKEN_TTL_SECONDS })),
    displayName: Type.Optional(Type.String({ maxLength: 256 })),
    grants: Type.Array(Grant, { maxItems: 64 }),
  },
  strict,
);
export type CreateTokenRequest = Static<typeof CreateTokenRequest>;

export const TokenInfo = Type.Object({
  accessor: Type.String(),
  displayName: Type.String(),
  root: Type.Boolean(),
  grants: Type.Array(Grant),
  createdAt: Timestamp,
  expiresAt: Nullable(Timestamp),
  /** root | token | vm | workload | service */
  kind: Type.String(),
  role: Nullable(Type.String()),
  /** root | token | cert | jwt | approle | access-key */
  authMethod: Type.String(),
  attributes: Type.Record(Type.String(), Type.String()),
  /** Address the token was issued to. */
  source: Type.String(),
  renewable: Type.Boolean(),
});
export type TokenInfo = Static<typeof TokenInfo>;

export const CreateTokenResponse = Type.Intersect([TokenInfo, Type.Object({ token: Type.String() })]);
export type CreateTokenResponse = Static<typeof CreateTokenResponse>;

export const TokenSelector = Type.Object(
  { accessor: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })), token: Type.Optional(Type.String({ minLength: 1, maxLength: 256 })) },
  { ...strict, minProperties: 1, maxProperties: 1 },
);
export type TokenSelector = Static<typeof TokenSelector>;

export const InitRequest = Type.Object(
  { shares: Type.Integer({ minimum: 1, maximum: 255 }), threshold: Type.Integer({ minimum: 1, maximum: 255 }) },
  strict,
);
export type InitRequest = Static<typeof InitRequest>;
/** `shares` are unseal shares, or recovery shares when `sealType` is pkcs11 (the HSM unsealed the server: `sealed` false). */
export const InitResponse = Type.Object({
  shares: Type.Array(Type.String()),
  rootToken: Type.String(),
  threshold: Type.Integer(),
  sealType: Type.Optional(Type.String()),
  sealed: Type.Optional(Type.Boolean()),
});
export type InitResponse = Static<typeof InitResponse>;

/**
 * One unseal (or, with the PKCS#11 seal, recovery) share; `reset` discards those submitted so far;
 * `migrate` submits a share of the stored seal while the server is configured for another seal type.
 */
export const UnsealRequest = Type.Object(
  { share: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })), reset: Type.Optional(Type.Boolean()), migrate: Type.Optional(Type.Boolean()) },
  { ...strict, minProperties: 1 },
);
export type UnsealRequest = Static<typeof UnsealRequest>;

export const SealStatus = Type.Object({
  initialized: Type.Boolean(),
  sealed: Type.Boolean(),
  sealType: Nullable(Type.String()),
  threshold: Type.Integer(),
  shares: Type.Integer(),
  progress: Type.Integer(),
  version: Type.String(),
  /** With the PKCS#11 seal the shares are recovery shares: the HSM unseals. */
  recoveryShares: Type.Optional(Type.Boolean()),
  /** Why the server has not unsealed itself (HSM unreachable, PIN refused …), while sealed. */
  error: Type.Optional(Type.String()),
  /** Storage is sealed with `from` and the server is configured for `to`: unseal with `migrate`. */
  migration: Type.Optional(Type.Object({ from: Type.String(), to: Type.String() })),
  /** A root rotation is under way (it resumes by itself). */
  rootRotation: Type.Optional(Type.Boolean()),
});
export type SealStatus = Static<typeof SealStatus>;

export const Health = Type.Object({
  initialized: Type.Boolean(),
  sealed: Type.Boolean(),
  version: Type.String(),
  serverTime: Timestamp,
});
export type Health = Static<typeof Health>;

export const ErrorResponse = Type.Object({
  error: Type.Object({
    code: Type.String(),
    message: Type.String(),
    field: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
  }),
});
