/**
 * What a new user hit: against a server whose certificate comes from a private CA (Tessera's own, in
 * `--dev-tls`), the CLI printed Node's "unable to verify the first certificate" and nothing about
 * `--ca-cert`/`TESSERA_CACERT`; and `--dev-tls` printed `export TESSERA_CACERT='dev/ca.pem'`, a path
 * relative to wherever the server was started, which fails from any other directory.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { isAbsolute, join } from "node:path";
import { TesseraClient, connectionProblem } from "@tessera/client";
import { isTesseraError } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { REPO, printedDevCa, startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-tls-hint-"));
const elsewhere = join(dir, "elsewhere");
let server: ServerProcess;
let printedCa: string;

beforeAll(async () => {
  mkdirSync(elsewhere);
  // Started in `dir` with a relative data directory, as the docs show.
  server = await startServer(["--dev", "--dev-tls", "--data", "./dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", "tls-hint-root"], { scheme: "https", cwd: dir });
  printedCa = await printedDevCa(server);
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("--dev-tls and an untrusted server certificate", () => {
  it("prints an absolute CA path that works from another directory", async () => {
    expect(isAbsolute(printedCa)).toBe(true);
    expect(printedCa).toBe(join(dir, "dev", "ca.pem"));
    const r = await runCli(["status"], { address: server.url, cwd: elsewhere, env: { TESSERA_CACERT: printedCa } });
    expect(r.code).toBe(0);
  });

  it("the SDK reports the certificate as untrusted (Unavailable, problem untrusted-certificate)", async () => {
    const err = await new TesseraClient({ address: server.url }).sealStatus().then(() => undefined, (e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe("Unavailable");
    expect(connectionProblem(err)).toBe("untrusted-certificate");
  });

  it("the README's \"Running it for real\" says how to trust a private CA", () => {
    const readme = readFileSync(join(REPO, "README.md"), "utf8");
    const section = readme.slice(readme.indexOf("## Running it for real"), readme.indexOf("## Documentation"));
    expect(section).toContain("TESSERA_CACERT");
    expect(section).toContain("--ca-cert");
  });

  it("the CLI names --ca-cert and TESSERA_CACERT when the certificate is not trusted", async () => {
    const r = await runCli(["status"], { address: server.url, cwd: elsewhere });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error \[Unavailable\]/);
    expect(r.stderr).toContain("--ca-cert");
    expect(r.stderr).toContain("TESSERA_CACERT");
  });
});
