/**
 * What a new user hit: an `https://` address against a plain-HTTP server printed OpenSSL's internal
 * error text (`…:error:0A00010B:SSL routines:tls_validate_record_header:wrong version number:…`), and
 * a server configuration naming a missing TLS file failed with `ENOENT: … open '/…/tls.crt'` without
 * saying which configuration field to fix.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TesseraClient, connectionProblem } from "@tessera/client";
import { isTesseraError } from "@tessera/protocol";
import { ConfigError } from "@tessera/server";
import { readTlsFiles } from "../../packages/server/src/config/config.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { freePort, startServer, type ServerProcess } from "../helpers/server-process.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-tls-misconfig-"));
let plain: ServerProcess;

beforeAll(async () => {
  plain = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", "plain-root"]);
  const o = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  for (const name of ["a", "b"]) {
    o(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.crt`, "-days", "1", "-subj", "/CN=127.0.0.1"]);
  }
  writeFileSync(join(dir, "garbage.pem"), "not a certificate\n");
});
afterAll(async () => {
  await plain?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("https:// against a plain-HTTP server", () => {
  const httpsUrl = () => plain.url.replace("http://", "https://");

  it("the SDK reports Unavailable with problem not-tls", async () => {
    const err = await new TesseraClient({ address: httpsUrl() }).sealStatus().then(() => undefined, (e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe("Unavailable");
    expect(connectionProblem(err)).toBe("not-tls");
  });

  it("the CLI says to use http:// and prints no OpenSSL internals", async () => {
    for (const env of [{}, { TESSERA_CACERT: join(dir, "a.crt") }]) {
      // With a CA file the CLI connects through node:https instead of fetch: the same answer.
      const r = await runCli(["status"], { address: httpsUrl(), env });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^Error \[Unavailable\]/);
      expect(r.stderr).toContain("http://");
      expect(r.stderr).not.toMatch(/SSL routines|openssl|0A00010B/i);
    }
  });
});

describe("TLS files in the server configuration", () => {
  const tls = (cert: string, key: string) => ({ certFile: join(dir, cert), keyFile: join(dir, key), clientAuth: "request" as const });
  const fieldOf = (cert: string, key: string): string => {
    try {
      readTlsFiles(tls(cert, key));
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return /^listener\.(tls_cert_file|tls_key_file):/.exec((err as Error).message)?.[1] ?? (err as Error).message;
    }
    return "accepted";
  };

  it("names the field of a missing, unreadable-as-PEM or mismatched file", () => {
    expect(fieldOf("a.crt", "a.key")).toBe("accepted");
    expect(fieldOf("missing.crt", "a.key")).toBe("tls_cert_file");
    expect(fieldOf("a.crt", "missing.key")).toBe("tls_key_file");
    expect(fieldOf("garbage.pem", "a.key")).toBe("tls_cert_file");
    expect(fieldOf("a.crt", "garbage.pem")).toBe("tls_key_file");
    expect(fieldOf("a.key", "a.key")).toBe("tls_cert_file");
    expect(fieldOf("a.crt", "b.key")).toBe("tls_key_file");
  });

  it("`tessera server --config` with a missing certificate file exits 1 naming listener.tls_cert_file", async () => {
    const config = join(dir, "tessera.json");
    writeFileSync(
      config,
      JSON.stringify({ listener: { address: `127.0.0.1:${await freePort()}`, tls_cert_file: "./missing.crt", tls_key_file: "./a.key" }, storage: { sqlite: { path: "./t.db" } } }),
    );
    const r = await runCli(["server", "--config", config], { address: plain.url });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("listener.tls_cert_file");
    expect(r.stderr).toContain(join(dir, "missing.crt"));
  });
});
