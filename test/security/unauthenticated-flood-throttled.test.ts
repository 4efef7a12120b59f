/**
 * Finding 5 (the door's part): a flood of requests refused before anyone is authenticated — bad or
 * missing tokens on the native API, wrong credentials at a login — must not fill the audit disk, yet
 * every one must be accounted for. And a wrong credential at a login changes nothing, so it writes
 * no intent record: only a login whose credential checks out announces (and makes) its change.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

type Rec = Record<string, any>;
const trail = async (x: TestApp): Promise<Rec[]> => (await x.call("GET", "/v1/audit/entries?limit=1000")).body.records;
/** Own records plus the counts summary records stand for. */
const accounted = (records: Rec[], action: string) =>
  records.filter((r) => r["action"] === action && r["errorCode"] === "Unauthenticated").length +
  records.filter((r) => r["action"] === "api:Rejected" && r["errorCode"] === "Unauthenticated").reduce((n, r) => n + (r["detail"]?.["suppressed"] ?? 0), 0);

describe("refusals before authentication", () => {
  it("500 requests with a wrong token: 20 records, the rest in a summary, all 500 accounted for", async () => {
    t = await startTestApp();
    const before = (await trail(t)).length;
    for (let i = 0; i < 500; i++) {
      const r = await t.call("GET", "/v1/keys", undefined, "tsr_not-a-token");
      expect(r.body.error.code).toBe("Unauthenticated");
    }
    await t.app.scheduler.runOnce("refusal-summaries");
    const records = (await trail(t)).slice(before);
    expect(records.filter((r) => r["action"] === "kms:ListKeys")).toHaveLength(20);
    expect(accounted(records, "kms:ListKeys")).toBe(500);
    expect(records.length).toBeLessThan(30);
  });

  it("a wrong secret id at an AppRole login writes no intent and is throttled; a right one writes intent and outcome", async () => {
    t = await startTestApp();
    await t.call("PUT", "/v1/policies/p", { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["k"] }] });
    await t.call("PUT", "/v1/roles/r", { policies: ["p"], approle: {} });
    const roleId = (await t.call("GET", "/v1/auth/approle/roles/r/role-id")).body.roleId;
    const before = (await trail(t)).length;
    for (let i = 0; i < 100; i++) {
      const r = await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: `sid_wrong-${i}` }, null);
      expect(r.body.error.code).toBe("Unauthenticated");
    }
    await t.app.scheduler.runOnce("refusal-summaries");
    let records = (await trail(t)).slice(before);
    expect(records.filter((r) => r["outcome"] === "intent")).toEqual([]);
    expect(records.filter((r) => r["action"] === "auth:Login")).toHaveLength(20);
    expect(accounted(records, "auth:Login")).toBe(100);

    const secret = (await t.call("POST", "/v1/auth/approle/roles/r/secret-id", {})).body;
    const seen = (await trail(t)).length;
    expect((await t.call("POST", "/v1/auth/approle/login", { roleId, secretId: secret.secretId }, null)).status).toBe(200);
    records = (await trail(t)).slice(seen);
    expect(records.filter((r) => r["action"] === "auth:Login").map((r) => r["outcome"])).toEqual(["intent", "allowed"]);
  });

  it("an unknown join token writes no intent and changes nothing", async () => {
    t = await startTestApp();
    const before = (await trail(t)).length;
    const r = await t.call("POST", "/v1/auth/join", { joinToken: "tsj_unknown", csr: "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----" }, null);
    expect(r.body.error.code).toBe("Unauthenticated");
    const records = (await trail(t)).slice(before);
    expect(records.filter((x) => x["action"] === "auth:Login").map((x) => x["outcome"])).toEqual(["denied"]);
  });
});
