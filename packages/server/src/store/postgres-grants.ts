/** AWS-style grants on PostgreSQL (store.ts GrantRepo; migration 13), with sqlite-grants.ts's SQL. */
import { GRANT_SQL, grantRow, grantTaken, grantValues } from "./sqlite-grants.js";
import type { GrantRepo } from "./store.js";
import { numberedAll, type PgRunner } from "./postgres-sql.js";

export function postgresGrantRepo(run: PgRunner): GrantRepo {
  const sql = numberedAll(GRANT_SQL);
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
