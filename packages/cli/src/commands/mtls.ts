/**
 * What a VM does locally to enrol: an EC P-256 key pair that never leaves it and a CSR for it; and
 * a client authenticated by its instance certificate over mutual TLS (the SDK's `tls` option).
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import * as x509 from "@peculiar/x509";
import { TesseraClient } from "@tessera/client/core";
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

/**
 * A client that authenticates with this VM's instance certificate (DIR/key.pem, DIR/cert.pem) over
 * mutual TLS — and with nothing else: a token would take precedence, so none is sent.
 */
export async function certificateClient(g: { address: string; caCert?: string }, dir: string): Promise<TesseraClient> {
  if (!g.address.startsWith("https://")) throw new UsageError("certificate logins need an https:// address (mutual TLS)");
  let key: Buffer;
  let cert: Buffer;
  try {
    key = await readFile(join(dir, "key.pem"));
    cert = await readFile(join(dir, "cert.pem"));
  } catch {
    throw new UsageError(`no key.pem/cert.pem in ${dir}: enrol first with \`tessera login join\``);
  }
  let ca: Buffer | undefined;
  if (g.caCert !== undefined && g.caCert !== "") {
    try {
      ca = await readFile(g.caCert);
    } catch {
      throw new UsageError(`cannot read the CA certificate file "${g.caCert}"`);
    }
  }
  return new TesseraClient({ address: g.address, tls: { key, cert, ...(ca && { ca }) } });
}
