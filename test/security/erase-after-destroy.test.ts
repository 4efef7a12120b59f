/**
 * Every path that destroys material — trimming a key's versions, deleting imported material,
 * retention's destruction of an old version, destroying a secret's versions — erases it from the
 * store's files, not just the destroy job: and when that erase cannot finish at once (a reader holds
 * the write-ahead log) or fails, the erase stays owed and the destroy job's next run does it, even
 * though that run destroys nothing itself (store/eraser.ts). Before, these paths erased once and
 * forgot a refusal, so destroyed material stayed in the WAL until some later destruction by the job.
 */
import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { TesseraError } from "@tessera/protocol";
import type { SqliteStore, Store } from "@tessera/server";
import { afterEach, describe, expect, it } from "vitest";
import { b64, startTestApp, type TestApp } from "../helpers/app.js";

const DAY = 86_400_000;
/** Every sealed record is matched by its 16-byte windows. */
const WINDOW = 16;

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const dbPath = (app: TestApp) => join(app.dir, "tessera.db");

/** One column of one row, read through a second, read-only connection. */
function stored(path: string, sql: string, ...args: (string | number)[]): Buffer {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    const row = db.prepare(sql).get(...args) as { v: Uint8Array | null } | undefined;
    return row?.v == null ? Buffer.alloc(0) : Buffer.from(row.v);
  } finally {
    db.close();
  }
}

const keyMaterial = (app: TestApp, name: string, version: number) =>
  stored(dbPath(app), "SELECT v.material AS v FROM key_versions v JOIN keys k ON k.id = v.key_id WHERE k.name = ? AND v.version = ?", name, version);
const metaDoc = (app: TestApp, name: string) => stored(dbPath(app), "SELECT CAST(value AS BLOB) AS v FROM meta WHERE name = ?", name).toString("utf8");
const secretSealed = (app: TestApp, path: string, version: number) =>
  stored(dbPath(app), "SELECT sealed AS v FROM secret_versions WHERE mount = 'secret' AND path = ? AND version = ?", path, version);

/** Which of the database file and its WAL hold any 16-byte window of `secret` (read while the server runs). */
function filesHolding(app: TestApp, secret: Buffer): string[] {
  const path = dbPath(app);
  const windows = Array.from({ length: secret.length - WINDOW + 1 }, (_, i) => secret.subarray(i, i + WINDOW));
  return [path, `${path}-wal`]
    .filter((p) => existsSync(p) && windows.some((w) => readFileSync(p).includes(w)))
    .map((p) => p.slice(p.lastIndexOf("/") + 1));
}

/** A backup tool or a second process in a read transaction: the store cannot reset its WAL meanwhile. */
function holdReader(app: TestApp): () => void {
  const reader = new DatabaseSync(dbPath(app), { readOnly: true });
  reader.exec("BEGIN");
  reader.prepare("SELECT count(*) FROM key_versions").get();
  return () => {
    reader.exec("COMMIT");
    reader.close();
  };
}

/** Waits for the catch-up run that unsealing started, so no background erase runs during a test. */
async function settled(app: TestApp): Promise<void> {
  await app.app.scheduler.runOnce("rotate");
  await app.app.scheduler.runOnce("destroy");
}

interface Path {
  name: string;
  /** Creates what will be destroyed; returns its sealed bytes as stored. */
  setup(app: TestApp): Promise<Buffer[]>;
  /** Destroys it (a request, or retention's run). */
  destroy(app: TestApp): Promise<void>;
}

