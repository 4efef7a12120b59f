/** A Vault request's call context and Vault's response envelope. */
import type { FastifyRequest } from "fastify";
import type { CallContext } from "../../service/door.js";
import { clientCertificateOf, tokenOf } from "../native/context.js";
import type { Json } from "./vault-input.js";

/** The token a Vault client sends: `X-Vault-Token`, else as the native API takes it (`X-Tessera-Token`, `Authorization: Bearer`). */
export function vaultToken(request: FastifyRequest): string | undefined {
  const header = request.headers["x-vault-token"];
  if (typeof header === "string" && header.length > 0) return header;
  return tokenOf(request);
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

