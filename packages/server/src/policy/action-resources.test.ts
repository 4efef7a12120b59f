import { actions, type Action } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import type { Principal } from "../principal/index.js";
import { actionResourceTypes, escalations, explicitOnlyActions, keyPolicyActions, keyScopedActions } from "./action-resources.js";
import { evaluate } from "./evaluator.js";
import { compilePolicy } from "./policy-document.js";
import { resourceFor, resources, type Resource, type ResourceType } from "./resource.js";

const principal: Principal = {
  id: "acc_1",
  kind: "service",
  displayName: "app",
  root: false,
  role: "app",
  authMethod: "approle",
  attributes: {},
  grants: [],
  expiresAt: null,
  loginSource: "10.0.0.1",
};

/** A resource of each type as call sites build them: one named, and the whole collection. */
function samples(type: ResourceType): Resource[] {
  const unnamed = resourceFor(type);
  if (unnamed !== undefined) return [unnamed];
  switch (type) {
    case "key":
      return [resources.key("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11", "orders-db"), resources.keyId("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11"), resources.newKey("orders-new"), resources.every("key")];
    case "alias":
      return [resources.alias("alias/orders"), resources.every("alias")];
    case "policy":
      return [resources.policy("orders-app"), resources.every("policy")];
    case "role":
      return [resources.role("orders-app"), resources.every("role")];
    case "access-key":
      return [resources.accessKey("TSRKORDERS"), resources.every("access-key")];
    case "secret":
      return [resources.secret("secret", "orders/db"), resources.secret("secret"), resources.every("secret")];
    case "jwt-issuer":
      return [resources.jwtIssuer("orders-idp"), resources.every("jwt-issuer")];
    default:
      throw new Error(`no samples for ${type}`);
  }
}

const allowed = (statement: { actions: string[]; resources: string[] }, action: Action, resource: Resource) =>
  evaluate({ principal, action, resource, source: "10.0.0.1", time: 0 }, [compilePolicy("p", { statements: [{ effect: "allow", ...statement }] })]).allowed;

describe("a statement scoped to keys never grants anything but kms actions on keys", () => {
  // Adding an action means deciding here, on purpose, whether a statement about keys may grant it.
  const expectedKeyScoped = [
    "kms:CreateKey", "kms:DescribeKey", "kms:ListKeys", "kms:UpdateKey", "kms:RotateKey", "kms:EnableKey", "kms:DisableKey",
    "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:EnableKeyVersion", "kms:DisableKeyVersion", "kms:Encrypt", "kms:Decrypt",
    "kms:GenerateDataKey", "kms:GenerateDataKeyWithoutPlaintext", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:Derive",
    "kms:GenerateMac", "kms:VerifyMac",
    "kms:Sign", "kms:Verify", "kms:GetPublicKey", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext", "kms:DeriveSharedSecret",
    "kms:GetKeyPolicy", "kms:PutKeyPolicy", "kms:ExportWrapped", "kms:DerivePsk", "kms:GetParametersForImport", "kms:ImportKeyMaterial",
    "kms:DeleteImportedKeyMaterial", "kms:TrimKeyVersions", "kms:BackupKey", "kms:RestoreKey", "kms:GetWrappingKey", "kms:CreateGrant", "kms:ListGrants", "kms:RetireGrant", "kms:RevokeGrant",
  ];

  it("the key-scoped actions are exactly the kms actions on keys", () => {
    expect([...keyScopedActions].sort()).toEqual([...expectedKeyScoped].sort());
  });

  for (const pattern of ["key/*", "orders-*", "*-db", "6f1c0b8e-*"]) {
    it(`every action × every resource it is authorised on: "*" on ${pattern} allows only key resources`, () => {
      const granted: { action: Action; resource: Resource }[] = [];
      let nonKeyChecked = 0;
      for (const action of actions) {
        for (const type of actionResourceTypes[action]) {
          for (const resource of samples(type)) {
            if (type === "key") continue;
            nonKeyChecked++;
            if (allowed({ actions: ["*"], resources: [pattern] }, action, resource)) granted.push({ action, resource });
          }
        }
      }
      expect(granted).toEqual([]);
      // Not vacuous: every administrative action was tried on its resources.
      expect(nonKeyChecked).toBeGreaterThan(actions.filter((a) => !a.startsWith("kms:")).length);
      // And the pattern does match a key, so the refusals are about types, not about names.
      expect(allowed({ actions: ["*"], resources: [pattern] }, "kms:Encrypt", resources.key("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11", "orders-db"))).toBe(true);
    });
  }

  it("so with key/* a caller can complete only the key-scoped actions (alias writes also need alias/…)", () => {
    const completes = actions.filter((action) => {
      const types = actionResourceTypes[action];
      if (types.length === 0) return false;
      // Alias writes authorise every type they list; ListAliases any one of them.
      const need = action === "kms:ListAliases" ? types.slice(0, 1) : types;
      return need.every((type) => samples(type).every((r) => allowed({ actions: ["*"], resources: ["key/*"] }, action, r)));
    });
    // Actions granted only by name (kms:ExportWrapped) are not completed by a wildcard action.
    expect(completes.sort()).toEqual([...expectedKeyScoped.filter((a) => !explicitOnlyActions.has(a as Action)), "kms:ListAliases"].sort());
    expect(completes.every((a) => a.startsWith("kms:"))).toBe(true);
  });

  it("every action is authorised on at least one resource type, except the ReEncrypt operation name", () => {
    expect(actions.filter((a) => actionResourceTypes[a].length === 0)).toEqual(["kms:ReEncrypt"]);
  });

  it("a key policy grants a subset of the key-scoped actions (plus kms:ReEncrypt, read as both halves)", () => {
    expect(keyPolicyActions.every((a) => keyScopedActions.includes(a) || a === "kms:ReEncrypt")).toBe(true);
    expect(keyPolicyActions).not.toContain("kms:CreateKey");
    expect(keyPolicyActions).not.toContain("kms:ListKeys");
  });

  it("administrator-equivalent actions are never key-scoped", () => {
    const adminEquivalent = Object.entries(escalations)
      .filter(([, w]) => w!.code === "administrator-equivalent" || w!.code === "role-equivalent")
      .map(([action]) => action);
    expect(adminEquivalent).toEqual(expect.arrayContaining(["policy:PutPolicy", "policy:PutRole", "auth:CreateSecretId"]));
    expect(adminEquivalent.filter((a) => (keyScopedActions as readonly string[]).includes(a))).toEqual([]);
  });
});

