/** Join tokens, enrolment, certificate login/renewal and revocation through the door. */
import { TesseraError, type EnrolledCertificate, type JoinTokenInfo, type ListCertificatesResponse, type LoginResponse } from "@tessera/protocol";
import type { MachineIdentity } from "../identity/machine-identity.js";
import type { Principal } from "../principal/index.js";
import { resources } from "../policy/index.js";
import type { CallContext, Door } from "./door.js";

export class MachineIdentityService {
  constructor(
    private readonly door: Door,
    private readonly machines: MachineIdentity,
  ) {}

  createJoinToken(ctx: CallContext, req: { role: string; ttlSeconds?: number; uses?: number; vmId?: string }) {
    return this.door.run(ctx, "auth:CreateJoinToken", async (s) => {
      await s.authorize(resources.role(req.role));
      return this.machines.createJoinToken(req.role, req);
    });
  }

  listJoinTokens(ctx: CallContext): Promise<{ joinTokens: JoinTokenInfo[] }> {
    return this.door.run(ctx, "auth:ListJoinTokens", async (s) => {
      await s.authorize(resources.joinToken);
      return { joinTokens: await this.machines.listJoinTokens() };
    });
  }

  revokeJoinToken(ctx: CallContext, accessor: string): Promise<void> {
    return this.door.run(ctx, "auth:RevokeJoinToken", async (s) => {
      await s.authorize(resources.joinToken);
      await this.machines.revokeJoinToken(accessor);
    });
  }

  /** Open: the join token is the credential. A spent or unknown token is refused and audited. */
  join(ctx: CallContext, req: { joinToken: string; csr: string; vmId?: string }): Promise<EnrolledCertificate & { token: LoginResponse }> {
    return this.door.open(
      ctx,
      "auth:Login",
      async (o) => {
        const enrolled = await this.machines.join(req.joinToken, req.csr, req.vmId, ctx.source, o.beforeChange);
        o.identify({ id: `cert:${enrolled.serial}`, kind: "vm", displayName: enrolled.vmId, role: enrolled.role, authMethod: "cert" });
        return enrolled;
      },
      { credentialFirst: true },
    );
  }

  /**
   * mTLS: the presented certificate is the credential (audited as a login). A token alongside is
   * refused rather than silently ignored.
   */
  certLogin(ctx: CallContext): Promise<LoginResponse> {
    return this.withCertificate(ctx, (principal, beforeChange) => this.machines.login(principal, ctx.source, beforeChange));
  }

  /** A new certificate for the same VM and role, over mTLS with the current, valid certificate. */
  renew(ctx: CallContext, csr: string): Promise<EnrolledCertificate> {
    return this.withCertificate(ctx, (principal, beforeChange) => this.machines.renew(principal, csr, beforeChange));
  }

  /** An open operation whose credential is the presented instance certificate, audited as a login. */
  private withCertificate<T>(ctx: CallContext, op: (principal: Principal, beforeChange: () => Promise<void>) => Promise<T>): Promise<T> {
    return this.door.open(
      ctx,
      "auth:Login",
      async (o) => {
        const principal = await this.certificatePrincipal(ctx);
        o.identify(principal);
        return op(principal, o.beforeChange);
      },
      { credentialFirst: true },
    );
  }

  private certificatePrincipal(ctx: CallContext) {
    if (ctx.token !== undefined) throw new TesseraError("InvalidInput", "present the client certificate alone, without a token");
    if (ctx.clientCertificate === undefined) throw new TesseraError("Unauthenticated", "present an instance certificate over TLS");
    return this.machines.authenticate(ctx.clientCertificate, ctx.source);
  }

  listCertificates(ctx: CallContext, limit: number, marker?: string): Promise<ListCertificatesResponse> {
    return this.door.run(ctx, "auth:ListCertificates", async (s) => {
      await s.authorize(resources.certificate);
      return this.machines.listCertificates(limit, marker);
    });
  }

  revoke(ctx: CallContext, target: { serial?: string; vmId?: string }) {
    return this.door.run(
      ctx,
      "auth:RevokeCertificate",
      async (s) => {
        await s.authorize(resources.certificate);
        return this.machines.revoke(target);
      },
    );
  }

  /** Open and read-only: the CA certificate VMs and clients should trust. */
  async caCertificate(): Promise<{ certificate: string | null; trustDomain: string }> {
    return { certificate: (await this.machines.ca.publicCertificate()) ?? null, trustDomain: this.machines.ca.trustDomain };
  }
}
