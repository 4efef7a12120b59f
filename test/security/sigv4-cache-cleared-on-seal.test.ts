/**
 * Issue 8, item 8 (SigV4 part): sealing forgets every secret-derived value the SigV4 path caches —
 * the derived signing keys (zeroed, not just dropped) and the decrypted access-key secrets — and a
 * sealed server answers AWS callers as sealed (KMSInternalException), not as if their key were unknown.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "@tessera/server";
import { SigV4Verifier } from "../../packages/server/src/identity/sigv4.js";
import { send, signedHeaders, startListening, type Credentials, type ListeningApp } from "../helpers/raw-http.js";

const NOW = Date.UTC(2026, 0, 5, 12);
let t: ListeningApp;
let creds: Credentials;
let share = "";

beforeAll(async () => {
  t = await startListening(new ManualClock(NOW));
  const key = await t.native("POST", "/v1/auth/access-keys", { role: "operator" });
  creds = { accessKeyId: key.body.accessKeyId, secretAccessKey: key.body.secretAccessKey };
  share = t.share;
});
afterAll(async () => t.close());

const listKeys = async () => {
  const res = await send(t.port, "POST", "/", await signedHeaders(t.port, creds, { target: "TrentService.ListKeys", body: "{}", at: NOW }), "{}");
  return { status: res.status, type: res.status === 200 ? undefined : (JSON.parse(res.text) as { __type: string }).__type };
};
const allZero = (b: Buffer) => b.every((x) => x === 0);

describe("sealing clears the SigV4 caches", () => {
  it("zeroes and forgets derived signing keys when the barrier seals", async () => {
    let sealListener = () => {};
    const secret = Buffer.from(creds.secretAccessKey);
    const verifier = new SigV4Verifier(
      { resolve: async () => ({ secret, principal: { id: "access-key:x" } as never }) },
      "us-east-1",
      new ManualClock(NOW),
      { onSeal: (l) => (sealListener = l) },
    );
    const headers = Object.fromEntries(await signedHeaders(8200, creds, { target: "TrentService.ListKeys", body: "{}", at: NOW }));
    await verifier.authenticate({ method: "POST", path: "/", query: "", headers, body: Buffer.from("{}") }, "127.0.0.1");
    // White-box: the cache is private on purpose; the test looks at the buffers it holds.
    const cache = verifier["signingKeys"] as Map<string, { key: Buffer }>;
    const held = [...cache.values()].map((c) => c.key);
    expect(held).toHaveLength(1);
    expect(allZero(held[0]!)).toBe(false);
    sealListener();
    expect(cache.size).toBe(0);
    expect(held.every(allZero)).toBe(true);
  });

  it("a sealed server refuses AWS callers as sealed, forgets their secrets, and serves them again once unsealed", async () => {
    expect(await listKeys()).toEqual({ status: 200, type: undefined });
    const secrets = [...(t.app.accessKeys["cache"] as Map<string, { secret: Buffer }>).values()].map((c) => c.secret);
    expect(secrets.length).toBeGreaterThan(0);

    expect((await t.native("POST", "/v1/sys/seal", {})).status).toBe(200);
    expect(secrets.every(allZero)).toBe(true);
    expect(await listKeys()).toEqual({ status: 500, type: "KMSInternalException" });

    expect((await send(t.port, "POST", "/v1/sys/unseal", [["content-type", "application/json"]], JSON.stringify({ share }))).status).toBe(200);
    expect(await listKeys()).toEqual({ status: 200, type: undefined });
  });
});
