/**
 * A Tessera app on a real TLS listener (loopback, port 0) for tests that need client certificates,
 * which inject() cannot present: a self-signed server certificate, VM key pairs and CSRs made locally
 * as `tessera login join` makes them, and a JSON caller that can present an instance certificate.
 */
import "reflect-metadata";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { ManualClock, SqliteStore, buildApp, type TesseraApp } from "@tessera/server";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

/** A VM's private key (PEM) and the certificate Tessera issued for it. */
export interface Identity {
  key: string;
  cert: string;
}

const pem = (label: string, der: ArrayBuffer) => `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END ${label}-----\n`;

/** A key pair made locally and a CSR for it. */
export async function keyAndCsr(name = "vm"): Promise<{ key: string; csr: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${name}`, keys, signingAlgorithm: ALG });
  return { key: pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)), csr: csr.toString("pem") };
}

async function serverCertificate(clock: ManualClock): Promise<{ cert: string; key: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    name: "CN=127.0.0.1",
    keys,
    signingAlgorithm: ALG,
    // The real clock decides the handshake; the app's clock decides certificate checks behind the door.
    notBefore: new Date(Math.min(Date.now(), clock.now()) - 86_400_000),
    notAfter: new Date(Math.max(Date.now(), clock.now()) + 30 * 86_400_000),
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: "ip", value: "127.0.0.1" }])],
  });
  return { cert: cert.toString("pem"), key: pem("PRIVATE KEY", await webcrypto.subtle.exportKey("pkcs8", keys.privateKey)) };
}

export interface CallOptions {
  body?: unknown;
  token?: string;
  /** The instance certificate to present in the TLS handshake. */
  identity?: Identity;
}

/** A JSON request over HTTPS to `baseUrl`, trusting `ca` for the server's certificate. */
export function httpsCall(baseUrl: string, ca: string | Buffer, method: string, path: string, options: CallOptions = {}): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request(
      baseUrl + path,
      {
        method,
        ca,
        ...(options.identity && { cert: options.identity.cert, key: options.identity.key }),
        agent: false,
        headers: {
          ...(options.token && { "x-tessera-token": options.token }),
          ...(options.body !== undefined && { "content-type": "application/json" }),
        },
      },
      (res) => {
        let text = "";
        res.on("data", (d) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
      },
    );
    req.on("error", reject);
    req.end(options.body === undefined ? undefined : JSON.stringify(options.body));
  });
}

export interface TlsTestApp {
  app: TesseraApp;
  clock: ManualClock;
  /** The SQLite database file. */
  dbPath: string;
  /** `https://127.0.0.1:PORT` */
  url: string;
  /** The server's (self-signed) TLS certificate, PEM: what clients trust. */
  serverCert: string;
  rootToken: string;
  /** The unseal share (one share, threshold one). */
  share: string;
  /** Closes the app and opens a new one on the same database and port: it comes back sealed. */
  restart(): Promise<void>;
  /** Stops listening (the server is down) until {@link TlsTestApp.restart}. */
  down(): Promise<void>;
  call(method: string, path: string, options?: CallOptions): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

/** Builds, initialises and unseals an app listening with TLS on 127.0.0.1. */
export async function startTlsApp(): Promise<TlsTestApp> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-tls-test-"));
  const clock = new ManualClock(Date.UTC(2026, 0, 5, 12));
  const server = await serverCertificate(clock);
  const dbPath = join(dir, "tessera.db");
  const open = () => buildApp({ store: new SqliteStore({ path: dbPath }), clock, https: { cert: Buffer.from(server.cert), key: Buffer.from(server.key) } });
  let app = await open();
  await app.http.listen({ host: "127.0.0.1", port: 0 });
  const port = (app.http.server.address() as AddressInfo).port;
  const url = `https://127.0.0.1:${port}`;
  let up = true;

  const call: TlsTestApp["call"] = (method, path, options) => httpsCall(url, server.cert, method, path, options);

  const init = await call("POST", "/v1/sys/init", { body: { shares: 1, threshold: 1 } });
  if (init.status !== 200) throw new Error(`init failed: ${JSON.stringify(init.body)}`);
  const unsealed = await call("POST", "/v1/sys/unseal", { body: { share: init.body.shares[0] } });
  if (unsealed.status !== 200) throw new Error(`unseal failed: ${JSON.stringify(unsealed.body)}`);
  const t: TlsTestApp = {
    app,
    clock,
    dbPath,
    url,
    serverCert: server.cert,
    rootToken: init.body.rootToken as string,
    share: init.body.shares[0] as string,
    call,
    async down() {
      if (up) await t.app.close();
      up = false;
    },
    async restart() {
      await t.down();
      app = await open();
      await app.http.listen({ host: "127.0.0.1", port });
      t.app = app;
      up = true;
    },
    async close() {
      await t.down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return t;
}
