/**
 * Vault's `sys/health`, `sys/seal-status` and `auth/token/lookup-self`. The first two share their
 * paths with the native API's: a request that carries `X-Vault-Request` or `X-Vault-Token` (every
 * Vault client sends one) gets Vault's shape, any other the native one (a route constraint, so the
 * router decides before either handler runs).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { TESSERA_VERSION } from "@tessera/protocol";
import type { KmsService } from "../../service/kms-service.js";
import { vaultCallContext } from "./vault-context.js";
import type { Json } from "./vault-input.js";

export interface VaultSysDeps {
  service: KmsService;
}

const VAULT_CLIENT = "vaultClient";
/** Route option: served to Vault clients only (vaultSysRoutes adds the constraint). */
export const VAULT_CLIENT_ONLY: Readonly<Record<string, string>> = Object.freeze({ [VAULT_CLIENT]: "yes" });

/** Route constraint: does the request come from a Vault client? */
type Strategy = Parameters<FastifyInstance["addConstraintStrategy"]>[0];
type Stored = ReturnType<ReturnType<Strategy["storage"]>["get"]>;
const vaultClientStrategy: Strategy = {
  name: VAULT_CLIENT,
  storage() {
    const handlers = new Map<unknown, Stored>();
    return { get: (k: unknown) => handlers.get(k) ?? null, set: (k: unknown, v: Stored) => void handlers.set(k, v) };
  },
  deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) =>
    req.headers["x-vault-request"] !== undefined || req.headers["x-vault-token"] !== undefined ? "yes" : "no",
  // A request without the headers falls back to the unconstrained (native) route.
  mustMatchWhenDerived: false,
  validate() {},
};

/** A `…code` query parameter as a status (Vault accepts any; Tessera any from 100 to 599). */
function statusParam(q: Record<string, string | undefined>, name: string, fallback: number): number {
  const v = q[name];
  if (v === undefined || !/^[1-5][0-9]{2}$/.test(v)) return fallback;
  return Number(v);
}

export async function vaultSysRoutes(app: FastifyInstance, d: VaultSysDeps): Promise<void> {
  if (!app.hasConstraintStrategy(VAULT_CLIENT)) app.addConstraintStrategy(vaultClientStrategy);
  const constraints = { ...VAULT_CLIENT_ONLY };

  app.get("/v1/sys/health", { constraints }, async (request: FastifyRequest<{ Querystring: Record<string, string | undefined> }>, reply) => {
    const q = request.query;
    const status = await d.service.clusterStatus();
    const h = d.service.health();
    // Every Tessera node is active (no standbys, no replication): 200 once initialised and unsealed.
    const code = !h.initialized ? statusParam(q, "uninitcode", 501) : h.sealed ? statusParam(q, "sealedcode", 503) : statusParam(q, "activecode", 200);
    const body: Json = {
      initialized: h.initialized,
      sealed: h.sealed,
      standby: false,
      performance_standby: false,
      replication_performance_mode: "disabled",
      replication_dr_mode: "disabled",
      server_time_utc: Math.floor(Date.parse(h.serverTime) / 1000),
      version: TESSERA_VERSION,
      cluster_name: "tessera",
      cluster_id: status.node ?? "",
    };
    return reply.code(code).type("application/json").send(JSON.stringify(body));
  });

  app.get("/v1/sys/seal-status", { constraints }, async (_request, reply) => {
    const s = await d.service.clusterStatus();
    const body: Json = {
      type: s.sealType ?? "shamir",
      initialized: s.initialized,
      sealed: s.sealed,
      t: s.threshold,
      n: s.shares,
      progress: s.progress,
      nonce: "",
      version: TESSERA_VERSION,
      build_date: "",
      migration: s.migration !== undefined,
      recovery_seal: s.recoveryShares === true,
      storage_type: "tessera",
      ...(!s.sealed && s.initialized && { cluster_name: "tessera", cluster_id: s.node ?? "" }),
    };
    return reply.code(200).type("application/json").send(JSON.stringify(body));
  });

  /** The caller's own token (auth:LookupToken, self-service). `id` echoes the token the caller sent, as Vault does. */
  const lookupSelf = async (request: FastifyRequest) => {
    const ctx = vaultCallContext(request);
    const t = await d.service.lookupSelf(ctx);
    const now = Date.now();
    const expires = t.expiresAt === null ? null : Date.parse(t.expiresAt);
    return {
      request_id: request.id,
      lease_id: "",
      renewable: false,
      lease_duration: 0,
      data: {
        accessor: t.accessor,
        creation_time: Math.floor(Date.parse(t.createdAt) / 1000),
        creation_ttl: expires === null ? 0 : Math.round((expires - Date.parse(t.createdAt)) / 1000),
        display_name: t.displayName,
        entity_id: "",
        expire_time: t.expiresAt,
        explicit_max_ttl: 0,
        id: ctx.token ?? "",
        issue_time: t.createdAt,
        meta: Object.keys(t.attributes).length > 0 ? t.attributes : null,
        num_uses: 0,
        orphan: true,
        path: "auth/token/create",
        policies: t.root ? ["root"] : t.role !== null ? [t.role] : ["default"],
        renewable: t.renewable,
        ttl: expires === null ? 0 : Math.max(0, Math.floor((expires - now) / 1000)),
        type: "service",
      },
      wrap_info: null,
      warnings: null,
      auth: null,
    };
  };
  app.get("/v1/auth/token/lookup-self", lookupSelf);
  app.post("/v1/auth/token/lookup-self", lookupSelf);
}
