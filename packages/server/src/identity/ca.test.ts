import "reflect-metadata";
import { X509Certificate as NodeX509, createHash, webcrypto } from "node:crypto";
import * as x509 from "@peculiar/x509";
import { isTesseraError } from "@tessera/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ManualClock } from "../clock.js";
import { Barrier, ShamirSeal } from "../seal/index.js";
import { SqliteStore } from "../store/index.js";
import { CertificateAuthority } from "./ca.js";

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
const ALG = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;

let store: SqliteStore;
let barrier: Barrier;
let clock: ManualClock;
let ca: CertificateAuthority;

beforeEach(async () => {
  store = new SqliteStore({ path: ":memory:" });
  await store.migrate();
  barrier = new Barrier(store, new ShamirSeal());
  await barrier.load();
  const [share] = await barrier.initialize({ shares: 1, threshold: 1 }, async () => undefined);
  await barrier.unseal(share);
  clock = new ManualClock(Date.UTC(2026, 3, 1));
  ca = new CertificateAuthority(store, barrier, clock, "prod.example");
});
afterEach(async () => {
  barrier.sealNow();
  await store.close();
});

async function csr(tamper = false): Promise<{ pem: string; keys: webcrypto.CryptoKeyPair }> {
  const keys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
  const pem = (await x509.Pkcs10CertificateRequestGenerator.create({ name: "CN=whatever", keys, signingAlgorithm: ALG })).toString("pem");
  // Flip one character of the base64 near the end (inside the signature).
  return { pem: tamper ? pem.replace(/[A-Za-z](?=[A-Za-z0-9+/=]*\n-----END)/, (c) => (c === "A" ? "B" : "A")) : pem, keys };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isTesseraError(err)) return err.field === undefined ? err.code : `${err.code} ${err.field}`;
    throw err;
  }
  return "resolved";
}

