/** An audit sink whose writes can be made to fail or hang, typed against the real AuditSink. */
import type { AuditSink, SinkBatch } from "@tessera/server";

export class ControllableSink implements AuditSink {
  readonly name = "controllable";
  mode: "ok" | "error" | "hang" = "ok";
  readonly lines: string[] = [];
  writes = 0;
  private lastBatch = 0;
  private release: (() => void) | undefined;

  async write(batch: SinkBatch): Promise<void> {
    this.writes++;
    if (this.mode === "hang") await new Promise<void>((resolve) => (this.release = resolve));
    if (this.mode === "error") throw new Error("disk full (simulated)");
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
