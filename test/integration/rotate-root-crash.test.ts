/**
 * `rotate-root` re-seals everything under a new root resumably: a crash injected half way through
 * leaves every key usable; after the restart the rotation finishes by itself, and then the old root
 * is gone from the seal record while every key, access key, the CA and the audit keys open under
 * the new one.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { injectCall } from "../helpers/app.js";
import { ManualClock, SqliteStore, buildApp, type TesseraApp } from "@tessera/server";
import { crashingStore } from "../fakes/crashing-store.js";
import { decodeLines } from "../helpers/audit-records.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-rotate-crash-"));
const db = join(dir, "tessera.db");
const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const call = injectCall;

const sealRoots = async (store: SqliteStore) => ((await store.meta.get<{ escrow: { roots: { id: string }[] } }>("seal"))!.escrow.roots.map((r) => r.id));

describe("rotate-root with a crash half way", () => {
  it("leaves every key usable, resumes after the restart, and ends under the new root alone", async () => {
    const inner = new SqliteStore({ path: db });
    const crash = crashingStore(inner);
    const first = await buildApp({ store: crash.store, clock, rootRotationBatch: 10 });
    const init = await call(first, "POST", "/v1/sys/init", { shares: 3, threshold: 2 });
    const { shares, rootToken } = init.body as { shares: string[]; rootToken: string };
    for (const share of shares.slice(0, 2)) await call(first, "POST", "/v1/sys/unseal", { share });
    const ciphertexts: string[] = [];
    for (let i = 0; i < 40; i++) {
      await call(first, "POST", "/v1/keys", { name: `k${i}` }, rootToken);
      if (i % 3 === 0) await call(first, "POST", `/v1/keys/k${i}/rotate`, {}, rootToken);
      ciphertexts.push((await call(first, "POST", `/v1/keys/k${i}/encrypt`, { plaintext: Buffer.from(`secret ${i}`).toString("base64") }, rootToken)).body.ciphertext);
    }
    expect((await call(first, "PUT", "/v1/policies/app", { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["*"] }] }, rootToken)).status).toBe(200);
    expect((await call(first, "PUT", "/v1/roles/app", { policies: ["app"] }, rootToken)).status).toBe(200);
    const accessKey = (await call(first, "POST", "/v1/auth/access-keys", { role: "app" }, rootToken)).body;
    expect(accessKey.accessKeyId).toBeDefined();
    const caPem = await first.ca.certificate();
    const oldRoot = (await sealRoots(inner))[0];

    // Begin (1) + count (1) + three batches of versions, then the process dies.
    crash.crashAfter(5);
    const failed = await call(first, "POST", "/v1/sys/rotate-root", {}, rootToken);
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(crash.crashed).toBe(true);
    const halfWay = await sealRoots(inner);
    expect(halfWay).toHaveLength(2);
    expect(halfWay[0]).toBe(oldRoot);
    await inner.close();

    // Restart: the seal record holds both roots, so everything opens, and the rotation finishes by itself.
    const secondStore = new SqliteStore({ path: db });
    const second = await buildApp({ store: secondStore, clock, rootRotationBatch: 10 });
    for (const share of shares.slice(1, 3)) await call(second, "POST", "/v1/sys/unseal", { share });
    for (const [i, ciphertext] of ciphertexts.entries()) {
      const r = await call(second, "POST", "/v1/decrypt", { ciphertext }, rootToken);
      expect(Buffer.from(r.body.plaintext, "base64").toString()).toBe(`secret ${i}`);
    }
    for (let i = 0; i < 100 && (await sealRoots(secondStore)).length > 1; i++) await new Promise((r) => setTimeout(r, 50));
    const after = await sealRoots(secondStore);
    expect(after).toHaveLength(1);
    expect(after[0]).toBe(halfWay[1]);
    const records = decodeLines((await secondStore.audit.list(0, 100_000)).map((l) => l.line));
    expect(records.filter((r) => r.action === "sys:RotateRoot" && r.principal?.id === "tessera:system").map((r) => r.outcome)).toEqual(["intent", "allowed"]);
    await second.close();

    // Under the new root alone: every key, the access key, the CA key and the audit keys still open.
    const third = await buildApp({ store: new SqliteStore({ path: db }), clock });
    for (const share of [shares[0]!, shares[2]!]) await call(third, "POST", "/v1/sys/unseal", { share });
    expect(third.barrier.ring().ids).toEqual([halfWay[1]]);
    for (const [i, ciphertext] of ciphertexts.entries()) {
      const r = await call(third, "POST", "/v1/decrypt", { ciphertext }, rootToken);
      expect(Buffer.from(r.body.plaintext, "base64").toString()).toBe(`secret ${i}`);
    }
    expect((await third.accessKeys.resolve(accessKey.accessKeyId)).secret.toString("utf8")).toBe(accessKey.secretAccessKey);
    expect(await third.ca.certificate()).toBe(caPem);
    const issued = await third.ca.issueServer(["127.0.0.1"], 3600);
    expect(issued.certificate).toContain("BEGIN CERTIFICATE");
    // Another rotation from the CLI's point of view: answers once done, with the new root's id.
    const again = await call(third, "POST", "/v1/sys/rotate-root", {}, rootToken);
    expect(again.body).toMatchObject({ state: "idle", total: expect.any(Number) });
    expect(again.body.rootId).not.toBe(halfWay[1]);
    await third.close();
  });
});
