/**
 * What a VM does locally to enrol: an EC P-256 key pair that never leaves it and a CSR for it; and
 * requests authenticated by its instance certificate over mutual TLS (fetch cannot present client
 * certificates, so these use node:https).
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";
import { request } from "node:https";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { TesseraError, isErrorCode } from "@tessera/protocol";
import { UsageError } from "../usage-error.js";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function certificateRequest(commonName: string): Promise<{ keyPem: string; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: ALG });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
  pkcs8.fill(0);
  return { keyPem, csrPem: csr.toString("pem") };
}

export async function mtlsRequest(address: string, path: string, body: unknown, o: { dir: string; caCert?: string }): Promise<unknown> {
  const url = new URL(path, address.endsWith("/") ? address : `${address}/`);
  if (url.protocol !== "https:") throw new UsageError("certificate logins need an https:// address (mutual TLS)");
  let key: Buffer;
  let cert: Buffer;
  try {
    key = await readFile(join(o.dir, "key.pem"));
    cert = await readFile(join(o.dir, "cert.pem"));
  } catch {
    throw new UsageError(`no key.pem/cert.pem in ${o.dir}: enrol first with \`tessera login join\``);
  }
  const ca = o.caCert === undefined ? undefined : await readFile(o.caCert);
  return new Promise((resolve, reject) => {
    const req = request(url, { method: "POST", key, cert, ...(ca && { ca }), headers: { "content-type": "application/json" } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => {
        let parsed: { error?: { code?: string; message?: string } } | undefined;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          parsed = undefined;
        }
        if (res.statusCode !== undefined && res.statusCode < 300) return resolve(parsed);
        const code = parsed?.error?.code;
        reject(new TesseraError(isErrorCode(code) ? code : "Internal", parsed?.error?.message ?? `HTTP ${res.statusCode}`));
      });
    });
    req.on("error", (err) => reject(new TesseraError("Unavailable", `cannot reach Tessera at ${address}: ${err.message}`)));
    req.end(JSON.stringify(body));
  });
}
