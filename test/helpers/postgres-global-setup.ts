/**
 * vitest globalSetup: one PostgreSQL server for the whole run (about a second to initdb and start),
 * shared by every test file through `inject("postgres")`; stopped and deleted when the run ends.
 */
import type { TestProject } from "vitest/node";
import { startPostgres } from "./postgres.js";

export default async function setup(project: TestProject): Promise<() => void> {
  const server = await startPostgres();
  project.provide("postgres", { host: server.host, port: server.port, user: server.user, password: server.password, dataDir: server.dataDir });
  return () => server.destroy();
}
