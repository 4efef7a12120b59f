/**
 * KV v2's `subkeys` (secrets:ReadSubkeys: structure without values), several KV mounts through the
 * Vault API, and Vault's mount table (`sys/mounts`, `sys/internal/ui/mounts/…`) in process (inject);
 * then Debian's python3-hvac, unchanged, against the same over a real socket (`mount_point`).
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { systemClock } from "@tessera/server";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { startListening, type ListeningApp } from "../helpers/raw-http.js";

let t: TestApp;

async function vault(method: string, path: string, body?: unknown, token: string | null = t.rootToken) {
  const res = await t.app.http.inject({
    method: method as "GET",
    url: `/v1/${path}`,
    headers: { ...(token !== null && { "x-vault-token": token }), "x-vault-request": "true" },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: res.body.length > 0 ? JSON.parse(res.body) : undefined };
}

async function tokenFor(name: string, statements: unknown[]): Promise<string> {
  expect((await t.call("PUT", `/v1/policies/${name}`, { statements })).status).toBe(200);
  expect((await t.call("PUT", `/v1/roles/${name}`, { policies: [name], tokenTtlSeconds: 900 })).status).toBe(200);
  return (await t.app.tokens.issue({ kind: "vm", displayName: name, role: name, authMethod: "cert", attributes: {}, source: "127.0.0.1", subject: null, ttlSeconds: 900 })).token;
}

const records = async () => (await t.call("GET", "/v1/audit/entries?limit=1000")).body.records as { action: string; outcome: string; principal?: { id: string } }[];

const doc = { user: "orders", password: "first", db: { host: "db1", port: 5432, tls: { ca: "pem" } }, tags: ["a"] };

beforeAll(async () => {
  t = await startTestApp({ vault: { kvMounts: ["secret", "team"] } });
  expect((await vault("POST", "secret/data/app/db", { data: doc })).status).toBe(200);
  expect((await vault("POST", "secret/data/app/db", { data: { user: "orders", password: "second" } })).status).toBe(200);
});
afterAll(async () => t.close());

describe("KV v2 subkeys", () => {
  it("answers the current version's keys with every value null, and its metadata", async () => {
    const r = await vault("GET", "secret/subkeys/app/db");
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({
      subkeys: { user: null, password: null },
      metadata: { created_time: expect.any(String), custom_metadata: null, deletion_time: "", destroyed: false, version: 2 },
    });
  });

  it("reads a named version to the given depth (0: every level)", async () => {
    expect((await vault("GET", "secret/subkeys/app/db?version=1")).body.data.subkeys).toEqual({ user: null, password: null, db: { host: null, port: null, tls: { ca: null } }, tags: null });
    expect((await vault("GET", "secret/subkeys/app/db?version=1&depth=2")).body.data.subkeys).toEqual({ user: null, password: null, db: { host: null, port: null, tls: null }, tags: null });
    expect((await vault("GET", "secret/subkeys/app/db?version=1&depth=1")).body.data.subkeys).toEqual({ user: null, password: null, db: null, tags: null });
  });

  it("refuses a bad depth or version with 400 and a missing path or version with 404", async () => {
    for (const q of ["depth=-1", "depth=x", "version=-2", "version=1.5"]) {
      const r = await vault("GET", `secret/subkeys/app/db?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body.errors[0], q).toMatch(/must be (a non-negative )?(an )?integer/);
    }
    expect(await vault("GET", "secret/subkeys/app/none")).toEqual({ status: 404, body: { errors: [] } });
    expect(await vault("GET", "secret/subkeys/app/db?version=9")).toEqual({ status: 404, body: { errors: [] } });
  });

  it("answers a deleted version 404 with subkeys null and its metadata, as Vault", async () => {
    expect((await vault("POST", "secret/data/gone", { data: { a: "1" } })).status).toBe(200);
    expect((await vault("DELETE", "secret/data/gone")).status).toBe(204);
    const r = await vault("GET", "secret/subkeys/gone");
    expect(r.status).toBe(404);
    expect(r.body.data).toMatchObject({ subkeys: null, metadata: { version: 1, destroyed: false } });
    expect(r.body.data.metadata.deletion_time).toMatch(/^20/);
  });

  it("is its own action: a principal allowed only secrets:ReadSubkeys learns the keys, never the values", async () => {
    const token = await tokenFor("subkeys-only", [{ effect: "allow", actions: ["secrets:ReadSubkeys"], resources: ["secret/secret/app/*"] }]);
    const r = await vault("GET", "secret/subkeys/app/db", undefined, token);
    expect(r.status).toBe(200);
    expect(JSON.stringify(r.body)).not.toMatch(/orders|second/);
    expect((await vault("GET", "secret/data/app/db", undefined, token)).status).toBe(403);
    const reader = await tokenFor("reader-only", [{ effect: "allow", actions: ["secrets:Read"], resources: ["secret/secret/app/*"] }]);
    expect((await vault("GET", "secret/subkeys/app/db", undefined, reader)).status).toBe(403);
    const audited = await records();
    expect(audited.some((x) => x.action === "secrets:ReadSubkeys" && x.outcome === "allowed")).toBe(true);
    expect(audited.some((x) => x.action === "secrets:ReadSubkeys" && x.outcome === "denied")).toBe(true);
  });

  it("records no read of the values (the version's read count counts value reads)", async () => {
    expect((await vault("POST", "secret/data/counted", { data: { a: "1" } })).status).toBe(200);
    await vault("GET", "secret/subkeys/counted");
    const m = await t.call("GET", "/v1/secrets/secret/metadata/counted");
    expect(m.body.versions[0].readCount).toBe(0);
  });
});

describe("several KV mounts", () => {
  it("serves each configured mount on the secrets mount of the same name, kept apart", async () => {
    expect((await vault("POST", "team/data/app/db", { data: { password: "team" } })).status).toBe(200);
    expect((await vault("GET", "team/data/app/db")).body.data.data).toEqual({ password: "team" });
    expect((await vault("GET", "secret/data/app/db")).body.data.data.password).toBe("second");
    expect((await t.call("GET", "/v1/secrets/team/data/app/db")).body.data).toEqual({ password: "team" });
    expect((await vault("GET", "team/config")).body.data.max_versions).toBeGreaterThan(0);
  });

  it("answers a mount that is not configured with Vault's 404 (after the token check), audited", async () => {
    expect(await vault("GET", "other/data/app/db")).toEqual({ status: 404, body: { errors: ['no handler for route "other/data/app/db". route entry not found.'] } });
    expect((await vault("POST", "other/data/app/db", { data: {} }, "not-a-token")).status).toBe(403);
    // Without Vault's headers it is the native API's 404.
    const native = await t.call("GET", "/v1/other/data/app/db");
    expect(native.status).toBe(404);
    expect(native.body.error.code).toBe("NotFound");
  });

  it("authorises each mount on its own resources", async () => {
    const token = await tokenFor("team-reader", [{ effect: "allow", actions: ["secrets:Read"], resources: ["secret/team/*"] }]);
    expect((await vault("GET", "team/data/app/db", undefined, token)).status).toBe(200);
    expect((await vault("GET", "secret/data/app/db", undefined, token)).status).toBe(403);
  });
});

describe("the mount table", () => {
  it("lists the transit and KV mounts in Vault's shape, to a caller allowed sys:ReadMounts", async () => {
    const r = await vault("GET", "sys/mounts");
    expect(r.status).toBe(200);
    expect(Object.keys(r.body.data).sort()).toEqual(["secret/", "team/", "transit/"]);
    expect(r.body.data["team/"]).toMatchObject({ type: "kv", options: { version: "2" }, accessor: "kv_team", local: false, seal_wrap: false });
    expect(r.body.data["transit/"]).toMatchObject({ type: "transit", options: null });
    const token = await tokenFor("no-sys", [{ effect: "allow", actions: ["secrets:Read"], resources: ["secret/team/*"] }]);
    expect((await vault("GET", "sys/mounts", undefined, token)).status).toBe(403);
    const sys = await tokenFor("mount-reader", [{ effect: "allow", actions: ["sys:ReadMounts"], resources: ["sys"] }]);
    expect((await vault("GET", "sys/mounts", undefined, sys)).status).toBe(200);
  });

  it("tells any valid token the type and KV version of the mount a path lies under, as the vault CLI asks", async () => {
    const token = await tokenFor("ui-mounts", [{ effect: "allow", actions: ["secrets:Read"], resources: ["secret/team/*"] }]);
    const r = await vault("GET", "sys/internal/ui/mounts/team/app/db", undefined, token);
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ path: "team/", type: "kv", options: { version: "2" } });
    expect((await vault("GET", "sys/internal/ui/mounts/transit/keys/x", undefined, token)).body.data).toMatchObject({ path: "transit/", type: "transit" });
    expect((await vault("GET", "sys/internal/ui/mounts/team", undefined, null)).status).toBe(403);
  });

  it("answers an unknown mount 403 as Vault does (the path cannot be used to list mounts), audited", async () => {
    const r = await vault("GET", "sys/internal/ui/mounts/nope/x");
    expect(r.status).toBe(403);
    expect(r.body.errors[0]).toContain("preflight capability check returned 403");
    const audited = await records();
    expect(audited.some((x) => x.action === "api:Rejected")).toBe(true);
  });

  it("is for Vault clients only: the native API's sys paths are unchanged", async () => {
    const native = await t.call("GET", "/v1/sys/mounts");
    expect(native.status).toBe(404);
    expect(native.body.error.code).toBe("NotFound");
  });
});

describe("python3-hvac with two KV mounts", () => {
  let server: ListeningApp;
  let out: Record<string, any>;
  const SCRIPT = fileURLToPath(new URL("./vault/hvac_kv_mounts.py", import.meta.url));

  beforeAll(async () => {
    server = await startListening(systemClock, { vault: { kvMounts: ["secret", "team"] } });
    // In-process server: hvac must run asynchronously so the event loop keeps answering it.
    const { stdout } = await promisify(execFile)("/usr/bin/python3", [SCRIPT, server.endpoint, server.root], { encoding: "utf8", timeout: 60_000 });
    out = JSON.parse(stdout);
  }, 90_000);
  afterAll(async () => server?.close());

  it("writes and reads each mount through mount_point, kept apart", () => {
    expect(out["put_secret"].data.version).toBe(1);
    expect(out["put_team"].data.version).toBe(1);
    expect(out["read_secret"].data.data).toEqual({ password: "one" });
    expect(out["read_team"].data.data).toEqual({ password: "two", db: { host: "h" } });
    expect(out["list_team"].data.keys).toEqual(["db"]);
    expect(out["read_other"].exception).toBe("InvalidPath");
  });

  it("reads subkeys through hvac's generic read (hvac 0.11 has no read_secret_subkeys)", () => {
    expect(out["subkeys"].data.subkeys).toEqual({ password: null, db: { host: null } });
    expect(out["subkeys_depth"].data.subkeys).toEqual({ password: null, db: null });
  });

  it("lists the mounted engines and reads one mount's type", () => {
    expect(out["mounts"].data["team/"]).toMatchObject({ type: "kv", options: { version: "2" } });
    expect(out["ui_mount"].data).toMatchObject({ path: "team/", type: "kv", options: { version: "2" } });
  });
});
