/**
 * What the PostgreSQL repositories that share their SQL with SQLite need (secrets, retention, grants):
 * the part of postgres-store.ts's Runner they use — a structural type, so they import nothing of
 * postgres-store.ts (no import cycle) — and the `?` → `$n` placeholder numbering.
 */
export interface PgRunner {
  query<R extends Record<string, unknown> = Record<string, unknown>>(name: string, text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** `?` placeholders, in order, as PostgreSQL's `$1, $2, …` (the shared SQL has no `?` elsewhere). */
export function numbered(sql: string): string {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
}

/** Every statement of a shared table, numbered once. */
export function numberedAll<K extends string>(statements: Readonly<Record<K, string>>): Record<K, string> {
  return Object.fromEntries(Object.entries(statements).map(([k, text]) => [k, numbered(text as string)])) as Record<K, string>;
}
