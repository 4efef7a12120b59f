/** An audit sink whose writes can be made to fail or hang, typed against the real AuditSink. */
import type { AuditSink, SinkBatch } from "@tessera/server";
import { decodeLines } from "../helpers/audit-records.js";

export class ControllableSink implements AuditSink {
  readonly name = "controllable";
  mode: "ok" | "error" | "hang" = "ok";
  readonly lines: string[] = [];
  writes = 0;
  private lastBatch = 0;
  private release: (() => void) | undefined;

  private failNext: ((record: Record<string, unknown>) => boolean) | undefined;
  /** Records of the batches `failOnce` refused, newest last. */
  readonly refused: Record<string, unknown>[] = [];

  /** Fails, once, the next batch holding a record that matches (then writes normally again). */
  failOnce(match: (record: Record<string, unknown>) => boolean): void {
    this.failNext = match;
  }

  async write(batch: SinkBatch): Promise<void> {
    this.writes++;
    if (this.mode === "hang") await new Promise<void>((resolve) => (this.release = resolve));
    if (this.mode === "error") throw new Error("disk full (simulated)");
    const match = this.failNext;
    // Compact records refer to contexts spelt out in earlier lines: decode the batch after them.
    const records = match === undefined ? [] : decodeLines([...this.lines, ...batch.records.map((r) => r.line)]).slice(this.lines.length);
    if (match !== undefined && records.some((r) => match(r))) {
      this.failNext = undefined;
      this.refused.push(...records);
      throw new Error("write failed (simulated, chosen record)");
    }
    this.lastBatch = batch.records.length;
    this.lines.push(...batch.records.map((r) => r.line));
  }

  /** Lets a hung write finish (successfully) and returns to normal. */
  unhang(): void {
    this.mode = "ok";
    this.release?.();
    this.release = undefined;
  }

  async rollback(): Promise<void> {
    this.lines.splice(this.lines.length - this.lastBatch, this.lastBatch);
    this.lastBatch = 0;
  }

  async lastLine(): Promise<string | undefined> {
    return this.lines[this.lines.length - 1];
  }

  async close(): Promise<void> {}
}
