/**
 * Identity and policy administration through the door: policies, roles, the simulator, token
 * renewal, AppRole and access keys. Logins are open operations (the request carries its own proof)
 * and are audited with the principal they established, or the failure.
 */
import {
  TesseraError,
  actions,
  type AccessKeyInfo,
  type Action,
  type CapabilitiesRequest,
  type CapabilitiesResponse,
  type CreateAccessKeyResponse,
  type CreateSecretIdRequest,
  type LoginResponse,
  type PolicyInfo,
  type SecretIdResponse,
  type SimulateRequest,
  type SimulateResponse,
  type TokenInfo,
} from "@tessera/protocol";
import type { Clock } from "../clock.js";
import type { AccessKeyService } from "../identity/access-key-service.js";
import type { AppRoleService } from "../identity/approle-service.js";
import type { JwtService } from "../identity/jwt-service.js";
import { authMethods, type AuthMethod, type Principal, type RoleDirectory, type RoleInfo } from "../principal/index.js";
import { principalFromRow, type TokenService } from "../identity/token-service.js";
import {
  EVERY,
  actionResourceTypes,
  escalations,
  formatResource,
  parseResource,
  resourceFor,
  resources,
  typeSpelling,
  type PolicyService,
  type Resource,
} from "../policy/index.js";
import { defaultKeyPolicy, translateKeyPolicy } from "../policy/key-policy.js";
import type { KeyService } from "../keys/index.js";
import type { Eraser, Store } from "../store/index.js";
import type { CallContext, Door } from "./door.js";

export interface IdentityServiceDeps {
  door: Door;
  policy: PolicyService;
  roles: Pick<RoleDirectory, "role">;
  tokens: TokenService;
  approle: AppRoleService;
  jwt: JwtService;
  accessKeys: AccessKeyService;
  keys: Pick<KeyService, "resolve">;
  store: Pick<Store, "tokens" | "secretIds" | "certificates" | "joinTokens" | "meta">;
  /** Told after access keys (sealed secrets) are deleted, so the store's files are erased (store/eraser.ts). */
  eraser: Pick<Eraser, "destroyed">;
  clock: Clock;
  /** Extra clean-up when a role is deleted (certificate revocation cache, …). */
  onRoleDeleted?: (role: string) => Promise<void>;
}

export class IdentityService {
  constructor(private readonly d: IdentityServiceDeps) {}

  // ── policies ─────────────────────────────────────────────────────────────────────────────────

  putPolicy(ctx: CallContext, name: string, document: unknown, force: boolean): Promise<PolicyInfo> {
    return this.d.door.run(ctx, "policy:PutPolicy", async (s) => {
      await s.authorize(resources.policy(name));
      return this.d.policy.putPolicy(name, document, force);
    });
  }

  getPolicy(ctx: CallContext, name: string): Promise<PolicyInfo> {
    return this.d.door.run(ctx, "policy:GetPolicy", async (s) => {
      await s.authorize(resources.policy(name));
      return this.d.policy.getPolicy(name);
    });
  }

  listPolicies(ctx: CallContext): Promise<{ names: string[] }> {
    return this.d.door.run(ctx, "policy:ListPolicies", async (s) => {
      await s.authorize(resources.every("policy"));
      return { names: await this.d.policy.listPolicies() };
    });
  }

  deletePolicy(ctx: CallContext, name: string, force: boolean): Promise<void> {
    return this.d.door.run(ctx, "policy:DeletePolicy", async (s) => {
      await s.authorize(resources.policy(name));
      await this.d.policy.deletePolicy(name, force);
    });
  }

  // ── roles ────────────────────────────────────────────────────────────────────────────────────

  putRole(ctx: CallContext, name: string, body: unknown, force: boolean): Promise<RoleInfo> {
    return this.d.door.run(ctx, "policy:PutRole", async (s) => {
      await s.authorize(resources.role(name));
      return this.d.policy.putRole(name, body, force);
    });
  }

  getRole(ctx: CallContext, name: string): Promise<RoleInfo> {
    return this.d.door.run(ctx, "policy:GetRole", async (s) => {
      await s.authorize(resources.role(name));
      return this.d.policy.getRole(name);
    });
  }

