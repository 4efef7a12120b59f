/**
 * Version retention (docs/retention.md). A version that stopped being primary (the next version was
 * created) is disabled `disableAfterSeconds` later and destroyed `destroyAfterSeconds` after that;
 * the newest `keepAtLeast` versions are never touched. Policy: the key's own, else the server's default.
 *
 * Safety first: a version that something used, or tried to use, within the last
 * `disableAfterSeconds` is not destroyed — an alert names the principals and sources (at most one a
 * day per version) and the schedule waits; rewrapping (ReEncrypt) the remaining ciphertexts is the
 * way out. Who uses an old version is learned from the audit records as they are written (every
 * use of a non-primary version and every request refused because a version is disabled), counted in
 * memory and flushed to `version_users` — so it works for every API and survives restarts.
 *
 * Every automatic step passes the door as a system action (`kms:DisableKeyVersion`,
 * `kms:DestroyKeyVersion`) under the background-work lease, fenced: intent, change, outcome. An
 * operator cancels a scheduled destruction by enabling the version again (an audited request);
 * retention then restarts the version's clock from that moment — time for a straggler to rewrap —
 * and disables it again `disableAfterSeconds` later.
 */
import { type KeyRetention, type RetentionPolicy, type VersionRetention } from "@tessera/protocol";
import type { RequestRecord } from "@tessera/audit";
import type { RaisedAlert } from "../audit/detectors.js";
import { iso, isoOrNull, type Clock } from "../clock.js";
import type { KeyService } from "../keys/index.js";
import type { KeyRetentionRow, Store, VersionRetentionRow, VersionRow, VersionUserRow } from "../store/store.js";
import type { Eraser } from "../store/index.js";
import type { CallContext, Door } from "./door.js";
import type { JobLease } from "./job-lease.js";

const DAY_MS = 86_400_000;
/** Errors that mean "this version may not be used now": a refused use still counts as use. */
const REFUSED = new Set(["Disabled", "Destroyed"]);

export interface RetentionDeps {
  door: Pick<Door, "run" | "system">;
  keys: Pick<KeyService, "resolve" | "retireVersion" | "destroyVersion" | "keyring">;
  store: Pick<Store, "retention" | "versions" | "keys">;
  /** Each destruction records the erase it owes (KeyService.destroyVersion); the run erases once at its end. */
  eraser: Pick<Eraser, "erase">;
  clock: Clock;
  lease: Pick<JobLease, "renew" | "holding" | "fence">;
  /** The server's default policy for keys with none of their own. */
  defaultPolicy?: RetentionPolicy | undefined;
  raise: (alert: RaisedAlert) => void;
}

export class RetentionService {
  /** Uses of old versions seen since the last flush, by key, version, principal and source. */
  private pending = new Map<string, VersionUserRow>();

  constructor(private readonly d: RetentionDeps) {}

  // ── the API ──────────────────────────────────────────────────────────────────────────────────

