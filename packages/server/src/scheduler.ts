/**
 * Runs periodic jobs (automatic rotation, destruction of keys past their deletion date, usage
 * flushes, token purges). Each job runs at most once at a time; a failure is logged and retried on
 * the next tick. Correctness never depends on timing: every job re-checks its condition against
 * storage inside its own transaction, so a late, early or repeated tick is harmless.
 */
export interface Job {
  name: string;
  intervalMs: number;
  run(): Promise<unknown>;
}

export interface SchedulerLogger {
  error(obj: object, msg: string): void;
}

export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly jobs: readonly Job[],
    private readonly log: SchedulerLogger,
  ) {}

  start(): void {
    for (const job of this.jobs) {
      const timer = setInterval(() => void this.runOnce(job.name), job.intervalMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /** Runs one job now (or joins its current run). */
  runOnce(name: string): Promise<void> {
    const current = this.running.get(name);
    if (current !== undefined) return current;
    const job = this.jobs.find((j) => j.name === name);
    if (job === undefined) return Promise.reject(new Error(`no job ${name}`));
    const run = job
      .run()
      .then(() => undefined)
      .catch((err: unknown) => {
        // Sealed is the normal state between restart and unseal; nothing to report.
        if ((err as { code?: string }).code === "Sealed" || (err as { code?: string }).code === "NotInitialized") return;
        this.log.error({ err, job: name }, "scheduled job failed");
      })
      .finally(() => this.running.delete(name));
    this.running.set(name, run);
    return run;
  }

  /** Stops the timers and waits for running jobs. */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    await Promise.all([...this.running.values()]);
  }
}
