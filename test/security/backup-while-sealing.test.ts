/**
 * A backup reads the store for a while (an audit checkpoint, a snapshot) before it seals its backup
 * key under the root. If the node is sealed meanwhile, the root ring it started with has been zeroed:
 * sealing under it would wrap the backup key under an all-zero key anyone can open. The backup must
 * fail `Sealed` instead, and write nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await t.call("POST", "/v1/keys", { name: "sealed-meanwhile" });
});
afterAll(async () => {
  await t.close();
});

describe("a backup when the node is sealed while it starts", () => {
  it("fails Sealed rather than sealing its key under a zeroed root", async () => {
    const log = t.app.auditLog;
    const checkpointHead = log.checkpointHead.bind(log);
    // The real checkpoint, then an operator seals the node (as `tessera operator seal` would).
    log.checkpointHead = async () => {
      const head = await checkpointHead();
      t.app.barrier.sealNow();
      return head;
    };
    const res = await t.app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": t.rootToken } });
    expect(res.statusCode).not.toBe(200);
    expect(JSON.parse(res.body).error.code).toBe("Sealed");
    expect(res.rawPayload.subarray(0, 4).toString()).not.toBe("TSBK");
  });
});
