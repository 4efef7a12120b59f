/**
 * A seal migration (Shamir → PKCS#11, SoftHSM2) on a server with `workers: 2`: the migrate shares
 * given to different workers (fresh connections, round-robin) migrate the record once and unseal
 * both workers; the keys stay usable on both, and the next start auto-unseals both with the HSM.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeLines } from "../helpers/audit-records.js";
import { answering, fresh } from "../helpers/fresh-http.js";
import { freePort, startServer, type ServerProcess } from "../helpers/server-process.js";
import { SOFTHSM2_MODULE, USER_PIN, softHsm, type SoftHsm } from "../helpers/softhsm.js";

const WORKERS = ["w1", "w2"];
const dir = mkdtempSync(join(tmpdir(), "tessera-workers-migration-"));
let hsm: SoftHsm;
let server: ServerProcess | undefined;

beforeAll(() => {
  hsm = softHsm();
  hsm.initToken("tessera");
  // Made beforehand: two workers starting at once must not each generate a key under one label.
  hsm.generateKey("tessera", "tessera-root");
  mkdirSync(join(dir, "data"));
});
afterAll(async () => {
  await server?.kill9();
  hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(seal: object | undefined, ready: "listening" | "unsealed"): Promise<ServerProcess> {
  const config = join(dir, "tessera.json");
  const port = await freePort();
  writeFileSync(config, JSON.stringify({ listener: { address: `127.0.0.1:${port}`, insecure_http: true }, storage: { sqlite: { path: join(dir, "data", "tessera.db") } }, workers: 2, log_level: "warn", ...(seal && { seal }) }));
  const s = await startServer(["--config", config], { port, ready, readyTimeoutMs: 60_000, env: { TESSERA_HSM_PIN: USER_PIN, SOFTHSM2_CONF: hsm.conf } });
  for (let i = 0; i < 100 && (await answering(s.url, 2)).size < 2; i++) await new Promise((r) => setTimeout(r, 200));
  return s;
}

/** The workers whose trails gained `sys:MigrateSeal` records during `call`. */
async function servedBy(call: () => Promise<unknown>): Promise<string[]> {
  const count = () =>
    WORKERS.map((w) => {
      const path = join(dir, "data", "audit", `audit-${w}.jsonl`);
      return existsSync(path) ? decodeLines(readFileSync(path, "utf8").split("\n")).filter((r) => r.action === "sys:MigrateSeal").length : 0;
    });
  const before = count();
  await call();
  const after = count();
  return WORKERS.filter((_, i) => after[i]! > before[i]!);
}

describe("a seal migration on a server with two workers", () => {
  it("shares given to both workers migrate once and unseal both; the next start auto-unseals both", async () => {
    server = await serve(undefined, "listening");
    let url = server.url;
    const init = await fresh(url, "POST", "/v1/sys/init", { shares: 3, threshold: 2 });
    const token: string = init.body.rootToken;
    const shares: string[] = init.body.shares;
    await fresh(url, "POST", "/v1/sys/unseal", { share: shares[0] });
    await fresh(url, "POST", "/v1/sys/unseal", { share: shares[1] });
    expect((await fresh(url, "POST", "/v1/keys", { name: "kept" }, token)).status).toBe(201);
    const ciphertext: string = (await fresh(url, "POST", "/v1/keys/kept/encrypt", { plaintext: "aGk=" }, token)).body.ciphertext;
    expect(await server.stop()).toBe(0);

    const pkcs11 = { pkcs11: { lib: SOFTHSM2_MODULE, token_label: "tessera", key_label: "tessera-root" } };
    server = await serve(pkcs11, "listening");
    url = server.url;
    const status = (await fresh(url, "GET", "/v1/sys/seal-status")).body;
    expect(status).toMatchObject({ sealed: true, sealType: "shamir" });

    const first = await servedBy(() => fresh(url, "POST", "/v1/sys/unseal", { share: shares[2], migrate: true }));
    expect(first).toHaveLength(1);
    // Both workers hold the first share: progress 1 on either.
    for (let i = 0; i < 2; i++) expect((await fresh(url, "GET", "/v1/sys/seal-status")).body).toMatchObject({ sealed: true, progress: 1 });
    // Round-robin: once a connection lands on the first share's worker, the next one goes to the other.
    for (let i = 0; i < 10 && (await fresh(url, "GET", "/v1/sys/seal-status")).body.node !== first[0]; i++);
    let answer: { body: any } | undefined;
    const second = await servedBy(async () => (answer = await fresh(url, "POST", "/v1/sys/unseal", { share: shares[0], migrate: true })));
    expect(second).toEqual(WORKERS.filter((w) => w !== first[0]));
    expect(answer!.body).toMatchObject({ sealed: false, sealType: "pkcs11" });
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });
    for (let i = 0; i < 4; i++) expect((await fresh(url, "POST", "/v1/decrypt", { ciphertext }, token)).body.plaintext).toBe("aGk=");
    for (let i = 0; i < 2; i++) expect((await fresh(url, "GET", "/v1/sys/seal-status")).body).toMatchObject({ sealType: "pkcs11" });
    expect(await server.stop()).toBe(0);

    // Stored once, for the HSM: both workers of the next start unseal with it by themselves.
    server = await serve(pkcs11, "unsealed");
    url = server.url;
    for (let i = 0; i < 100 && Object.values(Object.fromEntries(await answering(url, 4))).some((sealed) => sealed); i++) await new Promise((r) => setTimeout(r, 200));
    expect(Object.fromEntries(await answering(url, 4))).toEqual({ w1: false, w2: false });
    for (let i = 0; i < 2; i++) expect((await fresh(url, "POST", "/v1/decrypt", { ciphertext }, token)).body.plaintext).toBe("aGk=");
  }, 150_000);
});
