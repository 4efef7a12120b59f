/** `tessera encrypt-file` / `decrypt-file` as processes against a real server: round trips, pipes, refusals that leave no file behind. */
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "cli-envelope-root";
let server: ServerProcess;
let dir: string;
const cli = (...args: string[]) => runCli(args, { address: server.url, token: ROOT });

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  dir = mkdtempSync(join(tmpdir(), "tessera-cli-envelope-"));
  for (const name of ["files", "other"]) expect((await cli("key", "create", name)).code).toBe(0);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const at = (name: string) => join(dir, name);

describe("tessera encrypt-file / decrypt-file", () => {
  it("round-trips a file of several frames; the plaintext file is created mode 0600; --json reports the key and context", async () => {
    const data = randomBytes(3 * 65536 + 123);
    writeFileSync(at("big.bin"), data);
    const enc = await cli("encrypt-file", "--key", "files", "--context", "host=db-1", "--frame-length", "65536", "--in", at("big.bin"), "--out", at("big.tsev"));
    expect([enc.code, enc.stdout, enc.stderr]).toEqual([0, "", ""]);
    expect(readFileSync(at("big.tsev")).subarray(0, 4).toString()).toBe("TSEV");
    const dec = await cli("decrypt-file", "--key", "files", "--context", "host=db-1", "--in", at("big.tsev"), "--out", at("big.out"), "--json");
    expect(dec.code, dec.stderr).toBe(0);
    expect(JSON.parse(dec.stdout)).toMatchObject({ bytes: data.length, encryptionContext: { host: "db-1" } });
    expect(readFileSync(at("big.out")).equals(data)).toBe(true);
    expect(statSync(at("big.out")).mode & 0o777).toBe(0o600);
  });

  it("reads stdin and writes stdout with '-'", async () => {
    const enc = await runCli(["encrypt-file", "--key", "files", "--frame-length", "7", "--in", "-", "--out", at("piped.tsev")], { address: server.url, token: ROOT, input: "from a pipe, in 7-byte frames" });
    expect(enc.code, enc.stderr).toBe(0);
    const dec = await cli("decrypt-file", "--in", at("piped.tsev"), "--out", "-");
    expect([dec.code, dec.stdout]).toEqual([0, "from a pipe, in 7-byte frames"]);
  });

  it("refuses another key, another context and a tampered or truncated message (exit 1) and leaves no output file", async () => {
    writeFileSync(at("small.bin"), randomBytes(1000));
    expect((await cli("encrypt-file", "--key", "files", "--context", "host=db-1", "--frame-length", "100", "--in", at("small.bin"), "--out", at("small.tsev"))).code).toBe(0);
    const message = readFileSync(at("small.tsev"));
    const tampered = Buffer.from(message);
    tampered[tampered.length - 200]! ^= 1;
    writeFileSync(at("tampered.tsev"), tampered);
    writeFileSync(at("cut.tsev"), message.subarray(0, message.length - 50));
    const before = readdirSync(dir).sort();
    for (const [args, code] of [
      [["--key", "other", "--in", at("small.tsev")], "IncorrectKey"],
      [["--context", "host=db-2", "--in", at("small.tsev")], "InvalidCiphertext"],
      [["--in", at("tampered.tsev")], "InvalidCiphertext"],
      [["--in", at("cut.tsev")], "InvalidCiphertext"],
    ] as const) {
      const run = await cli("decrypt-file", ...args, "--out", at("refused.out"), "--json");
      expect([run.code, JSON.parse(run.stderr).error.code], args.join(" ")).toEqual([1, code]);
    }
    expect(readdirSync(dir).sort()).toEqual(before);
  });

  it("reports a key it may not use with the server's code", async () => {
    const run = await cli("encrypt-file", "--key", "no-such-key", "--in", at("small.bin"), "--out", at("never.tsev"), "--json");
    expect([run.code, JSON.parse(run.stderr).error.code]).toEqual([1, "NotFound"]);
    expect(readdirSync(dir)).not.toContain("never.tsev");
  });
});
