/**
 * A `fetch` for TLS settings the global one cannot take: a client certificate (mutual TLS with an
 * instance certificate from Tessera's CA) and extra trusted CAs. Built on `node:https`, so the SDK
 * stays free of dependencies.
 *
 * `node:https` and `node:tls` are taken with `process.getBuiltinModule` when a TLS fetch is made, not
 * imported: a client without TLS options (every plain `tessera` call) never needs them.
 */
import { nodeFetch } from "./node-fetch.js";

/** Client certificate and trust for HTTPS connections to Tessera (PEM text or bytes). */
export interface TlsOptions {
  /** The instance certificate (`cert.pem` written by `tessera login join`). Needs `key`. */
  cert?: string | Buffer;
  /** Its private key (`key.pem`). */
  key?: string | Buffer;
  /** CA certificates to trust for the server's certificate, in addition to Node's default trust (bundled CAs, `NODE_EXTRA_CA_CERTS`). */
  ca?: string | Buffer;
}

/**
 * @example
 * ```ts
 * const fetch = tlsFetch({ cert: readFileSync("/etc/tessera/cert.pem"), key: readFileSync("/etc/tessera/key.pem") });
 * ```
 */
export function tlsFetch(tls: TlsOptions): typeof fetch {
  if ((tls.cert === undefined) !== (tls.key === undefined)) throw new TypeError("tls.cert and tls.key go together");
  const { Agent, request } = process.getBuiltinModule("node:https");
  const { createSecureContext, getCACertificates, rootCertificates } = process.getBuiltinModule("node:tls");
  // Node's default trust (its bundled CAs, NODE_EXTRA_CA_CERTS, the system store under --use-system-ca)
  // plus the given CA: `ca` alone would replace the default trust store. Node before 22.15 has only
  // the bundled list.
  const ca = tls.ca === undefined ? undefined : [...(getCACertificates?.("default") ?? rootCertificates), tls.ca];
  // One secure context and one pool of kept-alive connections per client. Passing `ca`/`cert`/`key`
  // with each request instead made Node build a connection-pool name from the whole trust store
  // (~140 certificates) every time: ~15 ms per request, measured (bench/agent-proxy.mjs, docs/agent.md).
  const secureContext = createSecureContext({ ...(tls.cert !== undefined && { cert: tls.cert, key: tls.key }), ...(ca !== undefined && { ca }) });
  const agent = new Agent({ keepAlive: true, secureContext });
  return nodeFetch(
    (url, options, onResponse) => request(url, { ...options, agent }, onResponse),
    (url) => (url.protocol === "https:" ? undefined : `client certificates and CA files need an https:// address, got ${url.protocol}`),
  );
}
