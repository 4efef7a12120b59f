/**
 * Requests on a connection of their own (no keep-alive pool), for servers with several workers: the
 * primary hands each connection to the next worker (round-robin), so successive calls land on
 * different workers as an operator's successive CLI calls do.
 */
import { request } from "node:http";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type FreshResponse = { status: number; body: any };

/** One request on a connection of its own. */
export function fresh(url: string, method: string, path: string, body?: unknown, token?: string): Promise<FreshResponse> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = request(url + path, { method, agent: false, timeout: 15_000, headers: { ...(token && { "x-tessera-token": token }), ...(data && { "content-type": "application/json" }) } }, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : undefined }));
    });
    req.once("error", reject);
    req.once("timeout", () => req.destroy(new Error(`${method} ${path}: no answer`)));
    req.end(data);
  });
}

/** The worker ids that answered `n` seal-status requests, and whether each was sealed. */
export async function answering(url: string, n: number): Promise<Map<string, boolean>> {
  const seen = new Map<string, boolean>();
  for (let i = 0; i < n; i++) {
    const r = await fresh(url, "GET", "/v1/sys/seal-status");
    seen.set(r.body.node, r.body.sealed);
  }
  return seen;
}
