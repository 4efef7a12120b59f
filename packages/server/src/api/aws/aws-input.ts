/**
 * Reading fields of an AWS JSON 1.1 request body. Every malformed field is a ValidationException;
 * blobs must be strict standard base64 (one encoding per byte string, nothing a lenient decoder
 * would skip) and at least the length AWS requires.
 */
import { isCanonicalBase64Fast } from "../../service/bytes.js";
import { validation } from "./aws-errors.js";

export type Json = Record<string, unknown>;

const member = (field: string) => `${field[0]!.toLowerCase()}${field.slice(1)}`;

export function str(body: Json, field: string, required: true): string;
export function str(body: Json, field: string, required?: false): string | undefined;
export function str(body: Json, field: string, required = false): string | undefined {
  const v = body[field];
  if (v === undefined || v === null) {
    if (required) throw validation(`1 validation error detected: Value null at '${member(field)}' failed to satisfy constraint: Member must not be null`, "missing-field");
    return undefined;
  }
  if (typeof v !== "string") throw validation(`${field} must be a string`);
  return v;
}

/** A required identifier (KeyId, AliasName, GrantId …): a string of at least one character, as AWS's model says. */
export function identifier(body: Json, field: string): string {
  const v = str(body, field, true);
  if (v.length === 0) throw validation(`1 validation error detected: Value '' at '${member(field)}' failed to satisfy constraint: Member must have length greater than or equal to 1`, "too-short");
  return v;
}

export function int(body: Json, field: string): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v)) throw validation(`${field} must be an integer`);
  return v;
}

/**
 * A required blob (Plaintext, CiphertextBlob …) as the base64 text the service takes, checked
 * strictly here; `minBytes` as AWS documents it (1 for Plaintext and CiphertextBlob).
 */
export function blob(body: Json, field: string, minBytes: number): string {
  const v = str(body, field, true);
  if (!isCanonicalBase64Fast(v)) throw validation(`${field} must be standard base64 (RFC 4648 §4, padded)`, "invalid-base64");
  const bytes = (v.length / 4) * 3 - (v.endsWith("==") ? 2 : v.endsWith("=") ? 1 : 0);
  if (bytes < minBytes) {
    throw validation(`1 validation error detected: Value at '${member(field)}' failed to satisfy constraint: Member must have length greater than or equal to ${minBytes}`, "too-short");
  }
  return v;
}

export function context(body: Json, field: string): Record<string, string> | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "object" || Array.isArray(v) || Object.values(v).some((x) => typeof x !== "string")) throw validation(`${field} must be a map of strings`);
  return v as Record<string, string>;
}

export function tagsIn(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw validation("Tags must be a list");
  const out: Record<string, string> = {};
  for (const t of v as { TagKey?: unknown; TagValue?: unknown }[]) {
    if (typeof t?.TagKey !== "string" || typeof t.TagValue !== "string") throw validation("each tag needs TagKey and TagValue strings");
    out[t.TagKey] = t.TagValue;
  }
  return out;
}