const paths: Path[] = [
  {
    name: "trimming a key's old versions",
    async setup(app) {
      expect((await app.call("POST", "/v1/keys", { name: "trimmed" })).status).toBe(201);
      expect((await app.call("POST", "/v1/keys/trimmed/rotate")).status).toBe(200);
      expect((await app.call("POST", "/v1/keys/trimmed/min-decryption-version", { minDecryptionVersion: 2 })).status).toBe(200);
      return [keyMaterial(app, "trimmed", 1)];
    },
    async destroy(app) {
      expect((await app.call("POST", "/v1/keys/trimmed/trim", { minAvailableVersion: 2 })).status).toBe(200);
      expect(keyMaterial(app, "trimmed", 1).length).toBe(0);
    },
  },
  {
    name: "deleting imported key material",
    async setup(app) {
      expect((await app.call("POST", "/v1/keys", { name: "byok", origin: "EXTERNAL" })).status).toBe(201);
      const params = (await app.call("POST", "/v1/keys/byok/import-parameters", { wrappingAlgorithm: "RSAES_OAEP_SHA_256", wrappingKeySpec: "RSA_3072" })).body;
      const wrappingKey = createPublicKey({ key: Buffer.from(params.publicKey, "base64"), format: "der", type: "spki" });
      const encryptedKeyMaterial = publicEncrypt({ key: wrappingKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" }, randomBytes(32)).toString("base64");
      expect((await app.call("POST", "/v1/keys/byok/import", { importToken: params.importToken, encryptedKeyMaterial })).status).toBe(200);
      return [keyMaterial(app, "byok", 1)];
    },
    async destroy(app) {
      expect((await app.call("POST", "/v1/keys/byok/delete-imported-material")).status).toBe(200);
      expect(keyMaterial(app, "byok", 1).length).toBe(0);
    },
  },
  {
    name: "retention destroying an old version",
    async setup(app) {
      expect((await app.call("POST", "/v1/keys", { name: "payment" })).status).toBe(201);
      expect((await app.call("POST", "/v1/keys/payment/rotate")).status).toBe(200);
      expect((await app.call("PUT", "/v1/keys/payment/retention", { disableAfterSeconds: 86_400, destroyAfterSeconds: 86_400, keepAtLeast: 1 })).status).toBe(200);
      app.clock.advance(2 * DAY);
      expect((await app.app.retention.runDue()).disabled).toEqual(["payment/v1"]);
      app.clock.advance(2 * DAY);
      return [keyMaterial(app, "payment", 1)];
    },
    async destroy(app) {
      expect((await app.app.retention.runDue()).destroyed).toEqual(["payment/v1"]);
      expect(keyMaterial(app, "payment", 1).length).toBe(0);
    },
  },
  {
    name: "destroying a secret's version",
    async setup(app) {
      expect((await app.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "s3cret-1" } })).status).toBe(200);
      expect((await app.call("PUT", "/v1/secrets/secret/data/payments/db", { data: { password: "s3cret-2" } })).status).toBe(200);
      return [secretSealed(app, "payments/db", 1)];
    },
    async destroy(app) {
      expect((await app.call("POST", "/v1/secrets/secret/destroy/payments/db", { versions: [1] })).body.versions).toEqual([1]);
      expect(secretSealed(app, "payments/db", 1).length).toBe(0);
    },
  },
  {
    name: "deleting an access key (its sealed secret)",
    async setup(app) {
      expect((await app.call("PUT", "/v1/roles/batch", { policies: [] })).status).toBe(200);
      const created = await app.call("POST", "/v1/auth/access-keys", { role: "batch" });
      expect(created.status).toBe(201);
      return [stored(dbPath(app), "SELECT secret AS v FROM access_keys WHERE id = ?", created.body.accessKeyId as string)];
    },
    async destroy(app) {
      const [key] = (await app.call("GET", "/v1/auth/access-keys")).body.accessKeys as { accessKeyId: string }[];
      expect((await app.call("DELETE", `/v1/auth/access-keys/${key!.accessKeyId}`)).status).toBe(204);
      expect((await app.call("GET", "/v1/auth/access-keys")).body.accessKeys).toEqual([]);
    },
  },
];

describe("material destroyed outside the destroy job", () => {
  for (const path of paths) {
    it(`${path.name}: erased by the destroy job's next run when a reader kept the first erase from finishing`, async () => {
      t = await startTestApp();
      await settled(t);
      const doomed = await path.setup(t);
      expect(doomed.map((m) => m.length > 0)).toEqual(doomed.map(() => true));
      const release = holdReader(t);
      try {
        await path.destroy(t);
      } finally {
        release();
      }
      // The erase right after the destruction could not finish, and nothing has erased since.
      expect(doomed.filter((m) => filesHolding(t!, m).length > 0)).toEqual(doomed);
      // The job destroys nothing itself now, but erases what is owed.
      expect(await t.app.jobs.destroyDue()).toEqual([]);
      expect(doomed.flatMap((m) => filesHolding(t!, m))).toEqual([]);
    });
  }

  it("a destruction right away erases, with no job run (a single-node server)", async () => {
    t = await startTestApp();
    await settled(t);
    const [doomed] = await paths[0]!.setup(t);
    await paths[0]!.destroy(t);
    expect(filesHolding(t, doomed!)).toEqual([]);
  });
});

describe("an erase that throws", () => {
  it("fails no request whose destruction committed, and is retried by the destroy job", async () => {
    let failing = false;
    const wrap = (inner: SqliteStore): Store =>
      new Proxy(inner, {
        get(target, prop) {
          if (prop === "eraseDeleted" && failing) return () => Promise.reject(new TesseraError("Unavailable", "the disk is busy"));
          const v = Reflect.get(target, prop, target) as unknown;
          return typeof v === "function" ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      });
    t = await startTestApp({ wrapStore: wrap });
    await settled(t);
    const trimmed = (await paths[0]!.setup(t))[0]!;
    const secret = (await paths[3]!.setup(t))[0]!;
    failing = true;
    // Each answers as it would have (and checks that its destruction committed).
    await paths[0]!.destroy(t);
    await paths[3]!.destroy(t);
    // The run fails while the store still throws (the scheduler logs it); what is owed stays owed.
    await expect(t.app.jobs.destroyDue()).rejects.toMatchObject({ code: "Unavailable" });
    expect(filesHolding(t, trimmed)).not.toEqual([]);
    expect(filesHolding(t, secret)).not.toEqual([]);

    failing = false;
    expect(await t.app.jobs.destroyDue()).toEqual([]);
    expect(filesHolding(t, trimmed)).toEqual([]);
    expect(filesHolding(t, secret)).toEqual([]);
  });
});

describe("what is owed, in the store", () => {
  it("is recorded for the lease holder of any node, and marked done once erased", async () => {
    t = await startTestApp();
    await settled(t);
    const [doomed] = await paths[3]!.setup(t);
    const release = holdReader(t);
    try {
      await paths[3]!.destroy(t);
    } finally {
      release();
    }
    expect(filesHolding(t, doomed!)).not.toEqual([]);
    const owed = metaDoc(t, "erase-requested");
    expect(owed).not.toBe("");
    expect(metaDoc(t, "erase-done")).not.toBe(owed);
    expect(await t.app.jobs.destroyDue()).toEqual([]);
    expect(metaDoc(t, "erase-done")).toBe(owed);
  });
});
