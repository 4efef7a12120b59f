/** AWS-style grants on PostgreSQL (store.ts GrantRepo; migration 13), with sqlite-grants.ts's SQL. */
import { GRANT_SQL, grantRow, grantTaken, grantValues } from "./sqlite-grants.js";
import type { GrantRepo } from "./store.js";

/** The part of postgres-store.ts's Runner this repository uses (a structural type: no import cycle). */
interface Runner {
  query<R extends Record<string, unknown> = Record<string, unknown>>(name: string, text: string, values?: unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

const numbered = (sql: string): string => {
  let i = 0;
  return sql.replace(/\?/g, () => `$${++i}`);
};

export function postgresGrantRepo(run: Runner): GrantRepo {
  const sql = Object.fromEntries(Object.entries(GRANT_SQL).map(([k, text]) => [k, numbered(text)])) as Record<keyof typeof GRANT_SQL, string>;
  const query = (name: keyof typeof GRANT_SQL, values: unknown[]) => run.query(`grants_${name}`, sql[name], values);
  const rows = async (name: keyof typeof GRANT_SQL, arg: string) => (await query(name, [arg])).rows.map((r) => grantRow(r as Parameters<typeof grantRow>[0]));
  return {
    async insert(g) {
      if (((await query("insert", grantValues(g))).rowCount ?? 0) === 0) throw grantTaken(g.grantId);
    },
    async get(id) {
      const r = (await query("get", [id])).rows[0];
      return r && grantRow(r as Parameters<typeof grantRow>[0]);
    },
    listForKey: (keyId) => rows("forKey", keyId),
    listForGrantee: (role) => rows("forGrantee", role),
    listForRetiring: (role) => rows("forRetiring", role),
    delete: async (id) => ((await query("delete", [id])).rowCount ?? 0) > 0,
    deleteForGrantee: async (role) => (await query("deleteForGrantee", [role])).rowCount ?? 0,
  };
}