  listRoles(ctx: CallContext): Promise<{ names: string[] }> {
    return this.d.door.run(ctx, "policy:ListRoles", async (s) => {
      await s.authorize(resources.every("role"));
      return { names: await this.d.policy.listRoles() };
    });
  }

  /** Deleting a role withdraws everything issued under it: tokens, secret ids, access keys, certificates. */
  deleteRole(ctx: CallContext, name: string, force: boolean): Promise<void> {
    return this.d.door.run(ctx, "policy:DeleteRole", async (s) => {
      await s.authorize(resources.role(name));
      await this.d.policy.deleteRole(name, force);
      // Certificates before tokens: once they are revoked no certificate login can store a new token.
      await this.d.store.certificates.revokeRole(name, this.d.clock.now());
      await this.d.tokens.revokeRole(name);
      await this.d.store.secretIds.deleteByRole(name);
      await this.d.store.joinTokens.deleteByRole(name);
      const accessKeys = await this.d.accessKeys.deleteRole(name);
      await this.d.onRoleDeleted?.(name);
      if (accessKeys > 0) await this.d.eraser.destroyed();
    });
  }

  // ── simulator ────────────────────────────────────────────────────────────────────────────────

  /**
   * Evaluates a hypothetical request. The answer names the statement that decided; a default deny
   * names the allow statements whose conditions failed, and which; an allowed action that is worth
   * more than it reads (escalations in policy/action-resources.ts) carries a warning.
   */
  simulate(ctx: CallContext, req: SimulateRequest): Promise<SimulateResponse> {
    return this.d.door.run(ctx, "policy:Simulate", async (s) => {
      await s.authorize(resources.every("policy"));
      if (!(actions as readonly string[]).includes(req.action)) {
        throw new TesseraError("InvalidInput", `unknown action "${req.action}"; actions are listed in docs/policy.md, e.g. kms:Decrypt`, { field: "/action" });
      }
      if (req.action === "kms:ReEncrypt") {
        throw new TesseraError("InvalidInput", "ReEncrypt is authorised as kms:ReEncryptFrom (source key) and kms:ReEncryptTo (destination key): simulate each", { field: "/action" });
      }
      const action = req.action as Action;
      let principal: Principal;
      if (req.accessor !== undefined) {
        const row = await this.d.store.tokens.getByAccessor(req.accessor);
        if (row === undefined) throw new TesseraError("NotFound", "no token with that accessor", { field: "/accessor" });
        principal = principalFromRow(row);
      } else {
        if (req.role !== undefined && (await this.d.roles.role(req.role)) === undefined) {
          throw new TesseraError("NotFound", `no role named "${req.role}"`, { field: "/role" });
        }
        const method = (req.authMethod ?? "token") as AuthMethod;
        if (!authMethods.includes(method)) {
          throw new TesseraError("InvalidInput", `unknown auth method "${req.authMethod}"; one of ${authMethods.join(", ")}`, { field: "/authMethod" });
        }
        principal = {
          id: "simulated",
          kind: "token",
          displayName: "simulated",
          root: false,
          role: req.role ?? null,
          authMethod: method,
          attributes: req.attributes ?? {},
          grants: [],
          expiresAt: null,
          loginSource: req.source ?? ctx.source,
        };
      }
      if (req.attributes !== undefined && req.accessor !== undefined) principal = { ...principal, attributes: { ...principal.attributes, ...req.attributes } };
      const resource = await this.simulatedResource(action, req.resource);
      const time = req.time === undefined ? this.d.clock.now() : Date.parse(req.time);
      const decision = await this.d.policy.decide(
        { principal, action, resource, source: req.source ?? ctx.source, time, encryptionContext: req.context },
        { explain: true },
      );
      const warning = decision.allowed ? escalations[action] : undefined;
      return { ...decision, resource: formatResource(resource), ...(warning !== undefined && { warnings: [warning] }) };
    });
  }

