/**
 * Turns the credentials a request carries into a principal. A request proves itself with exactly
 * one of: a Tessera token (any adapter), an instance certificate presented over mutual TLS, or an
 * AWS SigV4 signature made with an access key (AWS-compatible API).
 */
import { TOKEN_REFUSALS, TesseraError } from "@tessera/protocol";
import type { Principal } from "../principal/index.js";
import type { TokenService } from "./token-service.js";

/** The parts of a SigV4-signed HTTP request the verifier needs (see identity/sigv4.ts). */
export interface SigV4Request {
  method: string;
  /** Path exactly as received (not decoded). */
  path: string;
  /** Raw query string without `?`. */
  query: string;
  headers: Readonly<Record<string, string | string[] | undefined>>;
  body: Buffer;
}

/** Who is calling and from where, as the adapter saw it. */
export interface CallContext {
  token: string | undefined;
  /** DER of the client certificate the TLS handshake proved possession of (mTLS), if any. */
  clientCertificate?: Buffer | undefined;
  sigv4?: SigV4Request | undefined;
  source: string;
  requestId: string;
  /** Grants the request names by grant token (AWS GrantTokens): considered even before caches hear of them. */
  grantIds?: readonly string[] | undefined;
}

export interface CredentialAuthenticator<C> {
  authenticate(credential: C, source: string): Promise<Principal>;
}

export class Authenticator {
  /**
   * One SigV4 verification per request: the AWS adapter authenticates before it reads the body, and
   * the operation's door then gets the same verdict for the same context object (never another's).
   */
  private readonly verified = new WeakMap<CallContext, Promise<Principal>>();

  constructor(
    private readonly tokens: TokenService,
    private readonly certificates?: CredentialAuthenticator<Buffer>,
    private readonly sigv4?: CredentialAuthenticator<SigV4Request>,
  ) {}

  authenticate(ctx: CallContext): Promise<Principal> {
    if (ctx.token !== undefined) return this.tokens.authenticate(ctx.token);
    if (ctx.sigv4 !== undefined && this.sigv4 !== undefined) {
      let verdict = this.verified.get(ctx);
      if (verdict === undefined) {
        verdict = this.sigv4.authenticate(ctx.sigv4, ctx.source);
        this.verified.set(ctx, verdict);
      }
      return verdict;
    }
    if (ctx.clientCertificate !== undefined && this.certificates !== undefined) return this.certificates.authenticate(ctx.clientCertificate, ctx.source);
    return Promise.reject(new TesseraError("Unauthenticated", TOKEN_REFUSALS.missing));
  }
}
