/**
 * Backup and restore through the API with the Shamir seal: a backup taken while the server serves
 * restores into an empty node with a quorum of the backup's shares, and every key decrypts its old
 * ciphertexts there. Refused — with nothing changed, and audited — when the file was altered, cut
 * short, the shares are another Tessera's, or the target is initialised and `force` was not given.
 */
import { createCipheriv, hkdfSync, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ml_kem768_x25519 } from "@noble/post-quantum/hybrid.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp, type TesseraApp } from "@tessera/server";
import { startTestApp, type TestApp, injectCall } from "../helpers/app.js";

let source: TestApp;
let backup: Buffer;
const ciphertexts: { ciphertext: string; plaintext: string }[] = [];
const dir = mkdtempSync(join(tmpdir(), "tessera-restore-"));
let n = 0;

async function freshNode(): Promise<TesseraApp> {
  return buildApp({ store: new SqliteStore({ path: join(dir, `node-${n++}.db`) }), clock: new ManualClock(Date.UTC(2026, 0, 6, 12)) });
}

async function restore(app: TesseraApp, file: Buffer, preamble: object, token?: string) {
  const res = await app.http.inject({
    method: "POST",
    url: "/v1/sys/restore",
    headers: { "content-type": "application/vnd.tessera.restore", ...(token && { "x-tessera-token": token }) },
    payload: Buffer.concat([Buffer.from(`${JSON.stringify(preamble)}\n`), file]),
  });
  return { status: res.statusCode, body: JSON.parse(res.body) };
}

const call = injectCall;

