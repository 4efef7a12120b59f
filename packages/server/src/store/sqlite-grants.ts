/** AWS-style grants on SQLite (store.ts GrantRepo; migration 13). The SQL is shared with postgres-grants.ts. */
import type { DatabaseSync } from "node:sqlite";
import { TesseraError } from "@tessera/protocol";
import type { GrantConstraints, GrantRepo, GrantRow } from "./store.js";

type GrantRec = {
  grant_id: string;
  key_id: string;
  name: string;
  grantee_principal: string;
  grantee_role: string;
  retiring_principal: string | null;
  retiring_role: string | null;
  issuing_account: string;
  operations: string;
  constraints: string | null;
  created_at: number;
};

export const grantRow = (r: GrantRec): GrantRow => ({
  grantId: r.grant_id,
  keyId: r.key_id,
  name: r.name,
  granteePrincipal: r.grantee_principal,
  granteeRole: r.grantee_role,
  retiringPrincipal: r.retiring_principal,
  retiringRole: r.retiring_role,
  issuingAccount: r.issuing_account,
  operations: JSON.parse(r.operations) as string[],
  constraints: r.constraints === null ? null : (JSON.parse(r.constraints) as GrantConstraints),
  createdAt: Number(r.created_at),
});

/** The insert's values, in GRANT_SQL.insert's column order. */
export const grantValues = (g: GrantRow): unknown[] => [
  g.grantId,
  g.keyId,
  g.name,
  g.granteePrincipal,
  g.granteeRole,
  g.retiringPrincipal,
  g.retiringRole,
  g.issuingAccount,
  JSON.stringify(g.operations),
  g.constraints === null ? null : JSON.stringify(g.constraints),
  g.createdAt,
];

/** The statements, in `?` placeholders; PostgreSQL's adapter numbers them. */
export const GRANT_SQL = Object.freeze({
  insert: `INSERT INTO grants (grant_id, key_id, name, grantee_principal, grantee_role, retiring_principal, retiring_role, issuing_account, operations, constraints, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
  get: `SELECT * FROM grants WHERE grant_id = ?`,
  forKey: `SELECT * FROM grants WHERE key_id = ? ORDER BY created_at, grant_id`,
  forGrantee: `SELECT * FROM grants WHERE grantee_role = ? ORDER BY created_at, grant_id`,
  forRetiring: `SELECT * FROM grants WHERE retiring_role = ? ORDER BY created_at, grant_id`,
  delete: `DELETE FROM grants WHERE grant_id = ?`,
  deleteForGrantee: `DELETE FROM grants WHERE grantee_role = ?`,
});

export const grantTaken = (id: string) => new TesseraError("AlreadyExists", `grant ${id} already exists`);

export function sqliteGrantRepo(db: DatabaseSync): GrantRepo {
  const q = Object.fromEntries(Object.entries(GRANT_SQL).map(([k, sql]) => [k, db.prepare(sql)])) as Record<keyof typeof GRANT_SQL, ReturnType<DatabaseSync["prepare"]>>;
  const all = (stmt: keyof typeof GRANT_SQL, arg: string) => (q[stmt].all(arg) as GrantRec[]).map(grantRow);
  return {
    async insert(g) {
      if (q.insert.run(...(grantValues(g) as (string | number | null)[])).changes === 0) throw grantTaken(g.grantId);
    },
    async get(id) {
      const r = q.get.get(id) as GrantRec | undefined;
      return r && grantRow(r);
    },
    listForKey: async (keyId) => all("forKey", keyId),
    listForGrantee: async (role) => all("forGrantee", role),
    listForRetiring: async (role) => all("forRetiring", role),
    delete: async (id) => Number(q.delete.run(id).changes) > 0,
    deleteForGrantee: async (role) => Number(q.deleteForGrantee.run(role).changes),
  };
}
