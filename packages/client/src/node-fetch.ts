/**
 * A minimal `fetch` on `node:http`/`node:https`, for what the global one cannot do: present a client
 * certificate, trust extra CAs (tls-fetch.ts), or reach a server on a Unix socket (socket-fetch.ts).
 * It implements only what {@link HttpTransport} uses: method, headers, a string or byte body, the
 * abort signal; the answer's status, headers, text and bytes.
 */
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";

/** Opens one request (`node:http`'s or `node:https`'s `request`, with the transport's options merged in). */
export type OpenRequest = (url: URL, options: RequestOptions, onResponse: (res: IncomingMessage) => void) => ClientRequest;

export function nodeFetch(open: OpenRequest, checkUrl: (url: URL) => string | undefined): typeof fetch {
  const fetchLike = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
      const refusal = checkUrl(url);
      if (refusal !== undefined) return reject(new TypeError(refusal));
      const signal = init.signal ?? undefined;
      const req = open(
        url,
        {
          method: init.method ?? "GET",
          headers: init.headers as Record<string, string> | undefined,
          ...(signal !== undefined && { signal }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const bytes = Buffer.concat(chunks);
            const headers = answerHeaders(res.headers);
            resolve({
              status: res.statusCode ?? 0,
              headers,
              text: () => Promise.resolve(bytes.toString("utf8")),
              arrayBuffer: () => Promise.resolve(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)),
            } as Response);
          });
        },
      );
      // Same shape as global fetch's failures: the socket error is the cause.
      req.on("error", (err) => reject(signal?.aborted ? signal.reason : Object.assign(new TypeError("fetch failed"), { cause: err })));
      req.end(typeof init.body === "string" || init.body instanceof Uint8Array ? init.body : undefined);
    });
  return fetchLike as typeof fetch;
}

/**
 * The answer's headers as far as {@link HttpTransport} reads them (`get`, `has`). Not the global
 * `Headers`: touching that global loads Node's bundled undici (about 0.1 s of CPU), which a `tessera`
 * command that never calls the global `fetch` need not pay.
 */
function answerHeaders(raw: IncomingMessage["headers"]): Headers {
  const get = (name: string): string | null => {
    const value = raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
  };
  return { get, has: (name: string) => get(name) !== null } as Headers;
}
