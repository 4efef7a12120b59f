/** The shapes of the native API's answers the console reads (docs/api.md). */
export interface KeyMetadata {
  keyId: string;
  name: string;
  description: string;
  tags: Record<string, string>;
  keySpec: string;
  keyUsage: string;
  origin: string;
  state: string;
  createdAt: string;
  primaryVersion: number;
  minDecryptionVersion: number;
  rotationPeriodSeconds: number | null;
  lastRotatedAt: string | null;
  nextRotationAt: string | null;
  deletionDate: string | null;
}
export interface KeyVersionInfo {
  version: number;
  state: string;
  retired: boolean;
  primary: boolean;
  createdAt: string;
  lastUsedAt: string | null;
  useCount: number;
}
export interface AuditEntry {
  seq: number;
  time: string;
  kind?: string;
  requestId: string;
  principal: { id: string; displayName: string; role: string | null; kind: string; authMethod: string } | null;
  source: string;
  action: string;
  keyId: string | null;
  keyVersion: number | null;
  outcome: "allowed" | "denied" | "error" | "intent";
  errorCode: string | null;
  latencyMs: number;
  detail?: Record<string, string | number>;
}
export interface Alert {
  id: string;
  time: string;
  detector: string;
  severity: string;
  subject: string;
  message: string;
  seqs: number[];
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
}

import { api } from "./api.js";

export async function allKeys(): Promise<KeyMetadata[]> {
  const out: KeyMetadata[] = [];
  let marker: string | null = null;
  do {
    const page: { keys: KeyMetadata[]; nextMarker: string | null } = await api("GET", `/v1/keys?limit=1000${marker === null ? "" : `&marker=${encodeURIComponent(marker)}`}`);
    out.push(...page.keys);
    marker = page.nextMarker;
  } while (marker !== null && out.length < 10_000);
  return out;
}

/** Audit entries matching `query`, newest pages first, up to `max` entries. */
export async function auditEntries(query: Record<string, string>, max: number): Promise<AuditEntry[]> {
  const out: AuditEntry[] = [];
  let after: number | null = null;
  do {
    const params = new URLSearchParams({ ...query, limit: String(Math.min(1000, max - out.length)), ...(after !== null && { after: String(after) }) });
    const page: { records: AuditEntry[]; nextAfter: number | null } = await api("GET", `/v1/audit/entries?${params}`);
    out.push(...page.records);
    after = page.nextAfter;
  } while (after !== null && out.length < max);
  return out;
}

/** GET /v1/keys/{key}/retention (docs/retention.md). */
export interface KeyRetention {
  keyId: string;
  policy: { disableAfterSeconds: number; destroyAfterSeconds: number; keepAtLeast: number } | null;
  policySource: "key" | "default" | "none";
  versions: {
    version: number;
    state: string;
    primary: boolean;
    retiredAt: string | null;
    disableAt: string | null;
    disabledAt: string | null;
    destroyAt: string | null;
    usesSinceRetired: number;
    refused: number;
    inUse: boolean;
    users: { principal: string; source: string; uses: number; refused: number; lastAt: string }[];
  }[];
}
