/**
 * The `tessera` command end to end: a real dev server started with `tessera server --dev`, driven
 * by the CLI as a subprocess, as a user would. Needs the build (`npx tsc -b`).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { randomnessProblems } from "../helpers/randomness.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const bin = fileURLToPath(new URL("../../bin/tessera", import.meta.url));

interface Result {
  code: number | null;
  stdout: Buffer;
  stderr: string;
  text: string;
  json: () => any;
  /** The error body a failed `--json` command printed on stderr. */
  error: () => any;
}

let server: ChildProcess;
let serverOutput = "";
let address: string;
const rootToken = `root-${randomBytes(12).toString("hex")}`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** Runs `tessera ...args` with TESSERA_ADDR / TESSERA_TOKEN set; `token: null` runs without one. */
function tessera(args: string[], options: { input?: string | Buffer; token?: string | null } = {}): Promise<Result> {
  const env: NodeJS.ProcessEnv = { ...process.env, TESSERA_ADDR: address };
  delete env["TESSERA_TOKEN"];
  const token = options.token === undefined ? rootToken : options.token;
  if (token !== null) env["TESSERA_TOKEN"] = token;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (c: Buffer) => out.push(c));
    child.stderr.on("data", (c: Buffer) => err.push(c));
    child.once("error", reject);
    child.once("close", (code) => {
      const stdout = Buffer.concat(out);
      const stderr = Buffer.concat(err).toString();
      resolve({ code, stdout, stderr, text: stdout.toString().trim(), json: () => JSON.parse(stdout.toString()), error: () => JSON.parse(stderr).error });
    });
    child.stdin.end(options.input ?? "");
  });
}

