/**
 * `TesseraClient`: one method per route of the native API (docs/api.md), typed with the wire types
 * of `@tessera/protocol`. Methods only shape URLs and bodies; validation happens on the server.
 */
import { DEFAULT_SECRET_MOUNT } from "@tessera/protocol/core";
import type {
  TrimKeyVersionsRequest,
  KeyBackupResponse,
  RestoreKeyRequest,
  ListAliasesResponse,
  PutAliasResponse,
  KeyRetention,
  RetentionPolicy,
  ConfigureSecretMountRequest,
  ListSecretsResponse,
  SecretData,
  SecretMetadata,
  SecretMountConfig,
  SecretVersionRead,
  SecretVersionWritten,
  WriteSecretMetadataRequest,
  GenerateMacRequest,
  GenerateMacResponse,
  VerifyMacRequest,
  VerifyMacResponse,
  BatchDecryptRequest,
  BatchDecryptResponse,
  BatchEncryptRequest,
  BatchEncryptResponse,
  CreateKeyRequest,
  CreateTokenRequest,
  CreateTokenResponse,
  DecryptRequest,
  DecryptResponse,
  DeriveRequest,
  DeriveResponse,
  DeriveSharedSecretRequest,
  DeriveSharedSecretResponse,
  EncryptRequest,
  EncryptResponse,
  ExportWrappedRequest,
  ExportWrappedResponse,
  GenerateDataKeyRequest,
  GenerateDataKeyResponse,
  GenerateDataKeyWithoutPlaintextResponse,
  GenerateDataKeyPairRequest,
  GenerateDataKeyPairResponse,
  GenerateDataKeyPairWithoutPlaintextResponse,
  GenerateRandomRequest,
  GenerateRandomResponse,
  GetParametersForImportRequest,
  GetParametersForImportResponse,
  ImportKeyMaterialRequest,
  Health,
  InitRequest,
  InitResponse,
  JwtIssuerConfig,
  JwtIssuerInfo,
  KeyMetadata,
  KeyVersionInfo,
  ListKeysResponse,
  ListVersionsResponse,
  ListKeyGrantsResponse,
  PairwisePskRequest,
  PairwisePskResponse,
  PublicKeyResponse,
  ReEncryptRequest,
  ReEncryptResponse,
  ScheduleDeletionRequest,
  SealStatus,
  SetMinDecryptionVersionRequest,
  SetMinEncryptionVersionRequest,
  SignRequest,
  SignResponse,
  TokenInfo,
  TokenSelector,
  UnsealRequest,
  UpdateKeyRequest,
  RekeyInitRequest,
  RekeyStatus,
  QuorumShareRequest,
  GenerateRootStatus,
  RotateRootStatus,
  RestorePreamble,
  RestoreResult,
  VerifyRequest,
  VerifyResponse,
} from "@tessera/protocol";
import type {
  AccessKeyInfo,
  CreateAccessKeyResponse,
  CreateJoinTokenRequest,
  CreateJoinTokenResponse,
  JoinRequest,
  JoinResponse,
  JoinTokenInfo,
  EnrolledCertificate,
  CreateSecretIdRequest,
  LoginResponse,
  NameList,
  PolicyInfo,
  SecretIdResponse,
  SimulateRequest,
  CapabilitiesRequest,
  CapabilitiesResponse,
  ActivityResponse,
  ListCertificatesResponse,
  SimulateResponse,
} from "@tessera/protocol";
import { HttpTransport, type HttpOptions, type HttpRequest } from "./http.js";

const seg = encodeURIComponent;

/** Which secrets mount a call addresses (default `secret`). */
export interface SecretOptions {
  mount?: string;
}

/** `/v1/secrets/MOUNT/OP/PATH`, each path segment encoded on its own (the `/` between them stays). */
/** `/v1/aliases/<name>`, each `/`-separated part of the name encoded on its own. */
function aliasPath(name: string): string {
  return `/v1/aliases/${name.split("/").map(seg).join("/")}`;
}

function secretPath(options: SecretOptions, op: string, path: string): string {
  return `/v1/secrets/${seg(options.mount ?? DEFAULT_SECRET_MOUNT)}/${op}/${path.split("/").map(seg).join("/")}`;
}
const forceQuery = (force?: boolean) => (force === true ? "?force=true" : "");

/** A role as the API returns it (settings documented in docs/policy.md). */
export type RoleInfo = { name: string; policies: string[]; createdAt: string; updatedAt: string } & Record<string, unknown>;


export type TesseraClientOptions = HttpOptions;

export interface ListKeysOptions {
  /** Page size; the server applies its own default and maximum. */
  limit?: number;
  /** `nextMarker` of the previous page. */
  marker?: string;
}

