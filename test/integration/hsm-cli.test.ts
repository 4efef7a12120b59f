/**
 * The interface, end to end with real processes and a real SoftHSM2: a server configured
 * with `"seal": {"pkcs11": {lib, token_label, key_label, generate_key}}` and the PIN in
 * TESSERA_HSM_PIN; `tessera operator init --json` prints recovery shares and the root token and the
 * server is unsealed; `tessera status --json` has `sealed` and `sealType`; a restart unseals by
 * itself; an unreachable HSM at start keeps it sealed, named, until it comes back; `tessera
 * operator backup --out` and `restore --in` move every key to a fresh node; rekey and rotate-root
 * run from the CLI; generate-root prints a working root token.
 */
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";
import { SOFTHSM2_MODULE, USER_PIN, softHsm, type SoftHsm } from "../helpers/softhsm.js";

let hsm: SoftHsm;
const dir = mkdtempSync(join(tmpdir(), "tessera-hsm-cli-"));
const servers: ServerProcess[] = [];

function config(name: string, lib = SOFTHSM2_MODULE): string {
  const file = join(dir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      listener: { address: "127.0.0.1:{port}", insecure_http: true },
      storage: { sqlite: { path: join(dir, `${name}.db`) } },
      seal: { pkcs11: { lib, token_label: "tessera", key_label: "tessera-root", generate_key: true } },
    }),
  );
  return file;
}

async function serve(cfg: string, ready: "listening" | "unsealed" = "listening"): Promise<ServerProcess> {
  const text = (await import("node:fs")).readFileSync(cfg, "utf8");
  const port = (await import("../helpers/server-process.js")).freePort();
  const p = await port;
  writeFileSync(cfg, text.replace(/127\.0\.0\.1:(\{port\}|\d+)/, `127.0.0.1:${p}`));
  const s = await startServer(["--config", cfg], { port: p, ready, env: { TESSERA_HSM_PIN: USER_PIN, SOFTHSM2_CONF: hsm.conf } });
  servers.push(s);
  return s;
}

const cli = (s: ServerProcess, args: string[], token?: string, input?: string) => runCli(args, { address: s.url, ...(token !== undefined && { token }), ...(input !== undefined && { input }) });

beforeAll(() => {
  hsm = softHsm();
  hsm.initToken("tessera");
});
afterAll(async () => {
  for (const s of servers) await s.stop();
  hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("tessera with an HSM", () => {
  let rootToken = "";
  let recovery: string[] = [];
  let ciphertext = "";
  const backup = join(dir, "backup.tsbk");

  it("init prints recovery shares and the root token, and the server is unsealed", async () => {
    const s = await serve(config("main"));
    const init = await cli(s, ["operator", "init", "--shares", "3", "--threshold", "2", "--json"]);
    expect(init.code, init.stderr).toBe(0);
    const body = JSON.parse(init.stdout);
    expect(body).toMatchObject({ sealType: "pkcs11", sealed: false });
    ({ rootToken, shares: recovery } = body);
    const status = await cli(s, ["status", "--json"]);
    expect([status.code, JSON.parse(status.stdout)]).toEqual([0, expect.objectContaining({ sealed: false, sealType: "pkcs11" })]);
    expect((await cli(s, ["key", "create", "orders"], rootToken)).code).toBe(0);
    const enc = await cli(s, ["encrypt", "--key", "orders", "card 4111"], rootToken);
    ciphertext = enc.stdout.trim();
    const b = await cli(s, ["operator", "backup", "--out", backup], rootToken);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/written to .*restorable with the pkcs11 root of trust/);
    await s.stop();
  });

  it("a restart unseals by itself", async () => {
    const s = await serve(join(dir, "main.json"), "unsealed");
    const dec = await cli(s, ["decrypt"], rootToken, ciphertext);
    expect(dec.stdout).toBe("card 4111");
    await s.stop();
  });

  it("an HSM that cannot be reached at start keeps the server sealed, named in status, until it comes back", async () => {
    const libDir = mkdtempSync(join(tmpdir(), "tessera-hsm-lib-"));
    const lib = join(libDir, "libsofthsm2.so");
    const cfg = config("main", lib);
    const s = await serve(cfg);
    await new Promise((r) => setTimeout(r, 300));
    const status = await cli(s, ["status", "--json"]);
    expect(status.code).toBe(2);
    expect(JSON.parse(status.stdout)).toMatchObject({ sealed: true, sealType: "pkcs11", error: expect.stringContaining(lib) });
    symlinkSync(SOFTHSM2_MODULE, lib);
    let sealed = true;
    for (let i = 0; i < 80 && sealed; i++) {
      await new Promise((r) => setTimeout(r, 250));
      sealed = JSON.parse((await cli(s, ["status", "--json"])).stdout).sealed;
    }
    expect(sealed).toBe(false);
    await s.stop();
    rmSync(libDir, { recursive: true, force: true });
    config("main");
  });

  it("rekey, rotate-root and generate-root from the CLI", async () => {
    const s = await serve(join(dir, "main.json"), "unsealed");
    const rekey = await cli(s, ["operator", "rekey", "--shares", "2", "--threshold", "2", "--json"], rootToken, `${recovery[0]}\n${recovery[1]}\n`);
    expect(rekey.code, rekey.stderr).toBe(0);
    recovery = JSON.parse(rekey.stdout).shares;
    expect(recovery).toHaveLength(2);
    const rotate = await cli(s, ["operator", "rotate-root", "--json"], rootToken);
    expect(rotate.code, rotate.stderr).toBe(0);
    expect(JSON.parse(rotate.stdout).rootId).toMatch(/^root-/);
    const gen = await cli(s, ["operator", "generate-root", "--json"], undefined, recovery.join("\n"));
    expect(gen.code, gen.stderr).toBe(0);
    const token = JSON.parse(gen.stdout).token;
    expect((await cli(s, ["decrypt"], token, ciphertext)).stdout).toBe("card 4111");
    await s.stop();
  });

  it("restore --in puts every key on a fresh node (same HSM); a second restore needs --force", async () => {
    const s = await serve(config("fresh"));
    const r = await cli(s, ["operator", "restore", "--in", backup]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/Restored backup .*unsealed \(pkcs11 seal\)/);
    expect((await cli(s, ["decrypt"], rootToken, ciphertext)).stdout).toBe("card 4111");
    const again = await cli(s, ["operator", "restore", "--in", backup, "--json"], rootToken);
    expect(again.code).toBe(1);
    expect(JSON.parse(again.stderr).error.code).toBe("InvalidState");
    await s.stop();
  });
});
