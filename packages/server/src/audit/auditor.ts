/**
 * Every request that passes the service's door leaves one audit entry, allowed or denied. Entries
 * never carry plaintext, key material or tokens. The auditor hands each entry to every configured
 * sink and waits for them; a sink failure fails the request (fail closed). The tamper-evident trail
 * (hash chain, checkpoints, file and database sinks) builds on this interface.
 */
import type { Action, LoginAction } from "@tessera/protocol";

export type Outcome = "allowed" | "denied" | "error";

export interface AuditEntry {
  time: string;
  requestId: string;
  principal: { id: string; kind: string; displayName: string; role: string | null; authMethod: string } | null;
  source: string;
  action: Action | LoginAction;
  keyId: string | null;
  keyVersion: number | null;
  outcome: Outcome;
  errorCode: string | null;
  latencyMs: number;
}

export interface AuditSink {
  readonly name: string;
  write(entry: AuditEntry): Promise<void> | void;
}

export class Auditor {
  constructor(private readonly sinks: readonly AuditSink[]) {}

  get enabled(): boolean {
    return this.sinks.length > 0;
  }

  async record(entry: AuditEntry): Promise<void> {
    for (const sink of this.sinks) await sink.write(entry);
  }
}

/** Writes each entry as one JSON line through a logger-like function (stdout in dev). */
export class LogAuditSink implements AuditSink {
  readonly name = "log";
  constructor(private readonly emit: (entry: AuditEntry) => void) {}
  write(entry: AuditEntry): void {
    this.emit(entry);
  }
}