/** `/v1/keys/{key}` with the key's name or UUID encoded as one path segment. */
function keyPath(key: string, suffix = ""): string {
  return `/v1/keys/${encodeURIComponent(key)}${suffix}`;
}

function versionPath(key: string, version: number, action: "enable" | "disable"): string {
  return keyPath(key, `/versions/${encodeURIComponent(String(version))}/${action}`);
}

/**
 * Client for Tessera's native HTTP API.
 *
 * Every method resolves with the answer's JSON body and rejects with a `TesseraError` whose `code`
 * comes from the catalogue in `@tessera/protocol`: the server's own error (a
 * {@link TesseraResponseError}, which also carries the `requestId`), `Unavailable` when the server
 * cannot be reached or does not answer within `timeoutMs`, and `Internal` for an answer that is not
 * Tessera's. Bytes travel as standard base64.
 *
 * @example
 * ```ts
 * import { TesseraClient } from "@tessera/client";
 * import { isTesseraError } from "@tessera/protocol/core";
 *
 * const tessera = new TesseraClient({ address: "https://tessera.internal:8200", token: process.env.TESSERA_TOKEN });
 * const context = { vm: "web-7" };
 * const { ciphertext } = await tessera.encrypt("payment-db", {
 *   plaintext: Buffer.from("s3cret").toString("base64"),
 *   context,
 * });
 * try {
 *   const { plaintext } = await tessera.decrypt({ ciphertext, context });
 *   Buffer.from(plaintext, "base64").toString(); // "s3cret"
 * } catch (err) {
 *   if (isTesseraError(err) && err.code === "InvalidCiphertext") { … }
 *   throw err;
 * }
 * ```
 */
export class TesseraClient {
  readonly #http: HttpTransport;
  readonly #options: TesseraClientOptions;

  /** @throws TypeError when `address` is not an http(s) URL. */
  constructor(options: TesseraClientOptions) {
    this.#http = new HttpTransport(options);
    this.#options = options;
  }

  /** The address this client sends requests to, as given (`unix:PATH` with a `socketPath`). */
  get address(): string {
    return this.#http.address;
  }

