/**
 * `GET /v1/auth/certs` (and `tessera cert list`): the enrolled VMs' instance certificates with their
 * state, paged — what an operator looks at before revoking one (`auth:ListCertificates`).
 */
import "reflect-metadata";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { keyAndCsr } from "../helpers/mtls.js";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

let t: TestApp;
const serials: Record<string, string> = {};

beforeAll(async () => {
  t = await startTestApp();
  await t.call("PUT", "/v1/policies/vm", { statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: ["key/*"] }] });
  await t.call("PUT", "/v1/roles/app-vm", { policies: ["vm"] });
  for (const vmId of ["vm-a", "vm-b"]) {
    const joinToken = (await t.call("POST", "/v1/auth/join-tokens", { role: "app-vm", vmId })).body.joinToken;
    const { csr } = await keyAndCsr();
    const enrolled = await t.call("POST", "/v1/auth/join", { joinToken, csr, vmId }, null);
    serials[vmId] = enrolled.body.serial;
  }
});
afterAll(async () => t.close());

describe("listing instance certificates", () => {
  it("lists every enrolled VM's certificate with its state, and a revoked one as revoked", async () => {
    await t.call("POST", "/v1/auth/certs/revoke", { vmId: "vm-b" });
    const r = await t.call("GET", "/v1/auth/certs");
    const byVm = Object.fromEntries(r.body.certificates.map((c: { vmId: string; serial: string; role: string; state: string }) => [c.vmId, [c.serial, c.role, c.state]]));
    expect([r.status, byVm, r.body.nextMarker]).toEqual([200, { "vm-a": [serials["vm-a"], "app-vm", "active"], "vm-b": [serials["vm-b"], "app-vm", "revoked"] }, null]);
  });

  it("pages in serial order with limit and marker", async () => {
    const first = await t.call("GET", "/v1/auth/certs?limit=1");
    const second = await t.call("GET", `/v1/auth/certs?limit=1&marker=${first.body.nextMarker}`);
    const ordered = Object.values(serials).sort();
    expect([first.body.certificates[0].serial, first.body.nextMarker, second.body.certificates[0].serial]).toEqual([ordered[0], ordered[0], ordered[1]]);
  });

  it("needs auth:ListCertificates", async () => {
    const token = (await t.call("POST", "/v1/auth/tokens", { grants: [{ actions: ["auth:RevokeCertificate"], resources: ["*"] }] })).body.token;
    const allowed = (await t.call("POST", "/v1/auth/tokens", { grants: [{ actions: ["auth:ListCertificates"], resources: ["certificate"] }] })).body.token;
    expect([(await t.call("GET", "/v1/auth/certs", undefined, token)).body.error.code, (await t.call("GET", "/v1/auth/certs", undefined, allowed)).status]).toEqual(["AccessDenied", 200]);
  });
});

describe("tessera cert list", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", "certs-root"]);
  });
  afterAll(async () => server.stop());

  it("prints nothing but succeeds before any enrolment, and gives the API's answer with --json", async () => {
    const text = await runCli(["cert", "list"], { address: server.url, token: "certs-root" });
    const json = await runCli(["cert", "list", "--json"], { address: server.url, token: "certs-root" });
    expect([text.code, text.stdout, json.code, JSON.parse(json.stdout)]).toEqual([0, "", 0, { certificates: [], nextMarker: null }]);
  });
});
