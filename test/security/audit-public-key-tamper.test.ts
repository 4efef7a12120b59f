/**
 * Finding 6: the audit public key that `audit verify --server` checks signatures with was read from
 * plain metadata in the database it protects, so whoever could edit the database could swap it for
 * their own key and re-sign a rewritten trail. Now the public key is derived from the sealed signing
 * key at every unseal, and an unseal whose stored public key differs is refused.
 */
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { SqliteStore } from "@tessera/server";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** Edits the stored audit keys' public key with the server stopped, as someone with the database file could. */
async function setStoredPublicKey(t: TestApp, publicKey: unknown): Promise<unknown> {
  await t.app.close();
  const store = new SqliteStore({ path: join(t.dir, "tessera.db") });
  const keys = await store.meta.get<Record<string, unknown>>("audit-keys");
  const before = keys!["publicKey"];
  await store.meta.put("audit-keys", { ...keys, publicKey });
  await store.close();
  await t.restart();
  return before;
}

describe("audit public key", () => {
  it("is refused at unseal when the stored copy is not the sealed signing key's", async () => {
    t = await startTestApp();
    const served = (await t.call("GET", "/v1/audit/public-key")).body.publicKey as string;
    const other = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }).toString();

    const original = await setStoredPublicKey(t, other);
    expect(original).toBe(served);
    const refused = await t.call("POST", "/v1/sys/unseal", { share: t.shares[0] }, null);
    expect([refused.status, refused.body.error.code]).toEqual([409, "InvalidState"]);
    expect((await t.call("GET", "/v1/sys/seal-status", undefined, null)).body.sealed).toBe(true);

    await setStoredPublicKey(t, "not a key");
    expect((await t.call("POST", "/v1/sys/unseal", { share: t.shares[0] }, null)).body.error.code).toBe("InvalidState");

    // Put back, the unseal works and the served key is the one derived from the sealed key.
    await setStoredPublicKey(t, original);
    await t.unseal();
    expect((await t.call("GET", "/v1/audit/public-key")).body.publicKey).toBe(served);
  });

  it("serves the key derived from the sealed signing key", async () => {
    t = await startTestApp();
    const served = (await t.call("GET", "/v1/audit/public-key")).body.publicKey as string;
    // A re-encoded copy of the same key (CRLF line breaks) is the same key: the unseal goes through.
    await setStoredPublicKey(t, served.replace(/\n/g, "\r\n"));
    await t.unseal();
    expect((await t.call("GET", "/v1/audit/public-key")).body.publicKey).toBe(served);
  });
});
