/** A Vault request's call context and Vault's response envelope. */
import type { FastifyRequest } from "fastify";
import type { CallContext } from "../../service/door.js";
import { clientCertificateOf } from "../native/context.js";
import type { Json } from "./vault-input.js";

/** The token a Vault client sends: `X-Vault-Token`, else `Authorization: Bearer`. */
export function vaultToken(request: FastifyRequest): string | undefined {
  const header = request.headers["x-vault-token"];
  if (typeof header === "string" && header.length > 0) return header;
  const auth = request.headers.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  return undefined;
}

export const vaultCallContext = (request: FastifyRequest): CallContext => ({
  token: vaultToken(request),
  clientCertificate: clientCertificateOf(request),
  source: request.ip,
  requestId: request.id,
});

/** Vault's response envelope. */
export function envelope(requestId: string, data: Json | null, warnings: string[], mountType?: string): Json {
  return {
    request_id: requestId,
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data,
    wrap_info: null,
    warnings: warnings.length > 0 ? warnings : null,
    auth: null,
    ...(mountType !== undefined && { mount_type: mountType }),
  };
}