  /**
   * What the caller itself may do, check by check, decided as its real requests would be (same
   * principal, source and time, no encryption context). Any valid token may ask about itself — like
   * looking itself up — since the answers tell it nothing that trying would not; asking about another
   * principal stays with the simulator (`policy:Simulate`).
   */
  capabilitiesSelf(ctx: CallContext, req: CapabilitiesRequest): Promise<CapabilitiesResponse> {
    return this.d.door.run(
      ctx,
      "auth:LookupToken",
      async (s) => {
        await s.permitSelf();
        const results: CapabilitiesResponse["results"] = [];
        for (const [i, check] of req.checks.entries()) {
          if (!(actions as readonly string[]).includes(check.action) || check.action === "kms:ReEncrypt") {
            throw new TesseraError("InvalidInput", `unknown action "${check.action}"; actions are listed in docs/policy.md, e.g. kms:Decrypt`, { field: `/checks/${i}/action` });
          }
          const action = check.action as Action;
          const resource = await this.simulatedResource(action, check.resource, `/checks/${i}/resource`);
          const decision = await this.d.policy.decide({ principal: s.principal, action, resource, source: ctx.source, time: this.d.clock.now() });
          results.push({ action, resource: formatResource(resource), allowed: decision.allowed });
        }
        return { results };
      },
      { whileSealed: true },
    );
  }

  /** The simulator's resource: typed as in policies; a key that exists is matched by its name and id. */
  private async simulatedResource(action: Action, text: string | undefined, field = "/resource"): Promise<Resource> {
    const types = actionResourceTypes[action];
    if (text === undefined) {
      const only = types.length === 1 ? resourceFor(types[0]!) : undefined;
      if (only === undefined) {
        throw new TesseraError("InvalidInput", `${action} is authorised on ${types.map(typeSpelling).join(" or ")}: name the resource`, { field });
      }
      return only;
    }
    const resource = parseResource(text, field);
    if (!types.includes(resource.type)) {
      throw new TesseraError("InvalidInput", `${action} is authorised on ${types.join(" or ")} resources, not ${resource.type}`, { field });
    }
    if (resource.type !== "key" || resource.name === EVERY) return resource;
    const handle = await this.d.keys.resolve(resource.name!).catch(() => undefined);
    return handle === undefined ? resource : resources.key(handle.row.id, handle.row.name);
  }

  // ── tokens ───────────────────────────────────────────────────────────────────────────────────

  renewSelf(ctx: CallContext): Promise<TokenInfo> {
    return this.d.door.run(
      ctx,
      "auth:RenewToken",
      async (s) => {
        await s.permitSelf();
        if (s.principal.authMethod === "cert" || s.principal.authMethod === "access-key") {
          throw new TesseraError("InvalidState", "only tokens can be renewed; certificates renew through /v1/auth/cert/renew");
        }
        return this.d.tokens.renew(s.principal.id);
      },
      { whileSealed: true },
    );
  }

  // ── AppRole ──────────────────────────────────────────────────────────────────────────────────

  readRoleId(ctx: CallContext, role: string): Promise<{ role: string; roleId: string }> {
    return this.d.door.run(ctx, "auth:ReadRoleId", async (s) => {
      await s.authorize(resources.role(role));
      return this.d.approle.roleId(role);
    });
  }

  createSecretId(ctx: CallContext, role: string, req: CreateSecretIdRequest): Promise<SecretIdResponse> {
    return this.d.door.run(ctx, "auth:CreateSecretId", async (s) => {
      await s.authorize(resources.role(role));
      return this.d.approle.createSecretId(role, req);
    });
  }

  revokeSecretId(ctx: CallContext, accessor: string): Promise<void> {
    return this.d.door.run(ctx, "auth:RevokeSecretId", async (s) => {
      await s.authorize(resources.secretId);
      await this.d.approle.revokeSecretId(accessor);
    });
  }

  loginAppRole(ctx: CallContext, roleId: string, secretId: string): Promise<LoginResponse> {
    return this.d.door.open(
      ctx,
      "auth:Login",
      async (o) => {
        const { response, role } = await this.d.approle.login(roleId, secretId, ctx.source, o.beforeChange);
        o.identify({ id: response.accessor, kind: "service", displayName: response.displayName, role, authMethod: "approle" });
        return response;
      },
      { credentialFirst: true },
    );
  }

