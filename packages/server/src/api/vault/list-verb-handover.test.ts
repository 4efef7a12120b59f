/**
 * The hand-over of a connection to the LIST rewriter (list-verb.ts installListVerb), on a plain
 * node:http server over real loopback sockets: connections read natively until a LIST arrives;
 * earlier answers keep their order; what cannot be handed over is refused as before.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { LIST_MARKER_HEADER, installListVerb } from "./list-verb.js";

interface Harness {
  server: Server;
  port: number;
  /** The server side of each accepted connection, in order. */
  sockets: Socket[];
  /** Client errors passed on to the listener that was there before (the refusals). */
  refused: string[];
}

let harness: Harness | undefined;

/** An answer larger than the socket buffers, so that a client that does not read backs it up. */
const BIG = 8 * 1024 * 1024;

afterEach(async () => {
  const h = harness;
  harness = undefined;
  if (h === undefined) return;
  h.server.closeAllConnections();
  await new Promise<void>((resolve) => h.server.close(() => resolve()));
});

/** A server answering `METHOD URL marker` (after `?wait=ms` for `/slow`), with the LIST verb installed. */
async function start(before?: (server: Server) => void): Promise<Harness> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const wait = /^\/slow\?wait=(\d+)$/.exec(req.url ?? "");
    const text = `${req.method} ${req.url} ${req.headers[LIST_MARKER_HEADER] ?? "-"}`;
    const answer = () => res.end(req.url === "/big" ? text.padEnd(BIG, ".") : text);
    req.resume();
    req.on("end", () => (wait === null ? answer() : setTimeout(answer, Number(wait[1]))));
  });
  const h: Harness = { server, port: 0, sockets: [], refused: [] };
  server.on("connection", (s: Socket) => h.sockets.push(s));
  // What Fastify's clientError listener does, in short: answer 400 and close.
  server.on("clientError", (err: Error & { code?: string }, socket: Socket) => {
    h.refused.push(err.code ?? err.message);
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    else socket.destroy();
  });
  before?.(server);
  installListVerb(server, false);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  h.port = (server.address() as AddressInfo).port;
  harness = h;
  return h;
}

