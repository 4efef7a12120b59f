/** `tessera secret`: put from pairs, files and stdin, get (fields, one field, a version), list, history with read counts, delete/undelete/destroy/--all, mount configuration, and the SDK's secret methods. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TesseraClient } from "@tessera/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "cli-secrets-root";
let server: ServerProcess;
const cli = (...args: string[]) => runCli(args, { address: server.url, token: ROOT });

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
});
afterAll(async () => {
  await server?.stop();
});

describe("tessera secret", () => {
  it("puts from pairs, a file and stdin; gets fields, one field and old versions; lists; shows history", async () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-cli-secret-"));
    writeFileSync(join(dir, "pw.txt"), "from-a-file\n");
    expect(await cli("secret", "put", "payments/db", "user=app", `password=@${join(dir, "pw.txt")}`)).toMatchObject({ code: 0 });
    const viaStdin = await runCli(["secret", "put", "payments/db", "password=-", "--cas", "1"], { address: server.url, token: ROOT, input: "from-stdin\n" });
    expect(viaStdin.code, viaStdin.stderr).toBe(0);
    expect(await cli("secret", "get", "payments/db", "--field", "password")).toMatchObject({ code: 0, stdout: "from-stdin\n" });
    expect(await cli("secret", "get", "payments/db", "--field", "password", "--version", "1")).toMatchObject({ code: 0, stdout: "from-a-file\n" });
    const json = JSON.parse((await cli("secret", "get", "payments/db", "--version", "1", "--json")).stdout);
    expect(json).toMatchObject({ version: 1, data: { user: "app", password: "from-a-file" } });
    const stale = await runCli(["secret", "put", "payments/db", "password=-", "--cas", "1"], { address: server.url, token: ROOT, input: "late" });
    expect(stale.code).toBe(1);
    expect(stale.stderr).toContain("InvalidState");
    expect(await cli("secret", "list")).toMatchObject({ code: 0, stdout: "payments/\n" });
    expect(await cli("secret", "list", "payments")).toMatchObject({ code: 0, stdout: "db\n" });
    const history = JSON.parse((await cli("secret", "history", "payments/db", "--json")).stdout);
    expect(history.versions.map((v: any) => [v.version, v.readCount])).toEqual([
      [1, 2],
      [2, 1],
    ]);
    expect((await cli("secret", "history", "payments/db")).stdout).toMatch(/Last reader/);
    expect((await cli("secret", "get", "payments/db", "--field", "nope")).code).toBe(2);
  });

  it("deletes, undeletes, destroys and removes; configures a mount's key; the SDK reads the same store", async () => {
    await cli("secret", "put", "app/token", "v=1");
    await cli("secret", "put", "app/token", "v=2");
    expect((await cli("secret", "delete", "app/token")).code).toBe(0);
    expect((await cli("secret", "get", "app/token")).stderr).toContain("NotFound");
    expect((await cli("secret", "undelete", "app/token", "--versions", "2")).code).toBe(0);
    expect((await cli("secret", "delete", "app/token", "--destroy", "--versions", "1")).code).toBe(0);
    expect((await cli("secret", "get", "app/token", "--version", "1")).stderr).toContain("Destroyed");
    expect((await cli("secret", "delete", "app/token", "--destroy")).code).toBe(2);

    expect((await cli("key", "create", "team-key")).code).toBe(0);
    const mount = JSON.parse((await cli("secret", "mount", "team", "--key", "team-key", "--max-versions", "3", "--json")).stdout);
    expect(mount).toMatchObject({ mount: "team", keyName: "team-key", maxVersions: 3 });
    const client = new TesseraClient({ address: server.url, token: ROOT });
    const written = await client.putSecret("svc/api", { token: "abc" }, { mount: "team" });
    expect(written.keyId).toBe(mount.keyId);
    expect((await cli("secret", "get", "svc/api", "--mount", "team", "--field", "token")).stdout).toBe("abc\n");
    expect((await client.listSecrets("svc", { mount: "team" })).keys).toEqual(["api"]);
    expect((await cli("secret", "delete", "app/token", "--all")).code).toBe(0);
    expect((await cli("secret", "history", "app/token")).stderr).toContain("NotFound");
  });
});