  // ── JWT / OIDC ───────────────────────────────────────────────────────────────────────────────

  putJwtIssuer(ctx: CallContext, name: string, config: unknown) {
    return this.d.door.run(ctx, "auth:ConfigureJwt", async (s) => {
      await s.authorize(resources.jwtIssuer(name));
      return this.d.jwt.putIssuer(name, config);
    });
  }

  getJwtIssuer(ctx: CallContext, name: string) {
    return this.d.door.run(
      ctx,
      "auth:ConfigureJwt",
      async (s) => {
        await s.authorize(resources.jwtIssuer(name));
        return this.d.jwt.getIssuer(name);
      },
      { readOnly: true },
    );
  }

  listJwtIssuers(ctx: CallContext): Promise<{ names: string[] }> {
    return this.d.door.run(
      ctx,
      "auth:ConfigureJwt",
      async (s) => {
        await s.authorize(resources.every("jwt-issuer"));
        return { names: await this.d.jwt.listIssuers() };
      },
      { readOnly: true },
    );
  }

  deleteJwtIssuer(ctx: CallContext, name: string): Promise<void> {
    return this.d.door.run(ctx, "auth:ConfigureJwt", async (s) => {
      await s.authorize(resources.jwtIssuer(name));
      await this.d.jwt.deleteIssuer(name);
    });
  }

  loginJwt(ctx: CallContext, role: string, jwt: string): Promise<LoginResponse> {
    return this.d.door.open(
      ctx,
      "auth:Login",
      async (o) => {
        const response = await this.d.jwt.login(role, jwt, ctx.source, o.beforeChange);
        o.identify({ id: response.accessor, kind: "workload", displayName: response.displayName, role, authMethod: "jwt" });
        return response;
      },
      { credentialFirst: true },
    );
  }

  // ── AWS key policies (mapped onto role policies; policy/key-policy.ts) ───────────────────────

  /** Translates the key policy and replaces the key's previous translation in one transaction. */
  putKeyPolicy(ctx: CallContext, keyRef: string, json: string, accountId: string): Promise<void> {
    return this.d.door.run(ctx, "kms:PutKeyPolicy", async (s) => {
      const handle = await s.resolveKey(keyRef);
      await s.authorize(handle);
      const { byRole } = translateKeyPolicy(json, handle.row.id, accountId);
      await this.d.policy.replaceKeyPolicy(handle.row.id, byRole, json);
    });
  }

  getKeyPolicy(ctx: CallContext, keyRef: string, accountId: string): Promise<string> {
    return this.d.door.run(ctx, "kms:GetKeyPolicy", async (s) => {
      const handle = await s.resolveKey(keyRef);
      await s.authorize(handle);
      return (await this.d.store.meta.get<string>(`key-policy:${handle.row.id}`)) ?? defaultKeyPolicy(accountId);
    });
  }

  // ── access keys ──────────────────────────────────────────────────────────────────────────────

  createAccessKey(ctx: CallContext, role: string, description: string | undefined): Promise<CreateAccessKeyResponse> {
    return this.d.door.run(ctx, "auth:CreateAccessKey", async (s) => {
      await s.authorize(resources.role(role));
      return this.d.accessKeys.create(role, description);
    });
  }

  listAccessKeys(ctx: CallContext): Promise<{ accessKeys: AccessKeyInfo[] }> {
    return this.d.door.run(ctx, "auth:ListAccessKeys", async (s) => {
      await s.authorize(resources.every("access-key"));
      return { accessKeys: await this.d.accessKeys.list() };
    });
  }

  setAccessKeyState(ctx: CallContext, id: string, state: "Active" | "Inactive"): Promise<AccessKeyInfo> {
    return this.d.door.run(ctx, "auth:UpdateAccessKey", async (s) => {
      await s.authorize(resources.accessKey(id));
      return this.d.accessKeys.setState(id, state);
    });
  }

  deleteAccessKey(ctx: CallContext, id: string): Promise<void> {
    return this.d.door.run(ctx, "auth:DeleteAccessKey", async (s) => {
      await s.authorize(resources.accessKey(id));
      await this.d.accessKeys.delete(id);
      await this.d.eraser.destroyed();
    });
  }
}
