/**
 * A `fetch` that sends every request to an HTTP server on a Unix socket — the `tessera agent`'s
 * socket on a VM — whatever host the URL names (the path and query are kept). Built on `node:http`:
 * no dependency, no native module.
 */
import { nodeFetch } from "./node-fetch.js";

/**
 * `node:http` as its CommonJS object, taken when a fetch is built: an ES import of it builds the
 * module's namespace, which reads its lazy `WebSocket` & co. exports and so loads Node's bundled undici
 * (about 0.1 s of CPU) — paid by every `tessera` command that imports the SDK, whether or not it uses a
 * socket; and `tessera --help` needs no HTTP at all (test/integration/cli-startup-modules.test.ts).
 */
const nodeHttp = () => process.getBuiltinModule("node:http");

/**
 * @example
 * ```ts
 * const fetch = socketFetch("/run/tessera-agent/agent.sock");
 * await fetch("http://agent/v1/sys/health");
 * ```
 */
export function socketFetch(socketPath: string): typeof fetch {
  if (socketPath === "") throw new TypeError("socketPath must name a Unix socket");
  const { request } = nodeHttp();
  return nodeFetch(
    (url, options, onResponse) => request(url, { ...options, socketPath }, onResponse),
    // TLS over a local socket would protect nothing the file mode does not.
    (url) => (url.protocol === "http:" ? undefined : `a Unix socket is spoken to in plain HTTP; use an http:// address (got ${url.protocol})`),
  );
}

/**
 * A `fetch` for plain `http://` addresses on `node:http`: what `tessera` uses instead of the global
 * `fetch`, whose first call loads undici (about 0.13 s of CPU, a third of a short command's start).
 * Refuses any other scheme.
 */
export function httpFetch(): typeof fetch {
  const { request } = nodeHttp();
  return nodeFetch(
    (url, options, onResponse) => request(url, options, onResponse),
    (url) => (url.protocol === "http:" ? undefined : `httpFetch speaks plain HTTP; got ${url.protocol}`),
  );
}
