/**
 * A secret's structure without its values (Vault KV v2's `subkeys`): objects are kept, every other
 * value — strings, numbers, booleans, arrays, null — becomes null. `depth` 0 keeps every level;
 * n > 0 keeps n levels, an object at level n becoming null as a leaf would.
 */
export type Subkeys = { [key: string]: Subkeys | null };

export function subkeysOf(data: Record<string, unknown>, depth: number): Subkeys {
  const walk = (o: Record<string, unknown>, level: number): Subkeys => {
    const out: Subkeys = {};
    for (const [k, v] of Object.entries(o)) {
      const isObject = typeof v === "object" && v !== null && !Array.isArray(v);
      out[k] = isObject && (depth === 0 || level < depth) ? walk(v as Record<string, unknown>, level + 1) : null;
    }
    return out;
  };
  return walk(data, 1);
}
