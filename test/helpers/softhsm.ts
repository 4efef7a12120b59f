/**
 * A real SoftHSM2 for tests: a temporary SOFTHSM2_CONF with its own token directory (set before any
 * C_Initialize in this process), tokens made with `softhsm2-util`, and AES keys made through the
 * PKCS#11 module itself. Debian's module path; `npm test` installs softhsm2 when missing.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SOFTHSM2_MODULE = "/usr/lib/softhsm/libsofthsm2.so";
export const USER_PIN = "1234";
const SO_PIN = "5678";

export interface SoftHsm {
  dir: string;
  conf: string;
  tokens: string;
  /** Creates (and initialises) a token with this label and user PIN (USER_PIN unless given). */
  initToken(label: string, pin?: string): void;
  /** Creates an AES-256 key with this label on the token, through the module. */
  generateKey(tokenLabel: string, keyLabel: string): void;
  /** A second user of the module in this process: what an HSM restart looks like to the seal (its sessions and login vanish). */
  restartModule(): void;
  close(): void;
}

type P11 = {
  PKCS11: new () => any;
  [k: string]: any;
};

export function softHsm(): SoftHsm {
  const dir = mkdtempSync(join(tmpdir(), "tessera-softhsm-"));
  const tokens = join(dir, "tokens");
  mkdirSync(tokens);
  const conf = join(dir, "softhsm2.conf");
  writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n`);
  process.env["SOFTHSM2_CONF"] = conf;
  const require = createRequire(import.meta.url);
  const k = require("pkcs11js") as P11;
  const withModule = <T>(fn: (m: any) => T): T => {
    const m = new k.PKCS11();
    m.load(SOFTHSM2_MODULE);
    let mine = true;
    try {
      m.C_Initialize();
    } catch (err) {
      if (!/ALREADY_INITIALIZED/.test((err as Error).message)) throw err;
      mine = false;
    }
    try {
      return fn(m);
    } finally {
      if (mine) m.C_Finalize();
    }
  };
  return {
    dir,
    conf,
    tokens,
    initToken(label, pin = USER_PIN) {
      execFileSync("softhsm2-util", ["--init-token", "--free", "--label", label, "--so-pin", SO_PIN, "--pin", pin], { env: { ...process.env, SOFTHSM2_CONF: conf }, stdio: "ignore" });
    },
    generateKey(tokenLabel, keyLabel) {
      withModule((m) => {
        const slot = m.C_GetSlotList(true).find((s: Buffer) => m.C_GetTokenInfo(s).label.trimEnd() === tokenLabel);
        const s = m.C_OpenSession(slot, k["CKF_SERIAL_SESSION"] | k["CKF_RW_SESSION"]);
        try {
          m.C_Login(s, k["CKU_USER"], USER_PIN);
        } catch (err) {
          if (!/ALREADY_LOGGED_IN/.test((err as Error).message)) throw err;
        }
        m.C_GenerateKey(s, { mechanism: k["CKM_AES_KEY_GEN"] }, [
          { type: k["CKA_CLASS"], value: k["CKO_SECRET_KEY"] },
          { type: k["CKA_KEY_TYPE"], value: k["CKK_AES"] },
          { type: k["CKA_VALUE_LEN"], value: 32 },
          { type: k["CKA_LABEL"], value: keyLabel },
          { type: k["CKA_TOKEN"], value: true },
          { type: k["CKA_PRIVATE"], value: true },
          { type: k["CKA_SENSITIVE"], value: true },
          { type: k["CKA_EXTRACTABLE"], value: false },
          { type: k["CKA_ENCRYPT"], value: true },
          { type: k["CKA_DECRYPT"], value: true },
          { type: k["CKA_WRAP"], value: true },
          { type: k["CKA_UNWRAP"], value: true },
        ]);
        m.C_CloseSession(s);
      });
    },
    restartModule() {
      const m = new k.PKCS11();
      m.load(SOFTHSM2_MODULE);
      try {
        m.C_Initialize();
      } catch {
        // initialised by the seal: the finalize below ends its sessions and login, as a restart would
      }
      m.C_Finalize();
    },
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
