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

  it("init on an initialised server and unseal attempts draw on the caller's refusal budget", async () => {
    t = await startTestApp();
    const before = (await trail(t)).length;
    for (let i = 0; i < 50; i++) {
      const r = await t.call("POST", "/v1/sys/init", { shares: 1, threshold: 1 }, null);
      expect(r.body.error.code).toBe("InvalidState");
    }
    let records = (await trail(t)).slice(before).filter((r) => r["action"] === "sys:Init");
    // Refused before anything was announced: no intents, and only the per-source burst on their own.
    expect(records.filter((r) => r["outcome"] === "intent")).toEqual([]);
    expect(records).toHaveLength(20);

    expect((await t.call("POST", "/v1/sys/seal")).status).toBe(200);
    const wrong = Buffer.alloc(32, 7).toString("base64");
    const answers: string[] = [];
    for (let i = 0; i < 60; i++) answers.push((await t.call("POST", "/v1/sys/unseal", { share: wrong }, null)).body.error?.code ?? "ok");
    // The source's budget for unauthenticated changes (20 at once; the test app's own unseal took one):
    // 19 attempts are tried (and written: intent and outcome), the other 41 refused and counted.
    expect(answers.filter((c) => c === "InvalidUnsealKey")).toHaveLength(19);
    expect(answers.filter((c) => c === "Unavailable")).toHaveLength(41);
    await t.app.scheduler.runOnce("refusal-summaries");
    // The budget comes back with time: the operators' own shares still unseal.
    t.clock.advance(30_000);
    await t.unseal();
    expect(t.app.barrier.sealed).toBe(false);
    records = (await trail(t)).slice(before);
    const unseals = records.filter((r) => r["action"] === "sys:Unseal");
    // 19 tried wrong shares and the operators' real one announced their change.
    expect(unseals.filter((r) => r["outcome"] === "intent")).toHaveLength(20);
    const summarised = records.filter((r) => r["action"] === "api:Rejected" && r["errorCode"] === "Unavailable").reduce((n, r) => n + (r["detail"]?.["suppressed"] ?? 0), 0);
    expect(unseals.filter((r) => r["errorCode"] === "Unavailable").length + summarised).toBe(41);
  });
});
