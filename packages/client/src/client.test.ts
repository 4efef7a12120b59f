import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TesseraError, isTesseraError } from "@tessera/protocol";
import { TesseraClient, TesseraResponseError } from "./index.js";

// A canned-answer HTTP server on a real socket: the real server is tested elsewhere, here we pin
// what the client puts on the wire and how it reads answers.
interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}
interface Canned {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

let server: Server;
let address: string;
let seen: Seen[] = [];
let answer: Canned = { status: 200, body: "{}" };

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
      res.end(answer.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  address = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

afterEach(() => {
  seen = [];
  answer = { status: 200, body: "{}" };
});

function reply(status: number, body: unknown): void {
  answer = { status, body: typeof body === "string" ? body : JSON.stringify(body) };
}

function last(): Seen {
  const request = seen.at(-1);
  if (request === undefined) throw new Error("no request reached the server");
  return request;
}

async function caught(promise: Promise<unknown>): Promise<TesseraError> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof TesseraError) return err;
    throw err;
  }
  throw new Error("expected the call to fail");
}

describe("TesseraClient requests", () => {
  it("sends the token in X-Tessera-Token and the body as JSON", async () => {
    const response = { keyId: "k", keyVersion: 1, ciphertext: "VA==" };
    reply(200, response);
    const client = new TesseraClient({ address, token: "t0ken" });
    const result = await client.encrypt("payment-db", { plaintext: "aGk=", context: { vm: "a" } });
    expect(result).toEqual(response);
    const req = last();
    expect(req.method).toBe("POST");
    expect(req.url).toBe("/v1/keys/payment-db/encrypt");
    expect(req.headers["x-tessera-token"]).toBe("t0ken");
    expect(req.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(req.body)).toEqual({ plaintext: "aGk=", context: { vm: "a" } });
  });

  it("sends no token header when none is configured", async () => {
    reply(200, { initialized: true, sealed: false, version: "0.1.0", serverTime: "2025-01-01T00:00:00Z" });
    await new TesseraClient({ address }).health();
    expect(last().headers["x-tessera-token"]).toBeUndefined();
  });

  it("encodes a key name as one path segment", async () => {
    const client = new TesseraClient({ address, token: "t" });
    await client.describeKey("team/a b?c#d");
    expect(last().url).toBe("/v1/keys/team%2Fa%20b%3Fc%23d");
    await client.disableKeyVersion("team/x", 3);
    expect(last().url).toBe("/v1/keys/team%2Fx/versions/3/disable");
  });

  it("sends neither body nor Content-Type for routes without a request body", async () => {
    await new TesseraClient({ address, token: "t" }).rotateKey("k");
    const req = last();
    expect(req.url).toBe("/v1/keys/k/rotate");
    expect(req.body).toBe("");
    expect(req.headers["content-type"]).toBeUndefined();
  });

  it("maps each route to its method and path", async () => {
    const c = new TesseraClient({ address, token: "t" });
    const calls: [() => Promise<unknown>, string, string][] = [
      [() => c.decrypt({ ciphertext: "VA==" }), "POST", "/v1/decrypt"],
      [() => c.generateDataKey("k"), "POST", "/v1/keys/k/generate-data-key"],
      [() => c.generateDataKeyWithoutPlaintext("k"), "POST", "/v1/keys/k/generate-data-key-without-plaintext"],
      [() => c.reEncrypt({ ciphertext: "VA==" }), "POST", "/v1/reencrypt"],
      [() => c.derive("k", { context: { a: "b" } }), "POST", "/v1/keys/k/derive"],
      [() => c.generateRandom({ numberOfBytes: 8 }), "POST", "/v1/random"],
      [() => c.batchEncrypt({ items: [{ keyId: "k", plaintext: "" }] }), "POST", "/v1/batch/encrypt"],
      [() => c.batchDecrypt({ items: [{ ciphertext: "VA==" }] }), "POST", "/v1/batch/decrypt"],
      [() => c.createKey({ name: "k" }), "POST", "/v1/keys"],
      [() => c.listKeys(), "GET", "/v1/keys"],
      [() => c.updateKey("k", { rotationPeriodSeconds: null }), "PATCH", "/v1/keys/k"],
      [() => c.enableKey("k"), "POST", "/v1/keys/k/enable"],
      [() => c.disableKey("k"), "POST", "/v1/keys/k/disable"],
      [() => c.scheduleKeyDeletion("k", { pendingWindowDays: 7 }), "POST", "/v1/keys/k/schedule-deletion"],
      [() => c.cancelKeyDeletion("k"), "POST", "/v1/keys/k/cancel-deletion"],
      [() => c.setMinDecryptionVersion("k", { minDecryptionVersion: 2 }), "POST", "/v1/keys/k/min-decryption-version"],
      [() => c.setMinEncryptionVersion("k", { minEncryptionVersion: 2 }), "POST", "/v1/keys/k/min-encryption-version"],
      [() => c.listVersions("k"), "GET", "/v1/keys/k/versions"],
      [() => c.enableKeyVersion("k", 2), "POST", "/v1/keys/k/versions/2/enable"],
      [() => c.listAliases("k"), "GET", "/v1/aliases?keyId=k"],
      [() => c.listAliases(), "GET", "/v1/aliases"],
      [() => c.setAlias("team/orders", "k"), "PUT", "/v1/aliases/team/orders"],
      [() => c.deleteAlias("alias/a b"), "DELETE", "/v1/aliases/alias/a%20b"],
      [() => c.createToken({ grants: [] }), "POST", "/v1/auth/tokens"],
      [() => c.lookupSelf(), "GET", "/v1/auth/tokens/self"],
      [() => c.lookupToken({ accessor: "a" }), "POST", "/v1/auth/tokens/lookup"],
      [() => c.init({ shares: 3, threshold: 2 }), "POST", "/v1/sys/init"],
      [() => c.unseal({ reset: true }), "POST", "/v1/sys/unseal"],
      [() => c.seal(), "POST", "/v1/sys/seal"],
      [() => c.sealStatus(), "GET", "/v1/sys/seal-status"],
      [() => c.openApi(), "GET", "/v1/sys/openapi.json"],
    ];
    for (const [call, method, path] of calls) {
      await call();
      expect(`${last().method} ${last().url}`).toBe(`${method} ${path}`);
    }
  });

  it("puts listKeys paging in the query string", async () => {
    await new TesseraClient({ address, token: "t" }).listKeys({ limit: 10, marker: "a b&c" });
    expect(last().url).toBe("/v1/keys?limit=10&marker=a+b%26c");
  });

  it("resolves revokeToken with undefined on 204", async () => {
    answer = { status: 204 };
    await expect(new TesseraClient({ address, token: "t" }).revokeToken({ token: "other" })).resolves.toBeUndefined();
    expect(JSON.parse(last().body)).toEqual({ token: "other" });
  });

  it("keeps a path prefix of the address and drops a trailing slash", async () => {
    await new TesseraClient({ address: `${address}/tessera/`, token: "t" }).sealStatus();
    expect(last().url).toBe("/tessera/v1/sys/seal-status");
  });

  it("uses the fetch it is given", async () => {
    const urls: string[] = [];
    const fetchSpy: typeof fetch = (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    };
    await new TesseraClient({ address, fetch: fetchSpy }).sealStatus();
    expect(urls).toEqual([`${address}/v1/sys/seal-status`]);
  });

  it("refuses an address that is not http(s)", () => {
    expect(() => new TesseraClient({ address: "ftp://host" })).toThrow(TypeError);
    expect(() => new TesseraClient({ address: "not a url" })).toThrow(TypeError);
  });
});

