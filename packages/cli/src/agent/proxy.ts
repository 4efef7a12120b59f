/**
 * The local proxy: HTTP on a Unix socket (and optionally 127.0.0.1:PORT) speaking the native API's
 * paths and bodies. A request is forwarded only if its route is a data-plane route (proxy-routes.ts)
 * whose action `listener.allow` lists; it goes out with the agent's own token, and nothing of the
 * caller's credentials (Authorization, X-Tessera-Token, cookies) is ever forwarded. The server audits
 * it under the VM's identity. Refusals are native API errors (`{"error": {"code", "message"}}`).
 */
import { chmod, chown, lstat, rm } from "node:fs/promises";
import { Agent as HttpAgent, createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createSecureContext, getCACertificates } from "node:tls";
import { errorCatalogue } from "@tessera/protocol/core";
import type { ErrorCode } from "@tessera/protocol";
import type { AgentLog } from "./log.js";
import { groupId } from "./os-ids.js";
import { OPEN_PATHS, proxiedAction } from "./proxy-routes.js";

/** Far above any request the server accepts (its batch limit); stops a runaway client early. */
export const MAX_PROXY_BODY_BYTES = 16 * 1024 * 1024;
/** Answer headers passed back to the caller; everything else stays with the agent. */
const ANSWER_HEADERS = ["content-type", "x-request-id", "retry-after"];

export interface ProxyOptions {
  server: { address: string; ca: Buffer | undefined };
  socket: string | undefined;
  mode: number;
  group: string | undefined;
  tcpPort: number | undefined;
  allow: readonly string[];
  /** The agent's current token, if any. */
  token(): string | undefined;
  /** Called once when the server refuses the token (401): resolves when a new one is held. */
  refreshToken(): Promise<void>;
  log: AgentLog;
}

