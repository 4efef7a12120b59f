/**
 * The VM's key pair, made here and never sent anywhere, and a CSR for it (EC P-256, as
 * `tessera login join` makes them). The private key is returned as a KeyObject so callers decide
 * how it is kept (a 0600 file, or its scalar sealed to the TPM).
 */
import "reflect-metadata";
import { KeyObject, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

export async function newKeyAndCsr(commonName: string): Promise<{ privateKey: KeyObject; csrPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${commonName}`, keys, signingAlgorithm: ALG });
  return { privateKey: KeyObject.from(keys.privateKey), csrPem: csr.toString("pem") };
}
