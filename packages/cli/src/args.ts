/**
 * Parsers for option and argument values. Each throws commander's `InvalidArgumentError`, which
 * commander reports as a usage error naming the option.
 */
import { InvalidArgumentError } from "commander";

const UNIT_SECONDS: Readonly<Record<string, number>> = Object.freeze({ s: 1, m: 60, h: 3600, d: 86400 });
const DURATION = /^(?:\d+[smhd])+$/;

/**
 * Seconds in a duration: `3600`, `3600s`, `30m`, `12h`, `90d`, or a combination such as `1h30m`.
 */
export function parseDuration(value: string): number {
  const text = value.trim();
  if (/^\d+$/.test(text)) return checkedSeconds(Number(text), value);
  if (!DURATION.test(text)) {
    throw new InvalidArgumentError("Expected a duration such as 90d, 12h, 30m, 3600s or plain seconds.");
  }
  let seconds = 0;
  for (const [, count, unit] of text.matchAll(/(\d+)([smhd])/g)) seconds += Number(count) * UNIT_SECONDS[unit!]!;
  return checkedSeconds(seconds, value);
}

function checkedSeconds(seconds: number, value: string): number {
  if (!Number.isSafeInteger(seconds)) throw new InvalidArgumentError(`Duration ${value} is too long.`);
  return seconds;
}

/** A duration as `parseDuration` reads it, largest units first: 7776000 → `90d`, 5400 → `1h30m`. */
export function formatDuration(seconds: number): string {
  if (seconds === 0) return "0s";
  let rest = seconds;
  let out = "";
  for (const [unit, size] of Object.entries(UNIT_SECONDS).reverse()) {
    const count = Math.floor(rest / size);
    if (count > 0) out += `${count}${unit}`;
    rest -= count * size;
  }
  return out;
}

/**
 * `--rotation-period`: a duration, or `off` to stop automatic rotation. (Not `null` for off:
 * commander turns a parser's `null` into an empty string.)
 */
export function parseRotationPeriod(value: string): number | "off" {
  return value.trim().toLowerCase() === "off" ? "off" : parseDuration(value);
}

/** A parser for an integer from `min` to `max` inclusive. */
export function integer(min: number, max: number = Number.MAX_SAFE_INTEGER): (value: string) => number {
  return (value) => {
    const text = value.trim();
    const n = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(max === Number.MAX_SAFE_INTEGER ? `Expected an integer of at least ${min}.` : `Expected an integer from ${min} to ${max}.`);
    }
    return n;
  };
}

/** Splits `key=value` at the first `=`; the value may itself contain `=`. */
export function parsePair(value: string): [key: string, value: string] {
  const at = value.indexOf("=");
  if (at < 0) throw new InvalidArgumentError("Expected key=value (missing '=').");
  if (at === 0) throw new InvalidArgumentError("Expected key=value (empty key).");
  return [value.slice(0, at), value.slice(at + 1)];
}

/**
 * Collector for a repeatable `--flag key=value` option (`--context`, `--tag`): builds one record,
 * refusing the same key twice.
 */
export function collectPair(value: string, previous: Record<string, string> | undefined): Record<string, string> {
  const [key, val] = parsePair(value);
  if (previous !== undefined && Object.hasOwn(previous, key)) throw new InvalidArgumentError(`Key "${key}" is given twice.`);
  // fromEntries defines own properties, so even a key named __proto__ stays a plain entry.
  return Object.fromEntries([...Object.entries(previous ?? {}), [key, val]]);
}

/** Collector for a repeatable option whose values are parsed by `parse`. */
export function collect<T>(parse: (value: string) => T): (value: string, previous: T[] | undefined) => T[] {
  return (value, previous) => [...(previous ?? []), parse(value)];
}

/**
 * A parser for an option whose value is one of a fixed set; a wrong value is a usage error that
 * lists the allowed ones. (Commander's `.choices()` does the same for options given once.)
 */
export function oneOf<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if ((allowed as readonly string[]).includes(value)) return value as T;
    throw new InvalidArgumentError(`Allowed: ${allowed.join(", ")}.`);
  };
}
