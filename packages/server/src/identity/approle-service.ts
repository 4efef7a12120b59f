/**
 * AppRole for automation: a role's public role id plus a secret id (random, stored hashed,
 * optionally bound to source CIDRs, use-limited and expiring) log in to a token of that role.
 */
import { TesseraError, type CreateSecretIdRequest, type LoginResponse, type SecretIdResponse } from "@tessera/protocol";
import { randomId } from "../crypto/index.js";
import { isoOrNull, type Clock } from "../clock.js";
import { DEFAULT_TOKEN_TTL_SECONDS, type RoleDirectory } from "../principal/index.js";
import type { SpendableRepo } from "../store/index.js";
import { addressIn, parseCidrs } from "../policy/cidr.js";
import { hashSecret, type TokenService } from "./token-service.js";
import { noChangeHook, type BeforeChange } from "./before-change.js";

export class AppRoleService {
  constructor(
    private readonly secretIds: SpendableRepo,
    private readonly roles: Pick<RoleDirectory, "role" | "byApproleId">,
    private readonly tokens: TokenService,
    private readonly clock: Clock,
  ) {}

  private async approleOf(role: string) {
    const r = await this.roles.role(role);
    if (r === undefined) throw new TesseraError("NotFound", `no role named "${role}"`);
    if (r.approle?.roleId === undefined) throw new TesseraError("InvalidState", `role "${role}" has no approle settings; add "approle": {} to it`);
    return { role: r, approle: r.approle as typeof r.approle & { roleId: string } };
  }

  async roleId(role: string): Promise<{ role: string; roleId: string }> {
    return { role, roleId: (await this.approleOf(role)).approle.roleId };
  }

  async createSecretId(role: string, req: CreateSecretIdRequest): Promise<SecretIdResponse> {
    const { approle } = await this.approleOf(role);
    const cidrs = req.cidrs ?? approle.boundCidrs ?? [];
    parseCidrs(cidrs, "/cidrs");
    const ttl = req.ttlSeconds ?? approle.secretIdTtlSeconds;
    const uses = req.uses ?? approle.secretIdUses ?? 0;
    const now = this.clock.now();
    const secretId = "sid_" + randomId(32);
    const row = {
      hash: hashSecret(secretId),
      accessor: "sida_" + randomId(12),
      role,
      usesLeft: uses === 0 ? null : uses,
      expiresAt: ttl === undefined ? null : now + ttl * 1000,
      createdAt: now,
      metadata: { cidrs },
    };
    await this.secretIds.insert(row);
    return { secretId, accessor: row.accessor, role, expiresAt: isoOrNull(row.expiresAt), uses: row.usesLeft, cidrs };
  }

  async revokeSecretId(accessor: string): Promise<void> {
    if (!(await this.secretIds.deleteByAccessor(accessor))) throw new TesseraError("NotFound", "no such secret id");
  }

  /** Every failure is the same `Unauthenticated`, so a caller cannot probe which part was wrong. */
  /**
   * Checks the role id and secret id; only then announces the change (`beforeChange`: the door's
   * intent record), spends the secret id and issues a token. A wrong credential changes nothing.
   */
  async login(roleId: string, secretId: string, source: string, beforeChange: BeforeChange = noChangeHook): Promise<{ response: LoginResponse; role: string }> {
    const denied = () => new TesseraError("Unauthenticated", "invalid role id or secret id");
    const found = await this.roles.byApproleId(roleId);
    if (found === undefined) throw denied();
    const hash = hashSecret(secretId);
    const row = await this.secretIds.getByHash(hash);
    if (row === undefined || row.role !== found.name) throw denied();
    const cidrs = (row.metadata["cidrs"] as string[] | undefined) ?? [];
    if (cidrs.length > 0 && !addressIn(parseCidrs(cidrs, "/cidrs"), source)) throw denied();
    await beforeChange();
    if ((await this.secretIds.spend(hash, this.clock.now())) === undefined) throw denied();
    const ttl = found.role.tokenTtlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS;
    const response = await this.tokens.issue({
      kind: "service",
      displayName: `approle:${found.name}`,
      role: found.name,
      authMethod: "approle",
      attributes: { role_id: roleId, secret_id_accessor: row.accessor },
      source,
      subject: null,
      ttlSeconds: ttl,
      maxTtlSeconds: found.role.tokenMaxTtlSeconds ?? ttl,
    });
    return { response, role: found.name };
  }
}
