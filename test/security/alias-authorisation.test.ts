/**
 * Issue 8, item 12 (second half): alias operations authorise before revealing whether an alias
 * exists, and act on the key ids they authorised. Before, DeleteAlias and UpdateAlias looked the alias
 * up first (NotFound told a caller without rights that it did not exist), and UpdateAlias authorised
 * the alias's current key by one lookup and then overwrote whatever the alias pointed at by then.
 */
import { CreateAliasCommand, CreateKeyCommand, DeleteAliasCommand, EncryptCommand, ListAliasesCommand, UpdateAliasCommand, type KMSClient } from "@aws-sdk/client-kms";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { awsError, startAwsTestApp, type AwsTestApp } from "../helpers/aws.js";

let t: AwsTestApp;
let admin: KMSClient;
beforeEach(async () => {
  t = await startAwsTestApp();
  admin = await t.kmsFor("operator");
});
afterEach(async () => {
  await t.close();
});

const keyNamed = async (name: string) => (await t.call("POST", "/v1/keys", { name })).body.keyId as string;

async function roleClient(name: string, statements: object[]): Promise<KMSClient> {
  expect((await t.call("PUT", `/v1/policies/${name}`, { statements })).status).toBe(200);
  expect((await t.call("PUT", `/v1/roles/${name}`, { policies: [name] })).status).toBe(200);
  return t.kmsFor(name);
}

describe("alias operations", () => {
  it("a caller without rights on an alias gets AccessDenied whether or not it exists", async () => {
    const key = await keyNamed("orders-db");
    await admin.send(new CreateAliasCommand({ AliasName: "alias/exists", TargetKeyId: key }));
    const app = await roleClient("app", [{ effect: "allow", actions: ["kms:*"], resources: ["orders-*"] }]);
    for (const name of ["alias/exists", "alias/missing"]) {
      expect(await awsError(app.send(new DeleteAliasCommand({ AliasName: name })))).toBe("AccessDeniedException");
      expect(await awsError(app.send(new UpdateAliasCommand({ AliasName: name, TargetKeyId: key })))).toBe("AccessDeniedException");
      expect(await awsError(app.send(new CreateAliasCommand({ AliasName: name, TargetKeyId: key })))).toBe("AccessDeniedException");
    }
  });

  it("alias writes need the action on the alias and on every key involved", async () => {
    const mine = await keyNamed("orders-db");
    const theirs = await keyNamed("billing-db");
    const app = await roleClient("orders-admin", [{ effect: "allow", actions: ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:Encrypt"], resources: ["orders-*", "alias/orders-*"] }]);
    await app.send(new CreateAliasCommand({ AliasName: "alias/orders-main", TargetKeyId: mine }));
    await app.send(new EncryptCommand({ KeyId: "alias/orders-main", Plaintext: new TextEncoder().encode("x") }));
    // Not another team's key, and not an alias name outside its own.
    expect(await awsError(app.send(new UpdateAliasCommand({ AliasName: "alias/orders-main", TargetKeyId: theirs })))).toBe("AccessDeniedException");
    expect(await awsError(app.send(new CreateAliasCommand({ AliasName: "alias/billing-main", TargetKeyId: mine })))).toBe("AccessDeniedException");
    // An alias of its own name pointing at another team's key cannot be moved or deleted by it.
    await admin.send(new CreateAliasCommand({ AliasName: "alias/orders-trap", TargetKeyId: theirs }));
    expect(await awsError(app.send(new UpdateAliasCommand({ AliasName: "alias/orders-trap", TargetKeyId: mine })))).toBe("AccessDeniedException");
    expect(await awsError(app.send(new DeleteAliasCommand({ AliasName: "alias/orders-trap" })))).toBe("AccessDeniedException");
    // Its own alias, existing or not, answers as it is.
    await app.send(new DeleteAliasCommand({ AliasName: "alias/orders-main" }));
    expect(await awsError(app.send(new DeleteAliasCommand({ AliasName: "alias/orders-main" })))).toBe("NotFoundException");
  });

  it("UpdateAlias acts on the key it authorised: an alias moved meanwhile is a conflict, not overwritten", async () => {
    const a = await keyNamed("orders-a");
    const b = await keyNamed("orders-b");
    const other = (await admin.send(new CreateKeyCommand({}))).KeyMetadata!.KeyId!;
    await admin.send(new CreateAliasCommand({ AliasName: "alias/orders", TargetKeyId: a }));
    const app = await roleClient("orders-admin", [{ effect: "allow", actions: ["kms:UpdateAlias"], resources: ["orders-*", "alias/orders"] }]);
    const appKey = (await t.call("GET", "/v1/auth/access-keys")).body.accessKeys.find((k: { role: string }) => k.role === "orders-admin").accessKeyId as string;

    // While the caller's request is authorising the alias's current key, an operator moves the alias
    // to a key the caller has no rights on.
    const policy = t.app.policy;
    const authorize = policy.authorize.bind(policy);
    let moved = false;
    policy.authorize = async (facts) => {
      const r = facts.resource as { keyId?: string; id?: string | null };
      if (!moved && facts.principal.id === `access-key:${appKey}` && (r.keyId ?? r.id) === a) {
        moved = true;
        await admin.send(new UpdateAliasCommand({ AliasName: "alias/orders", TargetKeyId: other }));
      }
      return authorize(facts);
    };
    expect(await awsError(app.send(new UpdateAliasCommand({ AliasName: "alias/orders", TargetKeyId: b })))).toBe("ConflictException");
    expect(moved).toBe(true);
    // The alias still points where the operator put it.
    const aliases = (await admin.send(new ListAliasesCommand({ KeyId: other }))).Aliases ?? [];
    expect(aliases.map((x) => x.AliasName)).toEqual(["alias/orders"]);
  });
});
