/**
 * Tessera's own certificate authority for instance certificates. An EC P-256 key and a self-signed
 * CA certificate, created once (in a transaction, so two nodes cannot make two CAs); the private key
 * is stored sealed under the root key like key material and lives in memory only while unsealed.
 *
 * Certificates are built with @peculiar/x509 over node's WebCrypto (no hand-written ASN.1); client
 * certificates presented over TLS are checked with node:crypto's X509Certificate.
 */
import "reflect-metadata";
import { X509Certificate as NodeX509, randomBytes, webcrypto } from "node:crypto";
import { isIP } from "node:net";
import * as x509 from "@peculiar/x509";
import { TesseraError } from "@tessera/protocol";
import { spkiSha256, zero } from "../crypto/index.js";
import type { Clock } from "../clock.js";
import { sealedMetaFields, type Barrier } from "../seal/index.js";
import type { MetaRepo, Store } from "../store/index.js";

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const CA_META = "ca";
const CA_AAD = Buffer.from("tessera/ca-key/v1", "utf8");
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
const CA_LIFETIME_MS = 10 * 365 * 86_400_000;
export const VM_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

interface StoredCa {
  certificate: string;
  /** PKCS#8 private key sealed under the root key, base64. */
  sealedKey: string;
}

export interface IssuedCertificate {
  certificate: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

export interface PresentedCertificate {
  serial: string;
  vmId: string;
  /** Hex SHA-256 of the certificate's DER SubjectPublicKeyInfo. */
  spkiSha256: string;
  notBefore: number;
  notAfter: number;
}

export class CertificateAuthority {
  private loaded: { certificate: string; node: NodeX509; signingKey: CryptoKey } | undefined;

  constructor(
    private readonly store: Pick<Store, "meta" | "transaction">,
    private readonly barrier: Barrier,
    private readonly clock: Clock,
    readonly trustDomain: string,
  ) {
    barrier.onSeal(() => (this.loaded = undefined));
    barrier.registerSealedData(sealedMetaFields("CA key", CA_META, [{ field: "sealedKey", aad: CA_AAD }]));
  }

  /** The CA certificate (PEM), creating the CA on first use. */
  async certificate(): Promise<string> {
    return (await this.ca()).certificate;
  }

  /** The CA's public certificate if it exists, without creating it (usable while sealed). */
  async publicCertificate(): Promise<string | undefined> {
    return (await this.store.meta.get<StoredCa>(CA_META))?.certificate;
  }

