/**
 * A bare node:http server for bench/vault.mjs: answers every request with a small JSON body, with the
 * Vault API's LIST-verb rewriter in front of its parser when BENCH_LIST_VERB=1 — the rewriter's whole
 * cost on the listener (its byte scan and Node's parser reading 'data' events instead of the socket).
 * Reads BENCH_LISTEN ("127.0.0.1:PORT"); started with fork(), stops when the parent goes away.
 */
import { createServer } from "node:http";
import { installListVerb } from "../packages/server/dist/api/vault/list-verb.js";

const [host, port] = process.env.BENCH_LISTEN.split(":");
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}'));
});
if (process.env.BENCH_LIST_VERB === "1") installListVerb(server, false);
server.listen(Number(port), host, () => process.send?.("ready"));
process.once("disconnect", () => process.exit(0));
