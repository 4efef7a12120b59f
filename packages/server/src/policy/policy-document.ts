/**
 * Policy documents: the schema, validation that names the field at fault, and normalisation into a
 * form the evaluator can run fast (CIDRs parsed into BlockLists, time windows into numbers).
 *
 * ```json
 * { "statements": [
 *     { "sid": "decrypt-own", "effect": "allow", "actions": ["kms:Decrypt"], "resources": ["payment-db"],
 *       "conditions": { "sourceCidr": ["10.0.0.0/8"], "encryptionContext": { "vm": "${principal.vm_id}" } } },
 *     { "effect": "deny", "actions": ["kms:*"], "resources": ["*"],
 *       "conditions": { "outsideHours": { "tz": "Asia/Shanghai", "days": "Mon-Fri", "hours": "08-20" } } } ] }
 * ```
 */
import type { BlockList } from "node:net";
import { Type, type Static } from "@sinclair/typebox";
import { Value } from "@sinclair/typebox/value";
import { TesseraError, actions, type Action } from "@tessera/protocol";
import { actionResourceTypes } from "./action-resources.js";
import { parseCidrs } from "./cidr.js";
import { globMatch } from "./glob.js";
import { formatPattern, parseResourcePattern, typeSpelling, type ResourcePattern, type ResourceType } from "./resource.js";

const strict = { additionalProperties: false } as const;

const TimeWindow = Type.Object(
  {
    tz: Type.String({ minLength: 1, maxLength: 64, description: "IANA time zone, e.g. Asia/Shanghai or UTC" }),
    days: Type.Optional(Type.String({ minLength: 3, maxLength: 64, description: 'Weekdays: "Mon-Fri", "Sat,Sun", "Mon-Wed,Fri"' })),
    hours: Type.Optional(Type.String({ minLength: 5, maxLength: 11, description: 'Local time range "08-20" or "08:30-17:45" (end exclusive; may wrap midnight)' })),
  },
  strict,
);

export const Conditions = Type.Object(
  {
    sourceCidr: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: 256 })),
    withinHours: Type.Optional(TimeWindow),
    outsideHours: Type.Optional(TimeWindow),
    authMethod: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 32 }), { minItems: 1, maxItems: 16 })),
    wrapToOwnCertificate: Type.Optional(
      Type.Literal(true, { description: "kms:ExportWrapped only to the public key of the instance certificate the caller logged in with" }),
    ),
    encryptionContext: Type.Optional(
      Type.Record(Type.String(), Type.String({ maxLength: 4096 }), {
        propertyNames: { minLength: 1, maxLength: 1024 },
        maxProperties: 64,
        description: 'Required context entries: a literal, "*" (present with any value) or "${principal.<attribute>}"',
      }),
    ),
  },
  strict,
);

export const Statement = Type.Object(
  {
    sid: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    effect: Type.Union([Type.Literal("allow"), Type.Literal("deny")]),
    actions: Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { minItems: 1, maxItems: 128 }),
    /** Typed patterns: `key/orders-*`, `policy/orders-*`, `audit`, `*`; a bare pattern means keys. */
    resources: Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { minItems: 1, maxItems: 256 }),
    conditions: Type.Optional(Conditions),
  },
  strict,
);
export type Statement = Static<typeof Statement>;

export const PolicyDocument = Type.Object({ statements: Type.Array(Statement, { maxItems: 256 }) }, strict);
export type PolicyDocument = Static<typeof PolicyDocument>;

const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;

/** A time window in a zone: a set of weekdays and a minute range [start, end) that may wrap midnight. */
export interface CompiledWindow {
  tz: string;
  days: ReadonlySet<number>;
  startMinute: number;
  endMinute: number;
}

