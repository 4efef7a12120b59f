/**
 * Typed resources and the patterns that match them (docs/policy.md, "Resources").
 *
 * Every action is authorised on a resource of a type, written like the resource part of an AWS ARN:
 * `key/NAME-or-ID`, `alias/NAME`, `policy/NAME`, `role/NAME`, `access-key/ID`, `jwt-issuer/NAME`,
 * `secret/MOUNT/PATH` (a stored secret; `secret/MOUNT` is the mount itself),
 * and the unnamed `token`, `join-token`, `secret-id`, `certificate`, `audit`, `sys`, `random`.
 *
 * Invariants:
 * - A pattern matches only resources of its own type; `*` alone matches every resource.
 * - A bare pattern (no type) is a key pattern: `orders-*` means `key/orders-*`. So a statement written
 *   before types existed keeps meaning keys, and a statement about keys never reaches anything else.
 * - Acting on a whole collection (listing) is authorised on `TYPE/*`: only a pattern that matches every
 *   name of the type (`TYPE/*` or `*`) grants it, because names never contain `*`.
 * - The parse of a pattern never depends on where it came from; writes (`strict`) only refuse more:
 *   unknown types, a named type without a name, a name on an unnamed type.
 */
import { TesseraError } from "@tessera/protocol";
import { globMatch } from "./glob.js";

export const namedResourceTypes = Object.freeze(["key", "alias", "policy", "role", "access-key", "jwt-issuer", "secret"] as const);
export const unnamedResourceTypes = Object.freeze(["token", "join-token", "secret-id", "certificate", "audit", "sys", "random"] as const);
export type NamedResourceType = (typeof namedResourceTypes)[number];
export type UnnamedResourceType = (typeof unnamedResourceTypes)[number];
export type ResourceType = NamedResourceType | UnnamedResourceType;
export const resourceTypes: readonly ResourceType[] = Object.freeze([...namedResourceTypes, ...unnamedResourceTypes]);

/** What an action is applied to. A key is known by its id and its name (either may be unknown). */
export type Resource =
  | { readonly type: "key"; readonly id: string | null; readonly name: string | null }
  | { readonly type: Exclude<NamedResourceType, "key">; readonly name: string }
  | { readonly type: UnnamedResourceType };

/** The name that stands for every resource of a type (names never contain `*`). */
export const EVERY = "*";

const unnamed = (type: UnnamedResourceType): Resource => Object.freeze({ type });

/** Constructors, so call sites say what they authorise on: `resources.policy(name)`, `resources.audit`. */
export const resources = Object.freeze({
  /** A key known by id and name. */
  key: (id: string, name: string): Resource => ({ type: "key", id, name }),
  /** A key known only by its id (a ciphertext's key that does not exist here). */
  keyId: (id: string): Resource => ({ type: "key", id, name: null }),
  /** A key not (yet) resolved: a reference matched as an id and as a name. */
  keyRef: (ref: string): Resource => ({ type: "key", id: ref, name: ref }),
  /** A key about to be created, known only by its name. */
  newKey: (name: string): Resource => ({ type: "key", id: null, name }),
  /** `alias/NAME`, given the alias as the API spells it (`alias/orders`). */
  alias: (aliasName: string): Resource => ({ type: "alias", name: aliasName.startsWith("alias/") ? aliasName.slice("alias/".length) : aliasName }),
  policy: (name: string): Resource => ({ type: "policy", name }),
  role: (name: string): Resource => ({ type: "role", name }),
  accessKey: (id: string): Resource => ({ type: "access-key", name: id }),
  jwtIssuer: (name: string): Resource => ({ type: "jwt-issuer", name }),
  /** A secret (`secret/MOUNT/PATH`), a listed prefix (`secret/MOUNT/PREFIX/`) or the mount (`secret/MOUNT`). */
  secret: (mount: string, path = ""): Resource => ({ type: "secret", name: path === "" ? mount : `${mount}/${path}` }),
  /** Every resource of a named type: what listing it is authorised on. */
  every: (type: NamedResourceType): Resource => (type === "key" ? { type, id: null, name: EVERY } : { type, name: EVERY }),
  token: unnamed("token"),
  joinToken: unnamed("join-token"),
  secretId: unnamed("secret-id"),
  certificate: unnamed("certificate"),
  audit: unnamed("audit"),
  sys: unnamed("sys"),
  random: unnamed("random"),
});

/** `key/payment-db`, `policy/orders-app`, `sys` — how a resource is shown in answers and messages. */
export function formatResource(r: Resource): string {
  if (r.type === "key") return `key/${r.name ?? r.id ?? ""}`;
  return "name" in r ? `${r.type}/${r.name}` : r.type;
}

