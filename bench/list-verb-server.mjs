/**
 * A bare node:http server for bench/vault.mjs: answers every request with a small JSON body, with the
 * Vault API's LIST-verb rewriter in front of its parser when BENCH_LIST_VERB=1 — the rewriter's whole
 * cost on the listener (its byte scan and Node's parser reading 'data' events instead of the socket).
 * Reads BENCH_LISTEN ("127.0.0.1:PORT"); started with fork(). On the message "stats" it answers the CPU
 * time it used and the requests it answered since the last "stats" (CPU per request does not depend on
 * what else the machine runs, as throughput does). Stops when the parent goes away.
 */
import { createServer } from "node:http";
import { installListVerb } from "../packages/server/dist/api/vault/list-verb.js";

const [host, port] = process.env.BENCH_LISTEN.split(":");
let requests = 0;
let cpu = process.cpuUsage();
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    requests++;
    res.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
});
if (process.env.BENCH_LIST_VERB === "1") installListVerb(server, false);
server.listen(Number(port), host, () => process.send?.("ready"));
process.on("message", (m) => {
  if (m !== "stats") return;
  const used = process.cpuUsage(cpu);
  process.send?.({ cpuMicros: used.user + used.system, requests });
  cpu = process.cpuUsage();
  requests = 0;
});
process.once("disconnect", () => process.exit(0));
