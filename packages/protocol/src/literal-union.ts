import { Type, type TUnsafe } from "@sinclair/typebox";

/**
 * A union of string literals read from a table (key specs, usages, algorithms), so a row added to the
 * table is accepted on the wire with no schema edit. Validates exactly as `Type.Union` of `Type.Literal`s
 * (the native API lists the accepted values when one is wrong).
 */
export function literalUnion<T extends string>(values: readonly T[], options: { description?: string } = {}): TUnsafe<T> {
  return Type.Unsafe<T>(Type.Union(values.map((v) => Type.Literal(v)), options));
}
