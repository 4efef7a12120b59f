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
}

/** The door's view of the audit log: one awaited call per request; a throw fails the request. */
export interface AuditRecorder {
  record(entry: AuditEntry): Promise<void>;
}
