/**
 * `GET /ui…`: the web console (docs/console.md) — static files only. The console talks to the server
 * through the public native API like any other client; these routes hand out the same public bytes
 * to everyone and touch no service, store or key, so they need no token and write no audit entry.
 *
 * Every answer carries a Content-Security-Policy that allows scripts, styles and connections to this
 * origin only (no inline script or style, no other origin, no framing). Hashed assets are cached for
 * good; the page itself is revalidated each time so a new build takes effect at once.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ConsoleAsset } from "./console-assets.js";

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const SECURITY_HEADERS = {
  "content-security-policy": CONSOLE_CSP,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
} as const;

/** The best encoding the client accepts that we hold: br, then gzip, else none. */
function encodingFor(header: string | undefined, asset: ConsoleAsset): "br" | "gzip" | undefined {
  if (header === undefined) return undefined;
  const accepted = new Set(
    header
      .split(",")
      .map((part) => part.trim().toLowerCase().split(";"))
      .filter(([, q]) => q === undefined || !/^\s*q=0(\.0*)?\s*$/.test(q))
      .map(([name]) => name),
  );
  if (asset.br !== undefined && accepted.has("br")) return "br";
  if (asset.gzip !== undefined && accepted.has("gzip")) return "gzip";
  return undefined;
}

function send(request: FastifyRequest, reply: FastifyReply, asset: ConsoleAsset): FastifyReply {
  reply.headers(SECURITY_HEADERS);
  reply.header("cache-control", asset.immutable ? "public, max-age=31536000, immutable" : "no-cache");
  reply.header("vary", "accept-encoding");
  reply.header("etag", asset.etag);
  reply.type(asset.type);
  if (request.headers["if-none-match"] === asset.etag) return reply.code(304).send();
  const encoding = encodingFor(request.headers["accept-encoding"], asset);
  if (encoding === undefined) return reply.send(asset.body);
  reply.header("content-encoding", encoding);
  return reply.send(encoding === "br" ? asset.br : asset.gzip);
}

export async function consoleRoutes(app: FastifyInstance, { assets }: { assets: Map<string, ConsoleAsset> }): Promise<void> {
  const page = (request: FastifyRequest, reply: FastifyReply) => {
    const index = assets.get("index.html");
    if (index === undefined) {
      reply.headers(SECURITY_HEADERS);
      return reply.code(503).type("text/plain; charset=utf-8").send("The web console is not built: run `npm run build` in the Tessera checkout.\n");
    }
    return send(request, reply, index);
  };
  app.get("/ui", page);
  // Every other path is a screen of the single-page app, except files under assets/, which exist or are 404.
  app.get("/ui/*", (request: FastifyRequest<{ Params: { "*": string } }>, reply) => {
    const path = request.params["*"];
    const asset = assets.get(path);
    if (asset !== undefined && path !== "index.html") return send(request, reply, asset);
    if (path.startsWith("assets/")) {
      reply.headers(SECURITY_HEADERS);
      return reply.code(404).type("text/plain; charset=utf-8").send("Not found\n");
    }
    return page(request, reply);
  });
}
