import { createServer, type Server } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraClient } from "./index.js";

// A canned server on a real Unix socket: what the client sends over `socketPath`, and how it reports a missing socket.
const dir = mkdtempSync(join(tmpdir(), "tessera-socket-"));
const socketPath = join(dir, "agent.sock");
let server: Server;
const seen: { url: string; headers: Record<string, unknown>; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ url: req.url!, headers: req.headers, body });
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ keyId: "k", keyVersion: 1, plaintext: "aGk=" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe("the socketPath option", () => {
  it("sends the native API request over the Unix socket, with no address and no token", async () => {
    const client = new TesseraClient({ socketPath });
    expect(client.address).toBe(`unix:${socketPath}`);
    expect(await client.decrypt({ ciphertext: "AAAA" })).toEqual({ keyId: "k", keyVersion: 1, plaintext: "aGk=" });
    const last = seen.at(-1)!;
    expect([last.url, JSON.parse(last.body), last.headers["x-tessera-token"], last.headers["host"]]).toEqual(["/v1/decrypt", { ciphertext: "AAAA" }, undefined, "agent"]);
  });

  it("keeps a path prefix of an http address", async () => {
    await new TesseraClient({ socketPath, address: "http://localhost/prefix" }).decrypt({ ciphertext: "AAAA" });
    expect(seen.at(-1)!.url).toBe("/prefix/v1/decrypt");
  });

  it("refuses tls with a socket and an https address", () => {
    expect(() => new TesseraClient({ socketPath, tls: { ca: "x" } })).toThrow(TypeError);
    expect(() => new TesseraClient({ socketPath, address: "https://agent" })).toThrow(/http:\/\//);
    expect(() => new TesseraClient({})).toThrow(/socketPath/);
  });

  it("reports a socket nobody listens on as Unavailable, naming the socket", async () => {
    const client = new TesseraClient({ socketPath: join(dir, "missing.sock") });
    await expect(client.decrypt({ ciphertext: "AAAA" })).rejects.toMatchObject({ code: "Unavailable", message: expect.stringContaining("missing.sock") });
  });
});
