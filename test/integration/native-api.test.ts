/**
 * The native API end to end, in process (inject) against a real SQLite file: key lifecycle,
 * envelope operations, rotation, tokens, seal/restart/unseal, and bad input of every kind.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { b64, startTestApp, unb64, type TestApp } from "../helpers/app.js";
import { randomnessProblems } from "../helpers/randomness.js";

let t: TestApp;
beforeEach(async () => {
  t = await startTestApp();
});
afterEach(async () => {
  await t.close();
});

async function createKey(name: string, extra: Record<string, unknown> = {}) {
  const r = await t.call("POST", "/v1/keys", { name, ...extra });
  expect(r.status).toBe(201);
  return r.body;
}

async function encrypt(key: string, text: string, context?: Record<string, string>) {
  const r = await t.call("POST", `/v1/keys/${encodeURIComponent(key)}/encrypt`, { plaintext: b64(text), ...(context && { context }) });
  expect(r.status, JSON.stringify(r.body)).toBe(200);
  return r.body as { keyId: string; keyVersion: number; ciphertext: string };
}

const decrypt = (ciphertext: string, context?: Record<string, string>, token?: string) =>
  t.call("POST", "/v1/decrypt", { ciphertext, ...(context && { context }) }, token);

describe("key lifecycle through the API", () => {
  it("create → encrypt → rotate → decrypt old and new → reencrypt → raise min version → old refused", async () => {
    const key = await createKey("payment-db", { description: "db password", tags: { team: "pay" } });
    expect(key).toMatchObject({ name: "payment-db", state: "Enabled", primaryVersion: 1, minDecryptionVersion: 1, keySpec: "SYMMETRIC_DEFAULT", keyUsage: "ENCRYPT_DECRYPT" });

    const v1 = await encrypt("payment-db", "s3cret", { app: "db" });
    expect(v1.keyVersion).toBe(1);
    const rotated = await t.call("POST", "/v1/keys/payment-db/rotate");
    expect(rotated.body.primaryVersion).toBe(2);
    const v2 = await encrypt("payment-db", "s3cret-2", { app: "db" });
    expect(v2.keyVersion).toBe(2);

    const old = await decrypt(v1.ciphertext, { app: "db" });
    expect(old.status).toBe(200);
    expect(unb64(old.body.plaintext)).toBe("s3cret");
    expect(old.body.keyVersion).toBe(1);
    expect(unb64((await decrypt(v2.ciphertext, { app: "db" })).body.plaintext)).toBe("s3cret-2");

    const re = await t.call("POST", "/v1/reencrypt", { ciphertext: v1.ciphertext, sourceContext: { app: "db" }, destinationContext: { app: "db" } });
    expect(re.status).toBe(200);
    expect(re.body).toMatchObject({ sourceKeyVersion: 1, keyVersion: 2, keyId: key.keyId, sourceKeyId: key.keyId });
    expect(re.body).not.toHaveProperty("plaintext");

    const min = await t.call("POST", "/v1/keys/payment-db/min-decryption-version", { minDecryptionVersion: 2 });
    expect(min.body.minDecryptionVersion).toBe(2);
    const refused = await decrypt(v1.ciphertext, { app: "db" });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe("Disabled");
    expect(unb64((await decrypt(re.body.ciphertext, { app: "db" })).body.plaintext)).toBe("s3cret");

    const versions = await t.call("GET", "/v1/keys/payment-db/versions");
    expect(versions.body.versions.map((v: any) => [v.version, v.retired, v.primary])).toEqual([
      [1, true, false],
      [2, false, true],
    ]);
    // Usage is recorded per version (v1: encrypt + decrypt + reencrypt's decrypt).
    expect(versions.body.versions[0].useCount).toBe(3);
    expect(versions.body.versions[0].lastUsedAt).not.toBeNull();
  });

  it("reports the same use counts unflushed, flushed unfolded, folded after 10 minutes, and after a restart", async () => {
    await createKey("counted");
    for (let i = 0; i < 3; i++) await encrypt("counted", "x");
    const usedAt = new Date(t.clock.now()).toISOString();
    const counts = async () => (await t.call("GET", "/v1/keys/counted/versions")).body.versions.map((v: any) => [v.useCount, v.lastUsedAt]);
    const logRows = () => {
      const db = new DatabaseSync(join(t.dir, "tessera.db"), { readOnly: true });
      try {
        return Number((db.prepare("SELECT COUNT(*) AS n FROM version_uses").get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    expect(await counts()).toEqual([[3, usedAt]]);
    await t.app.keys.usage.flush();
    expect(logRows()).toBe(1);
    expect(await counts()).toEqual([[3, usedAt]]);

    // The next flush after the fold interval moves the unfolded count into the version's own counter.
    t.clock.advance(10 * 60_000);
    await encrypt("counted", "x");
    const laterAt = new Date(t.clock.now()).toISOString();
    await t.app.keys.usage.flush();
    expect(logRows()).toBe(0);
    expect(await counts()).toEqual([[4, laterAt]]);

    await encrypt("counted", "x");
    await t.restart();
    expect(logRows()).toBe(0); // shutdown flushes and folds
    await t.unseal();
    expect(await counts()).toEqual([[5, laterAt]]);
  });

  it("disables and enables a key and a version; the primary version cannot be disabled", async () => {
    await createKey("k");
    const c1 = await encrypt("k", "one");
    expect((await t.call("POST", "/v1/keys/k/disable")).body.state).toBe("Disabled");
    expect((await t.call("POST", "/v1/keys/k/encrypt", { plaintext: b64("x") })).body.error.code).toBe("Disabled");
    expect((await decrypt(c1.ciphertext)).body.error.code).toBe("Disabled");
    expect((await t.call("POST", "/v1/keys/k/enable")).body.state).toBe("Enabled");

    const primary = await t.call("POST", "/v1/keys/k/versions/1/disable");
    expect(primary.status).toBe(409);
    expect(primary.body.error.code).toBe("InvalidState");
    await t.call("POST", "/v1/keys/k/rotate");
    const off = await t.call("POST", "/v1/keys/k/versions/1/disable");
    expect(off.body).toMatchObject({ version: 1, state: "Disabled", primary: false });
    expect((await decrypt(c1.ciphertext)).body.error.code).toBe("Disabled");
    await t.call("POST", "/v1/keys/k/versions/1/enable");
    expect((await decrypt(c1.ciphertext)).status).toBe(200);
    expect((await t.call("POST", "/v1/keys/k/versions/9/enable")).body.error.code).toBe("NotFound");
  });

  it("schedules deletion (7–30 days), cancels back to the prior state, and destroys after the window", async () => {
    await createKey("doomed");
    const c = await encrypt("doomed", "bye");
    await t.call("POST", "/v1/keys/doomed/disable");
    expect((await t.call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 6 })).body.error).toMatchObject({
      code: "InvalidInput",
      field: "/pendingWindowDays",
    });
    const pending = await t.call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 });
    expect(pending.body.state).toBe("PendingDeletion");
    expect(Date.parse(pending.body.deletionDate) - t.clock.now()).toBe(7 * 86_400_000);
    expect((await decrypt(c.ciphertext)).body.error.code).toBe("InvalidState");
    expect((await t.call("POST", "/v1/keys/doomed/enable")).body.error.code).toBe("InvalidState");
    expect((await t.call("POST", "/v1/keys/doomed/schedule-deletion")).body.error.code).toBe("InvalidState");

    expect((await t.call("POST", "/v1/keys/doomed/cancel-deletion")).body.state).toBe("Disabled");
    expect((await t.call("POST", "/v1/keys/doomed/cancel-deletion")).body.error.code).toBe("InvalidState");
    await t.call("POST", "/v1/keys/doomed/enable");

    const again = await t.call("POST", "/v1/keys/doomed/schedule-deletion");
    expect(Date.parse(again.body.deletionDate) - t.clock.now()).toBe(30 * 86_400_000);
    t.clock.advance(29 * 86_400_000);
    expect(await t.app.jobs.destroyDue()).toEqual([]);
    t.clock.advance(86_400_000);
    expect(await t.app.jobs.destroyDue()).toEqual([again.body.keyId]);

    const gone = await t.call("GET", "/v1/keys/doomed");
    expect(gone.body).toMatchObject({ state: "Destroyed" });
    expect(Date.parse(gone.body.destroyedAt)).toBe(t.clock.now());
    const after = await decrypt(c.ciphertext);
    expect(after.status).toBe(410);
    expect(after.body.error.code).toBe("Destroyed");
    const versions = await t.call("GET", "/v1/keys/doomed/versions");
    expect(versions.body.versions.every((v: any) => v.state === "Destroyed")).toBe(true);
    expect((await t.call("POST", "/v1/keys/doomed/cancel-deletion")).body.error.code).toBe("InvalidState");
    expect((await t.call("POST", "/v1/keys/doomed/rotate")).body.error.code).toBe("InvalidState");
  });

  it("lists keys with paging and updates description, tags and rotation period", async () => {
    for (const n of ["a", "b", "c", "d", "e"]) {
      await createKey(n);
      t.clock.advance(1);
    }
    const page1 = await t.call("GET", "/v1/keys?limit=2");
    expect(page1.body.keys.map((k: any) => k.name)).toEqual(["a", "b"]);
    const page2 = await t.call("GET", `/v1/keys?limit=2&marker=${page1.body.nextMarker}`);
    expect(page2.body.keys.map((k: any) => k.name)).toEqual(["c", "d"]);
    const page3 = await t.call("GET", `/v1/keys?limit=2&marker=${page2.body.nextMarker}`);
    expect(page3.body.keys.map((k: any) => k.name)).toEqual(["e"]);
    expect(page3.body.nextMarker).toBeNull();

    const up = await t.call("PATCH", "/v1/keys/a", { description: "new", tags: { x: "1" }, rotationPeriodSeconds: 86400 });
    expect(up.body).toMatchObject({ description: "new", tags: { x: "1" }, rotationPeriodSeconds: 86400 });
    expect(Date.parse(up.body.nextRotationAt)).toBe(t.clock.now() + 86_400_000);
    const off = await t.call("PATCH", "/v1/keys/a", { rotationPeriodSeconds: null });
    expect(off.body).toMatchObject({ rotationPeriodSeconds: null, nextRotationAt: null });
  });
});

describe("envelope operations", () => {
  it("generates data keys (AES_256, AES_128, N bytes) whose wrapped form decrypts to the plaintext", async () => {
    await createKey("dk");
    for (const [request, length] of [
      [{ context: { file: "f1" } }, 32],
      [{ keySpec: "AES_128" }, 16],
      [{ numberOfBytes: 7, context: { file: "f7" } }, 7],
    ] as const) {
      const d = await t.call("POST", "/v1/keys/dk/generate-data-key", request);
      expect(d.status, JSON.stringify(request)).toBe(200);
      expect(Buffer.from(d.body.plaintext, "base64")).toHaveLength(length);
      const back = await decrypt(d.body.ciphertext, "context" in request ? request.context : undefined);
      expect([back.status, back.body.plaintext], JSON.stringify(request)).toEqual([200, d.body.plaintext]);
    }
    // Each data key is fresh.
    const keys = [];
    for (let i = 0; i < 64; i++) keys.push(Buffer.from((await t.call("POST", "/v1/keys/dk/generate-data-key", {})).body.plaintext, "base64"));
    expect(randomnessProblems(keys)).toEqual([]);
    const both = await t.call("POST", "/v1/keys/dk/generate-data-key", { numberOfBytes: 7, keySpec: "AES_128" });
    expect(both.body.error.code).toBe("InvalidInput");
    const wp = await t.call("POST", "/v1/keys/dk/generate-data-key-without-plaintext", {});
    expect(wp.body).not.toHaveProperty("plaintext");
    expect(Buffer.from((await decrypt(wp.body.ciphertext)).body.plaintext, "base64")).toHaveLength(32);
  });

  it("derived-mode keys require a context and bind it into the key", async () => {
    await createKey("per-vm", { derived: true });
    const none = await t.call("POST", "/v1/keys/per-vm/encrypt", { plaintext: b64("x") });
    expect(none.body.error).toMatchObject({ code: "InvalidInput", field: "/context" });
    const c = await encrypt("per-vm", "secret", { vm: "vm-1" });
    expect(unb64((await decrypt(c.ciphertext, { vm: "vm-1" })).body.plaintext)).toBe("secret");
    expect((await decrypt(c.ciphertext, { vm: "vm-2" })).body.error.code).toBe("InvalidCiphertext");
  });

  it("derives distinct, repeatable work keys per context and version", async () => {
    await createKey("root-of-work");
    const d = (context: Record<string, string>, extra = {}) => t.call("POST", "/v1/keys/root-of-work/derive", { context, ...extra });
    const a1 = await d({ vm: "a", purpose: "disk" });
    const a2 = await d({ purpose: "disk", vm: "a" });
    const b = await d({ vm: "b", purpose: "disk" });
    expect(a1.body.derivedKey).toBe(a2.body.derivedKey);
    expect(a1.body.derivedKey).not.toBe(b.body.derivedKey);
    expect(Buffer.from(a1.body.derivedKey, "base64")).toHaveLength(32);
    expect(Buffer.from((await d({ vm: "a" }, { length: 64 })).body.derivedKey, "base64")).toHaveLength(64);
    expect((await d({})).body.error).toMatchObject({ code: "InvalidInput", field: "/context" });
    await t.call("POST", "/v1/keys/root-of-work/rotate");
    const v2 = await d({ vm: "a", purpose: "disk" });
    expect(v2.body.keyVersion).toBe(2);
    expect(v2.body.derivedKey).not.toBe(a1.body.derivedKey);
    const pinned = await d({ vm: "a", purpose: "disk" }, { keyVersion: 1 });
    expect(pinned.body.derivedKey).toBe(a1.body.derivedKey);
  });

  it("generates random bytes", async () => {
    const r = await t.call("POST", "/v1/random", { numberOfBytes: 48 });
    expect(Buffer.from(r.body.plaintext, "base64")).toHaveLength(48);
    const draws = [];
    for (let i = 0; i < 64; i++) draws.push(Buffer.from((await t.call("POST", "/v1/random", { numberOfBytes: 32 })).body.plaintext, "base64"));
    expect(randomnessProblems(draws)).toEqual([]);
    expect((await t.call("POST", "/v1/random", { numberOfBytes: 0 })).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/random", { numberOfBytes: 1025 })).body.error.code).toBe("InvalidInput");
  });

  it("re-encrypts to another key with new context, and IncorrectKey when the named source key differs", async () => {
    const a = await createKey("src");
    const b = await createKey("dst");
    const c = await encrypt("src", "move me", { a: "1" });
    const re = await t.call("POST", "/v1/reencrypt", { ciphertext: c.ciphertext, sourceContext: { a: "1" }, destinationKeyId: "dst", destinationContext: { b: "2" } });
    expect(re.body).toMatchObject({ sourceKeyId: a.keyId, keyId: b.keyId });
    expect(unb64((await decrypt(re.body.ciphertext, { b: "2" })).body.plaintext)).toBe("move me");
    const wrong = await t.call("POST", "/v1/reencrypt", { ciphertext: c.ciphertext, sourceContext: { a: "1" }, sourceKeyId: "dst" });
    expect(wrong.body.error.code).toBe("IncorrectKey");
    const wrongDecrypt = await t.call("POST", "/v1/decrypt", { ciphertext: c.ciphertext, context: { a: "1" }, keyId: "dst" });
    expect(wrongDecrypt.body.error.code).toBe("IncorrectKey");
    const rightDecrypt = await t.call("POST", "/v1/decrypt", { ciphertext: c.ciphertext, context: { a: "1" }, keyId: a.keyId });
    expect(rightDecrypt.status).toBe(200);
  });

  it("batch encrypt/decrypt answer per item; one bad item does not fail the batch", async () => {
    await createKey("bk");
    const enc = await t.call("POST", "/v1/batch/encrypt", {
      items: [
        { keyId: "bk", plaintext: b64("one") },
        { keyId: "missing", plaintext: b64("two") },
        { keyId: "bk", plaintext: b64("three"), context: { n: "3" } },
      ],
    });
    expect(enc.status).toBe(200);
    expect(enc.body.results[1].error.code).toBe("NotFound");
    const dec = await t.call("POST", "/v1/batch/decrypt", {
      items: [
        { ciphertext: enc.body.results[0].ciphertext },
        { ciphertext: enc.body.results[2].ciphertext, context: { n: "wrong" } },
        { ciphertext: enc.body.results[2].ciphertext, context: { n: "3" } },
        { ciphertext: b64("garbage garbage garbage garbage garbage garbage garbage") },
      ],
    });
    expect(dec.body.results.map((r: any) => (r.error ? r.error.code : unb64(r.plaintext)))).toEqual(["one", "InvalidCiphertext", "three", "InvalidCiphertext"]);
    expect((await t.call("POST", "/v1/batch/encrypt", { items: [] })).body.error.code).toBe("InvalidInput");
  });
});

describe("tampered and malformed ciphertext is InvalidCiphertext, never a 500", () => {
  it("every single-byte flip, truncation and garbage", async () => {
    await createKey("tamper");
    const c = await encrypt("tamper", "attack at dawn", { k: "v" });
    const bytes = Buffer.from(c.ciphertext, "base64");
    for (let i = 0; i < bytes.length; i++) {
      const m = Buffer.from(bytes);
      m[i]! ^= 0x01;
      const r = await decrypt(m.toString("base64"), { k: "v" });
      expect([r.status, r.body.error.code], `byte ${i}`).toEqual([400, "InvalidCiphertext"]);
    }
    // Every prefix: inside the header, inside the 24-byte nonce, and short of the tag (v2's minimum is 63 bytes).
    for (const len of [0, 1, 2, 22, 23, 35, 46, 47, 50, 51, 62, 63, bytes.length - 1]) {
      const r = await decrypt(bytes.subarray(0, len).toString("base64"), { k: "v" });
      expect([r.status, r.body.error?.code], `length ${len}`).toEqual([400, "InvalidCiphertext"]);
    }
    // Garbage: random bytes, and random bytes behind this ciphertext's own header.
    for (const garbage of [randomBytes(bytes.length), Buffer.concat([bytes.subarray(0, 23), randomBytes(bytes.length - 23)])]) {
      const r = await decrypt(garbage.toString("base64"), { k: "v" });
      expect([r.status, r.body.error?.code]).toEqual([400, "InvalidCiphertext"]);
    }
    expect((await decrypt(c.ciphertext, { k: "w" })).body.error.code).toBe("InvalidCiphertext");
    expect((await decrypt(c.ciphertext)).body.error.code).toBe("InvalidCiphertext");
    expect((await decrypt(c.ciphertext, { k: "v", extra: "x" })).body.error.code).toBe("InvalidCiphertext");
    const notB64 = await decrypt("not base64!!", { k: "v" });
    expect(notB64.body.error).toMatchObject({ code: "InvalidInput", field: "/ciphertext" });
  });
});

describe("bad input is refused with a typed error and changes nothing", () => {
  it("validates bodies, names, sizes and states", async () => {
    await createKey("exists");
    const cases: [string, string, unknown, number, string, string?][] = [
      ["POST", "/v1/keys", { name: "exists" }, 409, "AlreadyExists"],
      ["POST", "/v1/keys", { name: "" }, 400, "InvalidInput", "/name"],
      ["POST", "/v1/keys", { name: "has space" }, 400, "InvalidInput", "/name"],
      ["POST", "/v1/keys", { name: "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11" }, 400, "InvalidInput", "/name"],
      ["POST", "/v1/keys", { name: "ok", surprise: true }, 400, "InvalidInput", "/surprise"],
      ["POST", "/v1/keys", { name: "ok", rotationPeriodSeconds: 60 }, 400, "InvalidInput", "/rotationPeriodSeconds"],
      ["POST", "/v1/keys", { name: "ok", keySpec: "DES" }, 400, "InvalidInput", "/keySpec"],
      ["POST", "/v1/keys", {}, 400, "InvalidInput", "/name"],
      ["POST", "/v1/keys/exists/encrypt", { plaintext: b64(Buffer.alloc(4097)) }, 413, "TooLarge", "/plaintext"],
      ["POST", "/v1/keys/exists/encrypt", { plaintext: 5 }, 400, "InvalidInput", "/plaintext"],
      ["POST", "/v1/keys/exists/encrypt", { plaintext: b64("x"), context: { "": "v" } }, 400, "InvalidInput"],
      ["POST", "/v1/keys/exists/encrypt", { plaintext: b64("x"), context: { k: 1 } }, 400, "InvalidInput"],
      ["POST", "/v1/keys/nope/encrypt", { plaintext: b64("x") }, 404, "NotFound"],
      ["POST", "/v1/keys/exists/min-decryption-version", { minDecryptionVersion: 2 }, 400, "InvalidInput", "/minDecryptionVersion"],
      ["POST", "/v1/keys/exists/min-decryption-version", { minDecryptionVersion: 0 }, 400, "InvalidInput", "/minDecryptionVersion"],
      ["POST", "/v1/keys/exists/versions/0/disable", undefined, 400, "InvalidInput", "/params/version"],
      ["GET", "/v1/keys?limit=abc", undefined, 400, "InvalidInput", "/querystring/limit"],
      ["GET", "/v1/keys?marker=nope", undefined, 400, "InvalidInput", "/marker"],
      ["POST", "/v1/sys/init", { shares: 1, threshold: 1 }, 409, "InvalidState"],
      ["GET", "/v1/nowhere", undefined, 404, "NotFound"],
    ];
    for (const [method, url, body, status, code, field] of cases) {
      const r = await t.call(method, url, body);
      expect([r.status, r.body.error.code], `${method} ${url} ${JSON.stringify(body)?.slice(0, 80)}`).toEqual([status, code]);
      if (field !== undefined) expect(r.body.error.field, url).toBe(field);
      expect(r.body.error.requestId).toBeTypeOf("string");
      expect(r.headers["x-request-id"], `${method} ${url}`).toBe(r.body.error.requestId);
    }
    const list = await t.call("GET", "/v1/keys");
    expect(list.body.keys.map((k: any) => k.name)).toEqual(["exists"]);
    expect((await t.call("GET", "/v1/keys/exists/versions")).body.versions).toHaveLength(1);
  });

  it("refuses non-JSON bodies and oversized requests", async () => {
    const res = await t.app.http.inject({ method: "POST", url: "/v1/keys", headers: { "x-tessera-token": t.rootToken, "content-type": "application/json" }, payload: "{nope" });
    expect(res.statusCode).toBe(400);
    expect(JSON.parse(res.body).error.code).toBe("InvalidInput");
    const text = await t.app.http.inject({ method: "POST", url: "/v1/keys", headers: { "x-tessera-token": t.rootToken, "content-type": "text/plain" }, payload: "name=x" });
    // Refused for its media type, with what to send, not read as a string the schema then refuses.
    expect([text.statusCode, JSON.parse(text.body).error.code, JSON.parse(text.body).error.message]).toEqual([400, "InvalidInput", "send JSON with Content-Type: application/json"]);
    const big = await t.app.http.inject({
      method: "POST",
      url: "/v1/keys",
      headers: { "x-tessera-token": t.rootToken, "content-type": "application/json" },
      payload: JSON.stringify({ name: "x", description: "a".repeat(2 * 1024 * 1024) }),
    });
    expect([big.statusCode, JSON.parse(big.body).error.code]).toEqual([413, "TooLarge"]);
  });
});

describe("tokens", () => {
  it("requires a token; accepts X-Tessera-Token and Authorization: Bearer", async () => {
    const none = await t.call("GET", "/v1/keys", undefined, null);
    expect([none.status, none.body.error.code]).toEqual([401, "Unauthenticated"]);
    const bad = await t.call("GET", "/v1/keys", undefined, "tsr_nope");
    expect(bad.body.error.code).toBe("Unauthenticated");
    const bearer = await t.app.http.inject({ method: "GET", url: "/v1/keys", headers: { authorization: `Bearer ${t.rootToken}` } });
    expect(bearer.statusCode).toBe(200);
  });

  it("grants limit a token to its actions and keys; tokens expire and can be revoked", async () => {
    await createKey("mine");
    await createKey("theirs");
    const c = await encrypt("mine", "hello");
    const made = await t.call("POST", "/v1/auth/tokens", {
      ttlSeconds: 600,
      displayName: "decryptor",
      grants: [{ actions: ["kms:Decrypt", "kms:DescribeKey"], resources: ["mine"] }],
    });
    expect(made.status).toBe(201);
    expect(made.body.token).toMatch(/^tsr_/);
    const tok = made.body.token as string;

    expect(unb64((await decrypt(c.ciphertext, undefined, tok)).body.plaintext)).toBe("hello");
    expect((await t.call("POST", "/v1/keys/mine/encrypt", { plaintext: b64("x") }, tok)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/keys/mine/rotate", undefined, tok)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/keys/theirs", undefined, tok)).body.error.code).toBe("AccessDenied");
    // A key that does not exist is indistinguishable from one the token may not see.
    expect((await t.call("GET", "/v1/keys/ghost", undefined, tok)).body.error.code).toBe("AccessDenied");
    const theirs = await encrypt("theirs", "nope");
    expect((await decrypt(theirs.ciphertext, undefined, tok)).body.error.code).toBe("AccessDenied");
    expect((await t.call("GET", "/v1/keys", undefined, tok)).body.error.code).toBe("AccessDenied");

    // A token cannot mint a token with more than it holds.
    expect((await t.call("POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Decrypt"], resources: ["mine"] }] }, tok)).body.error.code).toBe("AccessDenied");

    const self = await t.call("GET", "/v1/auth/tokens/self", undefined, tok);
    expect(self.body).toMatchObject({ displayName: "decryptor", root: false, accessor: made.body.accessor });
    expect(JSON.stringify(self.body)).not.toContain(tok);
    const looked = await t.call("POST", "/v1/auth/tokens/lookup", { accessor: made.body.accessor });
    expect(looked.body.grants).toEqual([{ actions: ["kms:Decrypt", "kms:DescribeKey"], resources: ["mine"] }]);

    t.clock.advance(601_000);
    expect((await decrypt(c.ciphertext, undefined, tok)).body.error.code).toBe("Unauthenticated");
  });

  it("revokes at once, by token or accessor, and a token may revoke itself", async () => {
    const a = (await t.call("POST", "/v1/auth/tokens", { grants: [] })).body;
    const b = (await t.call("POST", "/v1/auth/tokens", { grants: [] })).body;
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, a.token)).status).toBe(200);
    expect((await t.call("POST", "/v1/auth/tokens/revoke", { accessor: b.accessor }, a.token)).body.error.code).toBe("AccessDenied");
    expect((await t.call("POST", "/v1/auth/tokens/revoke", { token: a.token }, a.token)).status).toBe(204);
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, a.token)).body.error.code).toBe("Unauthenticated");
    expect((await t.call("POST", "/v1/auth/tokens/revoke", { accessor: b.accessor })).status).toBe(204);
    expect((await t.call("GET", "/v1/auth/tokens/self", undefined, b.token)).body.error.code).toBe("Unauthenticated");
    expect((await t.call("POST", "/v1/auth/tokens/revoke", { accessor: b.accessor })).body.error.code).toBe("NotFound");
  });
});

describe("seal", () => {
  it("seals, refuses key operations with Sealed (503), keeps health honest, and unseals with the share", async () => {
    await createKey("sealed-key");
    const c = await encrypt("sealed-key", "still here");
    expect((await t.call("POST", "/v1/sys/seal")).body.sealed).toBe(true);
    const health = await t.call("GET", "/v1/sys/health", undefined, null);
    expect([health.status, health.body.sealed]).toEqual([503, true]);
    for (const [m, u, b] of [
      ["POST", "/v1/keys/sealed-key/encrypt", { plaintext: b64("x") }],
      ["POST", "/v1/decrypt", { ciphertext: c.ciphertext }],
      ["GET", "/v1/keys", undefined],
      ["POST", "/v1/keys", { name: "new" }],
    ] as const) {
      const r = await t.call(m, u, b);
      expect([r.status, r.body.error.code], u).toEqual([503, "Sealed"]);
    }
    await t.unseal();
    expect((await t.call("GET", "/v1/sys/health", undefined, null)).status).toBe(200);
    expect(unb64((await decrypt(c.ciphertext)).body.plaintext)).toBe("still here");
  });
});

describe("restart with 3-of-5 shares", () => {
  it("comes back sealed, rejects wrong shares without damage, and unseals with any 3 shares", async () => {
    await t.close();
    t = await startTestApp({ shares: 5, threshold: 3 });
    await createKey("durable");
    const c = await encrypt("durable", "survives restarts");
    await t.call("POST", "/v1/keys/durable/rotate");

    await t.restart();
    const status = await t.call("GET", "/v1/sys/seal-status", undefined, null);
    expect(status.body).toMatchObject({ initialized: true, sealed: true, threshold: 3, shares: 5, progress: 0 });
    expect((await decrypt(c.ciphertext)).body.error.code).toBe("Sealed");

    // Two right shares and one from another Tessera: rejected, progress reset.
    const other = await startTestApp({ shares: 5, threshold: 3 });
    const foreign = other.shares[0]!;
    await other.close();
    expect((await t.call("POST", "/v1/sys/unseal", { share: t.shares[0] }, null)).body.progress).toBe(1);
    expect((await t.call("POST", "/v1/sys/unseal", { share: t.shares[0] }, null)).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/sys/unseal", { share: t.shares[1] }, null)).body.progress).toBe(2);
    const wrong = await t.call("POST", "/v1/sys/unseal", { share: foreign }, null);
    expect(wrong.body.error.code).toBe("InvalidUnsealKey");
    expect((await t.call("GET", "/v1/sys/seal-status", undefined, null)).body).toMatchObject({ sealed: true, progress: 0 });
    expect((await t.call("POST", "/v1/sys/unseal", { share: "bm90IGEgc2hhcmU=" }, null)).body.error.code).toBe("InvalidInput");
    expect((await t.call("POST", "/v1/sys/unseal", { reset: true }, null)).body.progress).toBe(0);

    for (const s of [t.shares[4], t.shares[2], t.shares[1]]) await t.call("POST", "/v1/sys/unseal", { share: s }, null);
    expect((await t.call("GET", "/v1/sys/seal-status", undefined, null)).body.sealed).toBe(false);
    expect(unb64((await decrypt(c.ciphertext)).body.plaintext)).toBe("survives restarts");
    expect((await t.call("GET", "/v1/keys/durable")).body.primaryVersion).toBe(2);
  });
});

describe("request ids", () => {
  it("every answer carries X-Request-Id, the requestId of its audit record", async () => {
    await createKey("rid");
    const enc = await t.call("POST", "/v1/keys/rid/encrypt", { plaintext: b64("x") });
    expect(enc.status).toBe(200);
    const id = enc.headers["x-request-id"];
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const denied = await t.call("POST", "/v1/keys/rid/encrypt", { plaintext: b64("x") }, "tsr_not-a-token");
    expect(denied.status).toBe(401);
    expect(denied.headers["x-request-id"]).toBe(denied.body.error.requestId);
    // Refused by the framework before any route handler ran (not JSON).
    const garbled = await t.app.http.inject({ method: "POST", url: "/v1/keys/rid/encrypt", headers: { "content-type": "application/json", "x-tessera-token": t.rootToken }, payload: "{" });
    expect(garbled.statusCode).toBe(400);
    expect(garbled.headers["x-request-id"]).toBe(JSON.parse(garbled.body).error.requestId);
    const records = (await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as { requestId: string; action: string; outcome: string }[];
    expect(records.find((r) => r.requestId === id)).toMatchObject({ action: "kms:Encrypt", outcome: "allowed" });
    expect(records.find((r) => r.requestId === denied.headers["x-request-id"])).toMatchObject({ outcome: "denied" });
    expect(records.find((r) => r.requestId === garbled.headers["x-request-id"])).toMatchObject({ action: "api:Rejected" });
    const list = await t.call("GET", "/v1/keys");
    expect(list.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    expect(list.headers["x-request-id"]).not.toBe(id);

    // Querying by a request id finds that request's records only, and a Vault batch's items under it.
    const byId = await t.call("GET", `/v1/audit/entries?requestId=${id}`);
    expect(byId.body.records.map((r: { requestId: string }) => r.requestId)).toEqual([id]);
    const batch = await t.app.http.inject({
      method: "POST",
      url: "/v1/transit/encrypt/rid",
      headers: { "content-type": "application/json", "x-vault-token": t.rootToken },
      payload: JSON.stringify({ batch_input: [{ plaintext: b64("a") }, { plaintext: b64("b") }] }),
    });
    expect(batch.statusCode, batch.body).toBe(200);
    const vaultId = JSON.parse(batch.body).request_id as string;
    const items = await t.call("GET", `/v1/audit/entries?requestId=${vaultId}`);
    expect(items.body.records.map((r: { requestId: string; action: string }) => [r.requestId, r.action])).toEqual([
      [`${vaultId}/0`, "kms:Encrypt"],
      [`${vaultId}/1`, "kms:Encrypt"],
    ]);
    expect((await t.call("GET", `/v1/audit/entries?requestId=${"x".repeat(129)}`)).status).toBe(400);
  });
});

describe("base64 fields", () => {
  it("take standard, padded, canonical base64 only — one spelling for each byte string — and say so", async () => {
    await createKey("b64");
    const refused: [string, Record<string, unknown>, string][] = [
      ["/v1/keys/b64/encrypt", { plaintext: "aGVsbG9=" }, "/plaintext"], // non-zero padding bits: "hello" spelt another way
      ["/v1/keys/b64/encrypt", { plaintext: "aGVsbG8" }, "/plaintext"], // unpadded
      ["/v1/keys/b64/encrypt", { plaintext: "aGk-" }, "/plaintext"], // base64url
      ["/v1/keys/b64/encrypt", { plaintext: "aGVs bG8=" }, "/plaintext"], // whitespace
      ["/v1/decrypt", { ciphertext: "QR==" }, "/ciphertext"],
    ];
    for (const [url, body, field] of refused) {
      const r = await t.call("POST", url, body);
      expect([r.status, r.body.error], JSON.stringify(body)).toEqual([400, expect.objectContaining({ code: "InvalidInput", field, message: `${field} must be standard base64 (RFC 4648 §4: padded, canonical)` })]);
    }
    // The canonical spelling of the same bytes is accepted.
    expect((await t.call("POST", "/v1/keys/b64/encrypt", { plaintext: "aGVsbG8=" })).status).toBe(200);
    // The refused never reached the key: the one accepted Encrypt is the trail's only kms:Encrypt.
    const records = (await t.call("GET", "/v1/audit/entries?action=kms:Encrypt&limit=1000")).body.records as { outcome: string }[];
    expect(records.map((r) => r.outcome)).toEqual(["allowed"]);
  });
});
