/**
 * The file sink's durability in `sync` mode: its own file is opened O_DSYNC, so a batch's write is
 * durable when it returns and needs no separate `datasync`; a file whose writes are not durable by
 * themselves (batch mode, or an opener a caller supplied) is still `datasync`ed per batch.
 */
import { constants, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { FileSink, openTrailFile, type SinkBatch, type TrailFile } from "./sinks.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempFile(): string {
  const dir = mkdtempSync(join(tmpdir(), "tessera-sink-"));
  dirs.push(dir);
  return join(dir, "audit", "audit.jsonl");
}

const batch = (seq: number): SinkBatch => ({ records: [{ seq, time: "2026-01-05T12:00:00.000Z", line: `{"seq":${seq}}` }] });

/** The open-file flags of every descriptor this process holds on `path` (Linux /proc). */
function openFlags(path: string): number[] {
  const flags: number[] = [];
  for (const fd of readdirSync("/proc/self/fd")) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the listing's own descriptor)
    }
    if (target !== path) continue;
    const line = /^flags:\s*([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${fd}`, "utf8"));
    if (line !== null) flags.push(parseInt(line[1]!, 8));
  }
  return flags;
}

/** A real trail file that counts its `datasync` calls and says what `durableWrites` it was told to. */
async function countingOpener(durableWrites: boolean) {
  let datasyncs = 0;
  const open = async (path: string): Promise<TrailFile> => {
    const fh = await openTrailFile(path, durableWrites);
    return {
      durableWrites,
      write: (b, o, l, p) => fh.write(b, o, l, p),
      read: (b, o, l, p) => fh.read(b, o, l, p),
      datasync: () => ((datasyncs += 1), fh.datasync()),
      truncate: (n) => fh.truncate(n),
      stat: () => fh.stat(),
      close: () => fh.close(),
    };
  };
  return { open, datasyncs: () => datasyncs };
}

describe("the file sink's durable writes", () => {
  it("opens its file O_DSYNC in sync mode, and without it in batch mode", async () => {
    for (const mode of ["sync", "batch"] as const) {
      const path = tempFile();
      const sink = new FileSink(path, 1 << 20, () => undefined, undefined, { durability: { mode } });
      await sink.write(batch(1));
      const flags = openFlags(path);
      expect(flags, mode).toHaveLength(1);
      expect((flags[0]! & constants.O_DSYNC) !== 0, mode).toBe(mode === "sync");
      await sink.close();
      expect(readFileSync(path, "utf8")).toBe('{"seq":1}\n');
    }
  });

  it("datasyncs after each batch only when the file's writes are not durable by themselves", async () => {
    for (const durableWrites of [true, false]) {
      const path = tempFile();
      const opener = await countingOpener(durableWrites);
      const sink = new FileSink(path, 1 << 20, () => undefined, opener.open);
      await sink.lastLine();
      const before = opener.datasyncs();
      await sink.write(batch(1));
      await sink.write(batch(2));
      expect(opener.datasyncs() - before, `durableWrites ${durableWrites}`).toBe(durableWrites ? 0 : 2);
      await sink.close();
    }
  });
});
