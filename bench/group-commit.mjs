/**
 * Group commit of fixed-size records to a file, as Tessera's audit file sink does it in `sync` mode:
 * one `write` + `datasync` at a time for every record queued so far, and each waiting request
 * answered once its batch is synced. No hashing, signing or record encoding: what any server that
 * answers only after its record is durable pays. Used by the baselines of bench/run.mjs
 * (bare-server.mjs with BENCH_DURABLE_RECORD_BYTES, floor-server.mjs).
 */
import { fdatasync, openSync, write } from "node:fs";

/** Returns `durable(answer)`: runs `answer` once an `bytes`-byte line for it is on disk in `path`. */
export function groupCommit(path, bytes) {
  const fd = openSync(path, "a", 0o600);
  const line = Buffer.from("x".repeat(bytes - 1) + "\n");
  let queued = [];
  let busy = false;
  const flush = () => {
    const batch = queued;
    queued = [];
    busy = true;
    const buf = Buffer.concat(batch.map(() => line));
    write(fd, buf, 0, buf.length, null, (err) => {
      if (err) throw err;
      fdatasync(fd, (err) => {
        if (err) throw err;
        for (const answer of batch) answer();
        busy = false;
        if (queued.length > 0) flush();
      });
    });
  };
  return (answer) => {
    queued.push(answer);
    if (!busy) flush();
  };
}
