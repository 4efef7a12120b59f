/**
 * What a new user hit: `tessera audit query --outcome refused` (the README's word) was sent to the
 * server and answered `/querystring/outcome must be equal to constant`, naming no valid value. Every
 * CLI option with a fixed set of values now refuses a wrong one before sending, listing the set; and
 * the native API's message for an enum (a union of literals) lists the values it accepts.
 */
import { Readable, Writable } from "node:stream";
import { AUDIT_OUTCOMES, DEFAULT_JWT_ALGORITHMS, JWT_ALGORITHMS } from "@tessera/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { main } from "../../packages/cli/src/main.js";
import { AUTH_METHODS } from "../../packages/cli/src/identity-args.js";
import { authMethods } from "../../packages/server/src/principal/principal.js";
import { startTestApp, type TestApp } from "../helpers/app.js";
import { runCli } from "../helpers/cli-process.js";

/** `tessera ...args` in process; no server is reached (usage errors fail first). */
async function usage(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (s: string) => void) => new Writable({ write: (c: Buffer, _e, done) => (append(c.toString()), done()) });
  const code = await main(["node", "tessera", ...args, "--address", "http://127.0.0.1:9"], {
    stdin: Readable.from([]),
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
  });
  return { code, stdout, stderr };
}

function expectListed(stderr: string, values: readonly string[]): void {
  for (const v of values) expect(stderr, v).toContain(v);
}

describe("CLI options with a fixed set of values", () => {
  it.each([
    ["audit query --outcome", ["audit", "query", "--outcome", "refused"], AUDIT_OUTCOMES],
    ["policy simulate --auth-method", ["policy", "simulate", "--role", "r", "--action", "kms:Decrypt", "--auth-method", "certificate"], AUTH_METHODS],
    ["auth jwt issuer put --algorithm", ["auth", "jwt", "issuer", "put", "x", "--issuer", "https://i", "--jwks-url", "https://i/jwks", "--audience", "a", "--algorithm", "RS256", "--algorithm", "HS256"], JWT_ALGORITHMS],
    ["datakey --spec", ["datakey", "--key", "k", "--spec", "AES_512"], ["AES_256", "AES_128"]],
    ["token create --allow with an unknown kms action", ["token", "create", "--allow", "kms:Encrpyt:payment-db"], ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]],
    ["token create --allow with an unknown service", ["token", "create", "--allow", "kmz:Encrypt:payment-db"], ["kms", "auth", "policy", "audit", "sys"]],
  ] as const)("%s: a wrong value is a usage error (exit 2) that lists the allowed ones", async (_name, args, allowed) => {
    const r = await usage([...args]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expectListed(r.stderr, allowed);
  });

  it("accepts every allowed value (and repeats of --algorithm)", async () => {
    // Each then fails only because nothing listens at the address: exit 1, not a usage error.
    for (const outcome of AUDIT_OUTCOMES) expect((await usage(["audit", "query", "--outcome", outcome])).code).toBe(1);
    for (const method of AUTH_METHODS) expect((await usage(["policy", "simulate", "--role", "r", "--action", "kms:Decrypt", "--auth-method", method])).code).toBe(1);
    const algorithms = DEFAULT_JWT_ALGORITHMS.flatMap((a) => ["--algorithm", a]);
    expect((await usage(["auth", "jwt", "issuer", "put", "x", "--issuer", "https://i", "--jwks-url", "https://i/jwks", "--audience", "a", ...algorithms])).code).toBe(1);
  });

  it("the CLI's auth methods are the server's", () => {
    expect([...AUTH_METHODS].sort()).toEqual([...authMethods].sort());
  });

  it("bin/tessera: the README's `--outcome refused` exits 2 naming the outcomes", async () => {
    const r = await runCli(["audit", "query", "--outcome", "refused"], { address: "http://127.0.0.1:9" });
    expect(r.code).toBe(2);
    expectListed(r.stderr, AUDIT_OUTCOMES);
  });
});

describe("the native API's message for an enum field", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it("a query parameter: InvalidInput naming the field, the message listing every accepted value", async () => {
    const r = await t.call("GET", "/v1/audit/entries?outcome=refused");
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, "InvalidInput", "/querystring/outcome"]);
    expect(r.body.error.message).toBe(`/querystring/outcome must be one of: ${AUDIT_OUTCOMES.join(", ")}`);
  });

  it("a body field: the same", async () => {
    expect((await t.call("POST", "/v1/keys", { name: "k" })).status).toBe(201);
    const r = await t.call("POST", "/v1/keys/k/generate-data-key", { keySpec: "AES_512" });
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, "InvalidInput", "/keySpec"]);
    expect(r.body.error.message).toBe("/keySpec must be one of: AES_256, AES_128");
  });

  it("other validation errors keep their messages (no list where the schema is not an enum)", async () => {
    const r = await t.call("GET", "/v1/audit/entries?limit=0");
    expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, "InvalidInput", "/querystring/limit"]);
    expect(r.body.error.message).not.toContain("must be one of");
  });
});