export interface CompiledStatement {
  sid: string | undefined;
  index: number;
  effect: "allow" | "deny";
  /** Action patterns, with `kms:ReEncrypt` read as ReEncryptFrom and ReEncryptTo. */
  actions: readonly string[];
  resources: readonly ResourcePattern[];
  sourceCidr: BlockList | undefined;
  withinHours: CompiledWindow | undefined;
  outsideHours: CompiledWindow | undefined;
  authMethod: readonly string[] | undefined;
  wrapToOwnCertificate: boolean;
  encryptionContext: Readonly<Record<string, string>> | undefined;
  /**
   * An AWS grant's constraint (grant-policy.ts): the request's context must equal (`equals`) or
   * include the pairs, compared literally, keys lower-cased. Never set by a policy document.
   */
  grantContext?: { equals: boolean; pairs: Readonly<Record<string, string>> } | undefined;
}

export interface CompiledPolicy {
  name: string;
  statements: readonly CompiledStatement[];
}

function invalid(field: string, message: string): TesseraError {
  return new TesseraError("InvalidInput", `${field}: ${message}`, { field });
}

function parseDays(spec: string, field: string): Set<number> {
  const days = new Set<number>();
  for (const part of spec.split(",").map((p) => p.trim())) {
    const [from, to] = part.split("-").map((d) => DAY_NAMES.indexOf(d as (typeof DAY_NAMES)[number]));
    if (from === undefined || from < 0 || (part.includes("-") && (to === undefined || to < 0))) {
      throw invalid(field, `"${part}" is not a weekday or range like Mon-Fri`);
    }
    if (to === undefined) days.add(from);
    else for (let d = from; ; d = (d + 1) % 7) {
      days.add(d);
      if (d === to) break;
    }
  }
  return days;
}

function parseMinute(text: string, field: string): number {
  const m = /^(\d{2})(?::(\d{2}))?$/.exec(text);
  const h = m ? Number(m[1]) : NaN;
  const min = m?.[2] === undefined ? 0 : Number(m[2]);
  if (m === null || h > 24 || min > 59 || (h === 24 && min > 0)) throw invalid(field, `"${text}" is not a time like 08 or 08:30`);
  return h * 60 + min;
}

export function compileWindow(w: Static<typeof TimeWindow>, field: string): CompiledWindow {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: w.tz });
  } catch {
    throw invalid(`${field}/tz`, `unknown time zone "${w.tz}"`);
  }
  const [start, end] = (w.hours ?? "00-24").split("-");
  if (start === undefined || end === undefined) throw invalid(`${field}/hours`, `expected a range like 08-20`);
  const startMinute = parseMinute(start, `${field}/hours`);
  const endMinute = parseMinute(end, `${field}/hours`);
  if (startMinute === endMinute) throw invalid(`${field}/hours`, "the range is empty");
  return { tz: w.tz, days: parseDays(w.days ?? "Sun-Sat", `${field}/days`), startMinute, endMinute };
}

