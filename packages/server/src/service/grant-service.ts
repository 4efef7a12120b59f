/**
 * AWS-style grants on keys (docs/aws-compatibility.md, "Grants"), through the door: create, list,
 * retire, revoke. A grant is stored as a row and evaluated as the policy `@grant/<id>` of its grantee
 * role (policy/grant-policy.ts): an allow on its one key, for the grant operations it names.
 *
 * Invariants:
 * - A grant names one existing key and allows only grant operations valid for that key's type; a
 *   constraint only on symmetric encryption keys (whose operations take a context).
 * - Who created a grant through another grant (its CreateGrant) grants no more than that grant:
 *   the same or fewer operations, an equally strict or stricter constraint, the same key.
 * - Retiring is decided by the grant: its retiring role, its grantee when it allows RetireGrant — or
 *   a policy allowing `kms:RetireGrant` on the key (Tessera's stand-in for "the account"). Revoking
 *   needs `kms:RevokeGrant` on the key. Both delete the row; the trail keeps the history.
 * - Every record names the grant it made, used, retired or revoked (`detail.grant`); grant ids are
 *   not secrets (using a grant needs the grantee's own credentials).
 */
import { randomBytes } from "node:crypto";
import { TesseraError, isAsymmetricKeySpec, type KeyGrantInfo, type ListKeyGrantsResponse } from "@tessera/protocol";
import { iso, type Clock } from "../clock.js";
import { resources } from "../policy/index.js";
import { atLeastAsStrict, grantIdOfPolicy, isGrantOperation, operationsForKey, type GrantOperation } from "../policy/grant-policy.js";
import type { GrantConstraints, GrantRow, Store } from "../store/index.js";
import type { CallContext, Door } from "./door.js";

export interface CreateGrantRequest {
  /** The principal as the caller named it (an ARN), and the Tessera role it maps to. */
  granteePrincipal: string;
  granteeRole: string;
  retiringPrincipal?: string | undefined;
  retiringRole?: string | undefined;
  operations: readonly string[];
  constraints?: GrantConstraints | undefined;
  name?: string | undefined;
  /** Who the grant shows as its issuer (AWS's IssuingAccount). */
  issuingAccount: string;
}

export interface GrantServiceDeps {
  door: Door;
  store: Pick<Store, "grants" | "roles">;
  policy: { forgetGrants(role: string): void };
  clock: Clock;
}

/** AWS's limits on a constraint: pairs per constraint, characters per value. */
const MAX_CONSTRAINT_PAIRS = 8;
const MAX_CONSTRAINT_VALUE = 384;
const NAME = /^[a-zA-Z0-9:/_-]{1,256}$/;
const GRANT_ID = /^[0-9a-f]{64}$/;

const invalid = (message: string, awsType?: string) => new TesseraError("InvalidInput", message, awsType === undefined ? {} : { cause: { awsType } });

export class GrantService {
  constructor(private readonly d: GrantServiceDeps) {}

