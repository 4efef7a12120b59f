import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const src = (pkg: string) => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url));

export default defineConfig({
  resolve: {
    // Tests run the TypeScript sources directly; spawned servers and CLIs run the built dist.
    alias: {
      // Before the package's own name: an alias also matches `name/…`, and the core entry is its own file.
      "@tessera/protocol/core": fileURLToPath(new URL("./packages/protocol/src/core.ts", import.meta.url)),
      "@tessera/protocol": src("protocol"),
      "@tessera/audit": src("audit"),
      "@tessera/server": src("server"),
      "@tessera/client/core": fileURLToPath(new URL("./packages/client/src/core.ts", import.meta.url)),
      "@tessera/client": src("client"),
    },
  },
  test: {
    include: ["packages/*/src/**/*.test.ts", "test/**/*.test.ts"],
    // One real PostgreSQL server for the run (test/helpers/postgres.ts); files make their own databases on it.
    globalSetup: ["test/helpers/postgres-global-setup.ts"],
    // Generous: CLI suites spawn dozens of processes, and a 2-core machine under load runs each in seconds.
    testTimeout: 120_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
