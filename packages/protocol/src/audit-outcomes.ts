/**
 * The outcome of an audit record (`outcome` in the trail, `?outcome=` on `GET /v1/audit/entries`):
 * - `allowed`: the request was authorised and succeeded;
 * - `denied`: authentication or authorisation refused it;
 * - `error`: it was refused or failed for another reason (invalid input, sealed, not found …);
 * - `intent`: a change about to be attempted (written before the change; its outcome record follows).
 */
export const AUDIT_OUTCOMES = Object.freeze(["allowed", "denied", "error", "intent"] as const);

export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];
