/**
 * The HSM PIN is a credential to the HSM: it comes from TESSERA_HSM_PIN or `pin_file` and goes only
 * to C_Login. A real server process with a real SoftHSM2, logging at `trace`, is driven through init,
 * key use, rotate-root, a backup, a restart, and a restart with a wrong PIN (refused, reported in
 * status); then the right PIN and the wrong one appear nowhere: not in the server's output, status,
 * the CLI's answers, the audit trail, the database or the backup.
 */
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { freePort, startServer, type ServerProcess } from "../helpers/server-process.js";
import { SOFTHSM2_MODULE, softHsm, type SoftHsm } from "../helpers/softhsm.js";

const PIN = "Pin-7xQ2-cobalt-heron";
const WRONG_PIN = "Wrong-3vL9-amber-otter";

let hsm: SoftHsm;
const dir = mkdtempSync(join(tmpdir(), "tessera-hsm-pin-"));
const data = join(dir, "data");
const pinFile = join(dir, "pin");
const seen: string[] = [];
mkdirSync(data);

async function serve(pinFrom: "env" | "file"): Promise<ServerProcess> {
  const port = await freePort();
  const cfg = join(dir, "tessera.json");
  writeFileSync(
    cfg,
    JSON.stringify({
      listener: { address: `127.0.0.1:${port}`, insecure_http: true },
      storage: { sqlite: { path: join(data, "tessera.db") } },
      log_level: "trace",
      seal: { pkcs11: { lib: SOFTHSM2_MODULE, token_label: "pin-test", key_label: "tessera-root", generate_key: true, ...(pinFrom === "file" && { pin_file: pinFile }) } },
    }),
  );
  return startServer(["--config", cfg], { port, ready: "listening", env: { SOFTHSM2_CONF: hsm.conf, TESSERA_HSM_PIN: pinFrom === "env" ? PIN : undefined } });
}

async function cli(s: ServerProcess, args: string[], token?: string, input?: string) {
  const r = await runCli(args, { address: s.url, ...(token !== undefined && { token }), ...(input !== undefined && { input }) });
  seen.push(r.stdout, r.stderr);
  return r;
}

function filesUnder(path: string): string[] {
  return statSync(path).isDirectory() ? readdirSync(path).flatMap((n) => filesUnder(join(path, n))) : [path];
}

beforeAll(() => {
  hsm = softHsm();
  hsm.initToken("pin-test", PIN);
  writeFileSync(pinFile, `${WRONG_PIN}\n`, { mode: 0o400 });
});
afterAll(() => {
  hsm.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the HSM PIN", () => {
  it("is never logged, audited, stored, backed up or shown in status — right or wrong", async () => {
    const first = await serve("env");
    let rootToken: string;
    try {
      const init = await cli(first, ["operator", "init", "--shares", "1", "--threshold", "1", "--json"]);
      expect(init.code, init.stderr).toBe(0);
      rootToken = JSON.parse(init.stdout).rootToken;
      expect((await cli(first, ["key", "create", "pin-check"], rootToken)).code).toBe(0);
      expect((await cli(first, ["encrypt", "--key", "pin-check", "hello"], rootToken)).code).toBe(0);
      expect((await cli(first, ["operator", "rotate-root", "--json"], rootToken)).code).toBe(0);
      expect((await cli(first, ["operator", "backup", "--out", join(data, "pin.tsbk")], rootToken)).code).toBe(0);
      expect(JSON.parse((await cli(first, ["status", "--json"])).stdout)).toMatchObject({ sealed: false, sealType: "pkcs11" });
    } finally {
      await first.stop();
      seen.push(first.output());
    }

    const restarted = await serve("env");
    try {
      let sealed = true;
      for (let i = 0; i < 80 && sealed; i++) {
        sealed = JSON.parse((await cli(restarted, ["status", "--json"])).stdout).sealed;
        if (sealed) await new Promise((r) => setTimeout(r, 100));
      }
      expect(sealed).toBe(false);
    } finally {
      await restarted.stop();
      seen.push(restarted.output());
    }

    const wrong = await serve("file");
    try {
      let status: { sealed: boolean; error?: string } = { sealed: true };
      for (let i = 0; i < 80 && status.error === undefined; i++) {
        status = JSON.parse((await cli(wrong, ["status", "--json"])).stdout);
        if (status.error === undefined) await new Promise((r) => setTimeout(r, 100));
      }
      expect(status).toMatchObject({ sealed: true, error: expect.stringMatching(/refused the PIN.*CKR_PIN_INCORRECT/) });
    } finally {
      await wrong.stop();
      seen.push(wrong.output());
    }

    const stored = filesUnder(data).map((f) => readFileSync(f));
    expect(stored.length).toBeGreaterThanOrEqual(3); // the database, the audit trail, the backup
    expect(seen.join("\n")).toMatch(/sys:Init|tessera-backup|Tessera listening/);
    for (const pin of [PIN, WRONG_PIN]) {
      for (const spelling of [pin, Buffer.from(pin).toString("base64"), Buffer.from(pin).toString("hex")]) {
        expect(seen.filter((text) => text.includes(spelling))).toEqual([]);
        expect(stored.filter((bytes) => bytes.includes(Buffer.from(spelling)))).toEqual([]);
      }
    }
  });
});
