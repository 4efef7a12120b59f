/**
 * Finding 10 of the trust review: destroying a key set its versions' sealed material to NULL, but
 * SQLite left the old bytes behind — in the freed space of the page (no `secure_delete`) and in the
 * write-ahead log's older frames (no checkpoint) — so a copy of the database files taken after the
 * destruction still held the "destroyed" material. Now every connection runs with
 * `secure_delete = ON`, and the destroy job resets the WAL (checkpoint TRUNCATE) once it has destroyed
 * something: after the job, neither the database file nor the WAL holds any part of the material.
 * (Without secure_delete the first test finds the material in the database file; without the
 * checkpoint, in the WAL.)
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { afterEach, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

const DAY = 86_400_000;
/** Every sealed record (61 bytes: version byte, random nonce, ciphertext, tag) is matched by its 16-byte windows. */
const WINDOW = 16;

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

/** The sealed material of each version of a key, read through a second, read-only connection. */
function sealedMaterial(path: string, keyId: string): Buffer[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const rows = db.prepare("SELECT material FROM key_versions WHERE key_id = ? ORDER BY version").all(keyId) as unknown as { material: Uint8Array | null }[];
    return rows.map((r) => (r.material === null ? Buffer.alloc(0) : Buffer.from(r.material)));
  } finally {
    db.close();
  }
}

/** The raw bytes of the database file and its write-ahead log, as a copy or a disk image would have them. */
function rawFiles(path: string): { name: string; bytes: Buffer }[] {
  return [path, `${path}-wal`].filter((p) => existsSync(p)).map((p) => ({ name: p.slice(p.lastIndexOf("/") + 1), bytes: readFileSync(p) }));
}

/** Which files hold any 16-byte window of `secret`. */
function filesHolding(path: string, secret: Buffer): string[] {
  const windows = Array.from({ length: secret.length - WINDOW + 1 }, (_, i) => secret.subarray(i, i + WINDOW));
  return rawFiles(path)
    .filter((f) => windows.some((w) => f.bytes.includes(w)))
    .map((f) => f.name);
}

describe("a destroyed key's material", () => {
  it("survives neither in the database file nor in the WAL once the destroy job has run", async () => {
    t = await startTestApp();
    const path = join(t.dir, "tessera.db");
    const keyId = (await t.call("POST", "/v1/keys", { name: "doomed" })).body.keyId as string;
    const keep = (await t.call("POST", "/v1/keys", { name: "kept" })).body.keyId as string;
    // Use, as any key is used: flushing its usage counters rewrites the version's row (longer), and
    // without secure_delete the row's old copy stays in the page's free space, material and all.
    const use = async () => {
      expect((await t!.call("POST", "/v1/keys/doomed/encrypt", { plaintext: b64("card 4111") })).status).toBe(200);
      await t!.app.scheduler.runOnce("usage");
    };
    await use();
    // A second version, so more than one record has to go.
    expect((await t.call("POST", "/v1/keys/doomed/rotate")).status).toBe(200);
    await use();

    const material = sealedMaterial(path, keyId);
    expect(material.map((m) => m.length)).toEqual([61, 61]);
    const kept = sealedMaterial(path, keep)[0]!;
    // The scan finds what is there: before destruction both records are in the files.
    for (const m of material) expect(filesHolding(path, m)).not.toEqual([]);

    expect((await t.call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 })).status).toBe(200);
    t.clock.advance(8 * DAY);
    expect(await t.app.jobs.destroyDue()).toEqual([keyId]);

    expect(sealedMaterial(path, keyId).map((m) => m.length)).toEqual([0, 0]);
    // Read while the server still runs: closing the last connection would checkpoint on its own.
    for (const m of material) expect(filesHolding(path, m)).toEqual([]);
    // Only the destroyed key's material is gone.
    expect(filesHolding(path, kept)).not.toEqual([]);
    expect((await t.call("POST", "/v1/keys/kept/encrypt", { plaintext: b64("still here") })).status).toBe(200);
  });

  it("is erased by a later run when a reader kept the WAL from being reset", async () => {
    t = await startTestApp();
    const path = join(t.dir, "tessera.db");
    const keyId = (await t.call("POST", "/v1/keys", { name: "doomed" })).body.keyId as string;
    const [material] = sealedMaterial(path, keyId);
    expect((await t.call("POST", "/v1/keys/doomed/schedule-deletion", { pendingWindowDays: 7 })).status).toBe(200);
    t.clock.advance(8 * DAY);

    // A backup tool or a second process reading the database holds a snapshot across the job.
    const reader = new DatabaseSync(path, { readOnly: true });
    try {
      reader.exec("BEGIN");
      reader.prepare("SELECT count(*) FROM key_versions").get();
      expect(await t.app.jobs.destroyDue()).toEqual([keyId]);
      expect(filesHolding(path, material!)).toEqual(["tessera.db-wal"]);
      reader.exec("COMMIT");
    } finally {
      reader.close();
    }
    // Nothing else is due, but the erasure still owed is done now.
    expect(await t.app.jobs.destroyDue()).toEqual([]);
    expect(filesHolding(path, material!)).toEqual([]);
  });
});
