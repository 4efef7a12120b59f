/**
 * Raw HTTP against a Tessera listening on loopback, for requests no well-behaved client would send:
 * duplicate headers, bad percent-encoding, hand-signed SigV4 requests with chosen flaws.
 */
import { createHash, createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { SignatureV4 } from "@smithy/signature-v4";
import { SqliteStore, buildApp, type AppOptions, type Clock, type TesseraApp } from "@tessera/server";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** Headers as name/value pairs, so one name may appear more than once. */
export type HeaderList = [string, string][];

export function send(port: number, method: string, path: string, headers: HeaderList = [], body?: string | Buffer): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, setHost: !headers.some(([k]) => k.toLowerCase() === "host") });
    const grouped = new Map<string, string[]>();
    for (const [k, v] of headers) grouped.set(k, [...(grouped.get(k) ?? []), v]);
    for (const [k, v] of grouped) req.setHeader(k, v.length === 1 ? v[0]! : v);
    if (body !== undefined) req.setHeader("content-length", Buffer.byteLength(body));
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
      res.on("error", reject);
    });
    req.on("error", reject);
    // A request the server never answers is a failure to report, not a hung test.
    req.setTimeout(10_000, () => req.destroy(new Error(`no answer to ${method} ${path.slice(0, 80)} within 10 s`)));
    req.end(body);
  });
}

/** SHA-256 / HMAC-SHA256 from node:crypto in the shape @smithy/signature-v4 wants. */
class NodeSha256 {
  private readonly h;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", typeof secret === "string" ? secret : Buffer.from(secret as Uint8Array));
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === "string" ? data : Buffer.from(data as Uint8Array));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * Headers of an AWS JSON 1.1 request signed with @smithy/signature-v4 (as the AWS SDK signs), at
 * `at` (the server's clock). `unsigned` names headers to leave out of SignedHeaders.
 */
export async function signedHeaders(
  port: number,
  creds: Credentials,
  o: { target?: string; body: string | Buffer; at: number; unsigned?: string[]; region?: string; contentSha256?: boolean },
): Promise<HeaderList> {
  const signer = new SignatureV4({ credentials: creds, region: o.region ?? "us-east-1", service: "kms", sha256: NodeSha256, applyChecksum: o.contentSha256 ?? false });
  const headers: Record<string, string> = { host: `127.0.0.1:${port}`, "content-type": "application/x-amz-json-1.1" };
  if (o.target !== undefined) headers["x-amz-target"] = o.target;
  const out = await signer.sign(
    { method: "POST", protocol: "http:", hostname: "127.0.0.1", port, path: "/", query: {}, headers, body: o.body },
    { signingDate: new Date(o.at), ...(o.unsigned !== undefined && { unsignableHeaders: new Set(o.unsigned) }) },
  );
  return Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]);
}

/** A Tessera on loopback (real SQLite, a manual clock), initialised and unsealed, with a root token. */
export interface ListeningApp {
  app: TesseraApp;
  port: number;
  endpoint: string;
  root: string;
  /** The unseal share (one share, threshold one). */
  share: string;
  /** A native call with the root token. */
  native(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

export async function startListening(clock: Clock, options: Omit<AppOptions, "store" | "clock"> = {}): Promise<ListeningApp> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-raw-"));
  const app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock, ...options });
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.http.server.address() as AddressInfo).port;
  const json = async (method: string, url: string, body: unknown, token: string | null) => {
    const headers: HeaderList = body === undefined ? [] : [["content-type", "application/json"]];
    if (token !== null) headers.push(["x-tessera-token", token]);
    const r = await send(port, method, url, headers, body === undefined ? undefined : JSON.stringify(body));
    return { status: r.status, body: r.text.length > 0 ? JSON.parse(r.text) : undefined };
  };
  const init = await json("POST", "/v1/sys/init", { shares: 1, threshold: 1 }, null);
  await json("POST", "/v1/sys/unseal", { share: init.body.shares[0] }, null);
  const root = init.body.rootToken as string;
  return {
    app,
    port,
    endpoint: `http://127.0.0.1:${port}`,
    root,
    share: init.body.shares[0] as string,
    native: (method, url, body) => json(method, url, body, root),
    async close() {
      await app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** One response read off a raw connection. */
export interface RawExchangeResponse {
  status: number;
  headers: string;
  body: string;
}

/**
 * Writes `bytes` as they are on one connection (plain TCP, or TLS when `socket` is a TLS socket) and
 * reads `count` responses in order — for pipelining and for methods no client library sends (`LIST`).
 * Responses are framed by Content-Length or chunked encoding.
 */
export function exchange(socket: import("node:net").Socket, bytes: string | Buffer, count: number): Promise<RawExchangeResponse[]> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const out: RawExchangeResponse[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`only ${out.length} of ${count} responses within 10 s: ${buffered.toString("latin1").slice(0, 300)}`));
    }, 10_000);
    const parse = () => {
      for (;;) {
        const end = buffered.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = buffered.subarray(0, end).toString("latin1");
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
        const length = /\r\ncontent-length: *(\d+)/i.exec(head);
        let body: Buffer;
        let consumed: number;
        if (length !== null) {
          if (buffered.length < end + 4 + Number(length[1])) return;
          body = buffered.subarray(end + 4, end + 4 + Number(length[1]));
          consumed = end + 4 + Number(length[1]);
        } else if (/\r\ntransfer-encoding: *chunked/i.test(head)) {
          const parts: Buffer[] = [];
          let at = end + 4;
          for (;;) {
            const nl = buffered.indexOf("\r\n", at);
            if (nl === -1) return;
            const size = parseInt(buffered.subarray(at, nl).toString("latin1"), 16);
            if (buffered.length < nl + 2 + size + 2) return;
            parts.push(buffered.subarray(nl + 2, nl + 2 + size));
            at = nl + 2 + size + 2;
            if (size === 0) break;
          }
          body = Buffer.concat(parts);
          consumed = at;
        } else {
          body = Buffer.alloc(0);
          consumed = end + 4;
        }
        out.push({ status, headers: head, body: body.toString("utf8") });
        buffered = buffered.subarray(consumed);
        if (out.length === count) {
          clearTimeout(timer);
          socket.end();
          resolve(out);
          return;
        }
      }
    };
    socket.on("data", (d: Buffer) => {
      buffered = Buffer.concat([buffered, d]);
      parse();
    });
    socket.on("error", (err) => {
      clearTimeout(timer);
      reject(err);
    });
    socket.write(bytes);
  });
}
