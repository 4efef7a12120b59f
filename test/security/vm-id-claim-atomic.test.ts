/**
 * Finding 11b of the trust review: a VM may choose its own id at enrolment only if no VM ever used
 * it, but the check was check-then-insert (list the VM's certificates, sign, insert), so concurrent
 * joins asking for the same id with different join tokens could all pass the check and all enrol
 * under it — two machines sharing one identity and its `${principal.vm_id}`-bound ciphertexts. The
 * claim is now one atomic step in the store (a unique VM id, claimed together with the first
 * certificate): exactly one join wins, every other one is refused `AlreadyExists` on `/vmId`, and no
 * certificate row is left for a loser.
 */
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { keyAndCsr } from "../helpers/mtls.js";

const CONTENDERS = 16;
let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

function certificateRows(path: string, vmId: string): { serial: string }[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare("SELECT serial FROM certificates WHERE vm_id = ?").all(vmId) as unknown as { serial: string }[];
  } finally {
    db.close();
  }
}

describe("claiming a VM id at enrolment", () => {
  it("lets exactly one of many concurrent joins for the same id win, with no orphan certificate", async () => {
    t = await startTestApp();
    expect((await t.call("PUT", "/v1/policies/p", { statements: [{ effect: "allow", actions: ["kms:ListKeys"], resources: ["*"] }] })).status).toBe(200);
    expect((await t.call("PUT", "/v1/roles/vm", { policies: ["p"] })).status).toBe(200);
    const contenders = await Promise.all(
      Array.from({ length: CONTENDERS }, async () => ({
        joinToken: (await t!.call("POST", "/v1/auth/join-tokens", { role: "vm" })).body.joinToken as string,
        csr: (await keyAndCsr("contested")).csr,
      })),
    );

    const answers = await Promise.all(contenders.map((c) => t!.call("POST", "/v1/auth/join", { joinToken: c.joinToken, csr: c.csr, vmId: "contested" }, null)));

    const winners = answers.filter((a) => a.status === 200);
    expect(winners).toHaveLength(1);
    const losers = answers.filter((a) => a.status !== 200);
    expect(losers.map((a) => [a.status, a.body.error.code, a.body.error.field])).toEqual(Array(CONTENDERS - 1).fill([409, "AlreadyExists", "/vmId"]));
    // The database holds the winner's certificate and nothing else for that id.
    expect(certificateRows(join(t.dir, "tessera.db"), "contested")).toEqual([{ serial: winners[0]!.body.serial }]);
    // The winner's identity works; every loser got no certificate and no token.
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, winners[0]!.body.token.token)).status).toBe(200);
    for (const a of losers) expect(a.body.certificate).toBeUndefined();
  });

  it("still lets a join token bound to the id re-enrol it, and a fresh id be claimed", async () => {
    t = await startTestApp();
    expect((await t.call("PUT", "/v1/policies/p", { statements: [{ effect: "allow", actions: ["kms:ListKeys"], resources: ["*"] }] })).status).toBe(200);
    expect((await t.call("PUT", "/v1/roles/vm", { policies: ["p"] })).status).toBe(200);
    const join1 = async (body: Record<string, unknown>) =>
      t!.call("POST", "/v1/auth/join", { ...body, csr: (await keyAndCsr()).csr, joinToken: (await t!.call("POST", "/v1/auth/join-tokens", { role: "vm", ...body })).body.joinToken }, null);
    // First enrolment under an operator-bound id claims it, so an unbound token cannot take it later.
    expect((await join1({ vmId: "pay-1" })).status).toBe(200);
    const unbound = await t.call(
      "POST",
      "/v1/auth/join",
      { joinToken: (await t.call("POST", "/v1/auth/join-tokens", { role: "vm" })).body.joinToken, csr: (await keyAndCsr()).csr, vmId: "pay-1" },
      null,
    );
    expect([unbound.status, unbound.body.error.code, unbound.body.error.field]).toEqual([409, "AlreadyExists", "/vmId"]);
    expect((await join1({ vmId: "pay-1" })).status).toBe(200);
    expect(certificateRows(join(t.dir, "tessera.db"), "pay-1")).toHaveLength(2);
  });
});
