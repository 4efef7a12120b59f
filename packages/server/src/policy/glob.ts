/** Glob with `*` matching any run of characters (no other metacharacters). */
export function globMatch(pattern: string, value: string): boolean {
  if (!pattern.includes("*")) return pattern === value;
  const parts = pattern.split("*");
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  if (!value.startsWith(first) || !value.endsWith(last)) return false;
  let at = first.length;
  const end = value.length - last.length;
  if (at > end) return false;
  for (let i = 1; i < parts.length - 1; i++) {
    const idx = value.indexOf(parts[i]!, at);
    if (idx === -1 || idx + parts[i]!.length > end) return false;
    at = idx + parts[i]!.length;
  }
  return true;
}