describe("CertificateAuthority", () => {
  it("creates exactly one CA even when two instances race, and keeps its key sealed", async () => {
    const other = new CertificateAuthority(store, barrier, clock, "prod.example");
    const [a, b] = await Promise.all([ca.certificate(), other.certificate()]);
    expect(a).toBe(b);
    expect(await ca.certificate()).toBe(a);
    expect(await ca.publicCertificate()).toBe(a);

    const stored = (await store.meta.get<{ certificate: string; sealedKey: string }>("ca"))!;
    expect(Object.keys(stored).sort()).toEqual(["certificate", "sealedKey"]);
    expect(stored.sealedKey).not.toContain("PRIVATE KEY");

    const cert = new NodeX509(a);
    expect(cert.ca).toBe(true);
    expect(cert.subject).toContain("prod.example");
    expect(cert.verify(cert.publicKey)).toBe(true);
    expect(Date.parse(cert.validTo) - clock.now()).toBeGreaterThan(9 * 365 * 86_400_000);
  });

  it("needs the root key: sealed, it can neither create the CA nor issue", async () => {
    barrier.sealNow();
    expect(await codeOf(ca.certificate())).toBe("Sealed");
    expect(await ca.publicCertificate()).toBeUndefined();
  });

  it("issues a client certificate naming the VM by a SPIFFE URI, for the requested lifetime", async () => {
    const { pem } = await csr();
    const issued = await ca.issue(pem, "pay-1", 3600);
    expect(issued.serial).toMatch(/^[0-9a-f]{1,32}$/);
    expect(issued.notAfter - clock.now()).toBe(3600_000);

    const cert = new x509.X509Certificate(issued.certificate);
    expect(cert.subject).toBe("CN=pay-1");
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)!.names.toJSON()).toEqual([{ type: "url", value: "spiffe://prod.example/vm/pay-1" }]);
    expect(cert.getExtension(x509.ExtendedKeyUsageExtension)!.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    expect(cert.getExtension(x509.BasicConstraintsExtension)!.ca).toBe(false);

    const checked = await ca.check(Buffer.from(cert.rawData));
    // The SHA-256 of the certificate's public key (what wrapToOwnCertificate compares) is that of the CSR's key.
    const spkiSha256 = createHash("sha256").update(Buffer.from(cert.publicKey.rawData)).digest("hex");
    expect(checked).toEqual({ serial: issued.serial, vmId: "pay-1", spkiSha256, notBefore: issued.notBefore, notAfter: issued.notAfter });
  });

  it("gives every certificate a distinct, positive serial", async () => {
    const { pem } = await csr();
    const serials = new Set<string>();
    for (let i = 0; i < 16; i++) {
      const { certificate, serial } = await ca.issue(pem, "vm-x", 60);
      serials.add(serial);
      expect(new NodeX509(certificate).serialNumber.toLowerCase()).toBe(serial);
      // DER INTEGER serials are positive: the first content byte's top bit is clear (or a 0x00 pad).
      // (With random serials, a serial left negative shows in one of 16 with probability 1 − 2^-16.)
      const content = new x509.X509Certificate(certificate).serialNumber;
      expect(parseInt(content.slice(0, 2), 16) & 0x80, content).toBe(0);
    }
    expect(serials.size).toBe(16);
  });

  it("refuses a CSR whose signature does not verify, text that is not a CSR, and bad vm ids", async () => {
    expect(await codeOf(ca.issue((await csr(true)).pem, "vm-1", 60))).toBe("InvalidInput /csr");
    expect(await codeOf(ca.issue("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", "vm-1", 60))).toBe("InvalidInput /csr");
    const { pem } = await csr();
    for (const bad of ["", "-lead", "a/b", "spiffe://x", "x".repeat(129), "vm 1"]) expect(await codeOf(ca.issue(pem, bad, 60))).toBe("InvalidInput /vmId");
  });

  it("refuses expired and not-yet-valid certificates by the injected clock", async () => {
    const der = Buffer.from(new x509.X509Certificate((await ca.issue((await csr()).pem, "vm-1", 600)).certificate).rawData);
    clock.advance(599_000);
    await expect(ca.check(der)).resolves.toMatchObject({ vmId: "vm-1" });
    clock.advance(1_000);
    expect(await codeOf(ca.check(der))).toBe("Unauthenticated");
    clock.advance(-3600_000);
    expect(await codeOf(ca.check(der))).toBe("Unauthenticated");
  });

  it("refuses a certificate from a foreign CA even if it names a VM of this trust domain", async () => {
    const foreignKeys = (await webcrypto.subtle.generateKey(ALG, true, ["sign", "verify"])) as webcrypto.CryptoKeyPair;
    // Same subject as ours, so only the signature tells them apart.
    const ours = new x509.X509Certificate(await ca.certificate());
    const vm = await csr();
    const forged = await x509.X509CertificateGenerator.create({
      subject: "CN=vm-1",
      issuer: ours.subject,
      notBefore: new Date(clock.now() - 60_000),
      notAfter: new Date(clock.now() + 3600_000),
      publicKey: vm.keys.publicKey,
      signingKey: foreignKeys.privateKey,
      signingAlgorithm: ALG,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: "url", value: "spiffe://prod.example/vm/vm-1" }])],
    });
    expect(await codeOf(ca.check(Buffer.from(forged.rawData)))).toBe("Unauthenticated");
    expect(await codeOf(ca.check(Buffer.from("not a certificate")))).toBe("Unauthenticated");
  });

  it("refuses its own certificates that name no VM of this trust domain", async () => {
    const otherDomain = new CertificateAuthority(store, barrier, clock, "other.example");
    // Same stored CA key, different trust domain: the URI SAN no longer matches.
    const issued = await otherDomain.issue((await csr()).pem, "vm-1", 600);
    expect(await codeOf(ca.check(Buffer.from(new x509.X509Certificate(issued.certificate).rawData)))).toBe("Unauthenticated");
    const server = await ca.issueServer(["127.0.0.1", "localhost"], 600);
    expect(await codeOf(ca.check(Buffer.from(new x509.X509Certificate(server.certificate).rawData)))).toBe("Unauthenticated");
  });

  it("issues dev TLS server certificates for IPs and DNS names, signed by the CA", async () => {
    const server = await ca.issueServer(["127.0.0.1", "localhost", "::1"], 600);
    const cert = new NodeX509(server.certificate);
    expect(cert.checkIssued(new NodeX509(await ca.certificate()))).toBe(true);
    expect(cert.checkIP("127.0.0.1")).toBe("127.0.0.1");
    expect(cert.checkHost("localhost")).toBe("localhost");
    expect(cert.checkPrivateKey((await import("node:crypto")).createPrivateKey(server.key))).toBe(true);
  });
});
