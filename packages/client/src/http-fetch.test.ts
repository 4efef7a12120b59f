import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TesseraClient } from "./index.js";
import { httpFetch } from "./socket-fetch.js";

// A canned server on a real loopback socket; each path answers one way. The CLI sends its plain-HTTP
// requests through httpFetch, so it must answer and fail as the global fetch does.
let server: Server;
let base: string;
let freedPort: number;
const seen: { url: string; token: unknown; body: string }[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      seen.push({ url: req.url!, token: req.headers["x-tessera-token"], body });
      if (req.url!.includes("/gone")) {
        res.writeHead(404, { "content-type": "application/json" });
        return res.end(JSON.stringify({ error: { code: "NotFound", message: "key gone not found", requestId: "r-1" } }));
      }
      if (req.url!.includes("/moved")) {
        res.writeHead(302, { location: "http://elsewhere.test/" });
        return res.end();
      }
      if (req.url!.startsWith("/slow/")) return; // never answers
      res.writeHead(200, { "content-type": "application/json", "x-extra": "1" });
      res.end(JSON.stringify({ keyId: "k", keyVersion: 1, plaintext: "aGk=" }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const spare = createServer();
  await new Promise<void>((resolve) => spare.listen(0, "127.0.0.1", resolve));
  freedPort = (spare.address() as AddressInfo).port;
  await new Promise((resolve) => spare.close(resolve));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** The same call through the global fetch and through httpFetch: what each resolves or rejects with. */
async function both(address: string, call: (c: TesseraClient) => Promise<unknown>, timeoutMs?: number): Promise<[unknown, unknown]> {
  const outcome = (c: TesseraClient) =>
    call(c).then(
      (value) => ({ value }),
      (err: Error & { code?: string; requestId?: string }) => ({ error: { name: err.name, code: err.code, message: err.message, requestId: err.requestId } }),
    );
  const options = { address, token: "t-1", ...(timeoutMs !== undefined && { timeoutMs }) };
  return [await outcome(new TesseraClient(options)), await outcome(new TesseraClient({ ...options, fetch: httpFetch() }))];
}

describe("httpFetch", () => {
  it("sends what the global fetch sends and returns the same answer", async () => {
    const [viaFetch, viaNode] = await both(base, (c) => c.decrypt({ ciphertext: "AAAA" }));
    expect(viaNode).toEqual(viaFetch);
    expect(viaNode).toEqual({ value: { keyId: "k", keyVersion: 1, plaintext: "aGk=" } });
    expect(seen.slice(-2).map((s) => [s.url, s.token, JSON.parse(s.body)])).toEqual([
      ["/v1/decrypt", "t-1", { ciphertext: "AAAA" }],
      ["/v1/decrypt", "t-1", { ciphertext: "AAAA" }],
    ]);
  });

  it.each([
    ["an error answer", "gone", "NotFound"],
    ["a redirect, not followed", "moved", "Internal"],
  ])("reports %s as the global fetch does", async (_what, key, code) => {
    const [viaFetch, viaNode] = await both(base, (c) => c.describeKey(key));
    expect(viaNode).toEqual(viaFetch);
    expect(viaNode).toMatchObject({ error: { code } });
  });

  it("reports a refused connection and a timeout as the global fetch does", async () => {
    const [refusedFetch, refusedNode] = await both(`http://127.0.0.1:${freedPort}`, (c) => c.describeKey("k"));
    expect(refusedNode).toEqual(refusedFetch);
    expect(refusedNode).toMatchObject({ error: { code: "Unavailable", message: expect.stringContaining("ECONNREFUSED") } });
    const [slowFetch, slowNode] = await both(`${base}/slow`, (c) => c.describeKey("k"), 300);
    expect(slowNode).toEqual(slowFetch);
    expect(slowNode).toMatchObject({ error: { code: "Unavailable", message: expect.stringContaining("no answer within 300 ms") } });
  });

  it("gives the answer's headers, and refuses an address that is not http://", async () => {
    const response = await httpFetch()(`${base}/v1/health`);
    expect([response.status, response.headers.get("x-extra")]).toEqual([200, "1"]);
    await expect(httpFetch()("https://127.0.0.1/")).rejects.toThrow(/plain HTTP; got https:/);
  });
});