/** A compiled resource pattern. */
export type ResourcePattern =
  | { readonly type: "*" }
  | { readonly type: NamedResourceType; readonly glob: string }
  | { readonly type: UnnamedResourceType };

/** A pattern as it would be written with its type: `key/orders-*`, `audit`, `*`. */
export function formatPattern(p: ResourcePattern): string {
  if (p.type === "*") return "*";
  return "glob" in p ? `${p.type}/${p.glob}` : p.type;
}

const isNamed = (t: string): t is NamedResourceType => (namedResourceTypes as readonly string[]).includes(t);
const isUnnamed = (t: string): t is UnnamedResourceType => (unnamedResourceTypes as readonly string[]).includes(t);

/** How resources of a type are written: `policy/…` for named types, `audit` for unnamed ones. */
export const typeSpelling = (t: ResourceType): string => (isNamed(t) ? `${t}/…` : t);

const typeList = resourceTypes.map(typeSpelling).join(", ");

/**
 * Parses a resource pattern. With `strict` (policy and grant writes) a pattern that could only be
 * a mistake is refused with `InvalidInput` naming `field`; without it (documents already stored),
 * such a pattern is read as a key pattern, which is what it meant before resources had types.
 */
export function parseResourcePattern(text: string, field: string, strict: boolean): ResourcePattern {
  if (text === "*") return { type: "*" };
  const refuse = (why: string): ResourcePattern => {
    if (strict) throw new TesseraError("InvalidInput", `${field}: ${why}`, { field });
    return { type: "key", glob: text };
  };
  const slash = text.indexOf("/");
  const head = slash < 0 ? text : text.slice(0, slash);
  if (slash < 0) {
    if (isUnnamed(text)) return { type: text };
    if (isNamed(text)) return refuse(`"${text}" needs a name: ${text}/NAME, or ${text}/* for every ${text}`);
    return { type: "key", glob: text };
  }
  const rest = text.slice(slash + 1);
  if (isNamed(head)) {
    if (rest === "") return refuse(`"${text}" needs a name after the /`);
    return { type: head, glob: rest };
  }
  if (isUnnamed(head)) return refuse(`${head} has no names; write "${head}"`);
  return refuse(`unknown resource type "${head}" (resource types: ${typeList}; a key whose name contains / is key/${text})`);
}

/** Does `pattern` match `resource`? Types must agree; a key matches by its id or its name. */
export function patternMatches(pattern: ResourcePattern, resource: Resource): boolean {
  if (pattern.type === "*") return true;
  if (pattern.type !== resource.type) return false;
  if (!("glob" in pattern)) return true;
  if (resource.type === "key") {
    return (resource.id !== null && globMatch(pattern.glob, resource.id)) || (resource.name !== null && globMatch(pattern.glob, resource.name));
  }
  return "name" in resource && globMatch(pattern.glob, resource.name);
}

/**
 * Does `own` match everything `wanted` matches? Conservative: a `*` inside `wanted` is covered only
 * by `*`, by a whole-type pattern or by the same glob, never by reasoning about globs.
 */
export function patternCovers(own: ResourcePattern, wanted: ResourcePattern): boolean {
  if (own.type === "*") return true;
  if (own.type !== wanted.type) return false;
  if (!("glob" in own) || !("glob" in wanted)) return true;
  return own.glob === "*" || own.glob === wanted.glob || (!wanted.glob.includes("*") && globMatch(own.glob, wanted.glob));
}

/** The resource of an unnamed type; undefined for a named type (it needs a name). */
export function resourceFor(type: ResourceType): Resource | undefined {
  return isUnnamed(type) ? { type } : undefined;
}

/**
 * One resource as a person writes it (the simulator's `resource`): `key/payment-db`, a bare key name
 * or id, `policy/orders-app`, `audit`, or `TYPE/*` for a whole collection. Refused (`InvalidInput`
 * naming `field`) when it is a pattern, an unknown type, or a named type without a name.
 */
export function parseResource(text: string, field: string): Resource {
  const p = parseResourcePattern(text, field, true);
  if (p.type === "*") throw new TesseraError("InvalidInput", `${field}: name one resource, such as key/payment-db or policy/*`, { field });
  if (!("glob" in p)) return { type: p.type };
  if (p.glob !== EVERY && p.glob.includes("*")) {
    throw new TesseraError("InvalidInput", `${field}: name one resource (${p.type}/NAME), or ${p.type}/* for all of them`, { field });
  }
  if (p.glob === EVERY) return resources.every(p.type);
  switch (p.type) {
    case "key":
      return resources.keyRef(p.glob);
    case "alias":
      return resources.alias(p.glob);
    default:
      return { type: p.type, name: p.glob };
  }
}