  #get<T>(path: string): Promise<T> {
    return this.#http.request<T>({ method: "GET", path });
  }

  #post<T>(path: string, body?: unknown, extra?: Pick<HttpRequest, "answerStatuses">): Promise<T> {
    return this.#http.request<T>({ method: "POST", path, body, ...extra });
  }

  // --- cryptographic operations -------------------------------------------------------------

  /** Encrypts up to 4096 bytes under the key's primary version. */
  encrypt(key: string, req: EncryptRequest): Promise<EncryptResponse> {
    return this.#post(keyPath(key, "/encrypt"), req);
  }

  /** Decrypts a ciphertext; the key and version are read from the ciphertext itself. */
  decrypt(req: DecryptRequest): Promise<DecryptResponse> {
    return this.#post("/v1/decrypt", req);
  }

  /** A fresh data key, both in the clear and wrapped under `key` (envelope encryption). */
  generateDataKey(key: string, req: GenerateDataKeyRequest = {}): Promise<GenerateDataKeyResponse> {
    return this.#post(keyPath(key, "/generate-data-key"), req);
  }

  /** A fresh data key, wrapped under `key` only. */
  generateDataKeyWithoutPlaintext(key: string, req: GenerateDataKeyRequest = {}): Promise<GenerateDataKeyWithoutPlaintextResponse> {
    return this.#post(keyPath(key, "/generate-data-key-without-plaintext"), req);
  }

  /** Decrypts and encrypts again inside the server, under another key or the same key's newest version. */
  reEncrypt(req: ReEncryptRequest): Promise<ReEncryptResponse> {
    return this.#post("/v1/reencrypt", req);
  }

  /** A key derived (HKDF) from one of `key`'s versions and `req.context`; same inputs, same key. */
  derive(key: string, req: DeriveRequest): Promise<DeriveResponse> {
    return this.#post(keyPath(key, "/derive"), req);
  }

  /**
   * Exports a version's material (keys created `exportable`), a fresh data key or a derived key,
   * encrypted to `req.recipientPublicKey` — never in plaintext. The answer names everything the
   * recipient needs to open it (docs/distribution.md).
   *
   * @example
   * ```ts
   * const out = await tessera.exportWrapped("vm-keys", {
   *   recipientPublicKey: readFileSync("recipient.pub.pem", "utf8"),
   *   algorithm: "hpke-x25519",
   *   export: "derived-key",
   *   context: { vm: "web-7" },
   * });
   * // open out.encapsulatedKey / out.wrappedKey with the private key, info and aad (RFC 9180 base mode)
   * ```
   */
  exportWrapped(key: string, req: ExportWrappedRequest): Promise<ExportWrappedResponse> {
    return this.#post(keyPath(key, "/export"), req);
  }

  /**
   * The pre-shared key this VM shares with `req.peer` under `key` for a purpose: the peer gets the
   * same bytes by asking with this VM's id. Use it as a TLS PSK (`identity` names it for the server side).
   */
  pairwisePsk(key: string, req: PairwisePskRequest): Promise<PairwisePskResponse> {
    return this.#post(keyPath(key, "/psk"), req);
  }

  /**
   * BYOK: a one-time RSA wrapping key (DER SubjectPublicKeyInfo, base64) and an import token for a
   * key created with `origin: "EXTERNAL"`. Wrap the material to the key as `wrappingAlgorithm` says
   * and pass both to {@link importKeyMaterial} within 24 hours, to the same server.
   */
  getParametersForImport(key: string, req: GetParametersForImportRequest): Promise<GetParametersForImportResponse> {
    return this.#post(keyPath(key, "/import-parameters"), req);
  }

  /** BYOK: imports wrapped material as the key's new primary version (the first import enables it). */
  importKeyMaterial(key: string, req: ImportKeyMaterialRequest): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/import"), req);
  }

  /** BYOK: deletes every version's imported material; the key is PendingImport again. */
  deleteImportedKeyMaterial(key: string): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/delete-imported-material"));
  }

  /**
   * The HMAC of a message under an HMAC key (HMAC_224/256/384/512, HMAC_SM3). The response names the
   * key version that made it; keep it with the MAC to verify after a rotation.
   *
   * @example
   * ```ts
   * const { mac, keyVersion } = await client.generateMac("webhook-signing", { message: b64(body), macAlgorithm: "HMAC_SHA_256" });
   * ```
   */
  generateMac(key: string, req: GenerateMacRequest): Promise<GenerateMacResponse> {
    return this.#post(keyPath(key, "/generate-mac"), req);
  }

  /**
   * Checks a MAC against one version of an HMAC key (`keyVersion`, else the primary), in constant
   * time. A MAC that does not verify resolves with `macValid: false`; it does not throw.
   */
  verifyMac(key: string, req: VerifyMacRequest): Promise<VerifyMacResponse> {
    return this.#post(keyPath(key, "/verify-mac"), req);
  }

  // --- asymmetric keys ---------------------------------------------------------------------

  /**
   * Signs a message (≤ 4096 bytes) or, with `messageType: "DIGEST"`, its hash, with the key's primary
   * version. Keep `keyVersion` with the signature: Verify needs it once the key has rotated.
   *
   * @example
   * ```ts
   * const { signature, keyVersion } = await tessera.sign("release-signer", { message: b64(data), signingAlgorithm: "ECDSA_SHA_256" });
   * ```
   */
  sign(key: string, req: SignRequest): Promise<SignResponse> {
    return this.#post(keyPath(key, "/sign"), req);
  }

  /** Checks a signature with one version (`keyVersion`, default the primary): `signatureValid` is false when it does not verify. */
  verify(key: string, req: VerifyRequest): Promise<VerifyResponse> {
    return this.#post(keyPath(key, "/verify"), req);
  }

  /** The public key (DER SubjectPublicKeyInfo, base64) of a version (default the primary), with the key's spec, usage and algorithms. */
  getPublicKey(key: string, version?: number): Promise<PublicKeyResponse> {
    return this.#get(keyPath(key, version === undefined ? "/public-key" : `/public-key?version=${version}`));
  }

  /** A fresh key pair: the private key (PKCS#8 DER) in the clear and encrypted under the symmetric key `key`, and the public key. */
  generateDataKeyPair(key: string, req: GenerateDataKeyPairRequest): Promise<GenerateDataKeyPairResponse> {
    return this.#post(keyPath(key, "/generate-data-key-pair"), req);
  }

  /** A fresh key pair whose private key is returned only encrypted under `key`. */
  generateDataKeyPairWithoutPlaintext(key: string, req: GenerateDataKeyPairRequest): Promise<GenerateDataKeyPairWithoutPlaintextResponse> {
    return this.#post(keyPath(key, "/generate-data-key-pair-without-plaintext"), req);
  }

  /** ECDH between the key (usage KEY_AGREEMENT) and a peer's public key (DER SPKI, base64): the raw shared secret. */
  deriveSharedSecret(key: string, req: DeriveSharedSecretRequest): Promise<DeriveSharedSecretResponse> {
    return this.#post(keyPath(key, "/derive-shared-secret"), req);
  }

  generateRandom(req: GenerateRandomRequest): Promise<GenerateRandomResponse> {
    return this.#post("/v1/random", req);
  }

  /** Encrypts up to 1000 items; each result is a response or its own `{error}`. */
  batchEncrypt(req: BatchEncryptRequest): Promise<BatchEncryptResponse> {
    return this.#post("/v1/batch/encrypt", req);
  }

  batchDecrypt(req: BatchDecryptRequest): Promise<BatchDecryptResponse> {
    return this.#post("/v1/batch/decrypt", req);
  }

  // --- keys ---------------------------------------------------------------------------------

  createKey(req: CreateKeyRequest): Promise<KeyMetadata> {
    return this.#post("/v1/keys", req);
  }

  /** One page of the keys the caller may describe; pass `nextMarker` back as `marker` for the next. */
  listKeys(options: ListKeysOptions = {}): Promise<ListKeysResponse> {
    const query = new URLSearchParams();
    if (options.limit !== undefined) query.set("limit", String(options.limit));
    if (options.marker !== undefined) query.set("marker", options.marker);
    const search = query.size === 0 ? "" : `?${query.toString()}`;
    return this.#get(`/v1/keys${search}`);
  }

  describeKey(key: string): Promise<KeyMetadata> {
    return this.#get(keyPath(key));
  }

  /** `rotationPeriodSeconds: null` turns automatic rotation off. */
  updateKey(key: string, req: UpdateKeyRequest): Promise<KeyMetadata> {
    return this.#http.request({ method: "PATCH", path: keyPath(key), body: req });
  }

  /** Adds a version and makes it primary. */
  rotateKey(key: string): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/rotate"));
  }

  enableKey(key: string): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/enable"));
  }

  disableKey(key: string): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/disable"));
  }

  /** Destroys the key's material after `pendingWindowDays` (7–30, default 30) unless cancelled. */
  scheduleKeyDeletion(key: string, req: ScheduleDeletionRequest = {}): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/schedule-deletion"), req);
  }

  cancelKeyDeletion(key: string): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/cancel-deletion"));
  }

  /** Retires every version below `minDecryptionVersion`: their ciphertexts are refused with `Disabled`. */
  setMinDecryptionVersion(key: string, req: SetMinDecryptionVersionRequest): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/min-decryption-version"), req);
  }

  /**
   * Destroys, for good, every version below `minAvailableVersion` (which may not exceed the key's min
   * decryption version): their ciphertexts then fail with `Destroyed`.
   *
   * @example
   * await client.setMinDecryptionVersion("payment-db", { minDecryptionVersion: 3 });
   * await client.trimKeyVersions("payment-db", { minAvailableVersion: 3 });
   */
  trimKeyVersions(key: string, req: TrimKeyVersionsRequest): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/trim"), req);
  }

  /**
   * A backup of one key, sealed under the server's root key: it restores (with {@link restoreKey})
   * only into a cluster holding that root, and never holds plaintext material.
   *
   * @example
   * const { backup } = await client.backupKey("payment-db");
   */
  backupKey(key: string): Promise<KeyBackupResponse> {
    return this.#get(keyPath(key, "/backup"));
  }

  /**
   * Restores a key backup: a new key, or a destroyed or deleted one with its versions; a live key only with `force`.
   *
   * @example
   * await client.restoreKey({ backup, force: true });
   */
  restoreKey(req: RestoreKeyRequest): Promise<KeyMetadata> {
    return this.#post("/v1/keys/restore", req);
  }

  /**
   * The lowest version `encrypt` may be asked for with `keyVersion` (0 = no minimum; Vault's
   * `min_encryption_version`). Example: `await client.setMinEncryptionVersion("app", { minEncryptionVersion: 2 })`.
   */
  setMinEncryptionVersion(key: string, req: SetMinEncryptionVersionRequest): Promise<KeyMetadata> {
    return this.#post(keyPath(key, "/min-encryption-version"), req);
  }

  listVersions(key: string): Promise<ListVersionsResponse> {
    return this.#get(keyPath(key, "/versions"));
  }

  /**
   * The AWS-style grants on a key (made with the AWS API's CreateGrant), oldest first.
   *
   * @example
   * const { grants } = await client.listKeyGrants("payment-db");
   * for (const g of grants) console.log(g.grantId, g.granteeRole, g.operations.join(","));
   */
  listKeyGrants(key: string): Promise<ListKeyGrantsResponse> {
    return this.#get(keyPath(key, "/grants"));
  }

  enableKeyVersion(key: string, version: number): Promise<KeyVersionInfo> {
    return this.#post(versionPath(key, version, "enable"));
  }

  disableKeyVersion(key: string, version: number): Promise<KeyVersionInfo> {
    return this.#post(versionPath(key, version, "disable"));
  }

  // --- aliases ------------------------------------------------------------------------------

  /** The aliases of `key` (id, name or alias), or every alias when no key is given. */
  listAliases(key?: string): Promise<ListAliasesResponse> {
    return this.#get(`/v1/aliases${key !== undefined ? `?keyId=${encodeURIComponent(key)}` : ""}`);
  }

  /** Creates alias `name` (`alias/orders` or `orders`) for `key`, or points the existing alias at `key`. */
  setAlias(name: string, key: string): Promise<PutAliasResponse> {
    return this.#http.request({ method: "PUT", path: aliasPath(name), body: { keyId: key } });
  }

  deleteAlias(name: string): Promise<void> {
    return this.#http.request({ method: "DELETE", path: aliasPath(name) });
  }

  // --- tokens -------------------------------------------------------------------------------

  /** A new token limited to `req.grants`; `token` is shown only in this answer. */
  createToken(req: CreateTokenRequest): Promise<CreateTokenResponse> {
    return this.#post("/v1/auth/tokens", req);
  }

  /** The calling token's own information. */
  lookupSelf(): Promise<TokenInfo> {
    return this.#get("/v1/auth/tokens/self");
  }

  lookupToken(selector: TokenSelector): Promise<TokenInfo> {
    return this.#post("/v1/auth/tokens/lookup", selector);
  }

  revokeToken(selector: TokenSelector): Promise<void> {
    return this.#post("/v1/auth/tokens/revoke", selector);
  }

  // --- system -------------------------------------------------------------------------------

  /** Initialises a new server; the answer holds the unseal shares and root token, shown only once. */
  init(req: InitRequest): Promise<InitResponse> {
    return this.#post("/v1/sys/init", req);
  }

  /** Submits one unseal share (or `{reset: true}` to discard the shares submitted so far). */
  unseal(req: UnsealRequest): Promise<SealStatus> {
    return this.#post("/v1/sys/unseal", req);
  }

  seal(): Promise<SealStatus> {
    return this.#post("/v1/sys/seal");
  }

  sealStatus(): Promise<SealStatus> {
    return this.#get("/v1/sys/seal-status");
  }

  // --- root of trust: rekey, generate-root, rotate-root, backup, restore ------------------------

  rekeyStatus(): Promise<RekeyStatus> {
    return this.#get("/v1/sys/rekey");
  }

  /** Starts a rekey to `shares` new shares with `threshold`; a quorum of the current shares completes it. */
  rekeyInit(req: RekeyInitRequest): Promise<RekeyStatus> {
    return this.#post("/v1/sys/rekey/init", req);
  }

  /** Submits one current share; the answer completing the quorum holds the new shares (shown once). */
  rekeyUpdate(req: QuorumShareRequest): Promise<RekeyStatus> {
    return this.#post("/v1/sys/rekey/update", req);
  }

  rekeyCancel(): Promise<RekeyStatus> {
    return this.#http.request({ method: "DELETE", path: "/v1/sys/rekey" });
  }

  generateRootStatus(): Promise<GenerateRootStatus> {
    return this.#get("/v1/sys/generate-root");
  }

  /** Starts a root token generation; the answer holds the OTP that decodes the token at the end. */
  generateRootInit(): Promise<GenerateRootStatus> {
    return this.#post("/v1/sys/generate-root/init");
  }

  generateRootUpdate(req: QuorumShareRequest): Promise<GenerateRootStatus> {
    return this.#post("/v1/sys/generate-root/update", req);
  }

  generateRootCancel(): Promise<GenerateRootStatus> {
    return this.#http.request({ method: "DELETE", path: "/v1/sys/generate-root" });
  }

  /** Rotates the root key and re-seals everything under it; answers once done (allow minutes for large stores). */
  rotateRoot(timeoutMs = 3_600_000): Promise<RotateRootStatus> {
    return new HttpTransport({ ...this.#options, timeoutMs }).request({ method: "POST", path: "/v1/sys/rotate-root" });
  }

  rotateRootStatus(): Promise<RotateRootStatus> {
    return this.#get("/v1/sys/rotate-root");
  }

  /** The encrypted backup file's bytes; `onBytes` reports progress as they arrive. */
  async backup(onBytes?: (received: number) => void, timeoutMs = 3_600_000): Promise<{ bytes: Buffer; rows: number }> {
    const { bytes, headers } = await this.#http.requestBytes({ method: "GET", path: "/v1/sys/backup", timeoutMs, ...(onBytes && { onBytes }) });
    return { bytes, rows: Number(headers.get("x-tessera-backup-rows") ?? 0) };
  }

  /** Restores a backup file: with a quorum of its shares, or none when the node's HSM opens it. */
  async restore(file: Uint8Array, preamble: RestorePreamble, timeoutMs = 3_600_000): Promise<RestoreResult> {
    const body = Buffer.concat([Buffer.from(`${JSON.stringify(preamble)}\n`, "utf8"), file]);
    const { bytes } = await this.#http.requestBytes({ method: "POST", path: "/v1/sys/restore", body, contentType: "application/vnd.tessera.restore", timeoutMs });
    return JSON.parse(bytes.toString("utf8")) as RestoreResult;
  }

  /** Resolves for a sealed or uninitialised server too (HTTP 503 with the same body). */
  health(): Promise<Health> {
    return this.#http.request({ method: "GET", path: "/v1/sys/health", answerStatuses: [503] });
  }

  /** The server's OpenAPI 3 document for this API. */
  openApi(): Promise<Record<string, unknown>> {
    return this.#get("/v1/sys/openapi.json");
  }

  // --- policies and roles --------------------------------------------------------------------

  putPolicy(name: string, document: unknown, force?: boolean): Promise<PolicyInfo> {
    return this.#http.request({ method: "PUT", path: `/v1/policies/${seg(name)}${forceQuery(force)}`, body: document });
  }

  getPolicy(name: string): Promise<PolicyInfo> {
    return this.#get(`/v1/policies/${seg(name)}`);
  }

  listPolicies(): Promise<NameList> {
    return this.#get("/v1/policies");
  }

  deletePolicy(name: string, force?: boolean): Promise<void> {
    return this.#http.request({ method: "DELETE", path: `/v1/policies/${seg(name)}${forceQuery(force)}` });
  }

  /** Evaluates a hypothetical request and says which statement decided. */
  simulate(req: SimulateRequest): Promise<SimulateResponse> {
    return this.#post("/v1/policies/simulate", req);
  }

  putRole(name: string, role: Record<string, unknown>, force?: boolean): Promise<RoleInfo> {
    return this.#http.request({ method: "PUT", path: `/v1/roles/${seg(name)}${forceQuery(force)}`, body: role });
  }

  getRole(name: string): Promise<RoleInfo> {
    return this.#get(`/v1/roles/${seg(name)}`);
  }

  listRoles(): Promise<NameList> {
    return this.#get("/v1/roles");
  }

  deleteRole(name: string, force?: boolean): Promise<void> {
    return this.#http.request({ method: "DELETE", path: `/v1/roles/${seg(name)}${forceQuery(force)}` });
  }

  // --- logins ----------------------------------------------------------------------------------

  renewSelf(): Promise<TokenInfo> {
    return this.#post("/v1/auth/tokens/renew-self");
  }

  /**
   * What this client's own token may do, check by check, decided as real requests would be.
   * @example
   * const { results } = await client.capabilitiesSelf([{ action: "kms:RotateKey", resource: "payment-db" }]);
   * if (results[0]!.allowed) await client.rotateKey("payment-db");
   */
  capabilitiesSelf(checks: CapabilitiesRequest["checks"]): Promise<CapabilitiesResponse> {
    return this.#post("/v1/auth/tokens/self/capabilities", { checks });
  }

  roleId(role: string): Promise<{ role: string; roleId: string }> {
    return this.#get(`/v1/auth/approle/roles/${seg(role)}/role-id`);
  }

  createSecretId(role: string, req: CreateSecretIdRequest): Promise<SecretIdResponse> {
    return this.#post(`/v1/auth/approle/roles/${seg(role)}/secret-id`, req);
  }

  revokeSecretId(accessor: string): Promise<void> {
    return this.#http.request({ method: "DELETE", path: `/v1/auth/approle/secret-ids/${seg(accessor)}` });
  }

  loginAppRole(roleId: string, secretId: string): Promise<LoginResponse> {
    return this.#post("/v1/auth/approle/login", { roleId, secretId });
  }

  /** Trusts an issuer's signing keys (`auth:ConfigureJwt`), e.g. `{issuer, jwksUrl, audiences: ["kms"]}`. */
  putJwtIssuer(name: string, config: JwtIssuerConfig | Record<string, unknown>): Promise<JwtIssuerInfo> {
    return this.#http.request({ method: "PUT", path: `/v1/auth/jwt/issuers/${seg(name)}`, body: config });
  }

  listJwtIssuers(): Promise<NameList> {
    return this.#get("/v1/auth/jwt/issuers");
  }

  getJwtIssuer(name: string): Promise<JwtIssuerInfo> {
    return this.#get(`/v1/auth/jwt/issuers/${seg(name)}`);
  }

  deleteJwtIssuer(name: string): Promise<void> {
    return this.#http.request({ method: "DELETE", path: `/v1/auth/jwt/issuers/${seg(name)}` });
  }

  loginJwt(role: string, jwt: string): Promise<LoginResponse> {
    return this.#post("/v1/auth/jwt/login", { role, jwt });
  }

  createJoinToken(req: CreateJoinTokenRequest): Promise<CreateJoinTokenResponse> {
    return this.#post("/v1/auth/join-tokens", req);
  }

  listJoinTokens(): Promise<{ joinTokens: JoinTokenInfo[] }> {
    return this.#get("/v1/auth/join-tokens");
  }

  revokeJoinToken(accessor: string): Promise<void> {
    return this.#http.request({ method: "DELETE", path: `/v1/auth/join-tokens/${seg(accessor)}` });
  }

  /** Exchanges a join token and a CSR for an instance certificate and a token (open route). */
  join(req: JoinRequest): Promise<JoinResponse> {
    return this.#post("/v1/auth/join", req);
  }

  /**
   * Exchanges this client's instance certificate (mutual TLS: construct with `tls: { cert, key }`)
   * for a Tessera token.
   */
  certLogin(): Promise<LoginResponse> {
    return this.#post("/v1/auth/cert/login", {});
  }

  /** A new certificate for the same VM and role, over mutual TLS with the current, valid certificate. */
  renewCertificate(csr: string): Promise<EnrolledCertificate> {
    return this.#post("/v1/auth/cert/renew", { csr });
  }

  /**
   * Enrolled VMs' instance certificates, in serial order; pass `nextMarker` back for the next page.
   * @example
   * const { certificates } = await client.listCertificates();
   * const active = certificates.filter((c) => c.state === "active");
   */
  listCertificates(options: { limit?: number; marker?: string } = {}): Promise<ListCertificatesResponse> {
    const q = new URLSearchParams({ limit: String(options.limit ?? 100), ...(options.marker !== undefined && { marker: options.marker }) });
    return this.#get(`/v1/auth/certs?${q}`);
  }

  revokeCertificates(target: { serial: string } | { vmId: string }): Promise<{ certificates: number; tokens: number }> {
    return this.#post("/v1/auth/certs/revoke", target);
  }

  caCertificate(): Promise<{ certificate: string | null; trustDomain: string }> {
    return this.#get("/v1/auth/ca");
  }

  // --- access keys -------------------------------------------------------------------------------

  createAccessKey(role: string, description?: string): Promise<CreateAccessKeyResponse> {
    return this.#post("/v1/auth/access-keys", { role, ...(description !== undefined && { description }) });
  }

  listAccessKeys(): Promise<{ accessKeys: AccessKeyInfo[] }> {
    return this.#get("/v1/auth/access-keys");
  }

  setAccessKeyState(id: string, state: "Active" | "Inactive"): Promise<AccessKeyInfo> {
    return this.#post(`/v1/auth/access-keys/${seg(id)}/${state === "Active" ? "enable" : "disable"}`);
  }

  deleteAccessKey(id: string): Promise<void> {
    return this.#http.request({ method: "DELETE", path: `/v1/auth/access-keys/${seg(id)}` });
  }

  // --- audit -----------------------------------------------------------------------------------------

  /** Audit records (oldest first) matching the filters; page with `after: nextAfter`. */
  auditQuery(q: { from?: string; to?: string; principal?: string; key?: string; action?: string; outcome?: string; requestId?: string; after?: number; limit?: number } = {}): Promise<{ records: Record<string, unknown>[]; nextAfter: number | null }> {
    const params = new URLSearchParams(Object.entries(q).filter(([, v]) => v !== undefined).map(([k, v]) => [k, String(v)] as [string, string]));
    return this.#get(`/v1/audit/entries${params.size > 0 ? `?${params}` : ""}`);
  }

  /** The database trail's raw lines after `after` (for verification). */
  /** Raw trail lines: this node's chain, or node `chain`'s (several nodes on one database). */
  auditLines(after: number, limit = 5000, chain?: string): Promise<{ lines: string[]; nextAfter: number | null }> {
    return this.#get(`/v1/audit/lines?after=${after}&limit=${limit}${chain === undefined ? "" : `&chain=${encodeURIComponent(chain)}`}`);
  }

  /** The audit chains the database holds, one per node, and which one is the answering node's. */
  auditChains(): Promise<{ self: string; chains: string[] }> {
    return this.#get("/v1/audit/chains");
  }

  auditHead(): Promise<{ seq: number; hash: string } | null> {
    return this.#get("/v1/audit/head");
  }

  auditPublicKey(): Promise<{ publicKey: string }> {
    return this.#get("/v1/audit/public-key");
  }

  /** The HMAC under which the trail stores `value` (to search for a known context value or accessor). */
  auditHash(value: string): Promise<{ hmac: string }> {
    return this.#post("/v1/audit/hash", { value });
  }

  /**
   * The server node's answered requests per bucket by outcome (minutes over the last hour, or
   * quarter-hours over the last day) and its most used keys.
   * @example
   * const { buckets, topKeys } = await client.auditActivity("hour");
   */
  auditActivity(window: "hour" | "day" = "hour"): Promise<ActivityResponse> {
    return this.#get(`/v1/audit/activity?window=${window}`);
  }

  /** Alerts, newest first (unacknowledged only unless `all`). */
  listAlerts(all = false, limit = 100): Promise<{ alerts: Record<string, unknown>[] }> {
    return this.#get(`/v1/alerts?all=${all}&limit=${limit}`);
  }

  ackAlert(id: string): Promise<void> {
    return this.#post(`/v1/alerts/${seg(id)}/ack`, {});
  }

  // --- secrets store (docs/secrets.md) ----------------------------------------------------------

  /** Writes a new version of the secret at `path` (with `cas`: only if the current version is that). */
  putSecret(path: string, data: SecretData, options: SecretOptions & { cas?: number } = {}): Promise<SecretVersionWritten> {
    return this.#http.request({ method: "PUT", path: secretPath(options, "data", path), body: { data, ...(options.cas !== undefined && { cas: options.cas }) } });
  }

  /** Reads a version of the secret (the current one unless `version`). */
  getSecret(path: string, options: SecretOptions & { version?: number } = {}): Promise<SecretVersionRead> {
    return this.#get(secretPath(options, "data", path) + (options.version !== undefined ? `?version=${options.version}` : ""));
  }

  /** The secret's versions (with read counts and last readers) and settings. */
  secretMetadata(path: string, options: SecretOptions = {}): Promise<SecretMetadata> {
    return this.#get(secretPath(options, "metadata", path));
  }

  writeSecretMetadata(path: string, req: WriteSecretMetadataRequest, options: SecretOptions = {}): Promise<SecretMetadata> {
    return this.#http.request({ method: "PUT", path: secretPath(options, "metadata", path), body: req });
  }

  /** Destroys every version of the secret and its metadata. */
  deleteSecretMetadata(path: string, options: SecretOptions = {}): Promise<void> {
    return this.#http.request({ method: "DELETE", path: secretPath(options, "metadata", path) });
  }

  /** Names directly under `prefix` (`""`: the mount's top level); names ending in `/` have secrets below. */
  listSecrets(prefix = "", options: SecretOptions = {}): Promise<ListSecretsResponse> {
    return this.#get(secretPath(options, "list", prefix));
  }

  /** Soft-deletes versions (default: the current one); `undeleteSecret` brings them back. */
  deleteSecret(path: string, options: SecretOptions & { versions?: number[] } = {}): Promise<{ versions: number[] }> {
    return this.#post(secretPath(options, "delete", path), options.versions !== undefined ? { versions: options.versions } : {});
  }

  undeleteSecret(path: string, versions: number[], options: SecretOptions = {}): Promise<{ versions: number[] }> {
    return this.#post(secretPath(options, "undelete", path), { versions });
  }

  /** Destroys the versions' data for good. */
  destroySecret(path: string, versions: number[], options: SecretOptions = {}): Promise<{ versions: number[] }> {
    return this.#post(secretPath(options, "destroy", path), { versions });
  }

  secretMount(mount = DEFAULT_SECRET_MOUNT): Promise<SecretMountConfig> {
    return this.#get(`/v1/secrets/${seg(mount)}/config`);
  }

  configureSecretMount(mount: string, req: ConfigureSecretMountRequest): Promise<SecretMountConfig> {
    return this.#http.request({ method: "PUT", path: `/v1/secrets/${seg(mount)}/config`, body: req });
  }

  // --- version retention (docs/retention.md) ---------------------------------------------------

  /** The key's retention policy in force and what it will do to each version (and who still uses old ones). */
  keyRetention(key: string): Promise<KeyRetention> {
    return this.#get(keyPath(key, "/retention"));
  }

  setKeyRetention(key: string, policy: RetentionPolicy): Promise<KeyRetention> {
    return this.#http.request({ method: "PUT", path: keyPath(key, "/retention"), body: policy });
  }

  /** Removes the key's own policy (the server's default, if any, applies again). */
  clearKeyRetention(key: string): Promise<KeyRetention> {
    return this.#http.request({ method: "DELETE", path: keyPath(key, "/retention") });
  }
}
