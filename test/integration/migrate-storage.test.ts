/**
 * The upgrade path from one node to many: a real single node on SQLite, stopped; `tessera operator
 * migrate-storage` copies its database into an empty PostgreSQL database; a node on PostgreSQL, unsealed
 * with the same share, decrypts every ciphertext made before under every key version, and the old
 * credentials still work. A target that already holds data is refused.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { unseal } from "../helpers/cluster.js";
import { createDatabase, sharedPostgres } from "../helpers/postgres.js";
import { api, freePort, startServer, type ServerProcess } from "../helpers/server-process.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
const pgServer = () => sharedPostgres();
let dir: string;
let passwordFile: string;
const running: ServerProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "tessera-migrate-"));
  passwordFile = join(dir, "pgpass");
  writeFileSync(passwordFile, `${pgServer().password}\n`, { mode: 0o600 });
});
afterAll(async () => {
  for (const s of running) await s.stop().catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
});

async function startNode(name: string, storage: unknown): Promise<ServerProcess> {
  const port = await freePort();
  const config = join(dir, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage, node_id: name, audit: { file: { path: join(dir, name, "audit.jsonl") } }, log_level: "warn" }),
  );
  const server = await startServer(["--config", config], { port, ready: "listening" });
  running.push(server);
  return server;
}

describe("tessera operator migrate-storage --from sqlite:PATH --to postgres:URL", () => {
  it("copies a single node's data so a PostgreSQL node decrypts every ciphertext under every key version", async () => {
    mkdirSync(join(dir, "single"));
    const sqlitePath = join(dir, "single", "tessera.db");
    const single = await startNode("single", { sqlite: { path: sqlitePath } });
    const init = await api(single.url, undefined, "POST", "/v1/sys/init", { shares: 1, threshold: 1 });
    const { rootToken } = init.body as { rootToken: string };
    const share = (init.body.shares as string[])[0]!;
    await unseal(single.url, share);

    // Three keys, one of them rotated twice: ciphertexts under five versions in all, and a narrower token.
    const sealed: { key: string; ciphertext: string; plaintext: string }[] = [];
    for (const key of ["alpha", "beta", "gamma"]) {
      expect((await api(single.url, rootToken, "POST", "/v1/keys", { name: key })).status).toBe(201);
      for (let version = 1; version <= (key === "beta" ? 3 : 1); version++) {
        if (version > 1) expect((await api(single.url, rootToken, "POST", `/v1/keys/${key}/rotate`)).status).toBe(200);
        for (let i = 0; i < 3; i++) {
          const plaintext = `${key} v${version} #${i}`;
          const enc = await api(single.url, rootToken, "POST", `/v1/keys/${key}/encrypt`, { plaintext: b64(plaintext) });
          expect(enc.status).toBe(200);
          sealed.push({ key, ciphertext: enc.body.ciphertext, plaintext });
        }
      }
    }
    expect((await api(single.url, rootToken, "POST", "/v1/keys/gamma/disable")).status).toBe(200);
    const token = await api(single.url, rootToken, "POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Decrypt"], resources: ["alpha"] }] });
    expect(token.status).toBe(201);
    expect(await single.stop()).toBe(0);

    const database = await createDatabase(pgServer(), "migrated");
    const to = `postgres:${pgServer().url(database)}`;
    const migrated = await runCli(["operator", "migrate-storage", "--from", `sqlite:${sqlitePath}`, "--to", to, "--password-file", passwordFile, "--json"], { address: "http://127.0.0.1:1" });
    expect(migrated.stderr).toBe("");
    expect(migrated.code).toBe(0);
    const report = JSON.parse(migrated.stdout) as { tables: { name: string; rows: number }[] };
    expect(report.tables.find((t) => t.name === "keys")?.rows).toBe(3);
    expect(report.tables.find((t) => t.name === "key_versions")?.rows).toBe(5);

    const node = await startNode("node-a", { postgres: { url: pgServer().url(database), password_file: passwordFile } });
    expect((await api(node.url, undefined, "GET", "/v1/sys/seal-status")).body).toMatchObject({ initialized: true, sealed: true });
    await unseal(node.url, share);
    for (const s of sealed) {
      const dec = await api(node.url, rootToken, "POST", "/v1/decrypt", { ciphertext: s.ciphertext });
      if (s.key === "gamma") {
        expect(dec.body.error?.code, s.plaintext).toBe("Disabled");
        continue;
      }
      expect(dec.status, s.plaintext).toBe(200);
      expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe(s.plaintext);
    }
    // The disabled key kept its state; enabled, its ciphertexts decrypt too.
    expect((await api(node.url, rootToken, "POST", "/v1/keys/gamma/enable")).status).toBe(200);
    for (const s of sealed.filter((x) => x.key === "gamma")) {
      const dec = await api(node.url, rootToken, "POST", "/v1/decrypt", { ciphertext: s.ciphertext });
      expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe(s.plaintext);
    }
    // A token issued by the single node still authenticates, with its grants.
    const alpha = sealed.find((s) => s.key === "alpha")!;
    expect((await api(node.url, token.body.token, "POST", "/v1/decrypt", { ciphertext: alpha.ciphertext })).status).toBe(200);
    expect((await api(node.url, token.body.token, "POST", "/v1/keys/beta/encrypt", { plaintext: b64("x") })).body.error.code).toBe("AccessDenied");

    // Into a database that holds data: refused, and nothing changes.
    const again = await runCli(["operator", "migrate-storage", "--from", `sqlite:${sqlitePath}`, "--to", to, "--password-file", passwordFile], { address: "http://127.0.0.1:1" });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("the target database is not empty");
    expect((await api(node.url, rootToken, "GET", "/v1/keys/alpha")).status).toBe(200);
  });

  it("refuses a --from that is not sqlite:PATH and a --to that is not postgres:URL (exit 2)", async () => {
    const wrongFrom = await runCli(["operator", "migrate-storage", "--from", "/tmp/x.db", "--to", "postgres:postgres://u@127.0.0.1:1/db"], { address: "http://127.0.0.1:1" });
    expect(wrongFrom.code).toBe(2);
    expect(wrongFrom.stderr).toContain("--from takes sqlite:PATH");
    const wrongTo = await runCli(["operator", "migrate-storage", "--from", "sqlite:/tmp/x.db", "--to", "mysql://u@h/db"], { address: "http://127.0.0.1:1" });
    expect(wrongTo.code).toBe(2);
    expect(wrongTo.stderr).toContain("--to takes postgres:URL");
  });
});
