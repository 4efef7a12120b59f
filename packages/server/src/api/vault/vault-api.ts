/**
 * The Vault-compatible API (docs/vault-compatibility.md) on the same listener: transit under
 * `/v1/<transit mount>/…`, KV v2 under `/v1/<kv mount>/…` for each KV mount, and Vault's `sys/health`,
 * `sys/seal-status`, `sys/mounts`, `sys/internal/ui/mounts/…` and `auth/token/lookup-self`.
 * Like the AWS adapter it only translates — paths and fields to service calls, results to Vault's
 * response shapes, `vault:vN:` values to Tessera's blobs, catalogue codes to Vault's statuses — and
 * calls the same service methods as the native API: same door, same policies, same audit.
 *
 * Order matters, as in the AWS adapter: the token is checked before the path or body is looked at,
 * so a caller without a valid token learns nothing else; every refusal the adapter makes itself is
 * audited (`api:Rejected`) before it is answered; the door audits its own.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { TesseraError, isTesseraError } from "@tessera/protocol";
import type { KmsService } from "../../service/kms-service.js";
import type { AsymmetricService } from "../../service/asymmetric-service.js";
import type { MacService } from "../../service/mac-service.js";
import type { DistributionService } from "../../service/distribution-service.js";
import type { HashService } from "../../service/hash-service.js";
import type { SecretsService } from "../../service/secrets-service.js";
import type { KeyBackupService } from "../../service/key-backup-service.js";
import type { TransitImportService } from "../../service/transit-import-service.js";
import type { MountTableService } from "../../service/mount-table-service.js";
import type { Refusal } from "../../service/refusal-log.js";
import { VaultError, sendVaultError } from "./vault-errors.js";
import type { Json } from "./vault-input.js";
import { VaultRouter, type VaultOp, type VaultRoute } from "./vault-router.js";
import { transitRoutes } from "./transit-routes.js";
import { kvRoutes } from "./kv-routes.js";
import { VAULT_CLIENT_ONLY, vaultSysRoutes } from "./vault-sys.js";
import { vaultSysMountRoutes } from "./vault-sys-mounts.js";
import { LIST_MARKER_HEADER } from "./list-verb.js";
import { envelope, vaultCallContext } from "./vault-context.js";

export { vaultErrors } from "./vault-errors.js";

export interface VaultApiOptions {
  service: KmsService;
  asymmetric: AsymmetricService;
  macs: MacService;
  distribution: DistributionService;
  hashes: HashService;
  secrets: SecretsService;
  keyBackups: KeyBackupService;
  transitImports: TransitImportService;
  /** Where transit is mounted (`/v1/<transitMount>/…`). */
  transitMount: string;
  /** Where KV v2 is mounted (`/v1/<m>/…` for each): each the secrets store's mount of the same name. */
  kvMounts: readonly string[];
  /** The table above as `sys/mounts` answers it. */
  mountTable: MountTableService;
}

