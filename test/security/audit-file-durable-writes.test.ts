/**
 * `audit.durability: sync` never acknowledges a batch that is not on stable storage. The file sink
 * gets that from an O_DSYNC file (each write durable as it returns) instead of a datasync after each
 * write; `batch` keeps a plain file and syncs on its interval. Checked here from the kernel's view of
 * the open file (/proc/self/fdinfo flags), and with an opener that cannot give O_DSYNC the sink must
 * still datasync before a write returns.
 */
import { constants, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSink, openTrailFile, type SinkBatch, type TrailFile } from "@tessera/server";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "tessera-durable-writes-"));
  dirs.push(dir);
  return join(dir, "audit", "audit.jsonl");
}

const batch = (from: number, n: number): SinkBatch => ({
  records: Array.from({ length: n }, (_, i) => ({ seq: from + i, time: "2026-01-05T12:00:00.000Z", line: `{"seq":${from + i}}` })),
});

/** The open-file flags the kernel holds for `path` in this process (every descriptor open on it). */
function openFlags(path: string): number[] {
  const flags: number[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue;
    }
    if (target !== path) continue;
    const m = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    if (m !== null) flags.push(parseInt(m[1]!, 8));
  }
  return flags;
}

describe("audit file sink: durable writes", () => {
  it("sync durability writes through an O_DSYNC descriptor; batch durability does not", async () => {
    const syncPath = tempFile();
    const sync = new FileSink(syncPath, 1 << 20, () => undefined);
    await sync.write(batch(1, 3));
    expect(openFlags(syncPath).map((f) => (f & constants.O_DSYNC) !== 0)).toEqual([true]);
    await sync.close();

    const batchPath = tempFile();
    const batched = new FileSink(batchPath, 1 << 20, () => undefined, undefined, { durability: { mode: "batch", intervalMs: 10 } });
    await batched.write(batch(1, 3));
    expect(openFlags(batchPath).map((f) => (f & constants.O_DSYNC) !== 0)).toEqual([false]);
    await batched.close();
    expect(readFileSync(batchPath, "utf8")).toBe('{"seq":1}\n{"seq":2}\n{"seq":3}\n');
  });

  it("datasyncs after every write when the opener gives a file without durable writes", async () => {
    const path = tempFile();
    const calls: string[] = [];
    const opener = async (p: string): Promise<TrailFile> => {
      const inner = await openTrailFile(p);
      return {
        write: (...a) => (calls.push("write"), inner.write(...a)),
        read: (...a) => inner.read(...a),
        datasync: () => (calls.push("datasync"), inner.datasync()),
        truncate: (n) => inner.truncate(n),
        stat: () => inner.stat(),
        close: () => inner.close(),
      };
    };
    const sink = new FileSink(path, 1 << 20, () => undefined, opener);
    await sink.write(batch(1, 2));
    await sink.write(batch(3, 2));
    expect(calls).toEqual(["write", "datasync", "write", "datasync"]);
    await sink.close();
  });
});
