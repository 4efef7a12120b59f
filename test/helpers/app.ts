/** Builds a real Tessera app (real SQLite file in a temp dir) for in-process HTTP tests via inject(). */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ManualClock, SqliteStore, buildApp, type AppOptions, type Seal, type Store, type TesseraApp } from "@tessera/server";
import type { RetentionPolicy } from "@tessera/protocol";

export interface TestApp {
  app: TesseraApp;
  clock: ManualClock;
  dir: string;
  rootToken: string;
  shares: string[];
  /** JSON request through inject(); returns status and parsed body. */
  call(method: string, url: string, body?: unknown, token?: string | null): Promise<{ status: number; body: any; headers: Record<string, unknown> }>;
  /** Closes the app and opens a new one on the same database (a restart): it comes back sealed. */
  restart(): Promise<void>;
  unseal(): Promise<void>;
  close(): Promise<void>;
}

/** `seal`: the seal provider (default Shamir); the same one serves every restart. `vault`: the Vault API's mounts. */
export async function startTestApp(
  options: {
    shares?: number;
    threshold?: number;
    clock?: ManualClock;
    seal?: Seal;
    retention?: RetentionPolicy;
    alerts?: AppOptions["alerts"];
    keyCacheSize?: number;
    quotas?: AppOptions["quotas"];
    vault?: AppOptions["vault"];
    /** Wraps the real SQLite store (a test that makes one of its calls fail). */
    wrapStore?: (store: SqliteStore) => Store;
  } = {},
): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-test-"));
  const clock = options.clock ?? new ManualClock(Date.UTC(2026, 0, 5, 12));
  const open = () =>
    buildApp({
      store: (options.wrapStore ?? ((s) => s))(new SqliteStore({ path: join(dir, "tessera.db") })),
      clock,
      ...(options.seal !== undefined && { seal: options.seal }),
      ...(options.retention !== undefined && { retention: options.retention }),
      ...(options.alerts !== undefined && { alerts: options.alerts }),
      ...(options.keyCacheSize !== undefined && { keyCacheSize: options.keyCacheSize }),
      ...(options.quotas !== undefined && { quotas: options.quotas }),
      ...(options.vault !== undefined && { vault: options.vault }),
    });
  const t: TestApp = {
    app: await open(),
    clock,
    dir,
    rootToken: "",
    shares: [],
    async call(method, url, body, token) {
      const headers: Record<string, string> = {};
      const tok = token === undefined ? t.rootToken : token;
      if (tok !== null) headers["x-tessera-token"] = tok;
      if (body !== undefined) headers["content-type"] = "application/json";
      const res = await t.app.http.inject({ method: method as "GET", url, headers, ...(body !== undefined && { payload: JSON.stringify(body) }) });
      return { status: res.statusCode, body: res.body.length > 0 ? JSON.parse(res.body) : undefined, headers: res.headers };
    },
    async restart() {
      await t.app.close();
      t.app = await open();
    },
    async unseal() {
      for (const share of t.shares.slice(0, options.threshold ?? 1)) {
        const r = await t.call("POST", "/v1/sys/unseal", { share }, null);
        if (r.status !== 200) throw new Error(`unseal failed: ${JSON.stringify(r.body)}`);
      }
    },
    async close() {
      await t.app.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  const init = await t.call("POST", "/v1/sys/init", { shares: options.shares ?? 1, threshold: options.threshold ?? 1 }, null);
  if (init.status !== 200) throw new Error(`init failed: ${JSON.stringify(init.body)}`);
  t.rootToken = init.body.rootToken;
  t.shares = init.body.shares;
  await t.unseal();
  return t;
}

/**
 * One JSON request through `app.http.inject` (for tests that build and restart apps themselves);
 * `token` goes in x-tessera-token. Returns the status and the parsed body.
 */
export async function injectCall(app: TesseraApp, method: string, url: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await app.http.inject({
    method: method as "GET",
    url,
    headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: res.body ? JSON.parse(res.body) : undefined };
}

export const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString("base64");
export const unb64 = (s: string): string => Buffer.from(s, "base64").toString("utf8");

/** A token for a principal of `role`, minted directly as a login method would (for tests about what the role may do, not how it logs in). */
export async function roleToken(t: TestApp, role: string, attributes: Record<string, string> = {}): Promise<string> {
  const issued = await t.app.tokens.issue({
    kind: "service",
    displayName: role,
    role,
    authMethod: "approle",
    attributes,
    source: "127.0.0.1",
    subject: null,
    ttlSeconds: 3600,
  });
  return issued.token;
}
