/**
 * Wire schemas for aliases on the native API (`/v1/aliases`): other names for a key, as AWS KMS has
 * them. A name is written as AWS spells it (`alias/orders`) or bare (`orders`, meaning
 * `alias/orders`); answers always carry the `alias/` form.
 *
 * @example
 * ```json
 * PUT /v1/aliases/orders
 * { "keyId": "orders-2026" }
 * ```
 */
import { Type, type Static } from "@sinclair/typebox";
import { KeyRef } from "./schemas.js";

const strict = { additionalProperties: false } as const;
const Timestamp = Type.String({ format: "date-time" });

/** `alias/` followed by letters, digits, `/`, `_`, `-` (never `alias/aws/…`, which AWS reserves). */
export const AliasName = Type.String({ pattern: "^alias/[a-zA-Z0-9/_-]{1,250}$" });

/** `PUT /v1/aliases/{name}`: the key (id, name or alias) the alias is to name. */
export const PutAliasRequest = Type.Object({ keyId: KeyRef }, strict);
export type PutAliasRequest = Static<typeof PutAliasRequest>;

export const AliasInfo = Type.Object({ name: AliasName, keyId: Type.String(), createdAt: Timestamp, updatedAt: Timestamp });
export type AliasInfo = Static<typeof AliasInfo>;

/** `PUT /v1/aliases/{name}`: the alias's full name, and whether this request created it (else it moved it). */
export const PutAliasResponse = Type.Object({ name: AliasName, created: Type.Boolean() });
export type PutAliasResponse = Static<typeof PutAliasResponse>;

/** `GET /v1/aliases?keyId=`: the aliases of one key, or (without `keyId`) every alias. */
export const ListAliasesQuery = Type.Object({ keyId: Type.Optional(KeyRef) }, strict);
export type ListAliasesQuery = Static<typeof ListAliasesQuery>;
export const ListAliasesResponse = Type.Object({ aliases: Type.Array(AliasInfo) });
export type ListAliasesResponse = Static<typeof ListAliasesResponse>;

/** The `alias/` form of a name given either way. */
export function aliasName(name: string): string {
  return name.startsWith("alias/") ? name : `alias/${name}`;
}