describe("typed patterns", () => {
  it("`*` alone still means every resource of every type (for every action a wildcard grants)", () => {
    for (const action of actions) {
      for (const type of actionResourceTypes[action]) for (const r of samples(type)) expect(allowed({ actions: ["*"], resources: ["*"] }, action, r)).toBe(!explicitOnlyActions.has(action));
    }
  });

  it("a listing is granted only by a pattern that covers the whole type", () => {
    expect(allowed({ actions: ["policy:ListPolicies"], resources: ["policy/*"] }, "policy:ListPolicies", resources.every("policy"))).toBe(true);
    expect(allowed({ actions: ["policy:ListPolicies"], resources: ["policy/orders-*"] }, "policy:ListPolicies", resources.every("policy"))).toBe(false);
    expect(allowed({ actions: ["kms:ListKeys"], resources: ["orders-*"] }, "kms:ListKeys", resources.every("key"))).toBe(false);
    expect(allowed({ actions: ["kms:ListKeys"], resources: ["key/*"] }, "kms:ListKeys", resources.every("key"))).toBe(true);
  });

  it("kms:ReEncrypt in a policy means both halves; kms:ReEncrypt* matches both", () => {
    const key = resources.key("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11", "orders-db");
    for (const pattern of ["kms:ReEncrypt", "kms:ReEncrypt*"]) {
      expect(allowed({ actions: [pattern], resources: ["orders-*"] }, "kms:ReEncryptFrom", key)).toBe(true);
      expect(allowed({ actions: [pattern], resources: ["orders-*"] }, "kms:ReEncryptTo", key)).toBe(true);
    }
    expect(allowed({ actions: ["kms:ReEncryptFrom"], resources: ["orders-*"] }, "kms:ReEncryptTo", key)).toBe(false);
  });
});

describe("actions granted only by name", () => {
  const key = resources.key("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11", "orders-db");
  const decide = (effect: "allow" | "deny", pattern: string) =>
    evaluate({ principal, action: "kms:ExportWrapped", resource: key, source: "10.0.0.1", time: 0 }, [
      compilePolicy("p", { statements: [{ effect: "allow", actions: ["kms:ExportWrapped"], resources: ["*"] }, ...(effect === "deny" ? [{ effect, actions: [pattern], resources: ["*"] }] : [])] }),
    ]);

  it("kms:ExportWrapped and kms:RestoreKey are the ones", () => {
    expect([...explicitOnlyActions]).toEqual(["kms:ExportWrapped", "kms:RestoreKey"]);
  });

  it("kms:* on a key pattern does not grant kms:RestoreKey (a destroyed key could come back); naming it does", () => {
    for (const pattern of ["*", "kms:*", "kms:Restore*"]) expect(allowed({ actions: [pattern], resources: ["orders-*"] }, "kms:RestoreKey", key)).toBe(false);
    expect(allowed({ actions: ["kms:RestoreKey"], resources: ["orders-*"] }, "kms:RestoreKey", key)).toBe(true);
  });

  it("no wildcard in an allow statement grants it; naming it does", () => {
    for (const pattern of ["*", "kms:*", "kms:Export*", "kms:ExportWrapped*"]) expect(allowed({ actions: [pattern], resources: ["*"] }, "kms:ExportWrapped", key)).toBe(false);
    expect(allowed({ actions: ["kms:ExportWrapped"], resources: ["orders-*"] }, "kms:ExportWrapped", key)).toBe(true);
  });

  it("a wildcard deny still denies it (denies are never narrowed)", () => {
    expect(decide("allow", "").allowed).toBe(true);
    for (const pattern of ["*", "kms:*", "kms:Export*"]) expect(decide("deny", pattern)).toMatchObject({ allowed: false, reason: "explicit-deny" });
  });
});
