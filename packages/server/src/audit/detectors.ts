/**
 * Anomaly detectors on the live audit stream. Each looks at durable request records (never at
 * plaintext) and raises alerts; none can block or fail a request. Time is the records' own time, so
 * tests drive them with a controlled clock.
 *
 * Defaults (docs/audit.md): new source, rate spike, denial burst, first use and retiring-version
 * detectors are on; the off-hours detector is on only where allowed hours are configured (globally,
 * per role or per key).
 *
 * Memory is bounded whatever passes (a million keys, a fleet of principals, a flood of sources): each
 * table remembers at most `maxTracked` subjects (pairs: ten times as many), least recently seen
 * forgotten first. A forgotten principal counts as new again (no new-source or first-use alert on its
 * next request), a forgotten pair may alert a second time, a forgotten rate subject restarts its
 * baseline — detectors are advice, never a check.
 */
import { compileWindow, inWindow, type CompiledWindow } from "../policy/policy-document.js";
import type { RecordPrincipal, RequestRecord } from "@tessera/audit";

/** What the detectors read of a durable request record. */
export type StreamRecord = Pick<RequestRecord, "seq" | "time" | "source" | "action" | "keyId" | "keyVersion" | "outcome" | "errorCode"> & {
  principal: Pick<RecordPrincipal, "id" | "displayName" | "role"> | null;
};

export type Detector = "off-hours" | "new-source" | "rate-spike" | "denial-burst" | "first-use" | "retiring-version" | "retention-in-use" | "audit-sink";

export interface RaisedAlert {
  detector: Detector;
  severity: "low" | "medium" | "high";
  /** Who or what it is about: principal id, key id or source address. */
  subject: string;
  message: string;
  seqs: number[];
  time: string;
}

export interface DetectorOptions {
  /** Allowed hours; use outside them raises `off-hours`. Per role and per key override the default. */
  allowedHours?: { default?: WindowSpec; roles?: Record<string, WindowSpec>; keys?: Record<string, WindowSpec> };
  newSource?: boolean;
  rateSpike?: { windowSeconds?: number; factor?: number; minRequests?: number; historyWindows?: number } | false;
  denialBurst?: { threshold?: number; windowSeconds?: number } | false;
  firstUse?: boolean;
  retiringVersion?: boolean;
  /** The primary version of a key as the keyring knows it (for `retiring-version`). */
  primaryVersion?: (keyId: string) => number | undefined;
  /** Most subjects (principals, sources, keys) each table remembers; default 100,000. */
  maxTracked?: number;
}

/** Most sources a new-source alert lists as seen before. */
const SOURCES_LISTED = 8;

/**
 * A Map bounded to about `max` entries that forgets what was not used recently: two generations, the
 * current one filled until it holds max/2 entries, when it becomes the previous one and the previous
 * one is dropped. A hit in the current generation is one Map lookup (this runs on every request); a
 * hit in the previous one moves the entry into the current one.
 */
export class RecentMap<K, V> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly half: number;

  constructor(max: number) {
    this.half = Math.max(1, Math.floor(max / 2));
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** The value, kept for another generation. */
  get(k: K): V | undefined {
    const v = this.current.get(k);
    if (v !== undefined) return v;
    const old = this.previous.get(k);
    if (old !== undefined) {
      this.previous.delete(k);
      this.put(k, old);
    }
    return old;
  }

  set(k: K, v: V): void {
    if (this.current.has(k)) this.current.set(k, v);
    else {
      this.previous.delete(k);
      this.put(k, v);
    }
  }

  private put(k: K, v: V): void {
    if (this.current.size >= this.half) {
      this.previous = this.current;
      this.current = new Map();
    }
    this.current.set(k, v);
  }
}

export interface WindowSpec {
  tz: string;
  days?: string;
  hours?: string;
}

/** A sliding count per subject in fixed windows, with an exponential average of past windows. */
class RateTracker {
  private readonly state: RecentMap<string, { window: number; count: number; baseline: number; windows: number; fired: boolean }>;
  constructor(
    private readonly windowMs: number,
    maxTracked: number,
  ) {
    this.state = new RecentMap(maxTracked);
  }

