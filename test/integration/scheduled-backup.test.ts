/**
 * Scheduled backups (`"backup": {directory, interval_seconds, keep}`): each run writes one encrypted
 * file (0600, in a 0700 directory), keeps the newest `keep`, is audited as `sys:Backup` under the
 * system principal, and the newest restores into a fresh node. The configuration shown in
 * docs/operations.md is valid as written, and a PIN in the configuration file is refused.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { injectCall } from "../helpers/app.js";
import { ManualClock, SqliteStore, buildApp, resolveConfig, type TesseraApp } from "@tessera/server";
import { REPO } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-scheduled-backup-"));
const backups = join(dir, "backups");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const call = injectCall;

describe("scheduled backups", () => {
  it("write one file per run, keep the newest, are audited as the system's, and restore", async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
    const app = await buildApp({ store: new SqliteStore({ path: join(dir, "source.db") }), clock, backups: { directory: backups, intervalMs: 3_600_000, keep: 2 } });
    let rootToken: string;
    let shares: string[];
    let ciphertext: string;
    try {
      ({ rootToken, shares } = (await call(app, "POST", "/v1/sys/init", { shares: 1, threshold: 1 })).body);
      await call(app, "POST", "/v1/sys/unseal", { share: shares[0] });
      await call(app, "POST", "/v1/keys", { name: "nightly" }, rootToken);
      ciphertext = (await call(app, "POST", "/v1/keys/nightly/encrypt", { plaintext: Buffer.from("kept overnight").toString("base64") }, rootToken)).body.ciphertext;
      for (let i = 0; i < 3; i++) {
        await app.scheduler.runOnce("backup");
        clock.advance(3_600_000);
      }
      const trail = (await call(app, "GET", "/v1/audit/entries?action=sys:Backup", undefined, rootToken)).body.records as { outcome: string; principal: { id: string } }[];
      expect(trail.map((r) => [r.principal.id, r.outcome])).toEqual(Array(3).fill([["tessera:system", "intent"], ["tessera:system", "allowed"]]).flat());
    } finally {
      await app.close();
    }

    const files = readdirSync(backups).sort();
    expect(files).toHaveLength(2);
    for (const f of files) {
      expect(f).toMatch(/^tessera-backup-2026-01-05T1[34]-00-00-000Z-[0-9a-f]{8}\.tsbk$/);
      expect(statSync(join(backups, f)).mode & 0o777).toBe(0o600);
    }
    expect(statSync(backups).mode & 0o777).toBe(0o700);

    const fresh = await buildApp({ store: new SqliteStore({ path: join(dir, "fresh.db") }), clock: new ManualClock(Date.UTC(2026, 0, 6, 12)) });
    try {
      const res = await fresh.http.inject({
        method: "POST",
        url: "/v1/sys/restore",
        headers: { "content-type": "application/vnd.tessera.restore" },
        payload: Buffer.concat([Buffer.from(`${JSON.stringify({ shares })}\n`), readFileSync(join(backups, files.at(-1)!))]),
      });
      expect(JSON.parse(res.body)).toMatchObject({ sealed: false });
      const d = await call(fresh, "POST", "/v1/decrypt", { ciphertext }, rootToken);
      expect(Buffer.from(d.body.plaintext, "base64").toString()).toBe("kept overnight");
    } finally {
      await fresh.close();
    }
  });
});

describe("the configuration", () => {
  it("docs/operations.md's example is valid as written: the HSM seal and the backup schedule", () => {
    const page = readFileSync(join(REPO, "docs/operations.md"), "utf8");
    const example = /```json\n([\s\S]*?)```/.exec(page)![1]!;
    const config = resolveConfig(JSON.parse(example), "/etc/tessera");
    expect(config.seal).toEqual({ type: "pkcs11", lib: "/usr/lib/softhsm/libsofthsm2.so", tokenLabel: "tessera", keyLabels: ["tessera-root"], mechanism: "aes_gcm", generateKey: true });
    expect(config.backup).toEqual({ directory: "/var/backups/tessera", intervalMs: 86_400_000, keep: 14 });
  });

  it("refuses a PIN in the file (without repeating it), a schedule under a minute, and slot with token_label", () => {
    const base = { listener: { address: "127.0.0.1:8200", insecure_http: true }, storage: { sqlite: { path: "t.db" } } };
    const pkcs11 = { lib: "/usr/lib/softhsm/libsofthsm2.so", token_label: "tessera", key_label: "tessera-root" };
    const refusal = (doc: object) => {
      try {
        resolveConfig(doc, dir);
      } catch (err) {
        return (err as Error).message;
      }
      return "accepted";
    };
    const withPin = refusal({ ...base, seal: { pkcs11: { ...pkcs11, pin: "s3cret-pin-4411" } } });
    expect(withPin).toMatch(/^seal\.pkcs11\.pin: the HSM PIN is never read from the configuration file/);
    expect(withPin).not.toContain("s3cret-pin-4411");
    expect(refusal({ ...base, backup: { directory: "b", interval_seconds: 59 } })).toMatch(/backup\.interval_seconds/);
    expect(refusal({ ...base, seal: { pkcs11: { ...pkcs11, slot: 0 } } })).toBe("seal.pkcs11: give exactly one of slot or token_label");
  });
});