  get(ctx: CallContext, ref: string): Promise<KeyRetention> {
    return this.d.door.run(ctx, "kms:DescribeKey", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      await this.flush();
      return this.status(handle.row.id, handle.row.primaryVersion);
    });
  }

  put(ctx: CallContext, ref: string, policy: RetentionPolicy): Promise<KeyRetention> {
    return this.d.door.run(ctx, "kms:UpdateKey", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      await this.d.store.retention.putPolicy({ keyId: handle.row.id, ...policy });
      return this.status(handle.row.id, handle.row.primaryVersion);
    });
  }

  clear(ctx: CallContext, ref: string): Promise<KeyRetention> {
    return this.d.door.run(ctx, "kms:UpdateKey", async (s) => {
      const handle = await s.resolveKey(ref);
      await s.authorize(handle);
      await this.d.store.retention.deletePolicy(handle.row.id);
      return this.status(handle.row.id, handle.row.primaryVersion);
    });
  }

  // ── watching uses (fed with every answered audit record) ─────────────────────────────────────

  observe(r: Pick<RequestRecord, "time" | "principal" | "source" | "keyId" | "keyVersion" | "outcome" | "errorCode">): void {
    if (r.keyId === null || r.keyVersion === null || r.principal === null || r.principal.kind === "system" || r.outcome === "intent") return;
    const refused = r.errorCode !== null && REFUSED.has(r.errorCode);
    if (!refused && r.outcome !== "allowed") return;
    const primary = this.d.keys.keyring.cachedPrimary(r.keyId);
    if (primary === undefined || r.keyVersion >= primary) return;
    // Named as a person reads it (the audit record's id of a token principal is an HMAC).
    const principal = r.principal.displayName !== "" ? `${r.principal.displayName}${r.principal.role !== null ? ` (role ${r.principal.role})` : ""}` : r.principal.id;
    const id = `${r.keyId}\0${r.keyVersion}\0${principal}\0${r.source}`;
    const at = Date.parse(r.time);
    const row = this.pending.get(id) ?? { keyId: r.keyId, version: r.keyVersion, principal, source: r.source, uses: 0, refused: 0, lastAt: at };
    if (refused) row.refused++;
    else row.uses++;
    row.lastAt = Math.max(row.lastAt, at);
    this.pending.set(id, row);
  }

  /** Writes the counted uses to the store (scheduler, every few seconds; and before reading them). */
  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const rows = [...this.pending.values()];
    this.pending = new Map();
    try {
      await this.d.store.retention.addUses(rows);
    } catch (err) {
      for (const r of rows) this.observeRow(r);
      throw err;
    }
  }

  private observeRow(r: VersionUserRow): void {
    const id = `${r.keyId}\0${r.version}\0${r.principal}\0${r.source}`;
    const old = this.pending.get(id);
    this.pending.set(id, old === undefined ? r : { ...old, uses: old.uses + r.uses, refused: old.refused + r.refused, lastAt: Math.max(old.lastAt, r.lastAt) });
  }

  // ── the scheduled job ────────────────────────────────────────────────────────────────────────

  /** Disables and destroys what is due on every key with a policy; returns what it did. */
  async runDue(): Promise<{ disabled: string[]; destroyed: string[]; restarted: string[] }> {
    const done = { disabled: [] as string[], destroyed: [] as string[], restarted: [] as string[] };
    if (!this.d.lease.holding) await this.d.lease.renew();
    if (!this.d.lease.holding) return done;
    await this.flush();
    let erase = false;
    for (const { keyId, policy } of await this.keysWithPolicy()) {
      const row = await this.d.store.keys.get(keyId);
      if (row === undefined || row.state === "Destroyed" || row.state === "PendingDeletion") continue;
      const versions = await this.d.store.versions.list(keyId);
      const retention = new Map((await this.d.store.retention.listVersions(keyId)).map((v) => [v.version, v]));
      const users = await this.d.store.retention.users(keyId);
      const now = this.d.clock.now();
      for (const v of versions) {
        const plan = planFor(v, versions, row.primaryVersion, policy, retention.get(v.version));
        const r = retention.get(v.version);
        const name = `${row.name}/v${v.version}`;
        if (plan.kind === "restart") {
          // An operator enabled a version retention had disabled: its destruction is cancelled and its clock restarts.
          await this.d.store.retention.putVersion({ ...r!, disabledAt: null, destroyAt: null, restartedAt: now, alertedAt: null });
          done.restarted.push(name);
        } else if (plan.kind === "disable" && plan.at <= now) {
          const destroyAt = now + policy.destroyAfterSeconds * 1000;
          const record: VersionRetentionRow = { keyId, version: v.version, disabledAt: now, destroyAt, restartedAt: r?.restartedAt ?? null, alertedAt: null };
          const changed = await this.d.door.system("kms:DisableKeyVersion", keyId, () =>
            this.d.keys.retireVersion(keyId, v.version, (tx) => tx.retention.putVersion(record), this.d.lease.fence),
          );
          if (changed) done.disabled.push(name);
        } else if (plan.kind === "destroy" && plan.at <= now) {
          const since = now - policy.disableAfterSeconds * 1000;
          const recent = users.filter((u) => u.version === v.version && u.lastAt > since);
          if (recent.length > 0) {
            if (r !== undefined && (r.alertedAt === null || now - r.alertedAt >= DAY_MS)) {
              this.alert(row.name, keyId, v.version, recent, policy);
              await this.d.store.retention.putVersion({ ...r, alertedAt: now });
            }
            continue;
          }
          const changed = await this.d.door.system("kms:DestroyKeyVersion", keyId, () =>
            this.d.keys.destroyVersion(
              keyId,
              v.version,
              // Re-checked inside the transaction: a use recorded since the list was read still holds it.
              async (tx) => !(await tx.retention.users(keyId)).some((u) => u.version === v.version && u.lastAt > since),
              this.d.lease.fence,
            ),
          );
          if (changed) {
            done.destroyed.push(name);
            erase = true;
          }
        }
      }
    }
    if (erase) await this.d.eraser.erase();
    return done;
  }

  private alert(keyName: string, keyId: string, version: number, users: VersionUserRow[], policy: RetentionPolicy): void {
    const who = users
      .slice(0, 10)
      .map((u) => `${u.principal} from ${u.source} (${u.uses} uses, ${u.refused} refused, last ${iso(u.lastAt)})`)
      .join("; ");
    this.d.raise({
      detector: "retention-in-use",
      severity: "high",
      subject: keyId,
      message:
        `version ${version} of key ${keyName} is due for destruction but was used within the last ${Math.round(policy.disableAfterSeconds / 86_400)} days by ${who}` +
        `${users.length > 10 ? ` and ${users.length - 10} more` : ""}; its destruction waits — rewrap their ciphertexts (tessera reencrypt) and the schedule resumes once nothing has used it for that long`,
      time: iso(this.d.clock.now()),
      seqs: [],
    });
  }

  private async keysWithPolicy(): Promise<{ keyId: string; policy: RetentionPolicy }[]> {
    const own = await this.d.store.retention.listPolicies();
    const out = own.map((p) => ({ keyId: p.keyId, policy: policyOf(p) }));
    const fallback = this.d.defaultPolicy;
    if (fallback === undefined) return out;
    const seen = new Set(own.map((p) => p.keyId));
    let marker: string | undefined;
    // Only keys with an older version can have anything retired: an index lists them (migration 14),
    // so this costs what the rotated keys cost, not a read of every key.
    for (;;) {
      const page = await this.d.store.keys.listRotated(500, marker);
      for (const k of page) if (!seen.has(k.id)) out.push({ keyId: k.id, policy: fallback });
      if (page.length < 500) return out;
      marker = page[page.length - 1]!.id;
    }
  }

  private async status(keyId: string, primary: number): Promise<KeyRetention> {
    const own = await this.d.store.retention.getPolicy(keyId);
    const policy = own !== undefined ? policyOf(own) : (this.d.defaultPolicy ?? null);
    const versions = await this.d.store.versions.list(keyId);
    const retention = new Map((await this.d.store.retention.listVersions(keyId)).map((v) => [v.version, v]));
    const users = await this.d.store.retention.users(keyId);
    const now = this.d.clock.now();
    return {
      keyId,
      policy,
      policySource: own !== undefined ? "key" : policy !== null ? "default" : "none",
      versions: versions.map((v): VersionRetention => {
        const r = retention.get(v.version);
        const mine = users.filter((u) => u.version === v.version);
        const plan = policy === null ? { kind: "keep" as const } : planFor(v, versions, primary, policy, r);
        const since = policy === null ? Infinity : now - policy.disableAfterSeconds * 1000;
        const retiredAt = versions.find((n) => n.version === v.version + 1)?.createdAt ?? null;
        return {
          version: v.version,
          state: v.state,
          primary: v.version === primary,
          retiredAt: isoOrNull(retiredAt),
          disableAt: plan.kind === "disable" ? iso(plan.at) : null,
          disabledAt: isoOrNull(r?.disabledAt ?? null),
          destroyAt: v.state === "Destroyed" ? null : isoOrNull(r?.destroyAt ?? null),
          restartedAt: isoOrNull(r?.restartedAt ?? null),
          usesSinceRetired: mine.reduce((n, u) => n + u.uses, 0),
          refused: mine.reduce((n, u) => n + u.refused, 0),
          inUse: mine.some((u) => u.lastAt > since),
          users: mine.map((u) => ({ principal: u.principal, source: u.source, uses: u.uses, refused: u.refused, lastAt: iso(u.lastAt) })),
        };
      }),
    };
  }
}

const policyOf = (p: KeyRetentionRow): RetentionPolicy => ({ disableAfterSeconds: p.disableAfterSeconds, destroyAfterSeconds: p.destroyAfterSeconds, keepAtLeast: p.keepAtLeast });

type Plan = { kind: "keep" } | { kind: "restart" } | { kind: "disable"; at: number } | { kind: "destroy"; at: number };

/** What retention will do to a version next, and from when. */
function planFor(v: VersionRow, all: readonly VersionRow[], primary: number, policy: RetentionPolicy, r: VersionRetentionRow | undefined): Plan {
  if (v.version >= primary || v.version > primary - policy.keepAtLeast || v.state === "Destroyed") return { kind: "keep" };
  if (v.state === "Enabled") {
    if (r?.disabledAt != null) return { kind: "restart" };
    const next = all.find((n) => n.version === v.version + 1);
    if (next === undefined) return { kind: "keep" };
    return { kind: "disable", at: Math.max(next.createdAt, r?.restartedAt ?? 0) + policy.disableAfterSeconds * 1000 };
  }
  // Disabled: destroyed only if retention disabled it (an operator's own disable is theirs to undo).
  if (r?.destroyAt != null) return { kind: "destroy", at: r.destroyAt };
  return { kind: "keep" };
}
