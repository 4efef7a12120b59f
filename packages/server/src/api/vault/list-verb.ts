/**
 * Vault's LIST verb on Node's HTTP server. Node's parser (llhttp) knows a fixed set of methods and
 * refuses `LIST` before any router runs. A connection's bytes then pass a small rewriter: a request
 * that starts `LIST ` reaches the parser as `GET ` with the header `x-tessera-vault-list: 1` after its
 * request line, which the Vault adapter reads as Vault's list operation (as `?list=true`).
 *
 * Only connections that send a `LIST` pay for the rewriter. Node's parser reads every connection
 * straight from the socket, natively; the first `LIST` it refuses on a connection (the `clientError`
 * it raises, with the refused bytes) hands that connection over: Node's per-connection state is
 * detached as Node does it before an `upgrade`, a fresh parser is attached by Node's own connection
 * listener, reading the socket's 'data' events through the rewriter, and the refused request is fed
 * to it from its first byte. Reading through 'data' events costs a little per chunk (docs/performance.md),
 * which is why the others never do.
 *
 * Invariants (list-verb.test.ts and test/integration/vault-list-verb.test.ts):
 * - Bytes are only ever rewritten at the start of a request, and only `LIST ` → `GET ` plus the marker
 *   line. To know where requests start on a kept-alive or pipelined connection the rewriter follows
 *   HTTP/1.1 framing (RFC 9112 §6: Content-Length, chunked Transfer-Encoding). Anything it cannot
 *   frame with certainty — both or repeated conflicting length headers, another transfer coding, obs-fold,
 *   a malformed line, CONNECT or Upgrade — switches the connection to pass-through for good: nothing
 *   more is rewritten there, and a LIST on it is refused by Node as before. It can fail only closed.
 * - A hand-over happens only when the refused bytes hold the whole `LIST ` at the point where Node's
 *   parser stopped, and only once every response to the requests before it on the connection has
 *   been written (pipelining keeps its order); bytes that arrive meanwhile wait in the socket. Any
 *   other refusal is answered as before (Fastify's 400), and so is a `LIST` whose first bytes came in
 *   an earlier read (no real client splits a request line; after a hand-over the rewriter handles
 *   any split).
 * - Every byte is forwarded as soon as it arrives except at most four at a request's start (a
 *   possible `LIST` prefix), so Node's header and request timeouts still see a slow client.
 * - TLS is untouched: the rewriter sits on the decrypted stream of the TLS socket. The socket stays
 *   the socket (address, client certificate).
 * - The hand-over knows how Node's HTTP server lays out a connection (its listeners on the socket,
 *   the parser's `unconsume`/`remove`/`close`), which Node does not export. The first connection is
 *   checked against that layout; on a Node that lays it out otherwise every connection goes through
 *   the rewriter from its start, as it did before the hand-over existed — slower, never wrong.
 */
import type { EventEmitter } from "node:events";
import type { Server } from "node:http";
import type { Socket } from "node:net";

export const LIST_MARKER_HEADER = "x-tessera-vault-list";

const LIST = Buffer.from("LIST ", "latin1");
const GET = Buffer.from("GET ", "latin1");
const MARKER = Buffer.from(`${LIST_MARKER_HEADER}: 1\r\n`, "latin1");
const CR = 0x0d;
const LF = 0x0a;
/** Longer request or header lines than Node accepts (16 KiB of headers by default) only pass through. */
const MAX_LINE = 64 * 1024;
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/**
 * First bytes of the header lines framing depends on: Content-Length, Transfer-Encoding, Upgrade, and
 * obs-fold (SP, HT). Other lines are left to Node's parser, which refuses malformed ones (closing the
 * connection); none of them can change where a request ends.
 */
const RELEVANT_FIRST_BYTE = new Set([..."CcTtUu \t"].map((c) => c.charCodeAt(0)));

type State = "start" | "request-line" | "headers" | "body" | "chunk-size" | "chunk-end" | "trailers" | "passthrough";

export class ListVerbRewriter {
  private state: State = "start";
  /** Bytes held at a request's start while they could still be `LIST `. */
  private held = 0;
  private rewriting = false;
  private requestStart = "";
  private line: Buffer[] = [];
  private lineLength = 0;
  private contentLength: number | undefined;
  private transferEncoding: string | undefined;
  private upgrade = false;
  private remaining = 0;
  private afterBody: State = "start";
  private crlf = 0;

