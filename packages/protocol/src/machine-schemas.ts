/**
 * Wire schemas for machine identity: join tokens, enrolment (join token + CSR → instance
 * certificate), certificate login/renewal, revocation and the CA (docs/machine-identity.md).
 */
import { Type, type Static } from "@sinclair/typebox";
import { LoginResponse, Name } from "./identity-schemas.js";

const strict = { additionalProperties: false } as const;
const Timestamp = Type.String({ format: "date-time" });
const Csr = Type.String({ minLength: 64, maxLength: 16384, description: "PEM PKCS#10 certificate signing request" });

export const VmId = Type.String({ pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$", description: "1–128 letters, digits and _ . -" });
export const JoinTokenInfo = Type.Object({
  accessor: Type.String(),
  role: Type.String(),
  vmId: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Timestamp, Type.Null()]),
  usesLeft: Type.Union([Type.Integer(), Type.Null()]),
  createdAt: Timestamp,
});
export type JoinTokenInfo = Static<typeof JoinTokenInfo>;
export const CreateJoinTokenRequest = Type.Object(
  {
    role: Name,
    ttlSeconds: Type.Optional(Type.Integer({ minimum: 60, maximum: 7 * 86400 })),
    uses: Type.Optional(Type.Integer({ minimum: 1, maximum: 10000 })),
    vmId: Type.Optional(VmId),
  },
  strict,
);
export type CreateJoinTokenRequest = Static<typeof CreateJoinTokenRequest>;
/** `joinToken` is shown once; `uses` is how many enrolments it allows. */
export const CreateJoinTokenResponse = Type.Intersect([JoinTokenInfo, Type.Object({ joinToken: Type.String(), uses: Type.Integer() })]);
export type CreateJoinTokenResponse = Static<typeof CreateJoinTokenResponse>;
export const EnrolledCertificate = Type.Object({
  certificate: Type.String(),
  caCertificate: Type.String(),
  serial: Type.String(),
  vmId: Type.String(),
  role: Type.String(),
  expiresAt: Timestamp,
});
export type EnrolledCertificate = Static<typeof EnrolledCertificate>;
export const JoinRequest = Type.Object(
  { joinToken: Type.String({ minLength: 1, maxLength: 256 }), csr: Csr, vmId: Type.Optional(VmId) },
  strict,
);
export type JoinRequest = Static<typeof JoinRequest>;
export const JoinResponse = Type.Intersect([EnrolledCertificate, Type.Object({ token: LoginResponse })]);
export type JoinResponse = Static<typeof JoinResponse>;
export const ListJoinTokensResponse = Type.Object({ joinTokens: Type.Array(JoinTokenInfo) });
export type ListJoinTokensResponse = Static<typeof ListJoinTokensResponse>;
export const RenewCertificateRequest = Type.Object({ csr: Csr }, strict);
export type RenewCertificateRequest = Static<typeof RenewCertificateRequest>;
/** Exactly one of `serial` (hex) or `vmId`. */
export const RevokeCertificatesRequest = Type.Object(
  { serial: Type.Optional(Type.String({ pattern: "^[0-9a-fA-F]{1,64}$" })), vmId: Type.Optional(VmId) },
  { ...strict, minProperties: 1, maxProperties: 1 },
);
export type RevokeCertificatesRequest = Static<typeof RevokeCertificatesRequest>;
/** An instance certificate as listed (`GET /v1/auth/certs`): who it was issued to and whether it is still good. */
export const CertificateInfo = Type.Object({
  serial: Type.String(),
  vmId: Type.String(),
  role: Type.String(),
  notBefore: Timestamp,
  notAfter: Timestamp,
  revokedAt: Type.Union([Timestamp, Type.Null()]),
  createdAt: Timestamp,
  /** `active`, `revoked`, or `expired` (now, by the server's clock). */
  state: Type.Union([Type.Literal("active"), Type.Literal("revoked"), Type.Literal("expired")]),
});
export type CertificateInfo = Static<typeof CertificateInfo>;
export const ListCertificatesResponse = Type.Object({ certificates: Type.Array(CertificateInfo), nextMarker: Type.Union([Type.String(), Type.Null()]) });
export type ListCertificatesResponse = Static<typeof ListCertificatesResponse>;
export const RevokeCertificatesResponse = Type.Object({ certificates: Type.Integer(), tokens: Type.Integer() });
export type RevokeCertificatesResponse = Static<typeof RevokeCertificatesResponse>;
/** `certificate` is null until the CA exists (it is created at the first enrolment). */
export const CaResponse = Type.Object({ certificate: Type.Union([Type.String(), Type.Null()]), trustDomain: Type.String() });
export type CaResponse = Static<typeof CaResponse>;
