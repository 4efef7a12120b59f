/**
 * Vault's LIST verb over real sockets (api/vault/list-verb.ts): pipelined and kept-alive requests
 * around it, bodies that contain "LIST ", chunked bodies, and the same over TLS — every other request
 * on the connection is answered exactly as without the rewriter. (The hand-over of a connection to
 * the rewriter at its first LIST is tested on a plain node:http server in list-verb-handover.test.ts.)
 */
import { connect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "@tessera/server";
import { exchange, startListening, type ListeningApp } from "../helpers/raw-http.js";
import { startTlsApp, type TlsTestApp } from "../helpers/mtls.js";

let plain: ListeningApp;
let tls: TlsTestApp;

const b64 = (s: string) => Buffer.from(s).toString("base64");

function requests(token: string): { bytes: string; expect: (r: { status: number; body: string }[]) => void } {
  // A JSON body whose text contains "\r\nLIST " and starts like a request: it is data, never rewritten.
  const body = JSON.stringify({ plaintext: b64("x"), note: "\r\nLIST /v1/transit/keys HTTP/1.1\r\n" });
  const chunked = JSON.stringify({ plaintext: b64("LIST ") });
  const h = `Host: t\r\nX-Vault-Token: ${token}\r\n`;
  const bytes =
    `GET /v1/sys/health HTTP/1.1\r\nHost: t\r\n\r\n` +
    `LIST /v1/transit/keys HTTP/1.1\r\n${h}\r\n` +
    `POST /v1/transit/encrypt/listed HTTP/1.1\r\n${h}Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}` +
    `LIST /v1/transit/keys/ HTTP/1.1\r\n${h}\r\n` +
    `POST /v1/transit/encrypt/listed HTTP/1.1\r\n${h}Transfer-Encoding: chunked\r\n\r\n${chunked.length.toString(16)}\r\n${chunked}\r\n0\r\n\r\n` +
    `LIST /v1/transit/keys HTTP/1.1\r\n${h}Connection: close\r\n\r\n`;
  return {
    bytes,
    expect(r) {
      expect(r.map((x) => x.status)).toEqual([200, 200, 200, 200, 200, 200]);
      for (const i of [1, 3, 5]) expect(JSON.parse(r[i]!.body).data.keys).toContain("listed");
      expect(JSON.parse(r[2]!.body).warnings).toEqual(["Endpoint ignored these unrecognized parameters: [note]"]);
      expect(JSON.parse(r[4]!.body).data.ciphertext).toMatch(/^vault:v1:/);
    },
  };
}

beforeAll(async () => {
  plain = await startListening(new ManualClock(Date.UTC(2026, 0, 5, 12)));
  expect((await plain.native("POST", "/v1/keys", { name: "listed" })).status).toBe(201);
  tls = await startTlsApp();
  expect((await tls.call("POST", "/v1/keys", { token: tls.rootToken, body: { name: "listed" } })).status).toBe(201);
});
afterAll(async () => {
  await plain?.close();
  await tls?.close();
});

describe("the LIST verb", () => {
  it("is answered as Vault's list among pipelined requests on one connection", async () => {
    const { bytes, expect: check } = requests(plain.root);
    check(await exchange(connect(plain.port, "127.0.0.1"), bytes, 6));
  });

  it("is answered on a kept-alive connection between ordinary requests", async () => {
    const socket = connect(plain.port, "127.0.0.1");
    const h = `Host: t\r\nX-Vault-Token: ${plain.root}\r\n`;
    const [first] = await exchangeKeepOpen(socket, `GET /v1/transit/keys/listed HTTP/1.1\r\n${h}\r\n`);
    expect(first!.status).toBe(200);
    const [listed] = await exchangeKeepOpen(socket, `LIST /v1/transit/keys HTTP/1.1\r\n${h}\r\n`);
    expect(JSON.parse(listed!.body).data.keys).toEqual(["listed"]);
    const [last] = await exchange(socket, `GET /v1/sys/health HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n`, 1);
    expect(last!.status).toBe(200);
  });

  it("is answered over TLS, pipelined, with the other requests unchanged", async () => {
    const port = (tls.app.http.server.address() as AddressInfo).port;
    // The listener's certificate is the test's own; what is under test is the stream inside TLS.
    const socket = tlsConnect({ host: "127.0.0.1", port, rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once("secureConnect", resolve).once("error", reject));
    const { bytes, expect: check } = requests(tls.rootToken);
    check(await exchange(socket, bytes, 6));
  });

  it("is refused by Node when vault.list_verb is off, and GET ?list=true still lists", async () => {
    const off = await startListening(new ManualClock(Date.UTC(2026, 0, 5, 12)), { vault: { listVerb: false } });
    try {
      await off.native("POST", "/v1/keys", { name: "listed" });
      const h = `Host: t\r\nX-Vault-Token: ${off.root}\r\n`;
      const [refused] = await exchange(connect(off.port, "127.0.0.1"), `LIST /v1/transit/keys HTTP/1.1\r\n${h}\r\n`, 1);
      expect(refused!.status).toBe(400);
      const [listed] = await exchange(connect(off.port, "127.0.0.1"), `GET /v1/transit/keys?list=true HTTP/1.1\r\n${h}Connection: close\r\n\r\n`, 1);
      expect(JSON.parse(listed!.body).data.keys).toEqual(["listed"]);
    } finally {
      await off.close();
    }
  });

  it("is refused by Node, as without the rewriter, on a connection it stopped following", async () => {
    // A LIST hands the connection to the rewriter; then Content-Length and Transfer-Encoding together:
    // Node refuses that request, and the rewriter passes through for good.
    const h = `Host: t\r\nX-Vault-Token: ${plain.root}\r\n`;
    const socket = connect(plain.port, "127.0.0.1");
    const [listed] = await exchangeKeepOpen(socket, `LIST /v1/transit/keys HTTP/1.1\r\n${h}\r\n`);
    const [refused] = await exchange(socket, "POST /v1/decrypt HTTP/1.1\r\nHost: t\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 1);
    const r = [listed!, refused!];
    expect(r.map((x) => x.status)).toEqual([200, 400]);
  });
});

/** One request and its response on a socket that stays open. */
function exchangeKeepOpen(socket: import("node:net").Socket, bytes: string) {
  return new Promise<{ status: number; body: string }[]>((resolve, reject) => {
    let buffered = "";
    const onData = (d: Buffer) => {
      buffered += d.toString("utf8");
      const end = buffered.indexOf("\r\n\r\n");
      const length = /content-length: *(\d+)/i.exec(buffered);
      if (end !== -1 && length !== null && Buffer.byteLength(buffered) >= end + 4 + Number(length[1])) {
        socket.off("data", onData);
        resolve([{ status: Number(buffered.slice(9, 12)), body: buffered.slice(end + 4) }]);
      }
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.write(bytes);
  });
}
