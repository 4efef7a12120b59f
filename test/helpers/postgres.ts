/**
 * A real PostgreSQL server for tests: Debian's `postgresql` package, `initdb` in a temporary
 * directory (as the `postgres` user when the suite runs as root — initdb refuses root), listening on
 * a free loopback port with password (SCRAM) authentication, `fsync=off` for speed.
 *
 * One server is shared by the whole run (test/helpers/postgres-global-setup.ts starts it and hands
 * its address to every test file through vitest's `inject`); each test file makes its own databases
 * on it (`createDatabase`). A test that must restart or stop the server starts its own (`startPostgres`).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { inject } from "vitest";
import { freePort } from "./server-process.js";

export interface PostgresServer {
  host: string;
  port: number;
  /** Superuser (owner of every test database). */
  user: string;
  password: string;
  /** The data directory (the raw files, for the erasure checks). */
  dataDir: string;
  /** postgres://user@127.0.0.1:port/<db> — without the password. */
  url(database: string): string;
}

export interface OwnPostgres extends PostgresServer {
  stop(mode?: "fast" | "immediate"): void;
  start(): void;
  /** Stops the server and deletes its directory. */
  destroy(): void;
}

/** Where Debian puts the server binaries (the newest version installed). */
export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, "bin", "initdb"))) : [];
  if (versions.length === 0) throw new Error("PostgreSQL is not installed (Debian package `postgresql`); `npm test` installs it when run as root");
  return join(base, versions.sort((a, b) => Number(b) - Number(a))[0]!, "bin");
}

const asRoot = process.getuid?.() === 0;

/** Runs a server binary as the `postgres` user when we are root, as ourselves otherwise. */
function runAsOwner(bin: string, args: string[]): void {
  const command = join(postgresBinDir(), bin);
  const result = asRoot ? spawnSync("runuser", ["-u", "postgres", "--", command, ...args], { encoding: "utf8" }) : spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${bin} ${args.join(" ")} failed (${result.status}): ${result.stdout}${result.stderr}`);
}

/** initdb + start on a free loopback port; the caller owns the server. */
export async function startPostgres(): Promise<OwnPostgres> {
  const dir = mkdtempSync(join(tmpdir(), "tessera-pg-"));
  const dataDir = join(dir, "data");
  const password = `pw-${process.pid}-${Date.now()}`;
  const user = "tessera";
  const pwfile = join(dir, "pwfile");
  writeFileSync(pwfile, password, { mode: 0o600 });
  if (asRoot) {
    chownSync(dir, uidOf("postgres"), gidOf("postgres"));
    chownSync(pwfile, uidOf("postgres"), gidOf("postgres"));
  }
  runAsOwner("initdb", ["-D", dataDir, "-U", user, `--pwfile=${pwfile}`, "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"]);
  const port = await freePort();
  const log = join(dir, "server.log");
  const options = [
    `-p ${port}`,
    "-c listen_addresses=127.0.0.1",
    `-c unix_socket_directories=${dir}`,
    "-c fsync=off",
    "-c synchronous_commit=off",
    "-c full_page_writes=off",
    "-c max_connections=300",
    "-c shared_buffers=32MB",
  ].join(" ");
  const start = () => runAsOwner("pg_ctl", ["-D", dataDir, "-l", log, "-o", options, "-w", "-t", "60", "start"]);
  const stop = (mode: "fast" | "immediate" = "fast") => runAsOwner("pg_ctl", ["-D", dataDir, "-m", mode, "-w", "-t", "60", "stop"]);
  start();
  let destroyed = false;
  return {
    host: "127.0.0.1",
    port,
    user,
    password,
    dataDir,
    url: (database) => `postgres://${user}@127.0.0.1:${port}/${database}`,
    start,
    stop,
    destroy() {
      if (destroyed) return;
      destroyed = true;
      try {
        stop("immediate");
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function uidOf(user: string): number {
  return Number(execFileSync("id", ["-u", user], { encoding: "utf8" }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync("id", ["-g", user], { encoding: "utf8" }).trim());
}

/** An admin connection to the server's `postgres` database. */
export async function adminClient(server: PostgresServer): Promise<pg.Client> {
  const url = new URL(server.url("postgres"));
  url.password = server.password;
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  return client;
}

let counter = 0;

/** Creates an empty database with a unique name; returns its name. */
export async function createDatabase(server: PostgresServer, prefix = "t", template?: string): Promise<string> {
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter++}`;
  const client = await adminClient(server);
  try {
    await client.query(`CREATE DATABASE ${name}${template === undefined ? "" : ` TEMPLATE ${template}`}`);
  } finally {
    await client.end();
  }
  return name;
}

export async function dropDatabase(server: PostgresServer, name: string): Promise<void> {
  const client = await adminClient(server);
  try {
    await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  } finally {
    await client.end();
  }
}

declare module "vitest" {
  export interface ProvidedContext {
    postgres: { host: string; port: number; user: string; password: string; dataDir: string };
  }
}

/** The run's shared server (started by the global setup). Make databases on it; never stop it. */
export function sharedPostgres(): PostgresServer {
  const p = inject("postgres");
  return { ...p, url: (database) => `postgres://${p.user}@${p.host}:${p.port}/${database}` };
}
