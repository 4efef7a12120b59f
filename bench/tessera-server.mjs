/**
 * Tessera under test for bench/run.mjs: a dev server (temporary SQLite, unsealed, fixed root token)
 * in its own process, so the load generator never shares its event loop.
 *
 * Started by run.mjs with fork(); reads BENCH_LISTEN ("127.0.0.1:PORT") and BENCH_ROOT_TOKEN, and
 * BENCH_DATA (a dev data directory kept across starts, bench/scale.mjs; default temporary). Stops
 * (cleanly, deleting its temporary state) on SIGTERM/SIGINT or when the parent goes away.
 * Run the parent with BENCH_CPU_PROF=1 to get a --cpu-prof of this process in bench/results/.
 */
import { runServer } from "../packages/server/dist/index.js";

const listen = process.env.BENCH_LISTEN;
const devRootToken = process.env.BENCH_ROOT_TOKEN;
if (!listen || !devRootToken) throw new Error("BENCH_LISTEN and BENCH_ROOT_TOKEN are required");

// runServer resolves after a clean shutdown on SIGTERM; the parent vanishing means the same. The
// persistent listeners keep a second signal (say SIGTERM, then the IPC channel closing) from killing
// the process by default before the temporary state is deleted.
let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"]) process.on(signal, () => (stopping = true));
process.once("disconnect", () => {
  if (!stopping) process.kill(process.pid, "SIGTERM");
});

const data = process.env.BENCH_DATA || undefined;
await runServer({ dev: true, listen, devRootToken, ...(data !== undefined && { data }) });
process.exit(0);
