/**
 * What a new user hit: `tessera reencrypt --context vm=web-7` without `--to-context` produced a
 * ciphertext bound to no context at all (the API's default), silently dropping the binding — and the
 * CLI README's example did exactly that. The CLI now keeps the source context unless told otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "reencrypt-context-root-token";
let server: ServerProcess;
const tessera = (args: string[], input?: string) => runCli(args, { address: server.url, token: ROOT, ...(input !== undefined && { input }) });

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  for (const name of ["payment-db", "archive"]) expect((await tessera(["key", "create", name])).code).toBe(0);
});
afterAll(async () => {
  await server?.stop();
});

async function encrypt(): Promise<string> {
  const r = await tessera(["encrypt", "--key", "payment-db", "--context", "vm=web-7", "card 4111"]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function decryptCode(ciphertext: string, context: string[]): Promise<[number | null, string]> {
  const r = await tessera(["decrypt", ...context, "--json", ciphertext]);
  return [r.code, r.code === 0 ? Buffer.from(JSON.parse(r.stdout).plaintext, "base64").toString() : JSON.parse(r.stderr).error.code];
}

describe("tessera reencrypt", () => {
  it("binds the new ciphertext to the source context when --to-context is not given", async () => {
    const old = await encrypt();
    expect((await tessera(["key", "rotate", "payment-db"])).code).toBe(0);
    const r = await tessera(["reencrypt", "--context", "vm=web-7", "--json", old]);
    expect(r.code).toBe(0);
    const fresh = JSON.parse(r.stdout);
    expect(fresh.keyVersion).toBe(2);
    expect(await decryptCode(fresh.ciphertext, ["--context", "vm=web-7"])).toEqual([0, "card 4111"]);
    expect(await decryptCode(fresh.ciphertext, [])).toEqual([1, "InvalidCiphertext"]);
  });

  it("keeps the source context when moving to another key with --to", async () => {
    const r = await tessera(["reencrypt", "--context", "vm=web-7", "--to", "archive"], await encrypt());
    expect(r.code).toBe(0);
    expect(await decryptCode(r.stdout.trim(), ["--context", "vm=web-7"])).toEqual([0, "card 4111"]);
    expect(await decryptCode(r.stdout.trim(), [])).toEqual([1, "InvalidCiphertext"]);
  });

  it("binds to --to-context when it is given", async () => {
    const r = await tessera(["reencrypt", "--context", "vm=web-7", "--to-context", "vm=web-8"], await encrypt());
    expect(r.code).toBe(0);
    expect(await decryptCode(r.stdout.trim(), ["--context", "vm=web-8"])).toEqual([0, "card 4111"]);
    expect(await decryptCode(r.stdout.trim(), ["--context", "vm=web-7"])).toEqual([1, "InvalidCiphertext"]);
  });
});
