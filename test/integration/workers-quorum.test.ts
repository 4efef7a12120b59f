/**
 * Rekey and generate-root on a server with `workers: 2`: starts, shares and cancels given to
 * different workers (fresh connections, round-robin) make one attempt that completes exactly once;
 * the worker that did not complete a rekey takes the new seal record in; a worker restart abandons
 * an attempt everywhere. Which worker served each call is read from the workers' own audit trails.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answering, fresh, type FreshResponse } from "../helpers/fresh-http.js";
import { WORKERS, startWorkersServer, steerTo as steer, type WorkersServer } from "../helpers/workers-server.js";

let w2: WorkersServer;
let url: string;
let token: string;
/** The unseal shares in force (3 shares, threshold 2 throughout). */
let shares: string[];

beforeAll(async () => {
  w2 = await startWorkersServer("tessera-workers-quorum-");
  ({ url, rootToken: token, shares } = w2);
}, 90_000);

afterAll(async () => {
  await w2?.stop();
});

const counts = (action: string) => w2.counts(action);

/** Makes the call and names the worker that served it: the one whose trail gained `action` records (durable before the answer). */
async function via(action: string, call: () => Promise<FreshResponse>): Promise<FreshResponse & { worker: string }> {
  const before = counts(action);
  const r = await call();
  const after = counts(action);
  const grew = WORKERS.filter((w) => after[w]! > before[w]!);
  expect(grew).toHaveLength(1);
  return { ...r, worker: grew[0]! };
}

const steerTo = (w: string) => steer(url, w);

const other = (w: string) => WORKERS.find((x) => x !== w)!;
const rekeyStatus = () => via("sys:Rekey", () => fresh(url, "GET", "/v1/sys/rekey", undefined, token));
const rekeyInit = () => via("sys:Rekey", () => fresh(url, "POST", "/v1/sys/rekey/init", { shares: 3, threshold: 2 }, token));
const rekeyShare = (nonce: string, share: string) => via("sys:Rekey", () => fresh(url, "POST", "/v1/sys/rekey/update", { nonce, share }, token));
const xor = (a: Buffer, b: Buffer) => Buffer.from(a.map((v, i) => v ^ b[i]!));

/** Each worker's answer to the rekey status. */
async function statusOnBoth(): Promise<Record<string, any>> {
  const seen: Record<string, any> = {};
  for (let i = 0; i < 6 && Object.keys(seen).length < 2; i++) {
    const s = await rekeyStatus();
    seen[s.worker] = s.body;
  }
  expect(Object.keys(seen).sort()).toEqual(WORKERS);
  return seen;
}

