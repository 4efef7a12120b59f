/** Builds the service's CallContext from a Fastify request: token, client certificate, source, request id. */
import type { TLSSocket } from "node:tls";
import type { FastifyRequest } from "fastify";
import type { CallContext } from "../../service/door.js";

/** The token a request carries, from `X-Tessera-Token` or `Authorization: Bearer`. */
export function tokenOf(request: FastifyRequest): string | undefined {
  const header = request.headers["x-tessera-token"];
  if (typeof header === "string" && header.length > 0) return header;
  const auth = request.headers.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return undefined;
}

/**
 * The DER of the client certificate presented in the TLS handshake (which proved possession of its
 * private key). Whether Tessera's CA issued it, and whether it is still valid, is decided by the
 * certificate authenticator behind the door.
 */
export function clientCertificateOf(request: FastifyRequest): Buffer | undefined {
  const socket = request.raw.socket as Partial<TLSSocket>;
  if (socket.encrypted !== true || typeof socket.getPeerCertificate !== "function") return undefined;
  const cert = socket.getPeerCertificate(false);
  return cert && cert.raw ? cert.raw : undefined;
}

export const callContext = (request: FastifyRequest): CallContext => ({
  token: tokenOf(request),
  clientCertificate: clientCertificateOf(request),
  source: request.ip,
  requestId: request.id,
});