/** Writes `parts` (a pause between them) and collects `count` answers: status and body. */
function talk(port: number, parts: string[], count: number, options: { keepOpen?: (s: Socket) => void } = {}): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let text = "";
    const answers = (): string[] => {
      const out: string[] = [];
      for (let at = 0; ; ) {
        const end = text.indexOf("\r\n\r\n", at);
        if (end === -1) return out;
        const head = text.slice(at, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        if (text.length < end + 4 + length) return out;
        out.push(`${head.slice(9, 12)} ${text.slice(end + 4, end + 4 + length)}`);
        at = end + 4 + length;
      }
    };
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no ${count} answers within 5 s: ${JSON.stringify(text)}`));
    }, 5_000);
    socket.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (answers().length >= count) {
        clearTimeout(timer);
        if (options.keepOpen === undefined) socket.destroy();
        else options.keepOpen(socket);
        resolve(answers().slice(0, count));
      }
    });
    socket.on("error", reject);
    socket.on("connect", async () => {
      for (const [i, part] of parts.entries()) {
        if (i > 0) await new Promise((r) => setTimeout(r, 20));
        socket.write(part);
      }
    });
  });
}

const req = (method: string, url: string, extra = ""): string => `${method} ${url} HTTP/1.1\r\nHost: t\r\n${extra}\r\n`;

describe("installListVerb's hand-over", () => {
  it("leaves Node's parser reading the socket natively until a LIST arrives, then hands that connection over", async () => {
    const h = await start();
    let server: Socket | undefined;
    const consumed = () => (server as unknown as { parser?: { _consumed?: boolean } | null }).parser?._consumed;
    await talk(h.port, [req("GET", "/a")], 1, { keepOpen: (s) => s.destroy() });
    server = h.sockets[0]!;
    // A second connection, kept open across a plain request and then a LIST.
    const answers = await new Promise<string[]>((resolve, reject) => {
      const socket = connect(h.port, "127.0.0.1");
      const got: string[] = [];
      let text = "";
      socket.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        const bodies = [...text.matchAll(/\r\n\r\n([A-Z]+ \S+ \S+)/g)].map((m) => m[1]!);
        if (bodies.length === 1 && got.length === 0) {
          got.push(bodies[0]!);
          server = h.sockets[1]!;
          got.push(`before LIST: consumed ${consumed()}`);
          socket.write(req("LIST", "/b"));
        } else if (bodies.length === 2 && got.length === 2) {
          got.push(bodies[1]!, `after LIST: consumed ${consumed()}`);
          socket.destroy();
          resolve(got);
        }
      });
      socket.on("error", reject);
      socket.on("connect", () => socket.write(req("GET", "/a")));
    });
    expect(answers).toEqual(["GET /a -", "before LIST: consumed true", `GET /b 1`, "after LIST: consumed false"]);
    expect(h.refused).toEqual([]);
  });

  it("keeps pipelined answers in order: the LIST waits for the slower answer before it", async () => {
    const h = await start();
    const bytes = req("GET", "/slow?wait=150") + req("LIST", "/x") + req("POST", "/y", "Content-Length: 5\r\n") + "LIST " + req("LIST", "/z");
    expect(await talk(h.port, [bytes], 4)).toEqual(["200 GET /slow?wait=150 -", "200 GET /x 1", "200 POST /y -", "200 GET /z 1"]);
  });

  it("hands over the bytes that arrive while it waits, in order", async () => {
    const h = await start();
    const answers = await talk(h.port, [req("GET", "/slow?wait=150") + req("LIST", "/x"), req("GET", "/after"), req("LIST", "/last")], 4);
    expect(answers).toEqual(["200 GET /slow?wait=150 -", "200 GET /x 1", "200 GET /after -", "200 GET /last 1"]);
  });

  it("loses no byte when Node had paused the connection for answers backing up", { timeout: 15_000 }, async () => {
    const h = await start();
    const socket = connect(h.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.on("connect", resolve));
    // /big's answer fills the socket buffers while the client does not read, so Node pauses reading
    // at /x (its flood guard, resumed on 'drain'); the LIST after it is refused and waits for both answers.
    socket.pause();
    socket.write(req("GET", "/big"));
    await new Promise((r) => setTimeout(r, 150));
    socket.write(req("GET", "/x") + req("LIST", "/y"));
    await new Promise((r) => setTimeout(r, 150));
    socket.write(req("GET", "/after") + req("LIST", "/last"));
    await new Promise((r) => setTimeout(r, 150));
    let text = "";
    const done = new Promise<void>((resolve) => socket.on("data", (d: Buffer) => ((text += d.toString("latin1")), text.endsWith("GET /last 1") && resolve())));
    socket.resume();
    await done;
    socket.destroy();
    const bodies = [...text.matchAll(/\r\n\r\n(GET \/\w+ [-1])/g)].map((m) => m[1]);
    expect(bodies).toEqual(["GET /big -", "GET /x -", "GET /y 1", "GET /after -", "GET /last 1"]);
  });

  it("lets the connection go quietly when the client leaves while the LIST waits", async () => {
    const h = await start();
    const socket = connect(h.port, "127.0.0.1");
    await new Promise<void>((resolve) => socket.on("connect", resolve));
    socket.write(req("GET", "/slow?wait=100") + req("LIST", "/x"));
    await new Promise((r) => setTimeout(r, 30));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 200));
    // The server still answers, natively and with LIST.
    expect(await talk(h.port, [req("GET", "/a") + req("LIST", "/b")], 2)).toEqual(["200 GET /a -", "200 GET /b 1"]);
  });

  it("passes every other refusal on to the listener that was there, as before", async () => {
    const h = await start();
    expect(await talk(h.port, [req("FOO", "/a")], 1)).toEqual(["400 "]);
    // LIST's first letters in one read and the rest in the next: the refused bytes no longer hold the
    // method, so nothing is handed over (after a hand-over the rewriter handles any split).
    expect(await talk(h.port, ["LI", `ST /a HTTP/1.1\r\nHost: t\r\n\r\n`], 1)).toEqual(["400 "]);
    expect(h.refused).toEqual(["HPE_INVALID_METHOD", "HPE_INVALID_METHOD"]);
    expect(await talk(h.port, [req("GET", "/a") + req("LIST", "/b"), "LI", `ST /c HTTP/1.1\r\nHost: t\r\n\r\n`], 3)).toEqual(["200 GET /a -", "200 GET /b 1", "200 GET /c 1"]);
  });

  it("puts every connection behind the rewriter from its start on a server laid out otherwise", async () => {
    // Something else reads 'data' on every socket first: Node's parser no longer reads natively, so
    // the layout the hand-over needs is not there, and LIST still works, the general way.
    const h = await start((server) => server.on("connection", (s: Socket) => s.on("data", () => undefined)));
    expect(await talk(h.port, [req("LIST", "/a") + req("GET", "/b")], 2)).toEqual(["200 GET /a 1", "200 GET /b -"]);
    expect(h.refused).toEqual([]);
  });
});
