/**
 * The keys table's statements that SQLite and PostgreSQL share, in `?` placeholders (PostgreSQL's
 * adapter numbers them). The scheduled jobs' "due" queries repeat the conditions and expressions of
 * migration 14's partial indexes word for word, so each planner answers them from its index and
 * their cost follows the keys due, not the keys stored (store-indexes.test.ts checks the plans).
 */
export const KEY_COLUMNS =
  "id, name, description, tags, key_spec, key_usage, origin, state, prior_state, derived, exportable, created_at, primary_version, min_decryption_version, rotation_period_seconds, last_rotated_at, deletion_date, destroyed_at, revision, convergent, min_encryption_version";

export const KEY_SQL = Object.freeze({
  /** Index keys_rotation_due. */
  dueForRotation: `SELECT ${KEY_COLUMNS} FROM keys WHERE state = 'Enabled' AND rotation_period_seconds IS NOT NULL AND last_rotated_at + rotation_period_seconds * 1000 <= ? ORDER BY last_rotated_at + rotation_period_seconds * 1000, id`,
  /** Index keys_deletion_due. */
  dueForDeletion: `SELECT ${KEY_COLUMNS} FROM keys WHERE state = 'PendingDeletion' AND deletion_date <= ? ORDER BY deletion_date, id`,
  /** Index keys_rotated. */
  rotatedFirst: `SELECT ${KEY_COLUMNS} FROM keys WHERE primary_version > 1 ORDER BY id LIMIT ?`,
  /** Index keys_rotated. */
  rotatedAfter: `SELECT ${KEY_COLUMNS} FROM keys WHERE primary_version > 1 AND id > ? ORDER BY id LIMIT ?`,
});
