/**
 * The one place the SDK talks HTTP: builds the URL, sends the token, applies the timeout, and turns
 * every failure into a {@link TesseraError} (see response-error.ts for error answers).
 */
import { TesseraError } from "@tessera/protocol/core";
import { describeConnectionProblem } from "./connection-error.js";
import { errorFromResponse } from "./response-error.js";
import { socketFetch } from "./socket-fetch.js";
import { tlsFetch, type TlsOptions } from "./tls-fetch.js";

export const DEFAULT_TIMEOUT_MS = 30_000;

/** The host name used in request URLs sent over a Unix socket (any name would do; this one reads well in logs). */
export const SOCKET_ADDRESS = "http://agent";

export interface HttpOptions {
  /**
   * Base URL of the server, e.g. `https://tessera.internal:8200`. A path prefix is kept. Optional
   * with `socketPath` (defaults to `http://agent` there: the host is not used).
   */
  address?: string;
  /**
   * A Unix socket to send every request to instead of a TCP connection — the `tessera agent`'s
   * socket (`/run/tessera-agent/agent.sock`), which adds the VM's own credentials, so no `token` is
   * needed. Plain HTTP: the socket's file mode is what protects it. Not combinable with `tls`.
   */
  socketPath?: string;
  token?: string;
  /** Defaults to the global `fetch` (Node ≥ 18). */
  fetch?: typeof fetch;
  /** A client certificate (mutual TLS) and/or CA certificates to trust; requests then use `node:https`. */
  tls?: TlsOptions;
  /** Per request, including reading the answer. Defaults to 30 s. */
  timeoutMs?: number;
}

export interface HttpRequest {
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE";
  /** Path below the address, starting with `/v1/`; path segments already encoded. */
  path: string;
  /** JSON body; omitted entirely (no Content-Type either) when undefined. */
  body?: unknown;
  /** Non-2xx statuses whose body is a regular answer rather than an error (health's 503). */
  answerStatuses?: readonly number[];
}

export class HttpTransport {
  readonly address: string;
  readonly #base: string;
  readonly #token: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: HttpOptions) {
    if (options.socketPath !== undefined && options.tls !== undefined) throw new TypeError("socketPath and tls do not go together: the agent's socket speaks plain HTTP");
    const address = options.address ?? (options.socketPath !== undefined ? SOCKET_ADDRESS : undefined);
    if (address === undefined) throw new TypeError("a Tessera address (or a socketPath) is required");
    const url = new URL(address);
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new TypeError(`Tessera address must be an http or https URL, got ${url.protocol}`);
    }
    if (options.socketPath !== undefined && url.protocol !== "http:") throw new TypeError(`a socketPath needs an http:// address, got ${url.protocol}`);
    // Messages name the socket: that is where the request went.
    this.address = options.socketPath !== undefined ? `unix:${options.socketPath}` : address;
    this.#base = url.href.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch =
      options.fetch ??
      (options.socketPath !== undefined ? socketFetch(options.socketPath) : options.tls !== undefined ? tlsFetch(options.tls) : globalThis.fetch);
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /** Sends one request and returns the parsed JSON answer (`undefined` for 204). */
  async request<T>(req: HttpRequest): Promise<T> {
    const headers: Record<string, string> = { accept: "application/json" };
    if (this.#token !== undefined) headers["x-tessera-token"] = this.#token;
    let body: string | undefined;
    if (req.body !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(req.body);
    }

    let status: number;
    let text: string;
    try {
      const response = await this.#fetch(this.#base + req.path, {
        method: req.method,
        headers,
        ...(body === undefined ? {} : { body }),
        // A redirect could carry the token to another origin: X-Tessera-Token is not stripped the
        // way Authorization is. Never follow one.
        redirect: "manual",
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      status = response.status;
      text = await response.text();
    } catch (err) {
      throw new TesseraError("Unavailable", `cannot reach Tessera at ${this.address}: ${this.#reason(err)}`, { cause: err });
    }

    if ((status >= 200 && status < 300) || req.answerStatuses?.includes(status)) {
      if (status === 204 || text === "") return undefined as T;
      try {
        return JSON.parse(text) as T;
      } catch (err) {
        throw new TesseraError("Internal", `Tessera at ${this.address} answered HTTP ${status} with a body that is not JSON`, { cause: err });
      }
    }
    if (status >= 300 && status < 400) {
      throw new TesseraError("Internal", `Tessera at ${this.address} answered with a redirect (HTTP ${status}); redirects are not followed`);
    }
    throw errorFromResponse(status, text);
  }

  /**
   * Sends bytes and/or receives bytes (backups): `body` goes as `contentType`; a 2xx answer's bytes
   * are returned (streamed through `onBytes` as they arrive, where the runtime streams), any other
   * answer is turned into its TesseraError. `timeoutMs` overrides the transport's.
   */
  async requestBytes(req: { method: "GET" | "POST"; path: string; body?: Uint8Array; contentType?: string; timeoutMs?: number; onBytes?: (received: number) => void }): Promise<{ bytes: Buffer; headers: Headers }> {
    const headers: Record<string, string> = { accept: "application/octet-stream, application/json" };
    if (this.#token !== undefined) headers["x-tessera-token"] = this.#token;
    if (req.contentType !== undefined) headers["content-type"] = req.contentType;
    let response: Response;
    let bytes: Buffer;
    try {
      response = await this.#fetch(this.#base + req.path, {
        method: req.method,
        headers,
        ...(req.body !== undefined && { body: req.body }),
        redirect: "manual",
        signal: AbortSignal.timeout(req.timeoutMs ?? this.#timeoutMs),
      });
      if (response.body !== undefined && response.body !== null && typeof response.body.getReader === "function") {
        const reader = response.body.getReader();
        const chunks: Buffer[] = [];
        let received = 0;
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          chunks.push(Buffer.from(value));
          received += value.byteLength;
          req.onBytes?.(received);
        }
        bytes = Buffer.concat(chunks);
      } else {
        bytes = Buffer.from(await response.arrayBuffer());
        req.onBytes?.(bytes.length);
      }
    } catch (err) {
      throw new TesseraError("Unavailable", `cannot reach Tessera at ${this.address}: ${this.#reason(err)}`, { cause: err });
    }
    if (response.status >= 200 && response.status < 300) return { bytes, headers: response.headers };
    throw errorFromResponse(response.status, bytes.toString("utf8"));
  }

  #reason(err: unknown): string {
    if (err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError")) {
      return `no answer within ${this.#timeoutMs} ms`;
    }
    // TLS failures come with OpenSSL's internal text; known ones are named plainly (the code stays in `cause`).
    const known = describeConnectionProblem(err);
    if (known !== undefined) return known;
    // Node's fetch reports "fetch failed" and keeps the socket error (ECONNREFUSED, ENOTFOUND …) as cause.
    const cause = err instanceof Error ? err.cause : undefined;
    if (cause instanceof Error) {
      const code = (cause as { code?: unknown }).code;
      return cause.message !== "" ? cause.message : typeof code === "string" ? code : cause.name;
    }
    return err instanceof Error ? err.message : String(err);
  }
}
