import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Readable, Writable } from "node:stream";
import { TESSERA_VERSION } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Io } from "./io.js";
import { main } from "./main.js";

// In-process runs of `main` against captured streams and, for requests, a canned-answer HTTP
// server (the real server is driven by test/integration/cli.test.ts).
interface Run {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function sink(chunks: Buffer[]): Writable {
  return new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
}

async function run(args: string[], stdin: Buffer | string = ""): Promise<Run> {
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const io: Io = { stdin: Readable.from([Buffer.from(stdin)]), stdout: sink(out), stderr: sink(err) };
  const code = await main(["node", "tessera", ...args], io);
  return { code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() };
}

let server: Server;
let address: string;
let requests: { url: string; token: string | undefined; body: unknown }[] = [];
let answer: { status: number; body: unknown } = { status: 200, body: {} };

beforeAll(async () => {
  server = createServer((req, res) => {
    let text = "";
    req.on("data", (c: Buffer) => (text += c.toString()));
    req.on("end", () => {
      requests.push({ url: req.url ?? "", token: req.headers["x-tessera-token"] as string | undefined, body: text === "" ? undefined : JSON.parse(text) });
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function answerWith(status: number, body: unknown): void {
  requests = [];
  answer = { status, body };
}

describe("help and version", () => {
  it("prints the version from @tessera/protocol", async () => {
    const result = await run(["--version"]);
    expect(result.code).toBe(0);
    expect(result.stdout.toString().trim()).toBe(TESSERA_VERSION);
  });

  it("lists the commands in groups", async () => {
    const result = await run(["--help"]);
    expect(result.code).toBe(0);
    const help = result.stdout.toString();
    for (const heading of ["Cryptographic operations:", "Key management:", "Access:", "Server:"]) expect(help).toContain(heading);
    for (const command of ["encrypt", "decrypt", "datakey", "reencrypt", "derive", "random", "key", "token", "status", "operator", "server"]) {
      expect(help).toMatch(new RegExp(`^  ${command}\\b`, "m"));
    }
  });

  it("gives each command a description, its options and an example", async () => {
    const result = await run(["token", "create", "--help"]);
    expect(result.code).toBe(0);
    const help = result.stdout.toString();
    expect(help).toContain("--allow <grant>");
    expect(help).toContain("Global Options:");
    expect(help).toContain("Examples:");
  });

  it("shows help for a command group named without a subcommand, as a usage error", async () => {
    const result = await run(["key"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("schedule-deletion");
  });
});

describe("usage errors exit with 2 and send nothing", () => {
  it.each([
    ["an unknown command", ["frobnicate"]],
    ["an unknown option", ["random", "--bogus", "--address", "http://127.0.0.1:1"]],
    ["a missing required option", ["encrypt", "hello"]],
    ["a context without '='", ["encrypt", "--key", "k", "--context", "novalue", "hello"]],
    ["an out-of-range number", ["random", "0"]],
    ["a grant without resources", ["token", "create", "--allow", "kms:Encrypt"]],
    ["an address that is not http(s)", ["random", "--address", "ftp://host"]],
    ["plaintext both as argument and --in", ["encrypt", "--key", "k", "--in", "file", "hello", "--address", "http://127.0.0.1:1"]],
    ["--threshold above --shares", ["operator", "init", "--shares", "2", "--threshold", "3"]],
    ["key update with nothing to change", ["key", "update", "k"]],
    ["token revoke without saying which", ["token", "revoke"]],
    ["server without --dev or --config", ["server"]],
    ["server --config with a dev-only option", ["server", "--config", "x.json", "--listen", "127.0.0.1:1"]],
  ])("%s", async (_why, args) => {
    answerWith(200, {});
    // `server` takes no --address; every other command gets one so nothing can reach a real server.
    const result = await run(args[0] === "server" || args.includes("--address") ? args : [...args, "--address", address]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/error/i);
    expect(requests).toEqual([]);
  });
});

describe("requests and output", () => {
  it("encrypts the raw bytes of stdin and prints the ciphertext line", async () => {
    answerWith(200, { keyId: "id", keyVersion: 1, ciphertext: "VGVzdA==" });
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0a]);
    const result = await run(["encrypt", "--key", "team/db", "--context", "vm=web=7", "--address", address, "--token", "t"], bytes);
    expect(result.code).toBe(0);
    expect(result.stdout.toString()).toBe("VGVzdA==\n");
    expect(requests).toEqual([
      { url: "/v1/keys/team%2Fdb/encrypt", token: "t", body: { plaintext: bytes.toString("base64"), context: { vm: "web=7" } } },
    ]);
  });

  it("decrypts a trimmed ciphertext from stdin and writes the plaintext bytes unchanged", async () => {
    const plaintext = Buffer.from([0x00, 0x01, 0xc3, 0x28]);
    answerWith(200, { keyId: "id", keyVersion: 1, plaintext: plaintext.toString("base64") });
    const result = await run(["decrypt", "--address", address], "  VGVzdA==\n");
    expect(result.code).toBe(0);
    expect(result.stdout.equals(plaintext)).toBe(true);
    expect(requests[0]?.body).toEqual({ ciphertext: "VGVzdA==" });
  });

  it("prints the API response under --json", async () => {
    const response = { keyId: "id", keyVersion: 2, ciphertext: "VGVzdA==" };
    answerWith(200, response);
    const result = await run(["encrypt", "--key", "k", "hi", "--json", "--address", address]);
    expect(JSON.parse(result.stdout.toString())).toEqual(response);
  });

  it("reports an API error as 'Error [Code]' on stderr with exit code 1", async () => {
    answerWith(403, { error: { code: "AccessDenied", message: "no", requestId: "r1" } });
    const result = await run(["random", "--address", address, "--token", "t"]);
    expect(result.code).toBe(1);
    expect(result.stdout.length).toBe(0);
    expect(result.stderr).toMatch(/^Error \[AccessDenied\]: /);
  });

  it("prints the error body on stderr under --json, and nothing on stdout", async () => {
    const body = { error: { code: "InvalidInput", message: "bad", field: "/context", requestId: "r2" } };
    answerWith(400, body);
    const result = await run(["random", "--json", "--address", address, "--token", "t"]);
    expect(result.code).toBe(1);
    expect(result.stdout.length).toBe(0);
    expect(JSON.parse(result.stderr)).toEqual(body);
  });

  it("never echoes the token in an error", async () => {
    answerWith(401, { error: { code: "Unauthenticated", message: "A valid token is required." } });
    const result = await run(["random", "--address", address, "--token", "very-secret-token"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("Unauthenticated");
    expect(result.stderr).not.toContain("very-secret-token");
  });

  it("reports an unreachable server as Unavailable", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await run(["status", "--address", `http://127.0.0.1:${port}`, "--json"]);
    expect(result.code).toBe(1);
    expect(result.stdout.length).toBe(0);
    expect(JSON.parse(result.stderr).error.code).toBe("Unavailable");
  });

  it.each([
    ["unsealed", { initialized: true, sealed: false }, 0],
    ["sealed", { initialized: true, sealed: true }, 2],
    ["not initialised", { initialized: false, sealed: true }, 2],
  ])("status exits %s with the right code", async (_state, flags, code) => {
    answerWith(200, { ...flags, sealType: "shamir", threshold: 3, shares: 5, progress: 1, version: "0.1.0" });
    expect((await run(["status", "--address", address])).code).toBe(code);
  });

  it("sends an unseal share read from stdin, trimmed", async () => {
    answerWith(200, { initialized: true, sealed: true, sealType: "shamir", threshold: 3, shares: 5, progress: 1, version: "0.1.0" });
    const result = await run(["operator", "unseal", "--address", address], "c2hhcmU=\n");
    expect(result.code).toBe(0);
    expect(requests[0]).toMatchObject({ url: "/v1/sys/unseal", body: { share: "c2hhcmU=" } });
  });

  it("prints every unseal share and the root token once, with a warning", async () => {
    answerWith(200, { shares: ["s-one", "s-two", "s-three"], rootToken: "root-tok", threshold: 2 });
    const result = await run(["operator", "init", "--shares", "3", "--threshold", "2", "--address", address]);
    expect(result.code).toBe(0);
    expect(requests[0]).toMatchObject({ url: "/v1/sys/init", body: { shares: 3, threshold: 2 } });
    const text = result.stdout.toString();
    for (const secret of ["s-one", "s-two", "s-three", "root-tok"]) expect(text.split(secret)).toHaveLength(2);
    expect(text).toMatch(/store each one apart/i);
    expect(result.stderr).toBe("");
  });

  it("turns --allow and --ttl into token grants and seconds", async () => {
    answerWith(201, { token: "tok", accessor: "acc", displayName: "ci", root: false, grants: [], createdAt: "x", expiresAt: null });
    await run(["token", "create", "--ttl", "2h", "--display-name", "ci", "--allow", "kms:Encrypt,kms:Decrypt:a,b", "--allow", "*:*", "--address", address]);
    expect(requests[0]?.body).toEqual({
      ttlSeconds: 7200,
      displayName: "ci",
      grants: [
        { actions: ["kms:Encrypt", "kms:Decrypt"], resources: ["a", "b"] },
        { actions: ["*"], resources: ["*"] },
      ],
    });
  });

  it("sends null to turn rotation off", async () => {
    answerWith(200, {});
    await run(["key", "update", "k", "--rotation-period", "off", "--json", "--address", address]);
    expect(requests[0]?.body).toEqual({ rotationPeriodSeconds: null });
  });

  it("lets derive take --version as the key version", async () => {
    answerWith(200, { keyId: "id", keyVersion: 2, derivedKey: "AAAA" });
    const result = await run(["derive", "--key", "k", "--context", "vm=a", "--version", "2", "--address", address]);
    expect(result.stdout.toString()).toBe("AAAA\n");
    expect(requests[0]?.body).toEqual({ context: { vm: "a" }, keyVersion: 2 });
  });
});