const ACTION_PATTERN = /^(\*|[a-z]+:(\*|[A-Za-z]+\*?))$/;
const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** `kms:ReEncrypt` in a policy (the operation's name, and what older policies say) means both of its halves. */
function expandAction(a: string): string[] {
  return a === "kms:ReEncrypt" ? ["kms:ReEncryptFrom", "kms:ReEncryptTo"] : [a];
}

/**
 * Validates a policy document; throws `InvalidInput` naming the exact field at fault.
 *
 * `strict` is for writes: besides the schema it refuses resource patterns of unknown types, and a
 * statement part that can never take effect — a resource pattern of a type none of the statement's
 * actions acts on, or an action none of its resource patterns can match (such as `audit:Read` on
 * `orders-*`, which is a key pattern). Stored documents compile without it, so a document written
 * before resources had types keeps loading, its bare patterns meaning keys.
 */
export function compilePolicy(name: string, doc: unknown, options: { strict?: boolean } = {}): CompiledPolicy {
  const strict = options.strict === true;
  const first = Value.Errors(PolicyDocument, doc).First();
  if (first !== undefined) {
    const field = first.path || "/";
    throw invalid(field, first.message);
  }
  const d = doc as PolicyDocument;
  const known = new Set<string>(actions);
  return {
    name,
    statements: d.statements.map((s, i) => {
      const at = `/statements/${i}`;
      s.actions.forEach((a, j) => {
        if (!ACTION_PATTERN.test(a)) throw invalid(`${at}/actions/${j}`, `"${a}" is not an action like kms:Decrypt or kms:*`);
        if (!a.includes("*") && !known.has(a)) throw invalid(`${at}/actions/${j}`, `unknown action "${a}"`);
      });
      const resources = s.resources.map((r, j) => parseResourcePattern(r, `${at}/resources/${j}`, strict));
      if (strict) checkEffective(s.actions, resources, at);
      const c = s.conditions ?? {};
      if (strict && c.wrapToOwnCertificate === true && !s.actions.some((a) => expandAction(a).some((e) => globMatch(e, "kms:ExportWrapped")))) {
        throw invalid(`${at}/conditions/wrapToOwnCertificate`, "holds only for kms:ExportWrapped, which none of this statement's actions is");
      }
      const cidrs = c.sourceCidr && parseCidrs(c.sourceCidr, `${at}/conditions/sourceCidr`);
      for (const [k, v] of Object.entries(c.encryptionContext ?? {})) {
        for (const m of v.matchAll(PLACEHOLDER)) {
          if (!/^principal\.[A-Za-z0-9_.-]+$/.test(m[1]!)) {
            throw invalid(`${at}/conditions/encryptionContext/${k}`, `"${m[0]}" must name a principal attribute, like \${principal.vm_id}`);
          }
        }
      }
      return {
        sid: s.sid,
        index: i,
        effect: s.effect,
        actions: s.actions.flatMap(expandAction),
        resources,
        sourceCidr: cidrs,
        withinHours: c.withinHours && compileWindow(c.withinHours, `${at}/conditions/withinHours`),
        outsideHours: c.outsideHours && compileWindow(c.outsideHours, `${at}/conditions/outsideHours`),
        authMethod: c.authMethod,
        wrapToOwnCertificate: c.wrapToOwnCertificate === true,
        encryptionContext: c.encryptionContext,
      };
    }),
  };
}

/** Refuses an action none of the statement's resource patterns can match, and a pattern no action acts on. */
function checkEffective(patterns: readonly string[], resources: readonly ResourcePattern[], at: string): void {
  if (!resources.some((r) => r.type === "*")) {
    patterns.forEach((p, j) => {
      if (p.includes("*")) return;
      const wanted: readonly ResourceType[] = expandAction(p).flatMap((e) => actionResourceTypes[e as Action]);
      if (!resources.some((r) => r.type !== "*" && wanted.includes(r.type))) {
        throw invalid(`${at}/actions/${j}`, `${p} acts on ${wanted.map(typeSpelling).join(" or ")} resources, and none of this statement's resources is one (bare patterns like orders-* mean keys)`);
      }
    });
  }
  const matched = actions.filter((a) => patterns.some((p) => expandAction(p).some((e) => globMatch(e, a))));
  const types = new Set(matched.flatMap((a) => actionResourceTypes[a]));
  resources.forEach((r, j) => {
    if (r.type !== "*" && !types.has(r.type)) {
      throw invalid(`${at}/resources/${j}`, `"${formatPattern(r)}" is a ${r.type} resource, but no action of this statement acts on one`);
    }
  });
}

/** Weekday (0 = Sunday) and minute of the day of an instant in a time zone. */
export function localTime(ms: number, tz: string): { day: number; minute: number } {
  const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, weekday: "short", hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(ms);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? "";
  return { day: DAY_NAMES.indexOf(get("weekday") as (typeof DAY_NAMES)[number]), minute: Number(get("hour")) * 60 + Number(get("minute")) };
}

export function inWindow(w: CompiledWindow, ms: number): boolean {
  const { day, minute } = localTime(ms, w.tz);
  if (w.startMinute < w.endMinute) return w.days.has(day) && minute >= w.startMinute && minute < w.endMinute;
  // Wraps midnight: the part after midnight belongs to the window that started the day before.
  if (minute >= w.startMinute) return w.days.has(day);
  return minute < w.endMinute && w.days.has((day + 6) % 7);
}
