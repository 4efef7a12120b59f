/**
 * `rotate-root` on a server with `workers: 2`: the rotation runs on one worker, and the other takes
 * the new root into its ring (and drops the old one) before the rotating worker answers. So the
 * other worker opens everything re-sealed under the new root — keys it never cached, keys created
 * after, secrets, tokens — and both report the same root; after a seal and unseal with the same
 * shares, and after a worker is killed and restarted, both still serve. Which worker served each
 * call is read from the workers' own audit trails (fresh connections, round-robin).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { answering, fresh, type FreshResponse } from "../helpers/fresh-http.js";
import { WORKERS, startWorkersServer, steerTo as steer, type WorkersServer } from "../helpers/workers-server.js";

let w2: WorkersServer;
let url: string;
let token: string;
let shares: string[];

beforeAll(async () => {
  w2 = await startWorkersServer("tessera-workers-rotate-root-");
  ({ url, rootToken: token, shares } = w2);
}, 90_000);

afterAll(async () => {
  await w2?.stop();
});

const counts = (action: string) => w2.counts(action);

const steerTo = (w: string) => steer(url, w);

/** Makes the call on worker `w`, checked: its trail (and only its) gained an `action` record. */
async function on(w: string, action: string, call: () => Promise<FreshResponse>): Promise<FreshResponse> {
  await steerTo(w);
  const before = counts(action);
  const r = await call();
  const after = counts(action);
  expect(WORKERS.filter((x) => after[x]! > before[x]!)).toEqual([w]);
  return r;
}

const other = (w: string) => WORKERS.find((x) => x !== w)!;
const b64 = (s: string) => Buffer.from(s).toString("base64");
const text = (r: FreshResponse) => Buffer.from(r.body.plaintext, "base64").toString();
const encrypt = (w: string, key: string, plain: string) => on(w, "kms:Encrypt", () => fresh(url, "POST", `/v1/keys/${key}/encrypt`, { plaintext: b64(plain) }, token));
const decrypt = (w: string, ciphertext: string) => on(w, "kms:Decrypt", () => fresh(url, "POST", "/v1/decrypt", { ciphertext }, token));

/** Each worker's rotate-root status. */
async function rootOnBoth(): Promise<Record<string, any>> {
  const seen: Record<string, any> = {};
  for (const w of WORKERS) seen[w] = (await on(w, "sys:RotateRoot", () => fresh(url, "GET", "/v1/sys/rotate-root", undefined, token))).body;
  return seen;
}

const bothBack = (killed: number) => w2.bothBack(killed);

