/**
 * Why a request's Tessera token was refused (`Unauthenticated`). The code is the same for each; the
 * message says which, so a user can tell a typo from an expiry — and says no more than the holder of
 * the token could find out anyway:
 * - a token is looked up by the SHA-256 of its 256-bit secret, so only someone who holds the secret
 *   can get the answer "expired" for it; nobody learns that another person's token exists;
 * - a revoked token is deleted, so it reads like a wrong one (as in Vault, which answers "permission
 *   denied" for both); an expired token reads like a wrong one too once the server has purged it.
 */
export const TOKEN_REFUSALS = Object.freeze({
  /** The request carried no token (and no other credential). */
  missing: "A token is required: none was given (X-Tessera-Token header).",
  /** No live token has this secret: mistyped, revoked, or expired and since purged. */
  unknown: "The token is not valid: it is wrong, was revoked, or expired some time ago.",
  /** The token exists and has expired: log in again (or renew before expiry). */
  expired: "The token has expired: log in again or create a new token.",
} as const);

export type TokenRefusal = keyof typeof TOKEN_REFUSALS;
