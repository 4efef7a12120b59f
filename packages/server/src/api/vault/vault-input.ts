/**
 * Reading Vault request fields. Vault decodes parameters weakly (Go's mapstructure): booleans and
 * integers may arrive as strings, so these readers accept both; anything else is a 400 naming the field.
 */
import { BASE64_SHAPE } from "@tessera/protocol";
import { badRequest } from "./vault-errors.js";

export type Json = Record<string, unknown>;

export function str(b: Json, field: string): string | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "string") throw badRequest(`${field} must be a string`);
  return v;
}

export function requiredStr(b: Json, field: string): string {
  const v = str(b, field);
  if (v === undefined || v === "") throw badRequest(`missing ${field}`);
  return v;
}

export function bool(b: Json, field: string): boolean | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "boolean") return v;
  if (v === "true" || v === "1") return true;
  if (v === "false" || v === "0") return false;
  throw badRequest(`${field} must be a boolean`);
}

export function int(b: Json, field: string): number | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?[0-9]{1,15}$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw badRequest(`${field} must be an integer`);
  return n;
}

/** Standard base64 (padded), decoded; `allowEmpty` for Vault fields that may be "" (an empty plaintext). */
export function base64(b: Json, field: string, required: boolean, allowEmpty = false): Buffer | undefined {
  const text = base64Text(b, field, required, allowEmpty);
  return text === undefined ? undefined : Buffer.from(text, "base64");
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/**
 * A duration as Vault takes it: seconds as a number or string ("3600"), or Go-style units
 * ("1h", "90m", "1h30m", "30d"). Returns whole seconds.
 */
export function duration(b: Json, field: string): number | undefined {
  const v = b[field];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === "string") {
    if (/^[0-9]{1,12}$/.test(v)) return Number(v);
    const parts = [...v.matchAll(/([0-9]{1,9})([smhd])/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join("") === v) return parts.reduce((sum, p) => sum + Number(p[1]) * UNITS[p[2]!]!, 0);
  }
  throw badRequest(`${field} must be a duration (seconds, or like "1h", "24h", "30d")`);
}

/** A JSON array of objects (Vault's `batch_input`). */
export function objects(b: Json, field: string): Json[] | undefined {
  const v = b[field];
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== "object" || x === null || Array.isArray(x))) throw badRequest(`${field} must be a list of objects`);
  return v as Json[];
}

/** A standard base64 field as the text itself (the service decodes it); "" allowed where Vault allows it. */
export function base64Text(b: Json, field: string, required: boolean, allowEmpty = false): string | undefined {
  const v = str(b, field);
  if (v === undefined || (v === "" && !allowEmpty)) {
    if (required) throw badRequest(`missing ${field}`);
    return undefined;
  }
  // As Vault's Go decoder (base64.StdEncoding): padding bits unchecked, unlike the native and AWS APIs.
  if (!BASE64_SHAPE.test(v)) throw badRequest(`${field} must be standard base64`);
  return v;
}
