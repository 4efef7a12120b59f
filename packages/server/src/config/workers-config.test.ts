import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { resolveConfig } from "./config.js";

const base = { listener: { address: "127.0.0.1:8200", insecure_http: true }, storage: { sqlite: { path: "/var/lib/tessera/tessera.db" } } };

describe("the workers setting", () => {
  it("defaults to one process", () => {
    expect(resolveConfig(base, "/etc/tessera").workers).toBe(1);
  });

  it("takes a count, or auto for one worker per CPU", () => {
    expect(resolveConfig({ ...base, workers: 3 }, "/etc/tessera").workers).toBe(3);
    expect(resolveConfig({ ...base, workers: "auto" }, "/etc/tessera").workers).toBe(availableParallelism());
  });

  it.each([0, 1.5, "all", 257])("refuses %j, naming the field", (workers) => {
    expect(() => resolveConfig({ ...base, workers }, "/etc/tessera")).toThrow(/"workers"/);
  });
});
