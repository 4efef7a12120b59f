/**
 * Several real Tessera server processes (`bin/tessera server --config`) on one real PostgreSQL
 * database: each node has its own config (node id, loopback port, audit file), all share the
 * database and the Shamir seal. `startCluster` initialises through the first node and unseals every
 * node with the share, as an operator would.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { createDatabase, type PostgresServer } from "./postgres.js";
import { api, freePort, startServer, type ServerProcess } from "./server-process.js";

export interface ClusterNode {
  id: string;
  url: string;
  configPath: string;
  server: ServerProcess;
}

export interface Cluster {
  nodes: ClusterNode[];
  rootToken: string;
  share: string;
  database: string;
  /** A superuser connection pool to the cluster's database (for inspection). */
  db: pg.Pool;
  dir: string;
  /** Starts (again) the node with this index, unsealed. */
  startNode(index: number): Promise<ClusterNode>;
  stop(): Promise<void>;
}

export interface ClusterOptions {
  nodes: number;
  leaseTtlSeconds?: number;
  schedulerIntervalSeconds?: number;
  /** storage.postgres.timeout_ms */
  timeoutMs?: number;
}

/** Unseals one node with the share; resolves once it answers unsealed. */
export async function unseal(url: string, share: string): Promise<void> {
  const r = await api(url, undefined, "POST", "/v1/sys/unseal", { share });
  if (r.status !== 200 || r.body.sealed !== false) throw new Error(`unseal ${url}: ${r.status} ${JSON.stringify(r.body)}`);
}

export async function startCluster(server: PostgresServer, options: ClusterOptions): Promise<Cluster> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-cluster-"));
  const database = await createDatabase(server, "cluster");
  const passwordFile = join(dir, "pgpass");
  writeFileSync(passwordFile, `${server.password}\n`, { mode: 0o600 });
  const url = new URL(server.url(database));
  url.password = server.password;
  const db = new pg.Pool({ connectionString: url.toString(), max: 3 });
  const configs = Array.from({ length: options.nodes }, (_, i) => {
    const id = `node-${String.fromCharCode(97 + i)}`;
    const configPath = join(dir, `${id}.json`);
    writeFileSync(
      configPath,
      JSON.stringify({
        listener: { address: "127.0.0.1:{port}", insecure_http: true },
        storage: { postgres: { url: server.url(database), password_file: passwordFile, pool_size: 5, ...(options.timeoutMs !== undefined && { timeout_ms: options.timeoutMs }) } },
        node_id: id,
        // Each node its own chain, in its file and in the database (where any node can read every chain).
        audit: { database: true, file: { path: join(dir, id, "audit.jsonl") }, checkpoint_interval_seconds: 1 },
        log_level: "warn",
        scheduler_interval_seconds: options.schedulerIntervalSeconds ?? 1,
        lease_ttl_seconds: options.leaseTtlSeconds ?? 3,
        // A killed node counts as gone after 3 s, so restarting it under its id waits at most that.
        heartbeat_seconds: 1,
      }),
    );
    return { id, configPath };
  });
  const nodes: ClusterNode[] = [];
  const cluster: Cluster = {
    nodes,
    rootToken: "",
    share: "",
    database,
    db,
    dir,
    async startNode(index) {
      const { id, configPath } = configs[index]!;
      // The port goes into the config file: `--listen` is dev-only.
      const port = await freePort();
      const portConfig = join(dir, `${id}.${port}.json`);
      writeFileSync(portConfig, readFileSync(configPath, "utf8").replace("{port}", String(port)));
      const started = await startServer(["--config", portConfig], { port, ready: "listening" });
      if (cluster.share !== "") await unseal(started.url, cluster.share);
      const node = { id, url: started.url, configPath: portConfig, server: started };
      nodes[index] = node;
      return node;
    },
    async stop() {
      for (const n of nodes) await n?.server.stop().catch(() => undefined);
      await db.end();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    for (let i = 0; i < options.nodes; i++) await cluster.startNode(i);
    const init = await api(nodes[0]!.url, undefined, "POST", "/v1/sys/init", { shares: 1, threshold: 1 });
    if (init.status !== 200) throw new Error(`init: ${init.status} ${JSON.stringify(init.body)}`);
    cluster.rootToken = init.body.rootToken;
    cluster.share = init.body.shares[0];
    for (const n of nodes) await unseal(n.url, cluster.share);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}