  private async ca() {
    if (this.loaded !== undefined) return this.loaded;
    let stored = await this.store.meta.get<StoredCa>(CA_META);
    if (stored === undefined) stored = await this.create();
    const pkcs8 = this.barrier.openSecret(Buffer.from(stored.sealedKey, "base64"), CA_AAD);
    try {
      const signingKey = await webcrypto.subtle.importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: "P-256" }, false, ["sign"]);
      this.loaded = { certificate: stored.certificate, node: new NodeX509(stored.certificate), signingKey: signingKey as CryptoKey };
      return this.loaded;
    } finally {
      zero(pkcs8);
    }
  }

  private async create(): Promise<StoredCa> {
    this.barrier.assertUnsealed();
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const now = this.clock.now();
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: randomBytes(16).toString("hex"),
      name: `CN=Tessera instance CA (${this.trustDomain})`,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + CA_LIFETIME_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    const candidate: StoredCa = { certificate: cert.toString("pem"), sealedKey: this.barrier.sealSecret(pkcs8, CA_AAD).toString("base64") };
    zero(pkcs8);
    // One CA, even if two requests (or two nodes) race to create it: the first write wins.
    return this.store.transaction(async (tx: { meta: MetaRepo }) => {
      const existing = await tx.meta.get<StoredCa>(CA_META);
      if (existing !== undefined) return existing;
      await tx.meta.put(CA_META, candidate);
      return candidate;
    });
  }

  spiffeId(vmId: string): string {
    return `spiffe://${this.trustDomain}/vm/${vmId}`;
  }

  /** Issues a client certificate for a VM from a PEM CSR whose self-signature must verify. */
  async issue(csrPem: string, vmId: string, lifetimeSeconds: number): Promise<IssuedCertificate> {
    if (!VM_ID_PATTERN.test(vmId)) throw new TesseraError("InvalidInput", "vm ids are 1–128 letters, digits and _ . -", { field: "/vmId" });
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch {
      throw new TesseraError("InvalidInput", "csr is not a PEM certificate signing request", { field: "/csr" });
    }
    if (!(await csr.verify().catch(() => false))) throw new TesseraError("InvalidInput", "the CSR's signature does not verify", { field: "/csr" });
    const ca = await this.ca();
    const now = this.clock.now();
    const serial = randomBytes(16).toString("hex");
    // Serial numbers are positive integers of at most 20 octets (RFC 5280 §4.1.2.2): the first byte is
    // kept in 0x01–0x7f, so the top bit is clear and no leading zero makes the DER encoding shorter
    // (or the next byte's top bit a sign).
    const positiveSerial = ((parseInt(serial.slice(0, 2), 16) & 0x7f) || 0x01).toString(16).padStart(2, "0") + serial.slice(2);
    const notBefore = now - 60_000;
    const notAfter = now + lifetimeSeconds * 1000;
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: positiveSerial,
      subject: `CN=${vmId}`,
      issuer: new x509.X509Certificate(ca.certificate).subject,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      signingAlgorithm: ALG,
      publicKey: csr.publicKey,
      signingKey: ca.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
        new x509.SubjectAlternativeNameExtension([{ type: "url", value: this.spiffeId(vmId) }]),
        await x509.AuthorityKeyIdentifierExtension.create(new x509.X509Certificate(ca.certificate)),
      ],
    });
    return { certificate: cert.toString("pem"), serial: new NodeX509(cert.toString("pem")).serialNumber.toLowerCase(), notBefore, notAfter };
  }

  /**
   * A TLS server certificate for `tessera server --dev --dev-tls`: the key pair is made here (dev mode
   * only — production listeners bring their own certificate). Names are DNS names or IP addresses.
   */
  async issueServer(names: string[], lifetimeSeconds: number): Promise<{ certificate: string; key: string }> {
    const ca = await this.ca();
    const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as CryptoKeyPair;
    const now = this.clock.now();
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: "01" + randomBytes(15).toString("hex"),
      subject: `CN=${names[0] ?? "localhost"}`,
      issuer: new x509.X509Certificate(ca.certificate).subject,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + lifetimeSeconds * 1000),
      signingAlgorithm: ALG,
      publicKey: keys.publicKey,
      signingKey: ca.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names.map((n) => (isIP(n) ? { type: "ip" as const, value: n } : { type: "dns" as const, value: n }))),
        await x509.AuthorityKeyIdentifierExtension.create(new x509.X509Certificate(ca.certificate)),
      ],
    });
    const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", keys.privateKey));
    const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString("base64").match(/.{1,64}/g)!.join("\n")}\n-----END PRIVATE KEY-----\n`;
    zero(pkcs8);
    return { certificate: cert.toString("pem"), key };
  }

  /**
   * Checks a certificate a TLS client presented: issued by this CA, within its validity, and naming a
   * VM of this trust domain. Revocation is the caller's check. Any failure is `Unauthenticated`.
   */
  async check(der: Buffer): Promise<PresentedCertificate> {
    const denied = (why: string) => new TesseraError("Unauthenticated", `client certificate refused: ${why}`);
    let cert: NodeX509;
    try {
      cert = new NodeX509(der);
    } catch {
      throw denied("not a certificate");
    }
    const ca = await this.ca();
    if (!cert.checkIssued(ca.node) || !cert.verify(ca.node.publicKey)) throw denied("not issued by this Tessera's CA");
    const now = this.clock.now();
    const notBefore = Date.parse(cert.validFrom);
    const notAfter = Date.parse(cert.validTo);
    if (now < notBefore || now >= notAfter) throw denied("expired or not yet valid");
    const prefix = `URI:spiffe://${this.trustDomain}/vm/`;
    const uri = (cert.subjectAltName ?? "").split(", ").find((n) => n.startsWith(prefix));
    const vmId = uri?.slice(prefix.length);
    if (vmId === undefined || !VM_ID_PATTERN.test(vmId)) throw denied("no VM identity of this trust domain");
    return { serial: cert.serialNumber.toLowerCase(), vmId, spkiSha256: spkiSha256(cert.publicKey), notBefore, notAfter };
  }
}
