/**
 * What the door hands the audit log for every request, allowed or denied. Never plaintext, key
 * material or tokens: values that could be sensitive travel in `sensitive` and are stored only as
 * HMACs (audit/audit-log.ts).
 */
import type { Action, LoginAction, SystemAction } from "@tessera/protocol";

/** `intent`: an authorised state change is about to be attempted; its outcome entry (same request id) follows. */
export type Outcome = "allowed" | "denied" | "error" | "intent";

export interface AuditEntry {
  time: string;
  requestId: string;
  principal: { id: string; kind: string; displayName: string; role: string | null; authMethod: string } | null;
  source: string;
  action: Action | LoginAction | SystemAction;
  keyId: string | null;
  keyVersion: number | null;
  outcome: Outcome;
  errorCode: string | null;
  latencyMs: number;
  /** Sensitive request values (e.g. `context.vm`), stored as HMAC-SHA256 under the audit key. */
  sensitive?: Record<string, string>;
  /**
   * Non-sensitive facts about the request, stored as given: why an adapter refused it (`reason`,
   * e.g. a SigV4 failure's typed reason), `method`, `route` (the route pattern, never the URL),
   * `operation`, and for a summary of throttled refusals `suppressed` (a count) and `since`.
   */
  detail?: AuditDetail;
}

/** Values an adapter chose to record in the clear: never anything a caller could use to smuggle a secret in. */
export type AuditDetail = Readonly<Record<string, string | number>>;

/** The door's view of the audit log: one awaited call per request; a throw fails the request. */
export interface AuditRecorder {
  record(entry: AuditEntry): Promise<void>;
}
