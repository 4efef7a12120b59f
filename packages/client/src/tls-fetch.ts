/**
 * A `fetch` for TLS settings the global one cannot take: a client certificate (mutual TLS with an
 * instance certificate from Tessera's CA) and extra trusted CAs. Built on `node:https`, so the SDK
 * stays free of dependencies; it implements only what {@link HttpTransport} uses (method, headers,
 * string body, abort signal; the answer's status and text).
 */
import { request } from "node:https";
import { rootCertificates } from "node:tls";

/** Client certificate and trust for HTTPS connections to Tessera (PEM text or bytes). */
export interface TlsOptions {
  /** The instance certificate (`cert.pem` written by `tessera login join`). Needs `key`. */
  cert?: string | Buffer;
  /** Its private key (`key.pem`). */
  key?: string | Buffer;
  /** CA certificates to trust for the server's certificate, in addition to Node's defaults. */
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
  // Node's defaults plus the given CA: `ca` alone would replace the default trust store.
  const ca = tls.ca === undefined ? undefined : [...rootCertificates, tls.ca];
  const fetchLike = (input: string | URL | Request, init: RequestInit = {}): Promise<Response> =>
    new Promise((resolve, reject) => {
      const url = new URL(typeof input === "string" || input instanceof URL ? input : input.url);
      if (url.protocol !== "https:") return reject(new TypeError(`client certificates and CA files need an https:// address, got ${url.protocol}`));
      const signal = init.signal ?? undefined;
      const req = request(
        url,
        {
          method: init.method ?? "GET",
          headers: init.headers as Record<string, string> | undefined,
          ...(tls.cert !== undefined && { cert: tls.cert, key: tls.key }),
          ...(ca !== undefined && { ca }),
          ...(signal !== undefined && { signal }),
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("error", reject);
          res.on("end", () => {
            const bytes = Buffer.concat(chunks);
            const headers = new Headers(Object.entries(res.headers).flatMap(([k, v]) => (typeof v === "string" ? [[k, v] as [string, string]] : [])));
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
