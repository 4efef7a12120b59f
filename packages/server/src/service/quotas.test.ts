import { afterEach, describe, expect, it, vi } from "vitest";
import { QuotaGate } from "./quotas.js";

const clock = { now: () => 0 };
const vm = { id: "vm-1", role: "batch" };

afterEach(() => {
  vi.useRealTimers();
});

describe("QuotaGate", () => {
  it("refuses with Throttled once the role's burst is spent", () => {
    const gate = new QuotaGate({ roles: { batch: { burst: 2, perSecond: 1 } } }, clock);
    gate.take(vm);
    gate.take(vm);
    expect(() => gate.take(vm)).toThrow(expect.objectContaining({ code: "Throttled" }));
  });

  it("holds a refusal for the configured delay (default 1 s) before it is answered", async () => {
    vi.useFakeTimers();
    const gate = new QuotaGate({ roles: { batch: { burst: 1, perSecond: 1 } } }, clock);
    let answered = false;
    void gate.hold()!.then(() => (answered = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(answered).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(answered).toBe(true);
  });

  it("answers at once beyond maxHeld waiting refusals, and with a delay of 0", async () => {
    vi.useFakeTimers();
    const gate = new QuotaGate({ roles: { batch: { burst: 1, perSecond: 1 } }, refusalDelayMs: 50, maxHeld: 2 }, clock);
    const first = gate.hold();
    const second = gate.hold();
    expect([first, second].every((p) => p instanceof Promise)).toBe(true);
    expect(gate.hold()).toBeUndefined();
    await vi.advanceTimersByTimeAsync(50);
    // Released: the next refusal waits again.
    expect(gate.hold()).toBeInstanceOf(Promise);
    expect(new QuotaGate({ roles: { batch: { burst: 1, perSecond: 1 } }, refusalDelayMs: 0 }, clock).hold()).toBeUndefined();
  });
});