/** Vault's own request limit is 32 MiB; batches of 1000 items fit in this. */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export async function vaultApi(app: FastifyInstance, o: VaultApiOptions): Promise<void> {
  app.removeAllContentTypeParsers();
  // Vault reads every body as JSON whatever its Content-Type (its own CLI sends none).
  app.addContentTypeParser("*", { parseAs: "buffer", bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
  app.setErrorHandler(async (err, request, reply) => {
    // Refusals made by a handler, and the door's, were audited where they happened; anything else is
    // the framework's (a body over the limit, a broken Content-Length): audited here.
    if (err instanceof VaultError || isTesseraError(err)) return sendVaultError(request, reply, err);
    const e = err as { code?: string; statusCode?: number };
    const refusal =
      e.code === "FST_ERR_CTP_BODY_TOO_LARGE"
        ? new VaultError(`the request body is larger than ${MAX_BODY_BYTES} bytes`, 413, "TooLarge", "body-too-large")
        : typeof e.statusCode === "number" && e.statusCode < 500
          ? new VaultError("the request could not be read", 400, "InvalidInput", "unreadable")
          : new VaultError("internal error", 500, "Internal", "internal");
    if (refusal.status >= 500) request.log.error({ err, requestId: request.id }, "Vault API request failed");
    try {
      await o.service.rejected(vaultCallContext(request), refusal.toTesseraError(), { detail: { reason: refusal.reason } });
    } catch (auditErr) {
      return sendVaultError(request, reply, auditErr);
    }
    return sendVaultError(request, reply, refusal);
  });

  /** `path` "" is the catch-all: every path under /v1/ that nothing else serves. */
  const mount = (path: string, routes: readonly VaultRoute[], mountType: string, constraints?: Record<string, string>) => {
    const router = new VaultRouter(routes);
    app.route({
      method: ["GET", "POST", "PUT", "DELETE", "PATCH"],
      url: path === "" ? "/v1/*" : `/v1/${path}/*`,
      ...(constraints !== undefined && { constraints: { ...constraints } }),
      handler: (request, reply) => serve(request, reply, path, router, mountType),
    });
  };

  async function serve(request: FastifyRequest, reply: FastifyReply, mountPath: string, router: VaultRouter, mountType: string): Promise<FastifyReply> {
    const ctx = vaultCallContext(request);
    let principal: NonNullable<Refusal["principal"]>;
    try {
      principal = await o.service.authenticate(ctx);
    } catch (thrown) {
      const err = isTesseraError(thrown) ? thrown : new TesseraError("Internal", undefined, { cause: thrown });
      const reason = (err.cause as { reason?: unknown } | undefined)?.reason;
      await o.service.rejected(ctx, err, { detail: { ...(typeof reason === "string" && { reason }), engine: mountType } });
      throw err;
    }
    const refuse = async (err: VaultError): Promise<never> => {
      await o.service.rejected(ctx, err.toTesseraError(), { principal, detail: { reason: err.reason, engine: mountType } });
      throw err;
    };

    const [rawPath = "", query = ""] = request.url.split("?", 2) as [string, string?];
    const segments = rawPath.slice(mountPath === "" ? "/v1/".length : `/v1/${mountPath}/`.length).replace(/\/+$/, "").split("/");
    let decoded: string[];
    try {
      decoded = segments.map((s) => decodeURIComponent(s));
    } catch {
      return refuse(new VaultError("the URL is not validly percent-encoded", 400, "InvalidInput", "bad-url"));
    }
    const found = router.match(decoded);
    if (found === undefined) {
      // Vault's own words: a path under no mount has no handler; one under a mount is an unsupported path.
      const message = mountPath === "" ? `no handler for route "${decoded.join("/")}". route entry not found.` : "unsupported path";
      return refuse(new VaultError(message, 404, "NotFound", "no-route"));
    }
    const op = operationOf(request, new URLSearchParams(query));
    const handler = op === undefined ? undefined : found.route.ops[op];
    if (handler === undefined) return refuse(new VaultError("unsupported operation", 405, "InvalidInput", "method"));
    let body: Json;
    try {
      // Vault reads a GET's query parameters as its data (`?version=2`).
      body = request.method === "GET" || request.method === "HEAD" ? Object.fromEntries([...new URLSearchParams(query)].filter(([k]) => k !== "list")) : parseBody(request.body as Buffer | undefined);
    } catch (err) {
      return refuse(err as VaultError);
    }
    const warnings: string[] = [];
    const known = found.route.fields ?? [];
    const ignored = Object.keys(body).filter((k) => !known.includes(k));
    if (ignored.length > 0) warnings.push(`Endpoint ignored these unrecognized parameters: [${ignored.join(" ")}]`);

    let result;
    try {
      result = await handler({ ctx, principal, params: found.params, body, warnings });
    } catch (err) {
      if (err instanceof VaultError) return refuse(err);
      if (!isTesseraError(err)) {
        request.log.error({ err, requestId: request.id }, "Vault API request failed");
        await o.service.rejected(ctx, new TesseraError("Internal"), { principal, detail: { reason: "internal", engine: mountType } });
      }
      throw err;
    }
    if (result === null) return reply.code(204).send();
    if ("errors" in result) return reply.code(result.status).type("application/json").send(JSON.stringify({ errors: result.errors }));
    return reply
      .code(result.status ?? 200)
      .type("application/json")
      .send(JSON.stringify(envelope(request.id, result.data, warnings, mountType)));
  }

  // First: it adds the Vault-client route constraint the `sys` pseudo-mount uses.
  await vaultSysRoutes(app, o);
  mount(o.transitMount, transitRoutes(o), "transit");
  for (const kvMount of o.kvMounts) mount(kvMount, kvRoutes({ secrets: o.secrets, kvMount }), "kv");
  // The native API owns /v1/sys/…: its own paths win (static routes first), and only Vault clients reach these.
  mount("sys", vaultSysMountRoutes(o), "system", VAULT_CLIENT_ONLY);
  // A Vault client's path under no mount (`/v1/other/data/x`): Vault's 404, after the token check and
  // audited like any refusal here. Every route above and the native API's are more specific and win.
  mount("", [], "none", VAULT_CLIENT_ONLY);
}

/** What Go's strconv.ParseBool reads as true (Vault parses `list` with it; node-vault sends `list=1`). */
const GO_TRUE = new Set(["1", "t", "T", "true", "TRUE", "True"]);

/** GET is a read, or a list with `?list=true` or Vault's LIST verb (rewritten before parsing: list-verb.ts). */
function operationOf(request: FastifyRequest, query: URLSearchParams): VaultOp | undefined {
  switch (request.method) {
    case "GET":
    // Fastify answers HEAD with the GET route: it may only ever read.
    case "HEAD":
      return GO_TRUE.has(query.get("list") ?? "") || request.headers[LIST_MARKER_HEADER] !== undefined ? "list" : "read";
    case "DELETE":
      return "delete";
    case "PATCH":
      return "patch";
    case "POST":
    case "PUT":
      return "write";
    default:
      return undefined;
  }
}

/** The body as a JSON object; an empty body is `{}`. */
function parseBody(raw: Buffer | undefined): Json {
  if (raw === undefined || raw.length === 0) return {};
  let body: unknown;
  try {
    body = JSON.parse(raw.toString("utf8"));
  } catch {
    throw new VaultError("failed to parse JSON input", 400, "InvalidInput", "not-json");
  }
  if (typeof body !== "object" || body === null || Array.isArray(body)) throw new VaultError("the request body must be a JSON object", 400, "InvalidInput", "not-json-object");
  return body as Json;
}