beforeAll(async () => {
  source = await startTestApp({ shares: 3, threshold: 2 });
  for (let i = 0; i < 25; i++) {
    await source.call("POST", "/v1/keys", { name: `key-${i}` });
    if (i % 5 === 0) await source.call("POST", `/v1/keys/key-${i}/rotate`);
    const plaintext = `payload ${i}`;
    const r = await source.call("POST", `/v1/keys/key-${i}/encrypt`, { plaintext: Buffer.from(plaintext).toString("base64"), context: { vm: `vm-${i}` } });
    ciphertexts.push({ ciphertext: r.body.ciphertext, plaintext });
  }
  // The backup is taken while requests keep coming.
  const busy = Promise.all(Array.from({ length: 20 }, (_, i) => source.call("POST", `/v1/keys/key-${i}/encrypt`, { plaintext: "aGk=", context: { vm: `vm-${i}` } })));
  const res = await source.app.http.inject({ method: "GET", url: "/v1/sys/backup", headers: { "x-tessera-token": source.rootToken } });
  await busy;
  expect(res.statusCode).toBe(200);
  backup = res.rawPayload;
});
afterAll(async () => {
  await source.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("backup", () => {
  it("holds no plaintext key material, token or share, and names its rows", async () => {
    expect(backup.subarray(0, 4).toString()).toBe("TSBK");
    const handle = await source.app.keys.keyring.resolve("key-0");
    for (const secret of [handle.material(1)!, Buffer.from(source.rootToken), ...source.shares.map((s) => Buffer.from(s, "base64"))]) {
      expect(backup.includes(secret)).toBe(false);
      expect(backup.includes(Buffer.from(secret.toString("base64")))).toBe(false);
    }
    expect(backup.includes(Buffer.from("key-0"))).toBe(false);
    const records = (await source.call("GET", "/v1/audit/entries?action=sys:Backup")).body.records;
    expect(records.map((r: { outcome: string }) => r.outcome)).toContain("allowed");
  });

  it("needs a token allowed sys:Backup", async () => {
    const res = await source.app.http.inject({ method: "GET", url: "/v1/sys/backup" });
    expect(JSON.parse(res.body).error.code).toBe("Unauthenticated");
  });
});

describe("restore into an empty node", () => {
  it("restores with a quorum of the backup's shares; every key decrypts its old ciphertexts", async () => {
    const target = await freshNode();
    try {
      const r = await restore(target, backup, { shares: source.shares.slice(1, 3) });
      expect(r.body).toMatchObject({ sealType: "shamir", sealed: false });
      for (const { ciphertext, plaintext } of ciphertexts) {
        const d = await call(target, "POST", "/v1/decrypt", { ciphertext, context: { vm: `vm-${ciphertexts.findIndex((c) => c.ciphertext === ciphertext)}` } }, source.rootToken);
        expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe(plaintext);
      }
      // It restarts sealed and unseals with the backup's shares.
      expect(target.barrier.status()).toMatchObject({ initialized: true, sealed: false, threshold: 2, shares: 3 });
    } finally {
      await target.close();
    }
  });

  it.each([
    ["a byte of a frame flipped", (b: Buffer) => Buffer.from(b.map((v, i) => (i === b.length - 40 ? v ^ 1 : v)))],
    ["the header edited (same length)", (b: Buffer) => Buffer.from(b.toString("latin1").replace('"createdAt":"2026', '"createdAt":"2027'), "latin1")],
    ["the last frame cut off", (b: Buffer) => b.subarray(0, b.length - 20)],
    ["bytes appended", (b: Buffer) => Buffer.concat([b, Buffer.from("extra")])],
  ])("refuses a backup with %s, and the node stays empty", async (_what, alter) => {
    const target = await freshNode();
    try {
      const r = await restore(target, alter(backup), { shares: source.shares.slice(0, 2) });
      expect(r.body.error.code).toBe("InvalidCiphertext");
      expect(target.barrier.initialized).toBe(false);
      expect(await target.keys.keyring.resolve("key-0").catch((e: { code: string }) => e.code)).toBe("NotInitialized");
    } finally {
      await target.close();
    }
  });

  it("refuses another Tessera's shares (a wrong root of trust)", async () => {
    const other = await startTestApp({ shares: 3, threshold: 2 });
    const target = await freshNode();
    try {
      const r = await restore(target, backup, { shares: other.shares.slice(0, 2) });
      expect(r.body.error.code).toBe("InvalidUnsealKey");
      expect(target.barrier.initialized).toBe(false);
    } finally {
      await target.close();
      await other.close();
    }
  });
});

describe("a forged backup", () => {
  it("whose root was escrowed by someone without shares (the public key is in every header) is refused with the real shares", async () => {
    // Everything a forger needs is public: the header names the seal record and its escrow public key.
    // They escrow a root of their own to it (formats.md § The escrow), make it the backup's root, and
    // wrap their backup key under it — only the escrow's MAC, keyed from the shares, tells it apart.
    const headerLength = backup.readUInt32BE(5);
    const header = JSON.parse(backup.subarray(9, 9 + headerLength).toString("utf8"));
    // The forger's X-Wing is an independent one (noble's), as anyone's would be.
    const forgedRoot = randomBytes(32);
    const { sharedSecret, cipherText: ciphertext } = ml_kem768_x25519.encapsulate(new Uint8Array(Buffer.from(header.seal.escrow.publicKey, "base64")));
    const wrapping = Buffer.from(hkdfSync("sha256", sharedSecret, Buffer.alloc(0), "tessera/escrowed-root/v2", 32));
    const keyringRecord = (key: Buffer, secret: Buffer, aad: string) => {
      const nonce = randomBytes(12);
      const c = createCipheriv("aes-256-gcm", key, nonce).setAAD(Buffer.from(aad));
      const body = Buffer.concat([c.update(secret), c.final()]);
      return Buffer.concat([Buffer.from([1]), nonce, body, c.getAuthTag()]).toString("base64");
    };
    const planted = { id: "root-f0f0f0f0f0f0", kem: Buffer.from(ciphertext).toString("base64"), sealed: keyringRecord(wrapping, forgedRoot, "tessera/escrowed-root/v2|id=root-f0f0f0f0f0f0") };
    header.seal.escrow.roots.push(planted);
    header.rootId = planted.id;
    header.wrappedKey = keyringRecord(forgedRoot, randomBytes(32), `tessera/backup-key/v1|${header.backupId}`);
    const forgedHeader = Buffer.from(JSON.stringify(header), "utf8");
    const length = Buffer.alloc(4);
    length.writeUInt32BE(forgedHeader.length);
    const forged = Buffer.concat([backup.subarray(0, 5), length, forgedHeader, backup.subarray(9 + headerLength)]);
    const target = await freshNode();
    try {
      const r = await restore(target, forged, { shares: source.shares.slice(0, 2) });
      expect(r.body.error.code).toBe("InvalidUnsealKey");
      expect(target.barrier.initialized).toBe(false);
    } finally {
      await target.close();
    }
  });
});

describe("restore over an initialised node", () => {
  it("is refused without force, and done with force and a token allowed sys:Restore; both are audited", async () => {
    const target = await startTestApp({ shares: 1, threshold: 1 });
    try {
      await target.call("POST", "/v1/keys", { name: "only-here" });
      const refused = await restore(target.app, backup, { shares: source.shares.slice(0, 2) }, target.rootToken);
      expect(refused.body.error.code).toBe("InvalidState");
      expect((await target.call("GET", "/v1/keys/only-here")).status).toBe(200);
      const done = await restore(target.app, backup, { shares: source.shares.slice(0, 2), force: true }, target.rootToken);
      expect(done.body).toMatchObject({ sealed: false });
      // The state is the backup's: its root token, its keys; the target's own are gone.
      expect((await target.call("GET", "/v1/keys/only-here", undefined, source.rootToken)).body.error.code).toBe("NotFound");
      expect((await target.call("GET", "/v1/keys/key-3", undefined, source.rootToken)).status).toBe(200);
      expect((await target.call("GET", "/v1/keys/key-3", undefined, target.rootToken)).body.error.code).toBe("Unauthenticated");
      const trail = (await target.call("GET", "/v1/audit/entries?action=sys:Restore", undefined, source.rootToken)).body.records as { outcome: string; errorCode: string | null }[];
      expect(trail.map((r) => [r.outcome, r.errorCode])).toEqual([
        ["intent", null],
        ["error", "InvalidState"],
        ["intent", null],
        ["allowed", null],
      ]);
    } finally {
      await target.close();
    }
  });
});
