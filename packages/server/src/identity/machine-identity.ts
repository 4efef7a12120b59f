/**
 * VM identity: single-use join tokens → instance certificates from Tessera's CA → mutual TLS.
 *
 * An operator mints a join token bound to a role (stored hashed, spent in one SQL statement, so a
 * second use always fails). A VM generates its key pair locally and exchanges the token and a CSR for
 * a short-lived certificate naming `spiffe://<trust domain>/vm/<vm id>`; the certificate's serial,
 * VM and role are recorded. Presenting that certificate over TLS authenticates the VM.
 *
 * Invariants:
 * - A VM id is claimed by its first certificate, atomically in the store: a join that only asks for
 *   an id gets it only if no VM ever had it, however many joins race for it.
 * - Every token obtained with a certificate (at join, by certificate login) is bound to its serial in
 *   storage and cannot be stored once the certificate is revoked; revoking the serial, the VM or
 *   the role revokes the certificate first, then its tokens, so none outlives the revocation.
 * - Revoked serials are kept in an in-memory set, updated by every revocation here, so a revoked
 *   certificate fails on its next request through this node.
 */
import { X509Certificate, randomBytes } from "node:crypto";
import { TesseraError, type CreateJoinTokenResponse, type EnrolledCertificate, type JoinTokenInfo, type ListCertificatesResponse, type LoginResponse } from "@tessera/protocol";
import { randomId, spkiSha256 } from "../crypto/index.js";
import { CERT_SPKI_ATTRIBUTE } from "../policy/index.js";
import { iso, type Clock } from "../clock.js";
import { DEFAULT_TOKEN_TTL_SECONDS, type RoleDirectory } from "../principal/index.js";
import type { CertificateRepo, SpendableRepo } from "../store/index.js";
import type { CredentialAuthenticator } from "./authenticator.js";
import { VM_ID_PATTERN, type CertificateAuthority } from "./ca.js";
import type { Principal } from "../principal/index.js";
import { hashSecret, type TokenService } from "./token-service.js";
import { noChangeHook, type BeforeChange } from "./before-change.js";

export const DEFAULT_CERT_TTL_SECONDS = 86_400;
export const DEFAULT_JOIN_TOKEN_TTL_SECONDS = 900;

export class MachineIdentity implements CredentialAuthenticator<Buffer> {
  private revoked: Set<string> | undefined;
  private readonly known = new Map<string, { role: string; vmId: string }>();

  constructor(
    readonly ca: CertificateAuthority,
    private readonly joinTokens: SpendableRepo,
    private readonly certificates: CertificateRepo,
    private readonly roles: Pick<RoleDirectory, "role">,
    private readonly tokens: TokenService,
    private readonly clock: Clock,
  ) {}

  // ── join tokens ──────────────────────────────────────────────────────────────────────────────

  async createJoinToken(role: string, options: { ttlSeconds?: number; uses?: number; vmId?: string }): Promise<CreateJoinTokenResponse> {
    if ((await this.roles.role(role)) === undefined) throw new TesseraError("InvalidInput", `no role named "${role}"`, { field: "/role" });
    if (options.vmId !== undefined && !VM_ID_PATTERN.test(options.vmId)) {
      throw new TesseraError("InvalidInput", "vm ids are 1–128 letters, digits and _ . -", { field: "/vmId" });
    }
    const now = this.clock.now();
    const joinToken = "tsj_" + randomId(32);
    const row = {
      hash: hashSecret(joinToken),
      accessor: "joina_" + randomId(12),
      role,
      usesLeft: options.uses ?? 1,
      expiresAt: now + (options.ttlSeconds ?? DEFAULT_JOIN_TOKEN_TTL_SECONDS) * 1000,
      createdAt: now,
      metadata: options.vmId === undefined ? {} : { vmId: options.vmId },
    };
    await this.joinTokens.insert(row);
    return { joinToken, uses: row.usesLeft, ...this.joinInfo(row) };
  }

  private joinInfo(row: { accessor: string; role: string; usesLeft: number | null; expiresAt: number | null; createdAt: number; metadata: Record<string, unknown> }): JoinTokenInfo {
    return {
      accessor: row.accessor,
      role: row.role,
      vmId: (row.metadata["vmId"] as string | undefined) ?? null,
      expiresAt: row.expiresAt === null ? null : iso(row.expiresAt),
      usesLeft: row.usesLeft,
      createdAt: iso(row.createdAt),
    };
  }

