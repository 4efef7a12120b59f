import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { Principal } from "../principal/index.js";
import { RoleDirectory } from "../principal/roles.js";
import { ManualClock } from "../clock.js";
import { SqliteStore } from "../store/sqlite-store.js";
import type { GrantRow } from "../store/index.js";
import { evaluate, type RequestFacts } from "./evaluator.js";
import { atLeastAsStrict, compileGrant, grantPolicyName } from "./grant-policy.js";
import { PolicyService } from "./policy-service.js";
import { resources } from "./resource.js";

const KEY = "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11";
const principal: Principal = {
  id: "access-key:A",
  kind: "workload",
  displayName: "batch",
  root: false,
  role: "batch",
  authMethod: "access-key",
  attributes: {},
  grants: [],
  expiresAt: null,
  loginSource: "127.0.0.1",
} as Principal;
const grant = (overrides: Partial<GrantRow> = {}): GrantRow => ({
  grantId: "a".repeat(64),
  keyId: KEY,
  name: "",
  granteePrincipal: "arn:aws:iam::000000000000:role/batch",
  granteeRole: "batch",
  retiringPrincipal: null,
  retiringRole: null,
  issuingAccount: "arn:aws:iam::000000000000:root",
  operations: ["Encrypt", "DescribeKey", "RetireGrant", "CreateGrant"],
  constraints: { encryptionContextSubset: { Tenant: "t1" } },
  createdAt: 0,
  ...overrides,
});
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  principal,
  action: "kms:Encrypt",
  resource: resources.key(KEY, "payments"),
  source: "127.0.0.1",
  time: 0,
  ...overrides,
});

describe("a grant as a policy", () => {
  const p = [compileGrant(grant())];

  it("allows its operations on its key only, under its constraint, and names itself", () => {
    expect(evaluate(facts({ encryptionContext: { tenant: "t1", x: "y" } }), p)).toMatchObject({ allowed: true, policy: grantPolicyName("a".repeat(64)) });
    expect(evaluate(facts({ encryptionContext: { tenant: "T1" } }), p).allowed).toBe(false);
    expect(evaluate(facts({ encryptionContext: { tenant: "t1" }, resource: resources.key("other", "other") }), p).allowed).toBe(false);
    expect(evaluate(facts({ encryptionContext: { tenant: "t1" }, action: "kms:Decrypt" }), p).allowed).toBe(false);
  });

  it("does not constrain operations that take no context, and never grants RetireGrant as a policy action", () => {
    expect(evaluate(facts({ action: "kms:DescribeKey" }), p).allowed).toBe(true);
    expect(evaluate(facts({ action: "kms:CreateGrant" }), p).allowed).toBe(true);
    expect(evaluate(facts({ action: "kms:RetireGrant" }), p).allowed).toBe(false);
    expect(evaluate(facts({ action: "kms:RevokeGrant" }), p).allowed).toBe(false);
  });

  it("explains a context that fails the constraint", () => {
    expect(evaluate(facts({ encryptionContext: {} }), p, { explain: true }).unmet).toEqual([
      { policy: grantPolicyName("a".repeat(64)), statement: 0, sid: `grant ${"a".repeat(64)}`, failed: ["grantConstraint"] },
    ]);
  });

  it("orders constraints by strictness as CreateGrant under a grant needs", () => {
    const subset = { encryptionContextSubset: { tenant: "t1" } };
    expect(atLeastAsStrict(subset, null)).toBe(true);
    expect(atLeastAsStrict(null, subset)).toBe(false);
    expect(atLeastAsStrict({ encryptionContextSubset: { TENANT: "t1", job: "x" } }, subset)).toBe(true);
    expect(atLeastAsStrict({ encryptionContextEquals: { tenant: "t1", job: "x" } }, subset)).toBe(true);
    expect(atLeastAsStrict({ encryptionContextEquals: { job: "x" } }, subset)).toBe(false);
    expect(atLeastAsStrict(subset, { encryptionContextEquals: { tenant: "t1" } })).toBe(false);
    expect(atLeastAsStrict({ encryptionContextEquals: { tenant: "t1" } }, { encryptionContextEquals: { tenant: "t1" } })).toBe(true);
  });
});

describe("grant tokens", () => {
  let dir = "";
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("a grant named by a token counts before the role's cached grants have heard of it; another role's grant never does", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-grant-tokens-"));
    const store = new SqliteStore({ path: join(dir, "t.db") });
    await store.migrate();
    await store.roles.put({ name: "batch", body: { policies: [] }, createdAt: 0, updatedAt: 0 });
    const service = new PolicyService(store, new RoleDirectory(store.roles), new ManualClock(0));
    const f = facts({ encryptionContext: { tenant: "t1" } });
    expect((await service.decide(f)).allowed).toBe(false); // the role's (empty) grants are cached now
    await store.grants.insert(grant());
    await store.grants.insert(grant({ grantId: "b".repeat(64), granteeRole: "ops" }));
    expect((await service.decide(f)).allowed).toBe(false);
    expect(await service.decide({ ...f, grantIds: ["a".repeat(64)] })).toMatchObject({ allowed: true, policy: grantPolicyName("a".repeat(64)) });
    expect((await service.decide({ ...f, grantIds: ["b".repeat(64)] })).allowed).toBe(false);
    service.forgetGrants("batch");
    expect((await service.decide(f)).allowed).toBe(true);
    await store.close();
  });

  it("a role's grants are looked up by the key asked about: each key's grant decides for that key only", async () => {
    dir = mkdtempSync(join(tmpdir(), "tessera-grant-index-"));
    const store = new SqliteStore({ path: join(dir, "t.db") });
    await store.migrate();
    await store.roles.put({ name: "batch", body: { policies: [] }, createdAt: 0, updatedAt: 0 });
    const other = "0d7f3c52-1c4e-4d1a-9a43-6a2b3f1e9c10";
    for (let i = 0; i < 50; i++) await store.grants.insert(grant({ grantId: i.toString(16).padStart(64, "0"), keyId: `${other.slice(0, -2)}${String(i).padStart(2, "0")}`, constraints: null }));
    await store.grants.insert(grant({ grantId: "c".repeat(64), constraints: null }));
    const service = new PolicyService(store, new RoleDirectory(store.roles), new ManualClock(0));
    expect(await service.decide(facts())).toMatchObject({ allowed: true, policy: grantPolicyName("c".repeat(64)) });
    expect(await service.decide(facts({ resource: resources.key(`${other.slice(0, -2)}07`, "orders") }))).toMatchObject({ allowed: true, policy: grantPolicyName("7".padStart(64, "0")) });
    expect((await service.decide(facts({ resource: resources.key(`${other.slice(0, -2)}99`, "unrelated") }))).allowed).toBe(false);
    expect((await service.decide(facts({ resource: resources.every("key") }))).allowed).toBe(false);
    await store.close();
  });
});
