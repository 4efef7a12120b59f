/**
 * A `fetch` that sends every request to an HTTP server on a Unix socket — the `tessera agent`'s
 * socket on a VM — whatever host the URL names (the path and query are kept). Built on `node:http`:
 * no dependency, no native module.
 */
import { request } from "node:http";
import { nodeFetch } from "./node-fetch.js";

/**
 * @example
 * ```ts
 * const fetch = socketFetch("/run/tessera-agent/agent.sock");
 * await fetch("http://agent/v1/sys/health");
 * ```
 */
export function socketFetch(socketPath: string): typeof fetch {
  if (socketPath === "") throw new TypeError("socketPath must name a Unix socket");
  return nodeFetch(
    (url, options, onResponse) => request(url, { ...options, socketPath }, onResponse),
    // TLS over a local socket would protect nothing the file mode does not.
    (url) => (url.protocol === "http:" ? undefined : `a Unix socket is spoken to in plain HTTP; use an http:// address (got ${url.protocol})`),
  );
}