async function waitForHealth(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (server.exitCode !== null) throw new Error(`tessera server exited (${server.exitCode}):\n${serverOutput}`);
    try {
      if ((await fetch(`${url}/v1/sys/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`tessera server did not become healthy:\n${serverOutput}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

beforeAll(async () => {
  for (const built of ["packages/cli/dist/main.js", "packages/server/dist/index.js"]) {
    if (!existsSync(new URL(`../../${built}`, import.meta.url))) throw new Error(`${built} is missing: run \`npx tsc -b\` first`);
  }
  const port = await freePort();
  address = `http://127.0.0.1:${port}`;
  server = spawn(process.execPath, [bin, "server", "--dev", "--listen", `127.0.0.1:${port}`, "--dev-root-token", rootToken], {
    cwd: root,
    stdio: ["ignore", "pipe", "pipe"],
  });
  server.stdout!.on("data", (c: Buffer) => (serverOutput += c.toString()));
  server.stderr!.on("data", (c: Buffer) => (serverOutput += c.toString()));
  await waitForHealth(address, 30_000);
});

afterAll(async () => {
  if (server === undefined || server.exitCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
});

describe("tessera CLI against a dev server", () => {
  const key = "payment-db";
  const context = ["--context", "vm=web-7", "--context", "purpose=a=b"];
  const binary = randomBytes(300);
  let v1FromArgument: string;
  let v1FromStdin: string;
  let rewrapped: string;

  it("creates a key", async () => {
    const result = await tessera(["key", "create", key, "--description", "cards", "--tag", "team=pay", "--rotation-period", "90d", "--json"]);
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ name: key, primaryVersion: 1, rotationPeriodSeconds: 90 * 86400, tags: { team: "pay" } });
    expect((await tessera(["key", "list"])).text).toContain(key);
  });

  it("encrypts a plaintext given as argument and as raw stdin bytes", async () => {
    const fromArgument = await tessera(["encrypt", "--key", key, ...context, "hello, tessera"]);
    expect(fromArgument.code).toBe(0);
    v1FromArgument = fromArgument.text;
    expect(v1FromArgument).toMatch(/^[A-Za-z0-9+/]+=*$/);

    const fromStdin = await tessera(["encrypt", "--key", key, "--json"], { input: binary });
    expect(fromStdin.code).toBe(0);
    expect(fromStdin.json()).toMatchObject({ keyVersion: 1 });
    v1FromStdin = fromStdin.json().ciphertext;
  });

  it("rotates, then decrypts ciphertexts of the old and the new version", async () => {
    const rotated = await tessera(["key", "rotate", key, "--json"]);
    expect(rotated.code).toBe(0);
    expect(rotated.json().primaryVersion).toBe(2);

    const v2 = await tessera(["encrypt", "--key", key, "--json", "new"]);
    expect(v2.json().keyVersion).toBe(2);

    const old = await tessera(["decrypt", ...context, v1FromArgument]);
    expect(old.code).toBe(0);
    expect(old.stdout.toString()).toBe("hello, tessera");

    const oldFromStdin = await tessera(["decrypt"], { input: `${v1FromStdin}\n` });
    expect(oldFromStdin.code).toBe(0);
    expect(oldFromStdin.stdout.equals(binary)).toBe(true);

    const fresh = await tessera(["decrypt", "--json", v2.json().ciphertext]);
    expect(fresh.json()).toMatchObject({ keyVersion: 2, plaintext: Buffer.from("new").toString("base64") });
  });

  it("refuses a ciphertext whose context differs", async () => {
    const result = await tessera(["decrypt", "--json", "--context", "vm=web-8", v1FromArgument]);
    expect(result.code).toBe(1);
    expect(result.error().code).toBe("InvalidCiphertext");
  });

  it("re-encrypts an old ciphertext under the primary version", async () => {
    const result = await tessera(["reencrypt", ...context, "--to-context", "vm=web-7", "--json", v1FromArgument]);
    expect(result.code).toBe(0);
    expect(result.json()).toMatchObject({ sourceKeyVersion: 1, keyVersion: 2 });
    rewrapped = result.json().ciphertext;
    expect((await tessera(["decrypt", "--context", "vm=web-7", rewrapped])).stdout.toString()).toBe("hello, tessera");
  });

  it("retires version 1 with set-min-decryption-version: its ciphertexts are Disabled", async () => {
    const set = await tessera(["key", "set-min-decryption-version", key, "2", "--json"]);
    expect(set.code).toBe(0);
    expect(set.json().minDecryptionVersion).toBe(2);

    const refused = await tessera(["decrypt", "--json", ...context, v1FromArgument]);
    expect(refused.code).toBe(1);
    expect(refused.error().code).toBe("Disabled");

    const text = await tessera(["decrypt", ...context, v1FromArgument]);
    expect(text.code).toBe(1);
    expect(text.stdout.length).toBe(0);
    expect(text.stderr).toMatch(/^Error \[Disabled\]/);

    expect((await tessera(["decrypt", "--context", "vm=web-7", rewrapped])).code).toBe(0);
  });

  it("shows versions with their usage", async () => {
    const result = await tessera(["key", "show", key, "--json"]);
    expect(result.code).toBe(0);
    const versions = result.json().versions as { version: number; retired: boolean; useCount: number }[];
    // Both versions served the encryptions and decryptions above, and show it.
    expect(versions.map((v) => [v.version, v.retired, v.useCount > 0])).toEqual([
      [1, true, true],
      [2, false, true],
    ]);
    expect((await tessera(["key", "show", key])).text).toMatch(/VERSION\s+STATE/);
  });

  // Trim's refusals and Destroyed answers are tested in process (vault-transit-transfer.test.ts).
  it("backs a key up, trims version 1 for good, and restores it from the backup with --force", async () => {
    const backup = await tessera(["key", "backup", key]);
    expect(backup.code).toBe(0);
    expect(Buffer.from(backup.text, "base64").subarray(0, 4).toString()).toBe("TKBK");
    const trim = await tessera(["key", "trim", key, "--min-available-version", "2", "--json"]);
    expect(trim.code).toBe(0);
    expect(trim.json().keyId).toBeTruthy();
    const restored = await tessera(["key", "restore", "-", "--force", "--json"], { input: backup.text });
    expect(restored.code).toBe(0);
    expect(restored.json()).toMatchObject({ name: key, minDecryptionVersion: 2 });
    // Version 1's material is back (still retired by min decryption version 2).
    expect((await tessera(["decrypt", "--json", ...context, v1FromArgument])).error().code).toBe("Disabled");
  });

  it("generates a data key whose wrapped form decrypts to its plaintext", async () => {
    const result = await tessera(["datakey", "--key", key, "--context", "file=a", "--json"]);
    expect(result.code).toBe(0);
    const { plaintext, ciphertext } = result.json();
    expect(Buffer.from(plaintext, "base64")).toHaveLength(32);
    const unwrapped = await tessera(["decrypt", "--context", "file=a", ciphertext]);
    expect(unwrapped.stdout.equals(Buffer.from(plaintext, "base64"))).toBe(true);

    const short = await tessera(["datakey", "--key", key, "--spec", "AES_128", "--no-plaintext", "--json"]);
    expect(short.code).toBe(0);
    expect(short.json().plaintext).toBeUndefined();
    expect(short.json().ciphertext).toEqual(expect.any(String));
  });

  it("derives the same key for the same context", async () => {
    const args = ["derive", "--key", key, "--context", "vm=web-7", "--length", "48"];
    const first = await tessera(args);
    expect(first.code).toBe(0);
    expect(Buffer.from(first.text, "base64")).toHaveLength(48);
    expect((await tessera(args)).text).toBe(first.text);
    expect((await tessera(["derive", "--key", key, "--context", "vm=web-8", "--length", "48"])).text).not.toBe(first.text);
  });

  it("prints random bytes", async () => {
    const result = await tessera(["random", "16"]);
    expect(result.code).toBe(0);
    expect(Buffer.from(result.text, "base64")).toHaveLength(16);
    // Fresh bytes each time, not merely 16 of them.
    const again = await tessera(["random", "16"]);
    expect(randomnessProblems([result.text, again.text].map((t) => Buffer.from(t, "base64")))).toEqual([]);
  });

  it("creates a token limited to one key, which is denied on another", async () => {
    expect((await tessera(["key", "create", "other-key"])).code).toBe(0);
    const created = await tessera(["token", "create", "--ttl", "10m", "--display-name", "web-7", "--allow", `kms:Encrypt,kms:Decrypt:${key}`, "--json"]);
    expect(created.code).toBe(0);
    const { token, accessor } = created.json();
    expect(created.json().grants).toEqual([{ actions: ["kms:Encrypt", "kms:Decrypt"], resources: [key] }]);

    const allowed = await tessera(["encrypt", "--key", key, "ok"], { token });
    expect(allowed.code).toBe(0);

    const denied = await tessera(["encrypt", "--key", "other-key", "--json", "no"], { token });
    expect(denied.code).toBe(1);
    expect(denied.error().code).toBe("AccessDenied");
    const deniedAdmin = await tessera(["key", "create", "mine", "--json"], { token });
    expect(deniedAdmin.error().code).toBe("AccessDenied");

    const self = await tessera(["token", "lookup", "--json"], { token });
    expect(self.json()).toMatchObject({ accessor, displayName: "web-7", root: false });

    expect((await tessera(["token", "revoke", "--accessor", accessor])).code).toBe(0);
    const revoked = await tessera(["encrypt", "--key", key, "--json", "ok"], { token });
    expect(revoked.error().code).toBe("Unauthenticated");
  });

  it("refuses requests without a token", async () => {
    const result = await tessera(["key", "list", "--json"], { token: null });
    expect(result.code).toBe(1);
    expect(result.error().code).toBe("Unauthenticated");
  });

  it("exits 2 for usage errors", async () => {
    expect((await tessera(["encrypt", "--key", key, "--context", "novalue", "x"])).code).toBe(2);
    expect((await tessera(["no-such-command"])).code).toBe(2);
  });

  it("prints help for the program and its commands", async () => {
    const help = await tessera(["--help"]);
    expect(help.code).toBe(0);
    expect(help.text).toContain("Cryptographic operations:");
    for (const args of [["encrypt", "--help"], ["key", "create", "--help"], ["token", "create", "--help"], ["help", "decrypt"]]) {
      const result = await tessera(args);
      expect(result.code).toBe(0);
      expect(result.text).toContain("Examples:");
    }
  });

  it("reports status 0 unsealed and 2 sealed, and unseals with the dev unseal key", async () => {
    const unsealed = await tessera(["status", "--json"]);
    expect(unsealed.code).toBe(0);
    expect(unsealed.json()).toMatchObject({ initialized: true, sealed: false });

    expect((await tessera(["operator", "seal"])).code).toBe(0);
    expect((await tessera(["status"])).code).toBe(2);
    const sealedUse = await tessera(["encrypt", "--key", key, "--json", "x"]);
    expect(sealedUse.error().code).toBe("Sealed");

    const share = /Unseal key:\s*(\S+)/.exec(serverOutput)?.[1];
    expect(share, "dev server prints its unseal key").toBeDefined();
    const unseal = await tessera(["operator", "unseal", "--json"], { input: `${share}\n` });
    expect(unseal.code).toBe(0);
    expect(unseal.json().sealed).toBe(false);
    expect((await tessera(["status"])).code).toBe(0);
  });
});
