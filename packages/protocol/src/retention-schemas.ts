/**
 * Version retention (docs/retention.md): a version that stopped being primary is disabled
 * `disableAfterSeconds` later and destroyed `destroyAfterSeconds` after that, always keeping the
 * newest `keepAtLeast` versions — unless something still uses it, which holds the destruction and
 * raises an alert naming who.
 */
import { Type, type Static } from "@sinclair/typebox";

const strict = { additionalProperties: false } as const;
const Timestamp = Type.String({ format: "date-time" });
const Nullable = <T extends import("@sinclair/typebox").TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

/** At least a day, at most ten years. */
const Duration = Type.Integer({ minimum: 86_400, maximum: 10 * 365 * 86_400, description: "Seconds (at least one day)." });

export const RetentionPolicy = Type.Object(
  {
    /** How long after it stopped being primary a version is disabled. Also the window of "still in use". */
    disableAfterSeconds: Duration,
    /** How long after it was disabled a version is destroyed (the window to cancel in). */
    destroyAfterSeconds: Duration,
    /** The newest versions never touched (the primary is always kept). */
    keepAtLeast: Type.Integer({ minimum: 1, maximum: 1000 }),
  },
  strict,
);
export type RetentionPolicy = Static<typeof RetentionPolicy>;

export const VersionUser = Type.Object({
  principal: Type.String(),
  source: Type.String(),
  /** Uses of the version after it stopped being primary. */
  uses: Type.Integer(),
  /** Requests refused because the version was disabled or retired. */
  refused: Type.Integer(),
  lastAt: Timestamp,
});
export type VersionUser = Static<typeof VersionUser>;

export const VersionRetention = Type.Object({
  version: Type.Integer(),
  state: Type.String(),
  primary: Type.Boolean(),
  /** When the version stopped being primary (the next version's creation); null for the primary. */
  retiredAt: Nullable(Timestamp),
  /** When retention disables it (or disabled it); null when it is kept or held. */
  disableAt: Nullable(Timestamp),
  disabledAt: Nullable(Timestamp),
  /** When retention destroys it, unless something still uses it. */
  destroyAt: Nullable(Timestamp),
  /** An operator enabled it again after retention disabled it: its disable clock restarted then. */
  restartedAt: Nullable(Timestamp),
  /** Uses since it stopped being primary, and requests refused since it was disabled. */
  usesSinceRetired: Type.Integer(),
  refused: Type.Integer(),
  /** Whether a recent use holds its destruction (the alert names `users`). */
  inUse: Type.Boolean(),
  users: Type.Array(VersionUser),
});
export type VersionRetention = Static<typeof VersionRetention>;

export const KeyRetention = Type.Object({
  keyId: Type.String(),
  /** The policy in force: the key's own, else the server's default, else none. */
  policy: Nullable(RetentionPolicy),
  policySource: Type.Union([Type.Literal("key"), Type.Literal("default"), Type.Literal("none")]),
  versions: Type.Array(VersionRetention),
});
export type KeyRetention = Static<typeof KeyRetention>;