  createGrant(ctx: CallContext, keyRef: string, req: CreateGrantRequest): Promise<{ grantId: string; keyId: string }> {
    return this.d.door.run(ctx, "kms:CreateGrant", async (s) => {
      const handle = await s.resolveKey(keyRef);
      const decision = await s.authorize(handle);
      const k = handle.row;
      s.note(k.id);
      if (k.state === "PendingDeletion" || k.state === "Destroyed" || k.state === "PendingImport") {
        throw new TesseraError("InvalidState", `key ${k.id} is ${k.state}`);
      }
      const operations = checkOperations(req.operations, operationsForKey(k.keyUsage, !isAsymmetricKeySpec(k.keySpec)), k.keySpec);
      const constraints = checkConstraints(req.constraints ?? null);
      if (constraints !== null && (k.keyUsage !== "ENCRYPT_DECRYPT" || isAsymmetricKeySpec(k.keySpec))) {
        throw invalid(`grant constraints apply only to symmetric encryption keys; ${k.keySpec} keys take no encryption context`);
      }
      if (req.name !== undefined && !NAME.test(req.name)) throw invalid("Name must be 1–256 characters of a-z A-Z 0-9 : / _ -");
      for (const role of [req.granteeRole, req.retiringRole]) {
        if (role !== undefined && (await this.d.store.roles.get(role)) === undefined) throw invalid(`no role named "${role}"`, "InvalidArnException");
      }
      // Allowed by a grant's CreateGrant: the new grant may not exceed the one that allowed it.
      const parentId = grantIdOfPolicy(decision.policy);
      if (parentId !== undefined) {
        const parent = await this.d.store.grants.get(parentId);
        if (parent === undefined || parent.keyId !== k.id) throw new TesseraError("AccessDenied", `grant ${parentId} no longer allows kms:CreateGrant`);
        if (!operations.every((op) => parent.operations.includes(op)) || !atLeastAsStrict(constraints, parent.constraints)) {
          throw new TesseraError("AccessDenied", `a grant created under grant ${parentId} may allow only its operations, with a constraint at least as strict`);
        }
      }
      const row: GrantRow = {
        grantId: randomBytes(32).toString("hex"),
        keyId: k.id,
        name: req.name ?? "",
        granteePrincipal: req.granteePrincipal,
        granteeRole: req.granteeRole,
        retiringPrincipal: req.retiringPrincipal ?? null,
        retiringRole: req.retiringRole ?? null,
        issuingAccount: req.issuingAccount,
        operations,
        constraints,
        createdAt: this.d.clock.now(),
      };
      // CreateGrant is idempotent on a name: the same name and parameters return the grant made before.
      if (row.name !== "") {
        const same = (await this.d.store.grants.listForKey(k.id)).find((g) => sameGrant(g, row));
        if (same !== undefined) {
          s.detail({ grant: same.grantId });
          return { grantId: same.grantId, keyId: k.id };
        }
      }
      await this.d.store.grants.insert(row);
      this.d.policy.forgetGrants(row.granteeRole);
      s.detail({ grant: row.grantId });
      return { grantId: row.grantId, keyId: k.id };
    });
  }

  /** A key's grants (`grantId` / `granteePrincipal` filter them), oldest first. */
  listGrants(ctx: CallContext, keyRef: string, filter: { grantId?: string | undefined; granteePrincipal?: string | undefined } = {}): Promise<ListKeyGrantsResponse> {
    return this.d.door.run(ctx, "kms:ListGrants", async (s) => {
      const handle = await s.resolveKey(keyRef);
      await s.authorize(handle);
      s.note(handle.row.id);
      const grants = (await this.d.store.grants.listForKey(handle.row.id)).filter(
        (g) => (filter.grantId === undefined || g.grantId === filter.grantId) && (filter.granteePrincipal === undefined || g.granteePrincipal === filter.granteePrincipal),
      );
      return { keyId: handle.row.id, grants: grants.map(grantInfo) };
    });
  }

  /**
   * The grants a role may retire. A caller may always list its own role's; another role's needs
   * `kms:ListGrants` on every key (like listing keys).
   */
  listRetirableGrants(ctx: CallContext, retiringRole: string): Promise<KeyGrantInfo[]> {
    return this.d.door.run(ctx, "kms:ListGrants", async (s) => {
      if (s.principal.role === retiringRole && !s.principal.root) await s.permitSelf();
      else await s.authorize(resources.every("key"));
      return (await this.d.store.grants.listForRetiring(retiringRole)).map(grantInfo);
    });
  }

  /** Retires a grant named by id (and, when given, the key it must be on). */
  retireGrant(ctx: CallContext, grantId: string, keyRef?: string): Promise<void> {
    return this.d.door.run(ctx, "kms:RetireGrant", async (s) => {
      checkGrantId(grantId);
      s.detail({ grant: grantId });
      const g = await this.d.store.grants.get(grantId);
      const expected = keyRef === undefined ? undefined : (await s.resolveKey(keyRef)).row.id;
      if (g === undefined || (expected !== undefined && g.keyId !== expected)) {
        // Nothing to retire: only a caller who may retire grants on the key learns that.
        if (expected !== undefined) await s.authorize(resources.keyId(expected));
        else if (s.principal.root) await s.permitSelf();
        else throw new TesseraError("AccessDenied", "not allowed to retire this grant");
        throw new TesseraError("NotFound", `no grant ${grantId}${expected === undefined ? "" : ` on key ${expected}`}`);
      }
      s.note(g.keyId);
      const role = s.principal.role;
      const byGrant = role !== null && (role === g.retiringRole || (role === g.granteeRole && g.operations.includes("RetireGrant")));
      if (byGrant && !s.principal.root) await s.permitSelf();
      else await s.authorize(resources.keyId(g.keyId));
      if (!(await this.d.store.grants.delete(g.grantId))) throw new TesseraError("NotFound", `no grant ${grantId}`);
      this.d.policy.forgetGrants(g.granteeRole);
    });
  }

