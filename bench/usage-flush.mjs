/**
 * Scale of state (issue 15): what one flush of the per-version use counters costs on a large store.
 * Opens a copy of a seeded store (bench/scale.mjs with BENCH_SCALE_DIR; this script never writes
 * the original) through the server's own SqliteStore and UsageRecorder, records uses of
 * BENCH_USAGE_VERSIONS (default 10,000) random versions, and times BENCH_ROUNDS (default 6) flushes:
 * CPU (user+system) and wall time of each, and the bytes each one wrote (WAL and checkpoints; the WAL
 * is checkpointed and truncated before each flush). Then times a fold, if this build has one, and reads of one
 * version's counts (versions.get) with the log full and empty.
 *
 *   npx tsc -b && node bench/usage-flush.mjs /path/to/seeded/tessera.db [packages/server/dist]
 *
 * The second argument picks the build to measure (e.g. another checkout's packages/server/dist), so
 * the same script measures before and after a change. Prints JSON.
 */
import { copyFileSync, readFileSync, rmSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { resolve } from "node:path";
import { randomInt } from "node:crypto";

const [source, dist = "packages/server/dist"] = process.argv.slice(2);
if (source === undefined) throw new Error("usage: node bench/usage-flush.mjs SEEDED.db [SERVER_DIST]");
const versions = Number(process.env.BENCH_USAGE_VERSIONS ?? 10_000);
const rounds = Number(process.env.BENCH_ROUNDS ?? 6);

const path = `${source}.usage-bench-${process.pid}.db`;
copyFileSync(source, path);
const { SqliteStore } = await import(resolve(dist, "store/sqlite-store.js"));
const { UsageRecorder } = await import(resolve(dist, "keys/usage.js"));

try {
  const store = new SqliteStore({ path });
  await store.migrate?.();
  const side = new DatabaseSync(path);
  const ids = side.prepare(`SELECT key_id FROM key_versions WHERE version = 1 ORDER BY random() LIMIT ?`).all(versions).map((r) => r.key_id);
  let now = Date.now();
  const clock = { now: () => now };
  const usage = new UsageRecorder(store, clock);

  // Bytes this process handed to write(2): the WAL frames and the automatic checkpoints' copies
  // into the database file (the WAL file's size says little: a checkpoint lets it restart).
  const written = () => Number(/^wchar: (\d+)$/m.exec(readFileSync("/proc/self/io", "utf8"))[1]);
  const time = async (fn) => {
    side.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const w = written();
    const cpu = process.cpuUsage();
    const start = process.hrtime.bigint();
    await fn();
    const wall = Number(process.hrtime.bigint() - start) / 1e6;
    const c = process.cpuUsage(cpu);
    return { cpuMs: Math.round((c.user + c.system) / 100) / 10, wallMs: Math.round(wall * 10) / 10, writtenKiB: Math.round((written() - w) / 1024) };
  };

  const flushes = [];
  for (let r = 0; r < rounds; r++) {
    for (const id of ids) for (let n = randomInt(1, 4); n > 0; n--) usage.record(id, 1);
    now += 5_000;
    flushes.push(await time(() => usage.flush()));
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const reads = async () => {
    const sample = ids.slice(0, 2_000);
    const start = process.hrtime.bigint();
    for (const id of sample) await store.versions.get(id, 1);
    return Math.round(Number(process.hrtime.bigint() - start) / sample.length / 100) / 10;
  };
  const readUsLogFull = await reads();
  const fold = typeof usage.fold === "function" ? await time(() => usage.fold()) : null;
  const readUsLogEmpty = fold === null ? null : await reads();
  side.close();
  await store.close();
  console.log(
    JSON.stringify(
      {
        dist,
        versions,
        rounds,
        flush: { medianCpuMs: median(flushes.map((f) => f.cpuMs)), medianWallMs: median(flushes.map((f) => f.wallMs)), medianWrittenKiB: median(flushes.map((f) => f.writtenKiB)), each: flushes },
        fold,
        readVersionUs: { logHolding: readUsLogFull, afterFold: readUsLogEmpty },
      },
      null,
      2,
    ),
  );
} finally {
  for (const p of [path, `${path}-wal`, `${path}-shm`]) rmSync(p, { force: true });
}
