/**
 * Where the VM's private key is kept between runs: a 0600 PEM file in the state directory, or —
 * with `tpm` — its 32-byte private scalar sealed to the TPM (tpm.ts) and the public point beside it,
 * so the key is never on disk in the clear. Files are named after the certificate serial they
 * belong to, so a renewal writes the new key before the identity file names it, and a crash in
 * between leaves only an unused file that {@link KeyStore.prune} removes.
 */
import { createPrivateKey, type KeyObject } from "node:crypto";
import { readdir, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { writeAtomic } from "./state.js";
import { tpmSeal, tpmUnseal, type TpmOptions } from "./tpm.js";

export type KeyProtection = "file" | "tpm";

export class KeyStore {
  readonly protection: KeyProtection;
  readonly #dir: string;
  readonly #tpm: TpmOptions | undefined;

  constructor(stateDir: string, tpm: TpmOptions | undefined) {
    this.#dir = stateDir;
    this.#tpm = tpm;
    this.protection = tpm === undefined ? "file" : "tpm";
  }

  #files(serial: string) {
    const base = join(this.#dir, `key-${serial}`);
    return { pem: `${base}.pem`, pub: `${base}.tpm-pub`, priv: `${base}.tpm-priv`, point: `${base}.public.json` };
  }

  async save(serial: string, key: KeyObject): Promise<void> {
    const f = this.#files(serial);
    if (this.#tpm === undefined) {
      await writeAtomic(f.pem, key.export({ format: "pem", type: "pkcs8" }) as string, 0o600);
      return;
    }
    const jwk = key.export({ format: "jwk" });
    const d = Buffer.from(jwk.d!, "base64url");
    try {
      await tpmSeal(d, f.pub, f.priv, this.#dir, this.#tpm);
    } finally {
      d.fill(0);
    }
    await writeAtomic(f.point, JSON.stringify({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }), 0o600);
  }

  /** The private key as PEM, for the TLS handshake; unsealed by the TPM when protected by it. */
  async load(serial: string): Promise<string> {
    const f = this.#files(serial);
    if (this.#tpm === undefined) return readFile(f.pem, "utf8");
    const point = JSON.parse(await readFile(f.point, "utf8")) as Record<string, string>;
    const d = await tpmUnseal(f.pub, f.priv, this.#dir, this.#tpm);
    try {
      return createPrivateKey({ key: { ...point, d: d.toString("base64url") }, format: "jwk" }).export({ format: "pem", type: "pkcs8" }) as string;
    } finally {
      d.fill(0);
    }
  }

  /** Removes every key file but `keep`'s. */
  async prune(keep: string | undefined): Promise<void> {
    for (const name of await readdir(this.#dir)) {
      const m = /^key-([0-9a-fA-F]+)\.(pem|tpm-pub|tpm-priv|public\.json)$/.exec(name);
      if (m !== null && m[1] !== keep) await rm(join(this.#dir, name), { force: true });
    }
  }
}