  /** True once the connection is no longer followed (nothing more will be rewritten). */
  get passingThrough(): boolean {
    return this.state === "passthrough";
  }

  /** The bytes to hand the parser for `chunk` (the chunk itself when nothing changed). */
  push(chunk: Buffer): Buffer {
    if (this.state === "passthrough") return chunk;
    const out: Buffer[] = [];
    let i = 0;
    let from = 0;
    const flush = () => {
      if (i > from) out.push(chunk.subarray(from, i));
      from = i;
    };
    while (i < chunk.length && this.state !== "passthrough") {
      switch (this.state) {
        case "start": {
          const b = chunk[i]!;
          // Empty lines before a request line are tolerated (RFC 9112 §2.2).
          if (this.held === 0 && (b === CR || b === LF)) {
            i++;
            break;
          }
          if (b === LIST[this.held]) {
            flush();
            this.held++;
            i++;
            from = i;
            if (this.held === LIST.length) {
              out.push(GET);
              this.held = 0;
              this.rewriting = true;
              this.requestStart = "-";
              this.state = "request-line";
              this.lineLength = 0;
            }
            break;
          }
          flush();
          if (this.held > 0) out.push(LIST.subarray(0, this.held));
          // Only CONNECT needs the method's text; every other request line is just counted.
          this.requestStart = this.held === 0 && b === 0x43 ? "" : "-";
          this.held = 0;
          this.state = "request-line";
          this.lineLength = 0;
          break;
        }
        case "request-line": {
          const nl = chunk.indexOf(LF, i);
          const end = nl === -1 ? chunk.length : nl + 1;
          if (this.requestStart !== "-" && this.requestStart.length < 8) this.requestStart += chunk.toString("latin1", i, Math.min(end, i + 8 - this.requestStart.length));
          this.lineLength += end - i;
          i = end;
          if (this.lineLength > MAX_LINE) this.state = "passthrough";
          else if (nl !== -1) {
            flush();
            if (this.rewriting) out.push(MARKER);
            this.state = "headers";
            this.lineLength = 0;
          }
          break;
        }
        case "headers":
        case "chunk-size":
        case "trailers": {
          const nl = chunk.indexOf(LF, i);
          const end = nl === -1 ? chunk.length : nl + 1;
          if (nl !== -1 && this.line.length === 0 && this.state === "headers") {
            // The common case, a whole header line in this chunk: only the lines that decide framing
            // (content-length, transfer-encoding, upgrade; and obs-fold) are read as text.
            if (chunk[nl - 1] !== CR || nl - 1 < i) this.state = "passthrough";
            else if (nl - 1 === i) this.endOfHeaders();
            else if (RELEVANT_FIRST_BYTE.has(chunk[i]!)) this.onLine(chunk.toString("latin1", i, nl - 1));
            i = end;
            break;
          }
          this.line.push(Buffer.from(chunk.subarray(i, end)));
          this.lineLength += end - i;
          i = end;
          if (this.lineLength > MAX_LINE) this.state = "passthrough";
          else if (nl !== -1) {
            const text = Buffer.concat(this.line).toString("latin1");
            this.line = [];
            this.lineLength = 0;
            if (!text.endsWith("\r\n")) this.state = "passthrough";
            else this.onLine(text.slice(0, -2));
          }
          break;
        }
        case "body": {
          const n = Math.min(this.remaining, chunk.length - i);
          i += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = this.afterBody;
          break;
        }
        case "chunk-end": {
          const b = chunk[i]!;
          if (this.crlf === 0 && b === CR) this.crlf = 1;
          else if (this.crlf === 1 && b === LF) {
            this.crlf = 0;
            this.state = "chunk-size";
          } else this.state = "passthrough";
          i++;
          break;
        }
      }
    }
    i = chunk.length;
    flush();
    if (out.length === 1) return out[0]!;
    return Buffer.concat(out);
  }

  private onLine(line: string): void {
    if (this.state === "chunk-size") {
      const size = line.split(";", 1)[0]!.trim();
      if (!/^[0-9A-Fa-f]{1,12}$/.test(size)) return this.passThrough();
      const n = parseInt(size, 16);
      if (n === 0) this.state = "trailers";
      else this.body(n, "chunk-end");
      return;
    }
    if (this.state === "trailers") {
      if (line === "") this.next();
      return;
    }
    if (line === "") return this.endOfHeaders();
    if (line.startsWith(" ") || line.startsWith("\t")) return this.passThrough();
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    if (colon <= 0 || !TOKEN.test(name)) return this.passThrough();
    const value = line.slice(colon + 1).trim();
    if (name === "content-length") {
      if (!/^[0-9]{1,15}$/.test(value) || (this.contentLength !== undefined && this.contentLength !== Number(value))) return this.passThrough();
      this.contentLength = Number(value);
    } else if (name === "transfer-encoding") this.transferEncoding = this.transferEncoding === undefined ? value : `${this.transferEncoding},${value}`;
    else if (name === "upgrade") this.upgrade = true;
  }

