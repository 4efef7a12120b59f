/**
 * `tessera agent` with its private key sealed to a TPM (a real software TPM, swtpm): no private key
 * on disk in the clear, the sealed key unsealed at the next start to log in over mutual TLS, and the
 * state directory copied to another TPM — or the boot state (PCRs) changed — refused.
 */
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent } from "../../packages/cli/src/agent/agent.js";
import { systemAgentClock } from "../../packages/cli/src/agent/clock.js";
import { resolveAgentConfig, type AgentConfig } from "../../packages/cli/src/agent/config.js";
import { startTlsApp, type TlsTestApp } from "../helpers/mtls.js";
import { startSwtpm, swtpmMissing, type SoftTpm } from "../helpers/swtpm.js";

const dir = mkdtempSync(join(tmpdir(), "tessera-agent-tpm-"));
let t: TlsTestApp;
let tpm: SoftTpm;
let otherTpm: SoftTpm;
const log = () => undefined;

async function joinToken(vmId: string): Promise<string> {
  const file = join(dir, `${vmId}.join`);
  const r = await t.call("POST", "/v1/auth/join-tokens", { token: t.rootToken, body: { role: "vm", vmId } });
  writeFileSync(file, r.body.joinToken);
  return file;
}

function config(name: string, tpmSettings: { tcti: string; pcrs?: string }, joinFile?: string): AgentConfig {
  return resolveAgentConfig(
    { server: { address: t.url, ca_cert: join(dir, "server-ca.pem") }, ...(joinFile && { join_token_file: joinFile }), state_dir: join(dir, name), tpm: tpmSettings },
    join(dir, `${name}.json`),
  );
}

async function started(c: AgentConfig): Promise<Agent> {
  const agent = new Agent(c, { clock: systemAgentClock, log });
  await agent.start();
  await agent.waitForToken();
  return agent;
}

describe.skipIf(swtpmMissing !== undefined)(`the agent's TPM-sealed identity${swtpmMissing === undefined ? "" : ` (skipped: ${swtpmMissing})`}`, () => {
  beforeAll(async () => {
    [t, tpm, otherTpm] = await Promise.all([startTlsApp(), startSwtpm(), startSwtpm()]);
    writeFileSync(join(dir, "server-ca.pem"), t.serverCert);
    await t.call("PUT", "/v1/policies/vm", { token: t.rootToken, body: { statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"] }] } });
    await t.call("PUT", "/v1/roles/vm", { token: t.rootToken, body: { policies: ["vm"] } });
  }, 60_000);

  afterAll(async () => {
    await Promise.all([t?.close(), tpm?.stop(), otherTpm?.stop()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("enrols with the key sealed to the TPM: no private key on disk in the clear", async () => {
    const agent = await started(config("vm1", { tcti: tpm.tcti }, await joinToken("vm-1")));
    const serial = agent.identity.current!.serial;
    await agent.stop();
    const files = readdirSync(join(dir, "vm1")).filter((f) => f.startsWith("key-")).sort();
    expect(files).toEqual([`key-${serial}.public.json`, `key-${serial}.tpm-priv`, `key-${serial}.tpm-pub`]);
    for (const f of readdirSync(join(dir, "vm1"))) expect(readFileSync(join(dir, "vm1", f), "latin1")).not.toContain("PRIVATE KEY");
  });

  it("unseals the key at the next start and logs in with the certificate", async () => {
    const agent = await started(config("vm1", { tcti: tpm.tcti }));
    expect(agent.identity.current).toMatchObject({ vmId: "vm-1", keyProtection: "tpm" });
    expect(agent.identity.token).toMatch(/./);
    await agent.stop();
  });

  it("refuses a state directory copied to a machine with another TPM", async () => {
    cpSync(join(dir, "vm1"), join(dir, "copy"), { recursive: true });
    const agent = new Agent(config("copy", { tcti: otherTpm.tcti }), { clock: systemAgentClock, log });
    await expect(agent.start()).rejects.toMatchObject({ name: "TpmError", refused: true });
  });

  it("with a PCR policy, refuses to unseal once the PCR has changed (another boot state)", async () => {
    const agent = await started(config("vm2", { tcti: tpm.tcti, pcrs: "sha256:16" }, await joinToken("vm-2")));
    await agent.stop();
    // The same TPM, the same PCRs: unsealed again.
    await (await started(config("vm2", { tcti: tpm.tcti, pcrs: "sha256:16" }))).stop();
    execFileSync("tpm2_pcrextend", ["16:sha256=" + "ab".repeat(32)], { env: { ...process.env, TPM2TOOLS_TCTI: tpm.tcti } });
    const after = new Agent(config("vm2", { tcti: tpm.tcti, pcrs: "sha256:16" }), { clock: systemAgentClock, log });
    await expect(after.start()).rejects.toMatchObject({ name: "TpmError", refused: true });
  });
});
