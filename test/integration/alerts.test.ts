/** Alerts through the running app: raised by detectors, stored, acknowledged, written to the trail,
 * delivered to a webhook on loopback with a valid signature; /metrics in Prometheus format. */
import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock, SqliteStore, buildApp, type TesseraApp } from "@tessera/server";

const SECRET = "webhook-secret-for-tests-0123456789";
const received: { body: string; valid: boolean }[] = [];
let receiver: Server;
let app: TesseraApp;
let root = "";
const dir = mkdtempSync(join(tmpdir(), "tessera-alerts-"));
const clock = new ManualClock(Date.UTC(2026, 0, 5, 2));

const call = async (method: string, url: string, body?: unknown, token: string | null = root) => {
  const res = await app.http.inject({
    method: method as "GET",
    url,
    headers: { ...(token !== null && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { payload: JSON.stringify(body) }),
  });
  return { status: res.statusCode, body: res.body, json: () => JSON.parse(res.body) };
};

beforeAll(async () => {
  receiver = createServer((req, res) => {
    let body = "";
    req.on("data", (d) => (body += d));
    req.on("end", () => {
      const ts = String(req.headers["x-tessera-timestamp"]);
      const expected = `sha256=${createHmac("sha256", SECRET).update(`${ts}.${body}`).digest("hex")}`;
      const got = String(req.headers["x-tessera-signature"]);
      received.push({ body, valid: got.length === expected.length && timingSafeEqual(Buffer.from(got), Buffer.from(expected)) });
      res.writeHead(received.length === 1 ? 500 : 204).end(); // the first delivery fails: retried
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
  app = await buildApp({ store: new SqliteStore({ path: join(dir, "t.db") }), clock, alerts: { webhooks: [{ url, secret: SECRET }], retryMs: 20 } });
  const init = (await call("POST", "/v1/sys/init", { shares: 1, threshold: 1 }, null)).json();
  root = init.rootToken;
  await call("POST", "/v1/sys/unseal", { share: init.shares[0] }, null);
});
afterAll(async () => {
  await app.close();
  await new Promise<void>((r) => receiver.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe("alerts", () => {
  it("a burst of failed authentications raises one denial-burst alert, stored, in the trail and delivered signed", async () => {
    for (let i = 0; i < 12; i++) await call("GET", "/v1/keys", undefined, `tsr_guess_${i}`);
    await app.alerts.settle();
    const list = (await call("GET", "/v1/alerts")).json();
    expect(list.alerts.map((a: { detector: string; subject: string }) => [a.detector, a.subject])).toEqual([["denial-burst", "127.0.0.1"]]);
    const alert = list.alerts[0];
    expect(alert.seqs.length).toBeGreaterThan(0);
    // Delivered (after one failed attempt) with a valid signature.
    expect(received.length).toBe(2);
    expect(received.every((r) => r.valid)).toBe(true);
    expect(JSON.parse(received[1]!.body).alert).toMatchObject({ id: alert.id, detector: "denial-burst" });
    // Written to the trail.
    const trail = (await call("GET", "/v1/audit/entries?action=audit:Alert")).json();
    expect(trail.records.map((r: { requestId: string }) => r.requestId)).toEqual([alert.id]);
    // Acknowledged.
    expect((await call("POST", `/v1/alerts/${alert.id}/ack`, {})).status).toBe(204);
    expect((await call("GET", "/v1/alerts")).json().alerts).toEqual([]);
    expect((await call("GET", "/v1/alerts?all=true")).json().alerts[0]).toMatchObject({ id: alert.id, acknowledgedBy: "root" });
    expect((await call("POST", "/v1/alerts/6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11/ack", {})).json().error.code).toBe("NotFound");
  });

  it("serves Prometheus metrics: requests by action and outcome, latency, audit queue and flushes, alerts, seal state", async () => {
    const res = await call("GET", "/metrics", undefined, null);
    expect(res.status).toBe(200);
    expect(res.body).toMatch(/^tessera_requests_total\{action="kms:ListKeys",outcome="denied"\} 12$/m);
    expect(res.body).toMatch(/^tessera_request_duration_milliseconds_count\{action="kms:ListKeys"\} 12$/m);
    expect(res.body).toMatch(/^tessera_audit_flush_duration_milliseconds_count [1-9]\d*$/m);
    expect(res.body).toMatch(/^tessera_audit_queue_depth \d+$/m);
    expect(res.body).toMatch(/^tessera_alerts_total\{detector="denial-burst"\} 1$/m);
    expect(res.body).toMatch(/^tessera_sealed 0$/m);
    expect(res.body).not.toContain("tsr_");
  });
});