  private endOfHeaders(): void {
    if (this.upgrade || this.requestStart.startsWith("CONNECT ")) return this.passThrough();
    if (this.transferEncoding !== undefined) {
      if (this.contentLength !== undefined || this.transferEncoding.trim().toLowerCase() !== "chunked") return this.passThrough();
      this.resetRequest();
      this.state = "chunk-size";
      return;
    }
    const length = this.contentLength ?? 0;
    this.resetRequest();
    if (length > 0) this.body(length, "start");
    else this.state = "start";
  }

  private body(length: number, after: State): void {
    this.remaining = length;
    this.afterBody = after;
    this.state = "body";
  }

  private next(): void {
    this.resetRequest();
    this.state = "start";
  }

  private resetRequest(): void {
    this.rewriting = false;
    this.requestStart = "";
    this.contentLength = undefined;
    this.transferEncoding = undefined;
    this.upgrade = false;
  }

  private passThrough(): void {
    this.state = "passthrough";
  }
}

const noop = (): void => undefined;

/** Node's HTTP parser binding, as lib/_http_server.js uses it. */
interface NodeHttpParser {
  _consumed?: boolean;
  unconsume(): void;
  remove(): void;
  close(): void;
}

/** A connection's socket with the fields Node's HTTP server (and net, `_handle`) keeps on it. */
type HttpSocket = Socket & {
  parser?: NodeHttpParser | null;
  _httpMessage?: EventEmitter | null;
  _paused?: boolean;
  _handle?: { reading?: boolean; readStart?: () => number } | null;
};

/** The socket listeners Node's connection listener adds (lib/_http_server.js connectionListenerInternal), by event. */
const NODE_CONNECTION_LISTENERS = {
  data: "bound socketOnData",
  end: "bound socketOnEnd",
  close: "bound socketOnClose",
  drain: "bound socketOnDrain",
  timeout: "socketOnTimeout",
  resume: "onSocketResume",
  pause: "onSocketPause",
} as const;
type ConnectionEvent = keyof typeof NODE_CONNECTION_LISTENERS;
type ConnectionListeners = Record<ConnectionEvent, (...args: unknown[]) => void>;

/** Node's own listeners on `socket`, each found exactly once, or undefined if Node laid the connection out otherwise. */
function nodeConnectionListeners(socket: HttpSocket): ConnectionListeners | undefined {
  const parser = socket.parser;
  if (parser == null || parser._consumed !== true || typeof parser.unconsume !== "function" || typeof parser.remove !== "function" || typeof parser.close !== "function") {
    return undefined;
  }
  const found: Partial<ConnectionListeners> = {};
  for (const [event, name] of Object.entries(NODE_CONNECTION_LISTENERS) as [ConnectionEvent, string][]) {
    const matching = socket.listeners(event).filter((l) => l.name === name);
    if (matching.length !== 1) return undefined;
    found[event] = matching[0] as (...args: unknown[]) => void;
  }
  return found as ConnectionListeners;
}

/** The refused request onwards (a copy), if Node's parser refused a whole `LIST ` at a request's start. */
function refusedList(err: Error & { code?: string; bytesParsed?: number; rawPacket?: unknown }): Buffer | undefined {
  // llhttp reads `LI` as the start of `LINK` and stops at the `S`: the request starts two bytes earlier.
  if (err.code !== "HPE_INVALID_METHOD" || typeof err.bytesParsed !== "number" || !Buffer.isBuffer(err.rawPacket)) return undefined;
  const raw = err.rawPacket;
  const at = err.bytesParsed - 2;
  if (at < 0 || raw.length < at + LIST.length || !raw.subarray(at, at + LIST.length).equals(LIST)) return undefined;
  return Buffer.from(raw.subarray(at));
}

