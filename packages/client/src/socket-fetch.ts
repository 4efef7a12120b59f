/**
 * A `fetch` that sends every request to an HTTP server on a Unix socket — the `tessera agent`'s
 * socket on a VM — whatever host the URL names (the path and query are kept). Built on `node:http`:
 * no dependency, no native module.
 *
 * `node:http` is taken with `process.getBuiltinModule` when a socket fetch is made, not imported: an
 * ES `import` of `node:http` builds its whole namespace, whose lazy `WebSocket`/`MessageEvent` getters
 * load undici, http2, zlib and worker_threads (~70 ms a process), and every `tessera` call that loads
 * the SDK would pay that (test/integration/cli-startup-modules.test.ts).
 */
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
  const { request } = process.getBuiltinModule("node:http");
  return nodeFetch(
    (url, options, onResponse) => request(url, { ...options, socketPath }, onResponse),
    // TLS over a local socket would protect nothing the file mode does not.
    (url) => (url.protocol === "http:" ? undefined : `a Unix socket is spoken to in plain HTTP; use an http:// address (got ${url.protocol})`),
  );
}