describe("rotate-root on a server with two workers", () => {
  const R = "w1";
  const O = other(R);
  /** Ciphertexts and what they hold, all to open on both workers at every step. */
  const sealed: { ciphertext: string; plain: string }[] = [];
  let appToken: string;

  it("the worker that did not rotate opens keys it never cached, creates keys, reads secrets and takes tokens under the new root; both hold the same root", async () => {
    // Before: a key created and used on R only (never cached on O), a secret, a token.
    expect((await on(R, "kms:CreateKey", () => fresh(url, "POST", "/v1/keys", { name: "cold" }, token))).status).toBe(201);
    sealed.push({ ciphertext: (await encrypt(R, "cold", "before the rotation")).body.ciphertext, plain: "before the rotation" });
    expect((await on(R, "secrets:Write", () => fresh(url, "PUT", "/v1/secrets/secret/data/app/db", { data: { password: "s3cret" } }, token))).status).toBe(200);
    const before = await rootOnBoth();
    expect(before[R].rootId).toBe(before[O].rootId);

    const rotated = await on(R, "sys:RotateRoot", () => fresh(url, "POST", "/v1/sys/rotate-root", undefined, token));
    expect(rotated.status).toBe(200);
    expect(rotated.body.rootId).not.toBe(before[R].rootId);
    const after = await rootOnBoth();
    for (const w of WORKERS) expect(after[w]).toMatchObject({ state: "idle", rootId: rotated.body.rootId });
    for (const w of WORKERS) {
      await steerTo(w);
      const status = (await fresh(url, "GET", "/v1/sys/seal-status")).body;
      expect(status.node).toBe(w);
      expect(status.rootRotation).toBeUndefined();
    }

    // On O: the key it never cached (re-sealed under the new root by R), a new key, the secret, the root token and a new token.
    expect(text(await decrypt(O, sealed[0]!.ciphertext))).toBe("before the rotation");
    expect((await on(O, "kms:CreateKey", () => fresh(url, "POST", "/v1/keys", { name: "fresh" }, token))).status).toBe(201);
    sealed.push({ ciphertext: (await encrypt(O, "fresh", "after, on the other worker")).body.ciphertext, plain: "after, on the other worker" });
    sealed.push({ ciphertext: (await encrypt(R, "fresh", "after, on the rotating worker")).body.ciphertext, plain: "after, on the rotating worker" });
    for (const w of WORKERS) for (const s of sealed) expect(text(await decrypt(w, s.ciphertext))).toBe(s.plain);
    for (const w of WORKERS) expect((await on(w, "secrets:Read", () => fresh(url, "GET", "/v1/secrets/secret/data/app/db", undefined, token))).body.data).toEqual({ password: "s3cret" });
    const created = await on(O, "auth:CreateToken", () => fresh(url, "POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Encrypt"], resources: ["key/fresh"] }] }, token));
    appToken = created.body.token;
    expect(appToken).toMatch(/^tst?[a-z]*_/);
    for (const w of WORKERS) expect((await on(w, "kms:Encrypt", () => fresh(url, "POST", "/v1/keys/fresh/encrypt", { plaintext: b64("x") }, appToken))).status).toBe(200);
  }, 60_000);

  it("after a seal and an unseal with the same shares, both workers serve under the new root", async () => {
    const root = (await rootOnBoth())[R].rootId;
    expect((await fresh(url, "POST", "/v1/sys/seal", {}, token)).body.sealed).toBe(true);
    await fresh(url, "POST", "/v1/sys/unseal", { share: shares[2] });
    expect((await fresh(url, "POST", "/v1/sys/unseal", { share: shares[0] })).body.sealed).toBe(false);
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });
    for (const s of Object.values(await rootOnBoth())) expect(s.rootId).toBe(root);
    for (const w of WORKERS) for (const s of sealed) expect(text(await decrypt(w, s.ciphertext))).toBe(s.plain);
  }, 60_000);

  it("a second rotation, through the other worker, reaches the first; a worker killed after it comes back and serves", async () => {
    const rotated = await on(O, "sys:RotateRoot", () => fresh(url, "POST", "/v1/sys/rotate-root", undefined, token));
    expect(rotated.status).toBe(200);
    for (const s of Object.values(await rootOnBoth())) expect(s.rootId).toBe(rotated.body.rootId);
    expect((await on(R, "kms:CreateKey", () => fresh(url, "POST", "/v1/keys", { name: "third" }, token))).status).toBe(201);
    sealed.push({ ciphertext: (await encrypt(R, "third", "after the second rotation")).body.ciphertext, plain: "after the second rotation" });

    const pids = w2.pids();
    expect(pids).toHaveLength(2);
    process.kill(pids[0]!, "SIGKILL");
    expect(Object.fromEntries(await bothBack(pids[0]!))).toEqual({ w1: false, w2: false });
    for (const s of Object.values(await rootOnBoth())) expect(s.rootId).toBe(rotated.body.rootId);
    for (const w of WORKERS) for (const s of sealed) expect(text(await decrypt(w, s.ciphertext))).toBe(s.plain);
    for (const w of WORKERS) expect((await on(w, "kms:Encrypt", () => fresh(url, "POST", "/v1/keys/fresh/encrypt", { plaintext: b64("y") }, appToken))).status).toBe(200);
  }, 60_000);

  it("the rotating worker killed as it rotates: whenever it died, it comes back, the rotation completes, and both workers end with the same one root", async () => {
    const before = (await rootOnBoth())[R].rootId;
    const pid = workerPid(R);
    await steerTo(R);
    const rotating = fresh(url, "POST", "/v1/sys/rotate-root", undefined, token).catch(() => undefined);
    await new Promise((r) => setTimeout(r, 5));
    process.kill(pid, "SIGKILL");
    await rotating;
    expect(Object.fromEntries(await bothBack(pid))).toEqual({ w1: false, w2: false });
    // Killed before step 1 was stored: nothing changed, rotate again; otherwise the restarted worker resumed it.
    if ((await rootOnBoth())[O].rootId === before && (await rootOnBoth())[R].rootId === before) {
      expect((await on(R, "sys:RotateRoot", () => fresh(url, "POST", "/v1/sys/rotate-root", undefined, token))).status).toBe(200);
    }
    let roots: Record<string, any> = {};
    for (let i = 0; i < 100; i++) {
      roots = await rootOnBoth();
      if (roots[R].rootId === roots[O].rootId && roots[R].rootId !== before && WORKERS.every((w) => roots[w].state === "idle")) {
        const flags = await Promise.all([0, 1, 2, 3].map(() => fresh(url, "GET", "/v1/sys/seal-status")));
        if (flags.every((f) => f.body.rootRotation === undefined)) break;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(roots[O].rootId).toBe(roots[R].rootId);
    expect(roots[R].rootId).not.toBe(before);
    for (const w of WORKERS) for (const s of sealed) expect(text(await decrypt(w, s.ciphertext))).toBe(s.plain);
  }, 60_000);
});

/** The pid of worker `w` (its slot is in its environment). */
function workerPid(w: string): number {
  const pids = w2.pids();
  const found = pids.find((p) => readFileSync(`/proc/${p}/environ`, "utf8").split("\0").includes(`TESSERA_WORKER=${w.slice(1)}`));
  expect(found).toBeDefined();
  return found!;
}