  /** Counts one event; returns the state for the current window. */
  hit(subject: string, ms: number) {
    const window = Math.floor(ms / this.windowMs);
    let s = this.state.get(subject);
    if (s === undefined) {
      s = { window, count: 0, baseline: 0, windows: 0, fired: false };
      this.state.set(subject, s);
    }
    while (s.window < window) {
      // Close the finished window into the baseline (empty windows count as zero).
      s.baseline = s.windows === 0 ? s.count : 0.7 * s.baseline + 0.3 * s.count;
      s.windows++;
      s.count = 0;
      s.fired = false;
      s.window++;
      if (window - s.window > 60) s.window = window; // long silence: skip ahead
    }
    s.count++;
    return s;
  }
}

/** Who a record names, for an alert's message. */
function nameOf(r: StreamRecord): string {
  return r.principal ? `${r.principal.displayName}${r.principal.role ? ` (role ${r.principal.role})` : ""}` : "unauthenticated caller";
}

/** The record an alert is about. */
const at = (r: StreamRecord) => ({ time: r.time, seqs: [r.seq] });

export class AnomalyDetectors {
  /** Per principal: its sources, most recent last (at most SOURCES_LISTED kept for the message). */
  private readonly sourcesOf: RecentMap<string, string[]>;
  /** `principal \n source` pairs seen. */
  private readonly seenSources: RecentMap<string, true>;
  /** Principals with history, for first-use; `principal \n key` pairs seen. */
  private readonly active: RecentMap<string, true>;
  private readonly seenKeys: RecentMap<string, true>;
  private readonly denials: RecentMap<string, number[]>;
  private readonly denialFired: RecentMap<string, number>;
  /** Retiring-version alerts fire once per key version and principal. */
  private readonly retiringFired: RecentMap<string, true>;
  /**
   * Request rates per principal and per key, kept apart so that each is found by the record's own id
   * string (hashed once) rather than by a prefixed string made per record.
   */
  private readonly rates: { principals: RateTracker; keys: RateTracker } | undefined;
  private readonly windows: { default?: CompiledWindow; roles: Map<string, CompiledWindow>; keys: Map<string, CompiledWindow> };
  private readonly o: Required<Pick<DetectorOptions, "newSource" | "firstUse" | "retiringVersion">> & {
    rate: { windowSeconds: number; factor: number; minRequests: number; historyWindows: number } | undefined;
    denial: { threshold: number; windowSeconds: number } | undefined;
  };

  constructor(
    options: DetectorOptions,
    private readonly raise: (alert: RaisedAlert) => void,
  ) {
    const rate = options.rateSpike === false ? undefined : { windowSeconds: 60, factor: 3, minRequests: 30, historyWindows: 5, ...options.rateSpike };
    const denial = options.denialBurst === false ? undefined : { threshold: 10, windowSeconds: 60, ...options.denialBurst };
    this.o = { newSource: options.newSource ?? true, firstUse: options.firstUse ?? true, retiringVersion: options.retiringVersion ?? true, rate, denial };
    const max = options.maxTracked ?? 100_000;
    this.sourcesOf = new RecentMap(max);
    this.seenSources = new RecentMap(max * 10);
    this.active = new RecentMap(max);
    this.seenKeys = new RecentMap(max * 10);
    this.denials = new RecentMap(max);
    this.denialFired = new RecentMap(max);
    this.retiringFired = new RecentMap(max);
    this.rates = rate && { principals: new RateTracker(rate.windowSeconds * 1000, max), keys: new RateTracker(rate.windowSeconds * 1000, max) };
    const compile = (w: WindowSpec) => compileWindow(w, "/audit/allowed_hours");
    const h = options.allowedHours ?? {};
    this.windows = {
      ...(h.default && { default: compile(h.default) }),
      roles: new Map(Object.entries(h.roles ?? {}).map(([k, w]) => [k, compile(w)])),
      keys: new Map(Object.entries(h.keys ?? {}).map(([k, w]) => [k, compile(w)])),
    };
    this.primaryVersion = options.primaryVersion ?? (() => undefined);
  }

  private readonly primaryVersion: (keyId: string) => number | undefined;

  /** Counts one request for a principal or a key (its id) and raises when it spikes. */
  private rateSpike(rates: RateTracker, id: string, r: StreamRecord, ms: number): void {
    const s = rates.hit(id, ms);
    const { factor, minRequests, historyWindows, windowSeconds } = this.o.rate!;
    if (!s.fired && s.windows >= historyWindows && s.count >= minRequests && s.count > factor * Math.max(s.baseline, 1)) {
      s.fired = true;
      this.raise({
        detector: "rate-spike",
        severity: "high",
        subject: id,
        message: `${rates === this.rates?.keys ? `key ${r.keyId}` : nameOf(r)}: ${s.count} requests in ${windowSeconds} s against a baseline of ${s.baseline.toFixed(1)}`,
        ...at(r),
      });
    }
  }

