/**
 * The agent's state directory: mode 0700, every file 0600, every write atomic (a temporary file in
 * the same directory, fsync'd, then renamed over the old one), so a crash never leaves half a file.
 * What lives here: the identity (certificate, CA, VM id — public), the private key (0600, or sealed
 * to the TPM) and the status file. Never a token or a plaintext.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, open, readFile, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";

export const STATUS_FILE = "status.json";
export const IDENTITY_FILE = "identity.json";

/** Creates the directory (0700) or tightens an existing one to 0700. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const s = await stat(dir);
  if ((s.mode & 0o077) !== 0) await chmod(dir, 0o700);
}

/**
 * Writes `data` to `path` atomically with `mode`, applied before any byte is written. `chown`
 * (uid, gid) is applied to the temporary file too, so the final name never has the wrong owner.
 */
export async function writeAtomic(path: string, data: string | Uint8Array, mode = 0o600, chown?: { uid: number; gid: number }): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
  const handle = await open(tmp, "wx", mode);
  try {
    await handle.chmod(mode); // the umask may have narrowed or (with wx) kept it; say it exactly
    if (chown !== undefined) await handle.chown(chown.uid, chown.gid);
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close();
    await rm(tmp, { force: true });
    throw err;
  }
  await handle.close();
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

export async function readJsonFile<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export const statePath = (dir: string, file: string) => join(dir, file);
