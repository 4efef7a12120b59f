/**
 * examples/agent/: the configuration is one the agent accepts, the cloud-init user data installs
 * exactly that configuration and that unit, and systemd accepts the unit with its hardening.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { resolveAgentConfig } from "../../packages/cli/src/agent/config.js";
import { loadTemplates } from "../../packages/cli/src/agent/templates.js";
import { REPO } from "../helpers/server-process.js";

const read = (f: string) => readFileSync(join(REPO, "examples", "agent", f), "utf8");
/** The `content: |` block of a write_files entry, unindented. */
function writtenFile(cloudInit: string, path: string): string {
  const start = cloudInit.indexOf(`  - path: ${path}\n`);
  expect(start, path).toBeGreaterThan(-1);
  const lines = cloudInit.slice(start).split("\n");
  const body = lines.indexOf("    content: |");
  const out: string[] = [];
  for (const line of lines.slice(body + 1)) {
    if (line !== "" && !line.startsWith("      ")) break;
    out.push(line.slice(6));
  }
  return out.join("\n").replace(/\n+$/, "\n");
}
const hasSystemdAnalyze = spawnSync("sh", ["-c", "command -v systemd-analyze"], { stdio: "ignore" }).status === 0;

describe("examples/agent", () => {
  it("agent.json is a configuration the agent accepts, templates included", async () => {
    const config = resolveAgentConfig(JSON.parse(read("agent.json")), "/etc/tessera-agent/agent.json");
    expect(config).toMatchObject({ stateDir: "/var/lib/tessera-agent/state", listener: { mode: 0o660, group: "app" }, tpm: { tcti: "device:/dev/tpmrm0" } });
    expect((await loadTemplates(config.templates)).map((t) => t.config.name)).toEqual(["db"]);
  });

  it("cloud-init.yaml writes exactly that configuration and that unit, and a join token for the agent only", () => {
    const ci = read("cloud-init.yaml");
    expect(ci.startsWith("#cloud-config\n")).toBe(true);
    expect(JSON.parse(writtenFile(ci, "/etc/tessera-agent/agent.json"))).toEqual(JSON.parse(read("agent.json")));
    expect(writtenFile(ci, "/etc/systemd/system/tessera-agent.service")).toBe(read("tessera-agent.service"));
    expect(ci).toMatch(/- path: \/var\/lib\/tessera-agent\/join-token\n {4}owner: tessera-agent:tessera-agent\n {4}permissions: "0600"\n {4}defer: true\n/);
    expect(ci).toContain("systemctl enable --now tessera-agent.service");
  });

  it("the unit carries the hardening docs/agent.md promises", () => {
    const unit = read("tessera-agent.service");
    for (const line of ["NoNewPrivileges=yes", "ProtectSystem=strict", "PrivateTmp=yes", "CapabilityBoundingSet=", "ReadWritePaths=/var/lib/tessera-agent /run/tessera-agent", "RuntimeDirectory=tessera-agent tessera-agent/secrets", "StateDirectoryMode=0700", "LimitCORE=0", "DevicePolicy=closed", "ExecReload=/bin/kill -HUP $MAINPID"]) {
      expect(unit.split("\n"), line).toContain(line);
    }
  });

  it.skipIf(!hasSystemdAnalyze)("systemd-analyze verify accepts the unit (with the CLI's path stubbed)", () => {
    const dir = mkdtempSync(join(tmpdir(), "tessera-unit-"));
    const unit = join(dir, "tessera-agent.service");
    writeFileSync(unit, read("tessera-agent.service").replace("/opt/tessera/node_modules/.bin/tessera", "/bin/true"));
    const r = spawnSync("systemd-analyze", ["verify", unit], { encoding: "utf8" });
    rmSync(dir, { recursive: true, force: true });
    expect([r.status, r.stderr.trim()]).toEqual([0, ""]);
  });
});