function sendError(res: ServerResponse, code: ErrorCode, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  res.writeHead(errorCatalogue[code].status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(body) });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (c: Buffer) => {
      size += c.length;
      if (size > MAX_PROXY_BODY_BYTES) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(c);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

interface Upstream {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export class AgentProxy {
  readonly #o: ProxyOptions;
  readonly #servers: Server[] = [];
  #allow: ReadonlySet<string>;
  /** One pool of kept-alive connections to the server: a TLS handshake per request would triple the latency. */
  readonly #upstream: HttpAgent | HttpsAgent;

  constructor(options: ProxyOptions) {
    this.#o = options;
    this.#allow = new Set(options.allow);
    // The secure context is built once: a `ca` option with Node's whole trust store costs ~15 ms per
    // request (Node names the connection pool after it), measured by bench/agent-proxy.mjs.
    // Node's default trust (bundled, NODE_EXTRA_CA_CERTS, system store under --use-system-ca) plus the given CA.
    const ca = options.server.ca === undefined ? undefined : [...getCACertificates("default"), options.server.ca];
    this.#upstream = options.server.address.startsWith("https:")
      ? new HttpsAgent({ keepAlive: true, secureContext: createSecureContext(ca === undefined ? {} : { ca }) })
      : new HttpAgent({ keepAlive: true });
  }

  /** Applies a new allow-list (SIGHUP). */
  setAllow(allow: readonly string[]): void {
    this.#allow = new Set(allow);
  }

  /** The TCP port actually bound (when `tcpPort` was 0 in a test, the kernel's choice). */
  tcpPort: number | undefined;

  async start(): Promise<void> {
    const { socket, tcpPort } = this.#o;
    if (socket !== undefined) {
      const server = createServer((req, res) => void this.#handle(req, res));
      await rm(socket, { force: true }).catch(() => undefined);
      await lstat(socket).then(
        () => Promise.reject(new Error(`${socket} exists and could not be replaced`)),
        () => undefined,
      );
      // The socket is created with the final mode's umask, so it is never reachable more widely, even for a moment.
      const previous = process.umask(0o777 & ~this.#o.mode);
      try {
        await new Promise<void>((resolve, reject) => {
          server.once("error", reject);
          server.listen(socket, () => resolve());
        });
      } finally {
        process.umask(previous);
      }
      await chmod(socket, this.#o.mode);
      if (this.#o.group !== undefined) await chown(socket, process.getuid?.() ?? -1, await groupId(this.#o.group));
      this.#servers.push(server);
    }
    if (tcpPort !== undefined) {
      const server = createServer((req, res) => void this.#handle(req, res));
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(tcpPort, "127.0.0.1", () => resolve());
      });
      this.tcpPort = (server.address() as { port: number }).port;
      this.#servers.push(server);
    }
  }

  async stop(): Promise<void> {
    this.#upstream.destroy();
    await Promise.all(
      this.#servers.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            s.close(() => resolve());
            s.closeAllConnections();
          }),
      ),
    );
    if (this.#o.socket !== undefined) await rm(this.#o.socket, { force: true });
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? "/", "http://agent");
      const method = req.method ?? "GET";
      const open = OPEN_PATHS.has(url.pathname) && method === "GET";
      if (!open) {
        const action = proxiedAction(method, url.pathname);
        if (action === undefined) return sendError(res, "AccessDenied", `the Tessera agent does not forward ${method} ${url.pathname}: only data-plane operations pass through it`);
        if (!this.#allow.has(action)) return sendError(res, "AccessDenied", `the Tessera agent does not forward ${action}: it is not in the agent's listener.allow`);
      }
      const body = await readBody(req);
      if (body === undefined) return sendError(res, "TooLarge", `the request is larger than ${MAX_PROXY_BODY_BYTES} bytes`);
      const contentType = req.headers["content-type"];
      let answer = await this.#forward(method, url.pathname + url.search, body, contentType, open);
      if (answer.status === 401 && !open) {
        // The token expired or was revoked while the server was away: one fresh login, one retry.
        await this.#o.refreshToken();
        answer = await this.#forward(method, url.pathname + url.search, body, contentType, open);
      }
      res.writeHead(answer.status, { ...answer.headers, "content-length": answer.body.length });
      res.end(answer.body);
    } catch (err) {
      this.#o.log("warn", "proxy could not reach the server", { code: (err as { code?: string }).code ?? "Error" });
      if (!res.headersSent) sendError(res, "Unavailable", `the Tessera agent cannot reach the server at ${this.#o.server.address}`);
      else res.destroy();
    }
  }

  #forward(method: string, pathAndQuery: string, body: Buffer, contentType: string | undefined, open: boolean): Promise<Upstream> {
    const token = this.#o.token();
    const headers: Record<string, string> = { accept: "application/json" };
    if (contentType !== undefined && body.length > 0) headers["content-type"] = contentType;
    if (!open) {
      if (token === undefined) return Promise.resolve(this.#noToken());
      headers["x-tessera-token"] = token;
    }
    // The server address's own path prefix is kept: "/v1/…" goes below it.
    const target = new URL(this.#o.server.address.replace(/\/+$/, "") + pathAndQuery);
    const https = target.protocol === "https:";
    return new Promise((resolve, reject) => {
      const onResponse = (up: IncomingMessage) => {
        const chunks: Buffer[] = [];
        up.on("data", (c: Buffer) => chunks.push(c));
        up.on("error", reject);
        up.on("end", () => {
          const out: Record<string, string> = {};
          for (const h of ANSWER_HEADERS) {
            const v = up.headers[h];
            if (typeof v === "string") out[h] = v;
          }
          resolve({ status: up.statusCode ?? 502, headers: out, body: Buffer.concat(chunks) });
        });
      };
      const options = { method, headers, agent: this.#upstream };
      const req = https ? httpsRequest(target, options, onResponse) : httpRequest(target, options, onResponse);
      req.on("timeout", () => req.destroy(Object.assign(new Error("timeout"), { code: "ETIMEDOUT" })));
      req.on("error", reject);
      req.end(body.length > 0 ? body : undefined);
    });
  }

  #noToken(): Upstream {
    const body = Buffer.from(JSON.stringify({ error: { code: "Unavailable", message: "the Tessera agent holds no token yet (enrolling, or the server is unreachable); retry later" } }));
    return { status: 503, headers: { "content-type": "application/json; charset=utf-8" }, body };
  }
}