  /** Feeds one durable record through every detector. */
  observe(r: StreamRecord): void {
    const ms = Date.parse(r.time);
    const who = r.principal?.id;
    // An alert's wording and place (nameOf, at) are made only when one is raised: most records raise none.

    // Denial bursts (including failed logins) from one source.
    if (this.o.denial && r.outcome === "denied") {
      const list = (this.denials.get(r.source) ?? []).filter((t) => t > ms - this.o.denial!.windowSeconds * 1000);
      list.push(ms);
      this.denials.set(r.source, list);
      const last = this.denialFired.get(r.source) ?? -Infinity;
      if (list.length >= this.o.denial.threshold && ms - last > this.o.denial.windowSeconds * 1000) {
        this.denialFired.set(r.source, ms);
        this.raise({ detector: "denial-burst", severity: "high", subject: r.source, message: `${list.length} denied requests or failed logins from ${r.source} within ${this.o.denial.windowSeconds} s`, ...at(r) });
      }
    }
    if (r.outcome !== "allowed" || who === undefined) return;

    // Use outside allowed hours (most specific window wins: key, then role, then default).
    const window = (r.keyId && this.windows.keys.get(r.keyId)) || (r.principal?.role && this.windows.roles.get(r.principal.role)) || this.windows.default;
    if (window && !inWindow(window, ms)) {
      this.raise({ detector: "off-hours", severity: "medium", subject: who, message: `${nameOf(r)} used ${r.action}${r.keyId ? ` on key ${r.keyId}` : ""} outside allowed hours`, ...at(r) });
    }

    // A principal seen from a new source address.
    // (A known pair costs one lookup: `get` keeps it for another generation, as `set` would.)
    if (this.o.newSource) {
      const pair = `${who}\n${r.source}`;
      const sources = this.sourcesOf.get(who);
      if (sources === undefined) {
        this.sourcesOf.set(who, [r.source]);
        this.seenSources.set(pair, true);
      } else if (this.seenSources.get(pair) === undefined) {
        this.raise({ detector: "new-source", severity: "medium", subject: who, message: `${nameOf(r)} appeared from a new address ${r.source} (seen before from ${sources.join(", ")})`, ...at(r) });
        sources.push(r.source);
        if (sources.length > SOURCES_LISTED) sources.shift();
        this.seenSources.set(pair, true);
      }
    }

    // Rate spikes per principal and per key, against their own baseline.
    if (this.rates !== undefined) {
      this.rateSpike(this.rates.principals, who, r, ms);
      if (r.keyId) this.rateSpike(this.rates.keys, r.keyId, r, ms);
    }

    // First decrypt of a key by a principal that has been active but never used this key.
    if (this.o.firstUse && r.keyId !== null) {
      const pair = `${who}\n${r.keyId}`;
      const known = this.active.get(who) !== undefined;
      if (!known) this.active.set(who, true);
      if (this.seenKeys.get(pair) === undefined) {
        const decrypts = r.action === "kms:Decrypt" || r.action === "kms:ReEncrypt";
        if (decrypts && known) {
          this.raise({ detector: "first-use", severity: "low", subject: who, message: `${nameOf(r)} decrypted with key ${r.keyId} for the first time`, ...at(r) });
        }
        this.seenKeys.set(pair, true);
      }
    }

    // Use of a version that rotation has superseded (scheduled for retirement by min_decryption_version).
    if (this.o.retiringVersion && r.keyId !== null && r.keyVersion !== null && r.action === "kms:Decrypt") {
      const primary = this.primaryVersion(r.keyId);
      const once = `${r.keyId}/${r.keyVersion}/${who}`;
      if (primary !== undefined && r.keyVersion < primary && this.retiringFired.get(once) === undefined) {
        this.retiringFired.set(once, true);
        this.raise({ detector: "retiring-version", severity: "low", subject: r.keyId, message: `${nameOf(r)} decrypted with version ${r.keyVersion} of key ${r.keyId}; the primary is ${primary} (rewrap with reencrypt before the old version is retired)`, ...at(r) });
      }
    }
  }
}