  revokeGrant(ctx: CallContext, keyRef: string, grantId: string): Promise<void> {
    return this.d.door.run(ctx, "kms:RevokeGrant", async (s) => {
      checkGrantId(grantId);
      const handle = await s.resolveKey(keyRef);
      await s.authorize(handle);
      s.note(handle.row.id);
      s.detail({ grant: grantId });
      const g = await this.d.store.grants.get(grantId);
      if (g === undefined || g.keyId !== handle.row.id || !(await this.d.store.grants.delete(grantId))) {
        throw new TesseraError("NotFound", `no grant ${grantId} on key ${handle.row.id}`);
      }
      this.d.policy.forgetGrants(g.granteeRole);
    });
  }
}

function checkGrantId(id: string): void {
  if (!GRANT_ID.test(id)) throw invalid("GrantId is not a grant id (64 hex digits)", "InvalidGrantIdException");
}

function checkOperations(ops: readonly string[], valid: readonly GrantOperation[], keySpec: string): GrantOperation[] {
  if (ops.length === 0) throw invalid("Operations must name at least one grant operation");
  const out: GrantOperation[] = [];
  for (const op of ops) {
    if (!isGrantOperation(op)) throw invalid(`${op} is not a grant operation`);
    if (!valid.includes(op)) throw invalid(`${op} is not a valid grant operation for a ${keySpec} key (valid: ${valid.join(", ")})`);
    if (!out.includes(op)) out.push(op);
  }
  return out;
}

function checkConstraints(c: GrantConstraints | null): GrantConstraints | null {
  if (c === null) return null;
  const kinds = (["encryptionContextEquals", "encryptionContextSubset"] as const).filter((k) => c[k] !== undefined);
  if (kinds.length === 0) return null;
  if (kinds.length > 1) throw invalid("give one of EncryptionContextEquals or EncryptionContextSubset, not both");
  const pairs = c[kinds[0]!]!;
  if (Object.keys(pairs).length > MAX_CONSTRAINT_PAIRS) throw invalid(`a grant constraint holds at most ${MAX_CONSTRAINT_PAIRS} encryption context pairs`);
  for (const [k, v] of Object.entries(pairs)) {
    if (k.length === 0 || typeof v !== "string" || v.length > MAX_CONSTRAINT_VALUE) throw invalid(`grant constraint values are strings of at most ${MAX_CONSTRAINT_VALUE} characters`);
  }
  return { [kinds[0]!]: { ...pairs } };
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x) => b.includes(x));
const canonical = (c: GrantConstraints | null) => JSON.stringify(c, (_k, v: unknown) => (v !== null && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort()) : v));

function sameGrant(a: GrantRow, b: GrantRow): boolean {
  return (
    a.name === b.name &&
    a.granteePrincipal === b.granteePrincipal &&
    a.retiringPrincipal === b.retiringPrincipal &&
    sameSet(a.operations, b.operations) &&
    canonical(a.constraints) === canonical(b.constraints)
  );
}

export function grantInfo(g: GrantRow): KeyGrantInfo {
  return {
    grantId: g.grantId,
    keyId: g.keyId,
    name: g.name,
    granteePrincipal: g.granteePrincipal,
    granteeRole: g.granteeRole,
    retiringPrincipal: g.retiringPrincipal,
    retiringRole: g.retiringRole,
    issuingAccount: g.issuingAccount,
    operations: [...g.operations],
    constraints: g.constraints,
    createdAt: iso(g.createdAt),
  };
}
