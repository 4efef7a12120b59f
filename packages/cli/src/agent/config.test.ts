import { describe, expect, it } from "vitest";
import { AgentConfigError, resolveAgentConfig } from "./config.js";
import { DEFAULT_ALLOWED_ACTIONS } from "./proxy-routes.js";

const base = { server: { address: "https://tessera.internal:8200" }, state_dir: "state" };
const resolve = (c: unknown) => resolveAgentConfig(c, "/etc/tessera-agent/agent.json");
const refusal = (c: unknown) => {
  try {
    resolve(c);
  } catch (err) {
    expect(err).toBeInstanceOf(AgentConfigError);
    return (err as Error).message;
  }
  throw new Error("accepted");
};

describe("the agent's configuration", () => {
  it("applies defaults and resolves paths against the file's directory", () => {
    const c = resolve({ ...base, join_token_file: "join", listener: { socket: "/run/tessera-agent/agent.sock" }, templates: [{ name: "db", contents: "x", destination: "db.env" }] });
    expect(c).toMatchObject({
      stateDir: "/etc/tessera-agent/state",
      joinTokenFile: "/etc/tessera-agent/join",
      listener: { socket: "/run/tessera-agent/agent.sock", mode: 0o600, allow: DEFAULT_ALLOWED_ACTIONS },
      renewal: { retryInitialMs: 1000, retryMaxMs: 60_000 },
      pollMs: 60_000,
      tpm: undefined,
    });
    expect(c.templates[0]!.target).toEqual({ kind: "file", path: "/etc/tessera-agent/db.env", mode: 0o400, owner: undefined, group: undefined });
  });

  it("names the field at fault", () => {
    expect(refusal({ ...base, server: { address: "ftp://x" } })).toContain("server.address");
    expect(refusal({ ...base, listener: { allow: ["kms:CreateKey"] } })).toContain("listener.allow.0");
    expect(refusal({ ...base, colour: "blue" })).toContain("colour is not a known setting");
    expect(refusal({ server: base.server })).toContain("state_dir");
    expect(refusal({ ...base, tpm: { pcrs: "0,7" } })).toContain("tpm.pcrs");
  });

  it("refuses templates that are ambiguous, and a group socket without a group", () => {
    expect(refusal({ ...base, templates: [{ name: "a", destination: "x" }] })).toContain("exactly one of contents and source");
    expect(refusal({ ...base, templates: [{ name: "a", contents: "x", destination: "x", env: "A" }] })).toContain("exactly one of destination and env");
    expect(refusal({ ...base, templates: [{ name: "a", contents: "x", env: "A", mode: "0400" }] })).toContain("not to env");
    expect(refusal({ ...base, templates: [{ name: "a", contents: "x", env: "A" }, { name: "a", contents: "y", env: "B" }] })).toContain("used twice");
    expect(refusal({ ...base, listener: { socket: "s", mode: "0660" } })).toContain("listener.group");
    expect(refusal({ ...base, renewal: { retry_initial_ms: 5000, retry_max_ms: 1000 } })).toContain("retry_max_ms");
  });
});