/** Puts a rewriter in front of the HTTP parser of a socket whose parser reads 'data' events. */
function attachRewriter(socket: Socket): void {
  const rewriter = new ListVerbRewriter();
  const emit = socket.emit as (this: Socket, event: string | symbol, ...args: unknown[]) => boolean;
  socket.emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === "data" && Buffer.isBuffer(args[0])) {
      const bytes = rewriter.push(args[0]);
      return bytes.length === 0 ? true : emit.call(this, "data", bytes);
    }
    return emit.call(this, event, ...args);
  } as Socket["emit"];
  // Node's HTTP server reads a socket's bytes natively until something listens for 'data'; this
  // listener makes the parser read them from 'data' events, which pass the rewriter first.
  socket.on("data", noop);
}

/**
 * Hands a connection whose `LIST` Node's parser refused to a fresh parser behind a rewriter, and
 * feeds it `pending` (the refused request onwards). The old parser stops reading at once; the
 * hand-over waits until the responses to earlier requests on the connection are written.
 */
function handOver(server: Server, connectionListener: (socket: Socket) => void, socket: HttpSocket, node: ConnectionListeners, pending: Buffer): void {
  const parser = socket.parser!;
  // Further bytes wait in the socket; the old parser never sees them.
  socket.removeListener("data", node.data);
  socket.removeListener("end", node.end);
  socket.removeListener("timeout", node.timeout);
  parser.unconsume();
  parser._consumed = false;
  socket.removeListener("resume", node.resume);
  socket.removeListener("pause", node.pause);
  // Node pauses a connection whose answers back up (a flood of pipelined requests) and resumes it on
  // 'drain' while `_paused`; the old state's 'drain' listener stays for the answers still going out,
  // and must not resume the socket before the hand-over does.
  socket._paused = false;
  socket.pause();
  const complete = (): void => {
    if (socket.destroyed || !socket.writable) return; // closed meanwhile (or the last answer ended it): nothing to hand over
    const inFlight = socket._httpMessage;
    if (inFlight != null) {
      // Node's own 'finish' listener (added first) moves the next queued response onto the socket.
      inFlight.once("finish", complete);
      return;
    }
    socket.removeListener("close", node.close);
    socket.removeListener("drain", node.drain);
    parser.remove();
    socket.parser = null;
    // As Node frees a parser: after the current call stack, which may still be inside it.
    setImmediate(() => parser.close());
    // Node's listener wrappers and setEncoding guard, put back by its connection listener below.
    for (const own of ["on", "addListener", "prependListener", "setEncoding"] as const) delete (socket as unknown as Record<string, unknown>)[own];
    // The keep-alive timer the old state set after its last answer (it would clear it on the next request).
    socket.setTimeout(0);
    // A fresh parser and state from Node itself; the socket's handle stays marked consumed, so this
    // parser reads 'data' events, which the rewriter sees first.
    connectionListener.call(server, socket);
    attachRewriter(socket);
    socket.emit("data", pending);
    // Node's flood guard may have stopped the handle's reads while its parser read it natively
    // (`onSocketPause`); the stream never saw a read end then, so it would not start one again.
    const handle = socket._handle;
    if (handle?.reading === false && typeof handle.readStart === "function") {
      handle.reading = true;
      handle.readStart();
    }
    socket.resume();
  };
  complete();
}

/**
 * Lets `server` (Fastify's, with its `clientError` listener in place) answer Vault's `LIST`. Call it
 * once, after the server is created and before it accepts connections.
 */
export function installListVerb(server: Server, tls: boolean): void {
  const event = tls ? "secureConnection" : "connection";
  const connectionListener = server.listeners(event).find((l) => l.name === "connectionListener") as ((socket: Socket) => void) | undefined;
  // Decided on the first connection: whether Node lays connections out as the hand-over expects.
  let handsOver: boolean | undefined;
  server.on(event, (socket: HttpSocket) => {
    handsOver ??= connectionListener !== undefined && nodeConnectionListeners(socket) !== undefined;
    if (!handsOver) attachRewriter(socket);
  });
  const refuse = server.listeners("clientError") as ((err: Error, socket: Socket) => void)[];
  server.removeAllListeners("clientError");
  server.on("clientError", (err: Error, socket: HttpSocket) => {
    const pending = handsOver === true && !socket.destroyed ? refusedList(err) : undefined;
    const node = pending === undefined ? undefined : nodeConnectionListeners(socket);
    if (pending !== undefined && node !== undefined) {
      handOver(server, connectionListener!, socket, node, pending);
      return;
    }
    for (const listener of refuse) listener.call(server, err, socket);
  });
}
