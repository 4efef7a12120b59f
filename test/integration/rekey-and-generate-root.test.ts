/**
 * Rekey and generate-root against a real app (SQLite file, the door, the audit trail): a quorum of
 * the current shares is needed, new shares replace the old ones, and a new root token comes back
 * encoded under the starter's one-time pad.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ shares: 5, threshold: 3 });
});
afterAll(() => t.close());

const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]!));

async function unsealWith(shares: string[]): Promise<{ status: number; body: any }> {
  let last = { status: 0, body: undefined as any };
  for (const share of shares) last = await t.call("POST", "/v1/sys/unseal", { share }, null);
  return last;
}

describe("rekey", () => {
  it("needs a token allowed sys:Rekey", async () => {
    const r = await t.call("POST", "/v1/sys/rekey/init", { shares: 3, threshold: 2 }, null);
    expect(r.body.error.code).toBe("Unauthenticated");
  });

  it("gives new shares after a quorum of the current ones; the old shares stop working and the keys survive", async () => {
    await t.call("POST", "/v1/keys", { name: "kept" });
    const ct = (await t.call("POST", "/v1/keys/kept/encrypt", { plaintext: Buffer.from("hello").toString("base64") })).body.ciphertext;
    const started = await t.call("POST", "/v1/sys/rekey/init", { shares: 3, threshold: 2 });
    expect(started.body).toMatchObject({ started: true, progress: 0, required: 3, newShares: 3, newThreshold: 2, complete: false });
    const nonce = started.body.nonce;
    expect((await t.call("POST", "/v1/sys/rekey/update", { nonce: "wrong", share: t.shares[0] })).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/sys/rekey/update", { nonce, share: t.shares[0] })).body.progress).toBe(1);
    expect((await t.call("POST", "/v1/sys/rekey/update", { nonce, share: t.shares[1] })).body.progress).toBe(2);
    const done = await t.call("POST", "/v1/sys/rekey/update", { nonce, share: t.shares[2] });
    expect(done.body).toMatchObject({ complete: true, newShares: 3, newThreshold: 2 });
    expect(done.body.shares).toHaveLength(3);
    const old = t.shares;
    t.shares = done.body.shares;

    await t.restart();
    const refused = await unsealWith(old.slice(0, 2));
    expect(refused.body.error.code).toBe("InvalidUnsealKey");
    expect((await t.call("GET", "/v1/sys/seal-status", undefined, null)).body).toMatchObject({ sealed: true, shares: 3, threshold: 2 });
    const opened = await unsealWith(t.shares.slice(1, 3));
    expect(opened.body.sealed).toBe(false);
    const plain = await t.call("POST", "/v1/decrypt", { ciphertext: ct });
    expect(Buffer.from(plain.body.plaintext, "base64").toString()).toBe("hello");
  });

  it("a wrong share at the threshold is InvalidUnsealKey and changes nothing", async () => {
    const started = await t.call("POST", "/v1/sys/rekey/init", { shares: 2, threshold: 2 });
    const nonce = started.body.nonce;
    await t.call("POST", "/v1/sys/rekey/update", { nonce, share: t.shares[0] });
    const forged = Buffer.from(t.shares[1]!, "base64");
    forged[0]! ^= 1;
    const r = await t.call("POST", "/v1/sys/rekey/update", { nonce, share: forged.toString("base64") });
    expect(r.body.error.code).toBe("InvalidUnsealKey");
    expect((await t.call("DELETE", "/v1/sys/rekey")).body).toMatchObject({ started: false });
    await t.restart();
    expect((await unsealWith(t.shares.slice(0, 2))).body.sealed).toBe(false);
  });
});

describe("rekey, concurrently", () => {
  it("two last shares submitted at once complete it exactly once; the other finds no rekey in progress", async () => {
    const started = await t.call("POST", "/v1/sys/rekey/init", { shares: 3, threshold: 2 });
    const nonce = started.body.nonce;
    await t.call("POST", "/v1/sys/rekey/update", { nonce, share: t.shares[0] });
    const answers = await Promise.all([t.shares[1]!, t.shares[2]!].map((share) => t.call("POST", "/v1/sys/rekey/update", { nonce, share })));
    const done = answers.filter((a) => a.body.complete === true);
    expect(done).toHaveLength(1);
    expect(answers.filter((a) => a !== done[0]).map((a) => a.body.error?.code)).toEqual(["InvalidState"]);
    t.shares = done[0]!.body.shares;
    await t.restart();
    expect((await unsealWith(t.shares)).body.sealed).toBe(false);
  });
});

describe("generate-root", () => {
  it("makes a new root token from a quorum, readable only with the OTP", async () => {
    const started = await t.call("POST", "/v1/sys/generate-root/init", {}, null);
    expect(started.body).toMatchObject({ started: true, progress: 0, required: 2, complete: false });
    const { nonce, otp } = started.body;
    expect((await t.call("GET", "/v1/sys/generate-root", undefined, null)).body.otp).toBeUndefined();
    await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: t.shares[0] }, null);
    const done = await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: t.shares[2] }, null);
    expect(done.body.complete).toBe(true);
    const token = xor(Buffer.from(done.body.encodedToken, "base64"), Buffer.from(otp, "base64")).toString("utf8");
    expect(token).toMatch(/^tsr_/);
    const self = await t.call("GET", "/v1/auth/tokens/self", undefined, token);
    expect(self.body).toMatchObject({ root: true });
    // The initial root token can now be revoked.
    await t.call("POST", "/v1/auth/tokens/revoke", { token: t.rootToken }, token);
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, t.rootToken)).body.error.code).toBe("Unauthenticated");
    t.rootToken = token;
  });

  it("a seal ends an attempt in progress; a sealed Tessera neither starts one nor takes shares (as Vault)", async () => {
    const started = await t.call("POST", "/v1/sys/generate-root/init", {}, null);
    const { nonce } = started.body;
    await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: t.shares[0] }, null);
    expect((await t.call("POST", "/v1/sys/seal", {})).status).toBe(200);
    expect((await t.call("GET", "/v1/sys/generate-root", undefined, null)).body).toMatchObject({ started: false, progress: 0 });
    const share = await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: t.shares[1] }, null);
    expect(share.body.error.code).toBe("Sealed");
    expect((await t.call("POST", "/v1/sys/generate-root/init", {}, null)).body.error.code).toBe("Sealed");
    expect((await unsealWith(t.shares.slice(0, 3))).body.sealed).toBe(false);
    // The attempt did not survive the seal: its nonce and the share given before are gone.
    const after = await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: t.shares[1] }, null);
    expect(after.body.error.code).toBe("InvalidState");
  });

  it("shares of another Tessera do not generate a root token", async () => {
    const other = await startTestApp({ shares: 3, threshold: 2 });
    try {
      const started = await t.call("POST", "/v1/sys/generate-root/init", {}, null);
      const { nonce } = started.body;
      await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: other.shares[0] }, null);
      const r = await t.call("POST", "/v1/sys/generate-root/update", { nonce, share: other.shares[1] }, null);
      expect(r.body.error.code).toBe("InvalidUnsealKey");
      expect((await t.call("DELETE", "/v1/sys/generate-root", undefined, null)).body.started).toBe(false);
    } finally {
      await other.close();
    }
  });
});