describe("TesseraClient health", () => {
  const sealed = { initialized: true, sealed: true, version: "0.1.0", serverTime: "2025-01-01T00:00:00Z" };

  it("returns the body of a 503 answer from health", async () => {
    reply(503, sealed);
    await expect(new TesseraClient({ address }).health()).resolves.toEqual(sealed);
  });

  it("treats 503 on other routes as an error", async () => {
    reply(503, { error: { code: "Sealed", message: "sealed" } });
    const err = await caught(new TesseraClient({ address }).sealStatus());
    expect(err.code).toBe("Sealed");
  });
});

describe("TesseraClient errors", () => {
  it("throws the server's error code, message, field and request id", async () => {
    reply(400, { error: { code: "InvalidInput", message: "bad plaintext", field: "/plaintext", requestId: "req-1" } });
    const err = await caught(new TesseraClient({ address, token: "t" }).encrypt("k", { plaintext: "!" }));
    expect(isTesseraError(err)).toBe(true);
    expect(err).toBeInstanceOf(TesseraResponseError);
    expect(err.code).toBe("InvalidInput");
    expect(err.message).toBe("bad plaintext");
    expect(err.field).toBe("/plaintext");
    expect((err as TesseraResponseError).requestId).toBe("req-1");
  });

  it("reports a body that is not JSON as Internal", async () => {
    answer = { status: 502, body: "<html>Bad gateway</html>", headers: { "content-type": "text/html" } };
    expect((await caught(new TesseraClient({ address }).sealStatus())).code).toBe("Internal");
  });

  it("reports JSON that is not an error object as Internal", async () => {
    reply(400, { message: "nope" });
    expect((await caught(new TesseraClient({ address }).sealStatus())).code).toBe("Internal");
  });

  it("reports an unknown error code as Internal", async () => {
    reply(418, { error: { code: "Teapot", message: "short and stout", requestId: "r" } });
    const err = await caught(new TesseraClient({ address }).sealStatus());
    expect(err.code).toBe("Internal");
    expect((err as TesseraResponseError).requestId).toBe("r");
  });

  it("reports a success answer that is not JSON as Internal", async () => {
    answer = { status: 200, body: "ok" };
    expect((await caught(new TesseraClient({ address }).sealStatus())).code).toBe("Internal");
  });

  it("does not follow a redirect, which could carry the token elsewhere", async () => {
    // The redirect points back at this server, so a followed redirect would show as a second request.
    answer = { status: 307, body: "", headers: { location: `${address}/elsewhere` } };
    const err = await caught(new TesseraClient({ address, token: "t" }).sealStatus());
    expect(err.code).toBe("Internal");
    expect(seen.map((r) => r.url)).toEqual(["/v1/sys/seal-status"]);
  });

  it("reports a refused connection as Unavailable naming the address", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const unreachable = `http://127.0.0.1:${port}`;
    const err = await caught(new TesseraClient({ address: unreachable, token: "secret-token" }).sealStatus());
    expect(err.code).toBe("Unavailable");
    expect(err.message).toContain(unreachable);
    expect(err.message).not.toContain("secret-token");
  });

  it("reports a server that does not answer in time as Unavailable", async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    try {
      const slow = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
      const err = await caught(new TesseraClient({ address: slow, timeoutMs: 100 }).sealStatus());
      expect(err.code).toBe("Unavailable");
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