  /** Instance certificates in serial order, a page at a time; `nextMarker` is the last serial of a full page. */
  async listCertificates(limit: number, marker?: string): Promise<ListCertificatesResponse> {
    const now = this.clock.now();
    const rows = await this.certificates.list(limit, marker);
    return {
      certificates: rows.map((r) => ({
        serial: r.serial,
        vmId: r.vmId,
        role: r.role,
        notBefore: iso(r.notBefore),
        notAfter: iso(r.notAfter),
        revokedAt: r.revokedAt === null ? null : iso(r.revokedAt),
        createdAt: iso(r.createdAt),
        state: r.revokedAt !== null ? "revoked" : r.notAfter <= now ? "expired" : "active",
      })),
      nextMarker: rows.length === limit ? rows.at(-1)!.serial : null,
    };
  }

  async listJoinTokens(): Promise<JoinTokenInfo[]> {
    const now = this.clock.now();
    return (await this.joinTokens.list()).filter((r) => (r.expiresAt === null || r.expiresAt > now) && r.usesLeft !== 0).map((r) => this.joinInfo(r));
  }

  async revokeJoinToken(accessor: string): Promise<void> {
    if (!(await this.joinTokens.deleteByAccessor(accessor))) throw new TesseraError("NotFound", "no such join token");
  }

  // ── enrolment ────────────────────────────────────────────────────────────────────────────────

  /** Spends a join token and issues the VM's first certificate and a token. */
  async join(joinToken: string, csr: string, requestedVmId: string | undefined, source: string, beforeChange: BeforeChange = noChangeHook): Promise<EnrolledCertificate & { token: LoginResponse }> {
    const hash = hashSecret(joinToken);
    // An unknown, spent or expired token is refused before anything is announced or changed.
    const known = await this.joinTokens.getByHash(hash);
    const now = this.clock.now();
    if (known === undefined || known.usesLeft === 0 || (known.expiresAt !== null && known.expiresAt <= now)) {
      throw new TesseraError("Unauthenticated", "the join token is unknown, expired or already used");
    }
    await beforeChange();
    const spent = await this.joinTokens.spend(hash, now);
    if (spent === undefined) throw new TesseraError("Unauthenticated", "the join token is unknown, expired or already used");
    const bound = spent.metadata["vmId"] as string | undefined;
    if (bound !== undefined && requestedVmId !== undefined && requestedVmId !== bound) {
      throw new TesseraError("InvalidInput", "this join token is bound to another VM id", { field: "/vmId" });
    }
    const vmId = bound ?? requestedVmId ?? `vm-${randomBytes(8).toString("hex")}`;
    // A VM may pick its own id only if no VM has used it: otherwise any join token for the role could
    // claim another VM's identity (and its `${principal.vm_id}`-bound ciphertexts). Re-enrolling an
    // existing id takes a join token an operator bound to it. The store settles the claim atomically.
    const enrolled = await this.enrol(spent.role, vmId, csr, bound === undefined ? "new" : "any");
    const token = await this.tokenFor({ ...enrolled, spkiSha256: spkiSha256(new X509Certificate(enrolled.certificate).publicKey) }, source);
    return { ...enrolled, token };
  }

  /** Issues and records a certificate; `claim: "new"` refuses (AlreadyExists) an id any VM has had. */
  private async enrol(role: string, vmId: string, csr: string, claim: "new" | "any"): Promise<EnrolledCertificate> {
    const settings = await this.roles.role(role);
    if (settings === undefined) throw new TesseraError("Unauthenticated", `role "${role}" no longer exists`);
    const issued = await this.ca.issue(csr, vmId, settings.certTtlSeconds ?? DEFAULT_CERT_TTL_SECONDS);
    const row = { serial: issued.serial, vmId, role, notBefore: issued.notBefore, notAfter: issued.notAfter, revokedAt: null, createdAt: this.clock.now() };
    if (claim === "any") {
      await this.certificates.insert(row);
    } else if (!(await this.certificates.claimAndInsert(row))) {
      // The certificate just signed is dropped unrecorded: a certificate without a row authenticates nothing.
      throw new TesseraError("AlreadyExists", `vm id "${vmId}" is already enrolled; re-enrol it with a join token bound to it (--vm-id)`, { field: "/vmId" });
    }
    return { certificate: issued.certificate, caCertificate: await this.ca.certificate(), serial: issued.serial, vmId, role, expiresAt: iso(issued.notAfter) };
  }

