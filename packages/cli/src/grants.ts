/**
 * Token grants on the command line.
 *
 * `--allow ACTIONS:RESOURCES` is one grant: a comma-separated list of actions, a colon, and a
 * comma-separated list of key resources (names, ids or `*` patterns). Actions contain a colon
 * themselves (`kms:Encrypt`), so the split is at the **last** colon — which is why a resource can
 * never contain one (key names cannot):
 *
 * ```
 * kms:Encrypt,kms:Decrypt:payment-db      → actions [kms:Encrypt, kms:Decrypt], resources [payment-db]
 * kms:*:orders-*,billing                  → actions [kms:*], resources [orders-*, billing]
 * *:*                                      → every action on every key
 * ```
 */
import { actions as knownActions } from "@tessera/protocol/core";
import type { Grant } from "@tessera/protocol";
import { InvalidArgumentError } from "commander";

const ACTION_PATTERN = /^[a-z]+:[A-Za-z*]+$|^\*$/;
const known: ReadonlySet<string> = new Set(knownActions);

export const ALLOW_SYNTAX = "ACTION[,ACTION...]:RESOURCE[,RESOURCE...]";

/** An action name or a `*` pattern; exact names must be known, so typos fail here rather than never match. */
function checkAction(action: string): string | undefined {
  if (!ACTION_PATTERN.test(action)) return `"${action}" is not an action (such as kms:Encrypt, kms:* or *)`;
  if (!action.includes("*") && !known.has(action)) return `Unknown action "${action}" (${knownNear(action)})`;
  return undefined;
}

/** The allowed actions of the same service (`kms:…`), or the services when that one is unknown. */
function knownNear(action: string): string {
  const service = action.slice(0, action.indexOf(":") + 1);
  const same = knownActions.filter((a) => a.startsWith(service));
  if (same.length > 0) return `${service.slice(0, -1)} actions: ${same.join(", ")}`;
  return `services: ${[...new Set(knownActions.map((a) => a.slice(0, a.indexOf(":"))))].join(", ")}`;
}

function list(text: string): string[] {
  return text.split(",").map((item) => item.trim());
}

/** Parses one `--allow` value into a grant. */
export function parseAllow(value: string): Grant {
  const at = value.lastIndexOf(":");
  const actionsPart = at < 0 ? "" : value.slice(0, at);
  const resources = list(value.slice(at + 1));
  const actions = list(actionsPart);
  if (at < 0 || actionsPart === "" || list(value).every((item) => checkAction(item) === undefined)) {
    throw new InvalidArgumentError(`Expected ${ALLOW_SYNTAX}, e.g. kms:Encrypt,kms:Decrypt:payment-db (resources come after the last colon).`);
  }
  for (const action of actions) {
    const problem = checkAction(action);
    if (problem !== undefined) throw new InvalidArgumentError(`${problem}; expected ${ALLOW_SYNTAX}.`);
  }
  if (resources.some((resource) => resource === "")) {
    throw new InvalidArgumentError(`Empty resource; expected ${ALLOW_SYNTAX} (use * for every key).`);
  }
  return { actions, resources };
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string" && item !== "");
}

/**
 * Parses a grants file: a JSON array of `{"actions": [...], "resources": [...]}`, the same shape
 * as `grants` in the API. Throws an `Error` whose message names the entry at fault.
 */
export function parseGrantsJson(text: string): Grant[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error("grants file is not valid JSON");
  }
  if (!Array.isArray(value)) throw new Error('grants file must hold a JSON array of {"actions": [...], "resources": [...]}');
  return value.map((entry: unknown, index) => {
    const where = `grants file entry ${index}`;
    if (typeof entry !== "object" || entry === null || Array.isArray(entry)) throw new Error(`${where} is not an object`);
    const { actions, resources, ...rest } = entry as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length > 0) throw new Error(`${where} has unknown field "${extra[0]}"`);
    if (!isStringArray(actions)) throw new Error(`${where} needs "actions": a non-empty array of strings`);
    if (!isStringArray(resources)) throw new Error(`${where} needs "resources": a non-empty array of strings`);
    for (const action of actions) {
      const problem = checkAction(action);
      if (problem !== undefined) throw new Error(`${where}: ${problem}`);
    }
    return { actions, resources };
  });
}

/** A grant in `--allow` syntax, so what `token lookup` shows can be pasted back. */
export function formatGrant(grant: Grant): string {
  return `${grant.actions.join(",")}:${grant.resources.join(",")}`;
}