describe("quorum operations on a server with two workers", () => {
  it("a rekey started on one worker and given shares on both completes once; each worker then completes the next with the new shares; only the newest unseal", async () => {
    const first = shares;
    const init = await rekeyInit();
    expect(init.body).toMatchObject({ started: true, progress: 0, required: 2, newShares: 3, newThreshold: 2 });
    const nonce: string = init.body.nonce;
    // Both workers hold the same attempt before the starter answered.
    for (const s of Object.values(await statusOnBoth())) expect(s).toMatchObject({ started: true, nonce, progress: 0, required: 2 });

    await steerTo(other(init.worker));
    const one = await rekeyShare(nonce, first[2]!);
    expect(one.worker).toBe(other(init.worker));
    expect(one.body).toMatchObject({ started: true, nonce, progress: 1 });
    await steerTo(init.worker);
    const done = await rekeyShare(nonce, first[0]!);
    expect(done.worker).toBe(init.worker);
    expect(done.body).toMatchObject({ complete: true, newShares: 3, newThreshold: 2 });
    expect(done.body.shares).toHaveLength(3);
    const second: string[] = done.body.shares;
    for (const s of Object.values(await statusOnBoth())) expect(s).toMatchObject({ started: false, progress: 0 });

    // The worker that did not complete took the new seal record in: it completes a rekey with the new shares.
    const again = await rekeyInit();
    await rekeyShare(again.body.nonce, second[0]!);
    await steerTo(other(done.worker));
    const last = await rekeyShare(again.body.nonce, second[1]!);
    expect(last.worker).toBe(other(done.worker));
    expect(last.body).toMatchObject({ complete: true });
    shares = last.body.shares;

    expect((await fresh(url, "POST", "/v1/sys/seal", {}, token)).body.sealed).toBe(true);
    for (const older of [first, second]) {
      await fresh(url, "POST", "/v1/sys/unseal", { share: older[0] });
      expect((await fresh(url, "POST", "/v1/sys/unseal", { share: older[1] })).body.error?.code).toBe("InvalidUnsealKey");
      expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: true, w2: true });
    }
    await fresh(url, "POST", "/v1/sys/unseal", { share: shares[2] });
    expect((await fresh(url, "POST", "/v1/sys/unseal", { share: shares[0] })).body.sealed).toBe(false);
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });
  }, 60_000);

  it("generate-root started on one worker and completed on the other gives one root token, usable on both", async () => {
    const start = await via("sys:GenerateRoot", () => fresh(url, "POST", "/v1/sys/generate-root/init", {}));
    expect(start.body).toMatchObject({ started: true, progress: 0, required: 2 });
    const { nonce, otp } = start.body;
    await via("sys:GenerateRoot", () => fresh(url, "POST", "/v1/sys/generate-root/update", { nonce, share: shares[1] }));
    await steerTo(other(start.worker));
    const done = await via("sys:GenerateRoot", () => fresh(url, "POST", "/v1/sys/generate-root/update", { nonce, share: shares[2] }));
    expect(done.worker).toBe(other(start.worker));
    expect(done.body.complete).toBe(true);
    const root = xor(Buffer.from(done.body.encodedToken, "base64"), Buffer.from(otp, "base64")).toString("utf8");
    expect(root).toMatch(/^tsr_/);
    for (let i = 0; i < 4; i++) expect((await fresh(url, "GET", "/v1/auth/tokens/self", undefined, root)).body).toMatchObject({ root: true });
    for (let i = 0; i < 2; i++) expect((await fresh(url, "GET", "/v1/sys/generate-root")).body).toMatchObject({ started: false });
  }, 30_000);

  it("a cancel through one worker is seen by the other", async () => {
    const init = await rekeyInit();
    await steerTo(other(init.worker));
    const cancel = await via("sys:Rekey", () => fresh(url, "DELETE", "/v1/sys/rekey", undefined, token));
    expect(cancel.worker).toBe(other(init.worker));
    expect(cancel.body).toMatchObject({ started: false });
    for (const s of Object.values(await statusOnBoth())) expect(s).toMatchObject({ started: false });
    const refused = new Set<string>();
    for (let i = 0; i < 2; i++) {
      const r = await rekeyShare(init.body.nonce, shares[0]!);
      expect(r.body.error?.code).toBe("InvalidState");
      refused.add(r.worker);
    }
    expect([...refused].sort()).toEqual(WORKERS);
  }, 30_000);

  it("two last shares given to the two workers at once complete the rekey exactly once", async () => {
    const init = await rekeyInit();
    const nonce: string = init.body.nonce;
    expect((await rekeyShare(nonce, shares[0]!)).body.progress).toBe(1);
    const before = counts("sys:Rekey");
    const answers = await Promise.all([shares[1]!, shares[2]!].map((share) => fresh(url, "POST", "/v1/sys/rekey/update", { nonce, share }, token)));
    const after = counts("sys:Rekey");
    for (const w of WORKERS) expect(after[w]!).toBeGreaterThan(before[w]!);
    const completed = answers.filter((a) => a.body.complete === true);
    expect(completed).toHaveLength(1);
    expect(answers.filter((a) => a !== completed[0]).map((a) => a.body.error?.code)).toEqual(["InvalidState"]);
    shares = completed[0]!.body.shares;
    for (const s of Object.values(await statusOnBoth())) expect(s).toMatchObject({ started: false });
  }, 30_000);

  it("a worker restarted after a rekey comes back unsealed (with a quorum of the new shares); one restarted during a rekey makes every worker abandon it", async () => {
    const init = await rekeyInit();
    await rekeyShare(init.body.nonce, shares[0]!);
    const pids = w2.pids();
    expect(pids).toHaveLength(2);
    process.kill(pids[0]!, "SIGKILL");
    const both = await w2.bothBack(pids[0]!);
    // Unsealed last with shares a rekey has replaced since: the primary replayed a quorum of the new ones.
    expect(Object.fromEntries(both)).toEqual({ w1: false, w2: false });
    for (const s of Object.values(await statusOnBoth())) expect(s).toMatchObject({ started: false });
    for (let i = 0; i < 2; i++) expect((await rekeyShare(init.body.nonce, shares[1]!)).body.error?.code).toBe("InvalidState");

    expect((await fresh(url, "POST", "/v1/sys/seal", {}, token)).body.sealed).toBe(true);
    await fresh(url, "POST", "/v1/sys/unseal", { share: shares[0] });
    expect((await fresh(url, "POST", "/v1/sys/unseal", { share: shares[1] })).body.sealed).toBe(false);
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });
  }, 60_000);
});