  private async tokenFor(c: { vmId: string; role: string; serial: string; spkiSha256: string }, source: string): Promise<LoginResponse> {
    const settings = await this.roles.role(c.role);
    // A role deleted since the certificate was checked: its certificates are being revoked.
    if (settings === undefined) throw new TesseraError("Unauthenticated", `role "${c.role}" no longer exists`);
    const ttl = settings.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    return this.tokens.issue({
      kind: "vm",
      displayName: c.vmId,
      role: c.role,
      authMethod: "cert",
      // The certificate's public key, so a policy can limit wrapped export to it (wrapToOwnCertificate).
      attributes: { vm_id: c.vmId, serial: c.serial, [CERT_SPKI_ATTRIBUTE]: c.spkiSha256 },
      source,
      subject: c.vmId,
      certificateSerial: c.serial,
      ttlSeconds: ttl,
      maxTtlSeconds: settings.tokenMaxTtlSeconds ?? ttl,
    });
  }

  /** A certificate-authenticated VM exchanges its certificate for a token. */
  async login(principal: Principal, source: string, beforeChange: BeforeChange = noChangeHook): Promise<LoginResponse> {
    if (principal.authMethod !== "cert") throw new TesseraError("Unauthenticated", "log in with a client certificate over TLS");
    await beforeChange();
    const a = principal.attributes;
    return this.tokenFor({ vmId: a["vm_id"]!, role: principal.role!, serial: a["serial"]!, spkiSha256: a[CERT_SPKI_ATTRIBUTE]! }, source);
  }

  /** A VM renews with its current, valid certificate: a new certificate for the same VM and role. */
  async renew(principal: Principal, csr: string, beforeChange: BeforeChange = noChangeHook): Promise<EnrolledCertificate> {
    if (principal.authMethod !== "cert") throw new TesseraError("Unauthenticated", "renew with the current client certificate over TLS");
    await beforeChange();
    return this.enrol(principal.role!, principal.attributes["vm_id"]!, csr, "any");
  }

  // ── revocation ───────────────────────────────────────────────────────────────────────────────

  /**
   * Revokes one certificate (by serial) or every certificate of a VM, and the tokens obtained with
   * them. The certificates go first: from then on no token bound to them can be stored.
   */
  async revoke(target: { serial?: string; vmId?: string }): Promise<{ certificates: number; tokens: number }> {
    const now = this.clock.now();
    const set = await this.revokedSet();
    if (target.serial !== undefined) {
      const serial = target.serial.toLowerCase();
      const row = await this.certificates.get(serial);
      if (row === undefined) throw new TesseraError("NotFound", "no certificate with that serial");
      await this.certificates.revoke(serial, now);
      set.add(serial);
      this.known.delete(serial);
      const tokens = await this.tokens.revokeCertificate(serial);
      return { certificates: row.revokedAt === null ? 1 : 0, tokens };
    }
    if (target.vmId !== undefined) {
      const rows = await this.certificates.listByVm(target.vmId);
      const n = await this.certificates.revokeVm(target.vmId, now);
      for (const r of rows) {
        set.add(r.serial);
        this.known.delete(r.serial);
      }
      const tokens = await this.tokens.revokeSubject(target.vmId);
      if (rows.length === 0 && tokens === 0) throw new TesseraError("NotFound", "no certificates or tokens for that VM");
      return { certificates: n, tokens };
    }
    throw new TesseraError("InvalidInput", "give serial or vmId", { field: "/serial" });
  }

  /** Drops cached state after role deletion revoked certificates in bulk. */
  forgetRevocations(): void {
    this.revoked = undefined;
    this.known.clear();
  }

  private async revokedSet(): Promise<Set<string>> {
    this.revoked ??= new Set(await this.certificates.listRevoked(this.clock.now()));
    return this.revoked;
  }

  // ── authentication (mutual TLS) ──────────────────────────────────────────────────────────────

  async authenticate(der: Buffer, source: string): Promise<Principal> {
    const presented = await this.ca.check(der);
    if ((await this.revokedSet()).has(presented.serial)) throw new TesseraError("Unauthenticated", "client certificate refused: revoked");
    let known = this.known.get(presented.serial);
    if (known === undefined) {
      const row = await this.certificates.get(presented.serial);
      if (row === undefined || row.revokedAt !== null) throw new TesseraError("Unauthenticated", "client certificate refused: unknown or revoked");
      known = { role: row.role, vmId: row.vmId };
      this.known.set(presented.serial, known);
    }
    return {
      id: `cert:${presented.serial}`,
      kind: "vm",
      displayName: known.vmId,
      root: false,
      role: known.role,
      authMethod: "cert",
      attributes: { vm_id: known.vmId, serial: presented.serial, [CERT_SPKI_ATTRIBUTE]: presented.spkiSha256 },
      grants: [],
      expiresAt: presented.notAfter,
      loginSource: source,
    };
  }
}
