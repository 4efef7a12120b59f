/**
 * The PKCS#11 seal against a real SoftHSM2 (tokens in a temporary SOFTHSM2_CONF): init with
 * recovery shares and a generated key, restart and auto-unseal, the HSM unavailable then available,
 * a wrong PIN, a missing key, a tampered sealed root, an HSM restart under an unsealed node, key
 * label rotation, both mechanisms, migration from Shamir and back, rekey of the recovery shares, and
 * backup → restore into a fresh node, and rotate-root with a crash half way (resumed after the
 * HSM unseals the restarted node by itself).
 */
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ml_kem768_x25519 } from "@noble/post-quantum/hybrid.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { injectCall } from "../helpers/app.js";
import { ManualClock, Pkcs11Seal, ShamirSeal, SqliteStore, buildApp, type Pkcs11SealOptions, type Seal, type TesseraApp } from "@tessera/server";
import { crashingStore } from "../fakes/crashing-store.js";
import { SOFTHSM2_MODULE, USER_PIN, softHsm, type SoftHsm } from "../helpers/softhsm.js";

let hsm: SoftHsm;
const dir = mkdtempSync(join(tmpdir(), "tessera-hsm-"));
const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
let n = 0;

beforeAll(() => {
  hsm = softHsm();
  // Every token exists before the module is first initialised in this process.
  for (const label of ["tessera", "kwp", "migrate", "other", "rotate"]) hsm.initToken(label);
  hsm.generateKey("other", "tessera-root");
});
afterAll(() => {
  hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

const options = (o: Partial<Pkcs11SealOptions> = {}): Pkcs11SealOptions => ({
  lib: SOFTHSM2_MODULE,
  tokenLabel: "tessera",
  pin: USER_PIN,
  keyLabels: ["tessera-root"],
  mechanism: "aes_gcm",
  generateKey: false,
  ...o,
});

async function open(db: string, seal: Seal): Promise<TesseraApp> {
  return buildApp({ store: new SqliteStore({ path: db }), clock, seal, autoUnseal: { initialDelayMs: 50, maxDelayMs: 200 } });
}

const call = injectCall;

async function encrypt(app: TesseraApp, token: string, key: string, text: string): Promise<string> {
  if ((await call(app, "GET", `/v1/keys/${key}`, undefined, token)).status === 404) await call(app, "POST", "/v1/keys", { name: key }, token);
  return (await call(app, "POST", `/v1/keys/${key}/encrypt`, { plaintext: Buffer.from(text).toString("base64") }, token)).body.ciphertext;
}

async function decrypt(app: TesseraApp, token: string, ciphertext: string): Promise<string> {
  const r = await call(app, "POST", "/v1/decrypt", { ciphertext }, token);
  if (r.status !== 200) throw new Error(JSON.stringify(r.body));
  return Buffer.from(r.body.plaintext, "base64").toString();
}

async function untilUnsealed(app: TesseraApp): Promise<void> {
  for (let i = 0; i < 100 && app.barrier.sealed; i++) await new Promise((r) => setTimeout(r, 50));
}

describe("the PKCS#11 seal", () => {
  const db = join(dir, "main.db");
  let rootToken = "";
  let recovery: string[] = [];
  let ciphertext = "";

  it("init generates the HSM key, returns recovery shares and the root token, and the server is unsealed", async () => {
    const app = await open(db, await Pkcs11Seal.create(options({ generateKey: true })));
    try {
      const init = await call(app, "POST", "/v1/sys/init", { shares: 3, threshold: 2 });
      expect(init.body).toMatchObject({ sealType: "pkcs11", sealed: false, threshold: 2 });
      expect(init.body.shares).toHaveLength(3);
      ({ rootToken, shares: recovery } = init.body);
      const status = await call(app, "GET", "/v1/sys/seal-status");
      expect(status.body).toMatchObject({ initialized: true, sealed: false, sealType: "pkcs11", recoveryShares: true, threshold: 2, shares: 3 });
      ciphertext = await encrypt(app, rootToken, "orders", "before restart");
    } finally {
      await app.close();
    }
  });

  it("a restart unseals with the HSM alone: no share typed", async () => {
    const app = await open(db, await Pkcs11Seal.create(options()));
    try {
      await untilUnsealed(app);
      expect(app.barrier.sealed).toBe(false);
      expect(await decrypt(app, rootToken, ciphertext)).toBe("before restart");
      const trail = (await call(app, "GET", "/v1/audit/entries?action=sys:AutoUnseal", undefined, rootToken)).body.records;
      expect(trail.map((r: { outcome: string; principal: { id: string } }) => [r.outcome, r.principal.id])).toContainEqual(["allowed", "tessera:system"]);
    } finally {
      await app.close();
    }
  });

  it("a wrong PIN keeps it sealed, says so, and is not retried", async () => {
    const app = await open(db, await Pkcs11Seal.create(options({ pin: "0000" })));
    try {
      expect(await app.autoUnseal.attempt()).toBe(false);
      const status = (await call(app, "GET", "/v1/sys/seal-status")).body;
      expect(status.sealed).toBe(true);
      expect(status.error).toMatch(/PIN.*CKR_PIN_INCORRECT.*not retrying/);
      expect((await call(app, "POST", "/v1/decrypt", { ciphertext }, rootToken)).body.error.code).toBe("Sealed");
    } finally {
      await app.close();
    }
  });

  it("a missing key label keeps it sealed and names the label", async () => {
    const app = await open(db, await Pkcs11Seal.create(options({ keyLabels: ["no-such-key"] })));
    try {
      expect(await app.autoUnseal.attempt()).toBe(false);
      const status = (await call(app, "GET", "/v1/sys/seal-status")).body;
      expect([status.sealed, status.error]).toEqual([true, expect.stringMatching(/tessera-root.*not among the configured key labels/)]);
    } finally {
      await app.close();
    }
    // The root's own label is there but the key behind it is another token's: a wrong root of trust.
    const other = await open(db, await Pkcs11Seal.create(options({ tokenLabel: "other" })));
    try {
      expect(await other.autoUnseal.attempt()).toBe(false);
      expect(other.barrier.status().error).toMatch(/does not open with HSM key "tessera-root"/);
    } finally {
      await other.close();
    }
  });

  it("a tampered sealed root is refused", async () => {
    const copy = join(dir, "tampered.db");
    const store = new SqliteStore({ path: db });
    const seal = (await store.meta.get<{ roots: { ct: string }[] }>("seal"))!;
    await store.close();
    const app0 = await open(copy, new ShamirSeal());
    await app0.close();
    const store2 = new SqliteStore({ path: copy });
    const ct = Buffer.from(seal.roots[0]!.ct, "base64");
    ct[5]! ^= 1;
    await store2.meta.put("seal", { ...seal, roots: [{ ...seal.roots[0], ct: ct.toString("base64") }] });
    await store2.close();
    const app = await open(copy, await Pkcs11Seal.create(options()));
    try {
      expect(await app.autoUnseal.attempt()).toBe(false);
      expect(app.barrier.status()).toMatchObject({ sealed: true, error: expect.stringMatching(/does not open.*altered/) });
    } finally {
      await app.close();
    }
  });

  it("a root planted in the recovery escrow (by a database writer, with the public key) refuses both the HSM and the recovery shares", async () => {
    const copy = join(dir, "planted.db");
    const store = new SqliteStore({ path: db });
    const seal = (await store.meta.get<{ escrow: { publicKey: string; roots: object[] } }>("seal"))!;
    await store.close();
    const { cipherText: ciphertext } = ml_kem768_x25519.encapsulate(new Uint8Array(Buffer.from(seal.escrow.publicKey, "base64")));
    // The sealed part need not even open: the MAC check comes first.
    const planted = { ...seal, escrow: { ...seal.escrow, roots: [...seal.escrow.roots, { id: "root-planted", kem: Buffer.from(ciphertext).toString("base64"), sealed: randomBytes(61).toString("base64") }] } };
    await (await open(copy, new ShamirSeal())).close();
    const store2 = new SqliteStore({ path: copy });
    await store2.meta.put("seal", planted);
    await store2.close();
    const app = await open(copy, await Pkcs11Seal.create(options({ lib: join(dir, "missing.so") })));
    try {
      await call(app, "POST", "/v1/sys/unseal", { share: recovery[0] });
      expect((await call(app, "POST", "/v1/sys/unseal", { share: recovery[1] })).body.error.code).toBe("InvalidUnsealKey");
    } finally {
      await app.close();
    }
    const withHsm = await open(copy, await Pkcs11Seal.create(options()));
    try {
      expect(await withHsm.autoUnseal.attempt()).toBe(false);
      expect(withHsm.barrier.status()).toMatchObject({ sealed: true, error: expect.stringMatching(/escrow .*does not authenticate.*altered/) });
    } finally {
      await withHsm.close();
    }
  });

  it("stays sealed while the HSM library cannot be loaded, naming it, and unseals by itself once it can", async () => {
    const libDir = mkdtempSync(join(tmpdir(), "tessera-hsm-lib-"));
    const lib = join(libDir, "libsofthsm2.so");
    const app = await open(db, await Pkcs11Seal.create(options({ lib })));
    try {
      await new Promise((r) => setTimeout(r, 120));
      const status = app.barrier.status();
      expect(status.sealed).toBe(true);
      expect(status.error).toContain(lib);
      expect(status.error).toMatch(/retrying/);
      symlinkSync(SOFTHSM2_MODULE, lib);
      await untilUnsealed(app);
      expect(app.barrier.sealed).toBe(false);
      expect(await decrypt(app, rootToken, ciphertext)).toBe("before restart");
    } finally {
      await app.close();
      rmSync(libDir, { recursive: true, force: true });
    }
  });

  it("re-opens its session after the HSM restarts", async () => {
    const app = await open(db, await Pkcs11Seal.create(options()));
    try {
      await untilUnsealed(app);
      hsm.restartModule();
      // Rotating the root re-encrypts it in the HSM: the dropped session is re-opened.
      const rotated = await call(app, "POST", "/v1/sys/rotate-root", {}, rootToken);
      expect(rotated.status).toBe(200);
      hsm.restartModule();
      app.barrier.sealNow();
      expect(await app.autoUnseal.attempt()).toBe(true);
      expect(await decrypt(app, rootToken, ciphertext)).toBe("before restart");
    } finally {
      await app.close();
    }
  });

  it("unseals with a quorum of recovery shares when the HSM is gone (disaster recovery)", async () => {
    const app = await open(db, await Pkcs11Seal.create(options({ lib: join(dir, "missing.so") })));
    try {
      for (const share of recovery.slice(0, 2)) await call(app, "POST", "/v1/sys/unseal", { share });
      expect(app.barrier.sealed).toBe(false);
      expect(await decrypt(app, rootToken, ciphertext)).toBe("before restart");
    } finally {
      await app.close();
    }
  });

  it("rekey replaces the recovery shares; the old ones stop working", async () => {
    const app = await open(db, await Pkcs11Seal.create(options()));
    try {
      await untilUnsealed(app);
      const { nonce } = (await call(app, "POST", "/v1/sys/rekey/init", { shares: 2, threshold: 2 }, rootToken)).body;
      await call(app, "POST", "/v1/sys/rekey/update", { nonce, share: recovery[0] }, rootToken);
      const done = (await call(app, "POST", "/v1/sys/rekey/update", { nonce, share: recovery[2] }, rootToken)).body;
      expect(done).toMatchObject({ complete: true, newShares: 2, newThreshold: 2 });
      const old = recovery;
      recovery = done.shares;
      const { nonce: n2 } = (await call(app, "POST", "/v1/sys/generate-root/init", {})).body;
      await call(app, "POST", "/v1/sys/generate-root/update", { nonce: n2, share: old[0] });
      expect((await call(app, "POST", "/v1/sys/generate-root/update", { nonce: n2, share: old[1] })).body.error.code).toBe("InvalidUnsealKey");
      await call(app, "DELETE", "/v1/sys/generate-root");
    } finally {
      await app.close();
    }
    // The HSM still unseals after the rekey (the recovery escrow is bound into the HSM record).
    const again = await open(db, await Pkcs11Seal.create(options()));
    try {
      await untilUnsealed(again);
      expect(await decrypt(again, rootToken, ciphertext)).toBe("before restart");
    } finally {
      await again.close();
    }
  });

  it("rotates the HSM key: a new first label encrypts, the old one still decrypts, and the root moves to the new key", async () => {
    hsm.generateKey("tessera", "tessera-root-2");
    const app = await open(db, await Pkcs11Seal.create(options({ keyLabels: ["tessera-root-2", "tessera-root"] })));
    try {
      await untilUnsealed(app);
      expect(app.barrier.sealed).toBe(false);
    } finally {
      await app.close();
    }
    const store = new SqliteStore({ path: db });
    expect((await store.meta.get<{ roots: { keyLabel: string }[] }>("seal"))!.roots.map((r) => r.keyLabel)).toEqual(["tessera-root-2"]);
    await store.close();
    const only = await open(db, await Pkcs11Seal.create(options({ keyLabels: ["tessera-root-2"] })));
    try {
      await untilUnsealed(only);
      expect(await decrypt(only, rootToken, ciphertext)).toBe("before restart");
    } finally {
      await only.close();
    }
  });

  it("backup → restore into a fresh node on the same HSM: every key decrypts its old ciphertexts", async () => {
    const app = await open(db, await Pkcs11Seal.create(options({ keyLabels: ["tessera-root-2"] })));
    const fresh = await open(join(dir, `fresh-${n++}.db`), await Pkcs11Seal.create(options({ keyLabels: ["tessera-root-2"] })));
    try {
      await untilUnsealed(app);
      const backup = (await app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": rootToken } })).rawPayload;
      const res = await fresh.http.inject({
        method: "POST",
        url: "/v1/sys/restore",
        headers: { "content-type": "application/vnd.tessera.restore" },
        payload: Buffer.concat([Buffer.from("{}\n"), backup]),
      });
      expect(JSON.parse(res.body)).toMatchObject({ sealType: "pkcs11", sealed: false });
      expect(await decrypt(fresh, rootToken, ciphertext)).toBe("before restart");
    } finally {
      await app.close();
      await fresh.close();
    }
  });
});

describe("the aes_key_wrap_pad mechanism", () => {
  it("seals with CKM_AES_KEY_WRAP_PAD and auto-unseals after a restart", async () => {
    const db = join(dir, "kwp.db");
    const o = options({ tokenLabel: "kwp", mechanism: "aes_key_wrap_pad", generateKey: true });
    const app = await open(db, await Pkcs11Seal.create(o));
    const init = (await call(app, "POST", "/v1/sys/init", { shares: 1, threshold: 1 })).body;
    const ct = await encrypt(app, init.rootToken, "kwp", "wrapped");
    await app.close();
    const store = new SqliteStore({ path: db });
    expect((await store.meta.get<{ roots: { mechanism: string }[] }>("seal"))!.roots[0]!.mechanism).toBe("aes_key_wrap_pad");
    await store.close();
    const again = await open(db, await Pkcs11Seal.create(o));
    try {
      await untilUnsealed(again);
      expect(await decrypt(again, init.rootToken, ct)).toBe("wrapped");
    } finally {
      await again.close();
    }
  });
});

describe("seal migration", () => {
  it("Shamir → HSM with the unseal shares, then HSM → Shamir with the same shares (now recovery shares); no key lost", async () => {
    const db = join(dir, "migrate.db");
    const shamir = await open(db, new ShamirSeal());
    const init = (await call(shamir, "POST", "/v1/sys/init", { shares: 3, threshold: 2 })).body;
    for (const share of init.shares.slice(0, 2)) await call(shamir, "POST", "/v1/sys/unseal", { share });
    const ct = await encrypt(shamir, init.rootToken, "migrating", "kept across seals");
    await shamir.close();

    const toHsm = await open(db, await Pkcs11Seal.create(options({ tokenLabel: "migrate", generateKey: true })));
    try {
      expect(toHsm.barrier.status()).toMatchObject({ sealed: true, sealType: "shamir", migration: { from: "shamir", to: "pkcs11" } });
      expect((await call(toHsm, "POST", "/v1/sys/unseal", { share: init.shares[0] })).body.error.code).toBe("InvalidState");
      // The HSM key must exist for the migration: generate_key creates it at init only.
      hsm.generateKey("migrate", "tessera-root");
      for (const share of init.shares.slice(1, 3)) await call(toHsm, "POST", "/v1/sys/unseal", { share, migrate: true });
      expect(toHsm.barrier.status()).toMatchObject({ sealed: false, sealType: "pkcs11" });
      expect(await decrypt(toHsm, init.rootToken, ct)).toBe("kept across seals");
    } finally {
      await toHsm.close();
    }
    const hsmAgain = await open(db, await Pkcs11Seal.create(options({ tokenLabel: "migrate" })));
    try {
      await untilUnsealed(hsmAgain);
      expect(await decrypt(hsmAgain, init.rootToken, ct)).toBe("kept across seals");
    } finally {
      await hsmAgain.close();
    }

    const back = await open(db, new ShamirSeal());
    try {
      expect(back.barrier.status()).toMatchObject({ sealed: true, migration: { from: "pkcs11", to: "shamir" } });
      for (const share of [init.shares[0], init.shares[2]]) await call(back, "POST", "/v1/sys/unseal", { share, migrate: true });
      expect(back.barrier.status()).toMatchObject({ sealed: false, sealType: "shamir" });
    } finally {
      await back.close();
    }
    const plain = await open(db, new ShamirSeal());
    try {
      for (const share of init.shares.slice(0, 2)) await call(plain, "POST", "/v1/sys/unseal", { share });
      expect(await decrypt(plain, init.rootToken, ct)).toBe("kept across seals");
    } finally {
      await plain.close();
    }
  });
});

describe("rotate-root with the HSM seal and a crash half way", () => {
  it("the restarted node unseals with the HSM, finishes the rotation by itself, and every key and the recovery shares work under the new root", async () => {
    const db = join(dir, "rotate.db");
    const o = options({ tokenLabel: "rotate", generateKey: true });
    const hsmRoots = async (store: SqliteStore) => (await store.meta.get<{ roots: { id: string }[]; escrow: { roots: { id: string }[] } }>("seal"))!;
    const inner = new SqliteStore({ path: db });
    const crash = crashingStore(inner);
    const first = await buildApp({ store: crash.store, clock, seal: await Pkcs11Seal.create(o), autoUnseal: { initialDelayMs: 50, maxDelayMs: 200 }, rootRotationBatch: 5 });
    const init = (await call(first, "POST", "/v1/sys/init", { shares: 3, threshold: 2 })).body as { rootToken: string; shares: string[] };
    const ciphertexts: string[] = [];
    for (let i = 0; i < 20; i++) ciphertexts.push(await encrypt(first, init.rootToken, `r${i}`, `rotating ${i}`));
    const oldRoot = (await hsmRoots(inner)).roots[0]!.id;

    // Begin (1) + count (1) + two batches, then the process dies.
    crash.crashAfter(4);
    expect((await call(first, "POST", "/v1/sys/rotate-root", {}, init.rootToken)).status).toBeGreaterThanOrEqual(500);
    expect(crash.crashed).toBe(true);
    const halfWay = await hsmRoots(inner);
    expect([halfWay.roots.map((r) => r.id), halfWay.escrow.roots.map((r) => r.id)]).toEqual([
      [oldRoot, expect.not.stringMatching(oldRoot)],
      [oldRoot, halfWay.roots[1]!.id],
    ]);
    await inner.close();
    await first.close().catch(() => undefined);

    const secondStore = new SqliteStore({ path: db });
    const second = await buildApp({ store: secondStore, clock, seal: await Pkcs11Seal.create(o), autoUnseal: { initialDelayMs: 50, maxDelayMs: 200 }, rootRotationBatch: 5 });
    try {
      await untilUnsealed(second);
      for (const [i, ct] of ciphertexts.entries()) expect(await decrypt(second, init.rootToken, ct)).toBe(`rotating ${i}`);
      for (let i = 0; i < 100 && (await hsmRoots(secondStore)).roots.length > 1; i++) await new Promise((r) => setTimeout(r, 50));
      const after = await hsmRoots(secondStore);
      expect([after.roots.map((r) => r.id), after.escrow.roots.map((r) => r.id)]).toEqual([[halfWay.roots[1]!.id], [halfWay.roots[1]!.id]]);
      const trail = (await call(second, "GET", "/v1/audit/entries?action=sys:RotateRoot", undefined, init.rootToken)).body.records as { outcome: string; principal: { id: string } }[];
      expect(trail.filter((r) => r.principal.id === "tessera:system").map((r) => r.outcome)).toEqual(["intent", "allowed"]);
    } finally {
      await second.close();
    }

    // The new root alone: the HSM opens it, and so do the recovery shares (the escrow moved with it).
    const third = await open(db, await Pkcs11Seal.create(o));
    try {
      await untilUnsealed(third);
      expect(third.barrier.ring().ids).toEqual([halfWay.roots[1]!.id]);
      for (const [i, ct] of ciphertexts.entries()) expect(await decrypt(third, init.rootToken, ct)).toBe(`rotating ${i}`);
    } finally {
      await third.close();
    }
    const byShares = await open(db, await Pkcs11Seal.create(options({ tokenLabel: "rotate", lib: join(dir, "missing.so") })));
    try {
      for (const share of init.shares.slice(1, 3)) await call(byShares, "POST", "/v1/sys/unseal", { share });
      expect(byShares.barrier.ring().ids).toEqual([halfWay.roots[1]!.id]);
      expect(await decrypt(byShares, init.rootToken, ciphertexts[7]!)).toBe("rotating 7");
    } finally {
      await byShares.close();
    }
  });
});
