/**
 * The agent proxy's added latency per request: the same Decrypt sent straight to a dev server over
 * HTTPS with a token (keep-alive), and through `tessera agent`'s Unix socket with no token (keep-alive
 * to the agent, which keeps its own connection to the server), sequentially, alternating request by request so
 * both see the same machine load. Prints median and mean per path and the difference.
 *
 *   node bench/agent-proxy.mjs [requests-per-round=300] [rounds=5]
 */
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const BIN = join(dirname(fileURLToPath(import.meta.url)), "..", "bin", "tessera");
const perRound = Number(process.argv[2] ?? 300);
const rounds = Number(process.argv[3] ?? 5);
const dir = mkdtempSync(join(tmpdir(), "tessera-bench-agent-"));
const root = "bench-root-token";
const port = await new Promise((resolve) => {
  const s = createServer().listen(0, "127.0.0.1", () => {
    const p = s.address().port;
    s.close(() => resolve(p));
  });
});
const children = [];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
function start(args) {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, stdio: "ignore" });
  children.push(child);
  return child;
}
const caFile = join(dir, "data", "ca.pem");
const httpsAgent = new HttpsAgent({ keepAlive: true, maxSockets: 1 });
const socketAgent = new HttpAgent({ keepAlive: true, maxSockets: 1 });
function call(send, options, body) {
  return new Promise((resolve, reject) => {
    const req = send(options, (res) => {
      let text = "";
      res.on("data", (d) => (text += d));
      res.on("end", () => (res.statusCode < 300 ? resolve(text ? JSON.parse(text) : undefined) : reject(new Error(`${res.statusCode} ${text}`))));
    });
    req.on("error", reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}
const direct = (method, path, body, token = root) =>
  call(httpsRequest, { host: "127.0.0.1", port, path, method, ca: readFileSync(caFile), agent: httpsAgent, headers: { "content-type": "application/json", "x-tessera-token": token } }, body);
const viaSocket = (path, body, method = "POST") => call(httpRequest, { socketPath: join(dir, "agent.sock"), path, method, agent: socketAgent, headers: { "content-type": "application/json" } }, body);

try {
  start(["server", "--dev", "--dev-tls", "--data", join(dir, "data"), "--listen", `127.0.0.1:${port}`, "--dev-root-token", root]);
  for (let i = 0; !existsSync(caFile); i++) if (i > 600) throw new Error("server did not start"); else await sleep(50);
  for (let i = 0; ; i++) {
    try {
      await direct("GET", "/v1/sys/health");
      break;
    } catch (err) {
      if (i > 300) throw err;
      await sleep(100);
    }
  }
  await direct("POST", "/v1/keys", { name: "bench" });
  await direct("PUT", "/v1/policies/bench-vm", { statements: [{ effect: "allow", actions: ["kms:Decrypt"], resources: ["bench"] }] });
  await direct("PUT", "/v1/roles/bench-vm", { policies: ["bench-vm"] });
  writeFileSync(join(dir, "join-token"), (await direct("POST", "/v1/auth/join-tokens", { role: "bench-vm" })).joinToken);
  const vmToken = (await direct("POST", "/v1/auth/tokens", { ttlSeconds: 3600, grants: [{ actions: ["kms:Decrypt"], resources: ["bench"] }] })).token;
  const { ciphertext } = await direct("POST", "/v1/keys/bench/encrypt", { plaintext: Buffer.from("benchmark").toString("base64") });
  writeFileSync(join(dir, "agent.json"), JSON.stringify({ server: { address: `https://127.0.0.1:${port}`, ca_cert: caFile }, join_token_file: "join-token", state_dir: "state", listener: { socket: "agent.sock", allow: ["kms:Decrypt"] } }));
  start(["agent", "run", "--config", join(dir, "agent.json")]);
  for (let i = 0; ; i++) {
    try {
      await viaSocket("/v1/decrypt", { ciphertext });
      break;
    } catch (err) {
      if (i > 300) throw err;
      await sleep(100);
    }
  }
  // The agent's own kind of token (a certificate login of the same VM), so both paths authenticate alike.
  const identity = JSON.parse(readFileSync(join(dir, "state", "identity.json"), "utf8"));
  const key = readFileSync(join(dir, "state", `key-${identity.serial}.pem`));
  const certLogin = await call(httpsRequest, { host: "127.0.0.1", port, path: "/v1/auth/cert/login", method: "POST", ca: readFileSync(caFile), cert: identity.certificate, key, agent: false, headers: { "content-type": "application/json" } }, {});
  const certToken = certLogin.token;
  const samples = { direct: [], agent: [], restricted: [] };
  const time = async (fn) => {
    const t0 = process.hrtime.bigint();
    await fn();
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  for (let i = 0; i < 50; i++) (await direct("POST", "/v1/decrypt", { ciphertext }, certToken), await viaSocket("/v1/decrypt", { ciphertext }));
  // Alternating request by request, so a burst of load on the machine hits both paths alike.
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < perRound; i++) {
      samples.restricted.push(await time(() => direct("POST", "/v1/decrypt", { ciphertext }, vmToken)));
      samples.direct.push(await time(() => direct("POST", "/v1/decrypt", { ciphertext }, certToken)));
      samples.agent.push(await time(() => viaSocket("/v1/decrypt", { ciphertext })));
    }
  }
  const stat = (xs) => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50: s[Math.floor(s.length / 2)], p99: s[Math.floor(s.length * 0.99)], mean: s.reduce((a, b) => a + b, 0) / s.length };
  };
  const d = stat(samples.direct);
  const a = stat(samples.agent);
  const f = (n) => n.toFixed(3);
  console.log(`(for comparison: direct with a restricted token created by root, p50 ${f(stat(samples.restricted).p50)})`);
  console.log(`Decrypt, sequential, ${rounds}×${perRound} each (ms): direct HTTPS p50 ${f(d.p50)} mean ${f(d.mean)} p99 ${f(d.p99)}; through the agent's socket p50 ${f(a.p50)} mean ${f(a.mean)} p99 ${f(a.p99)}`);
  const h = { direct: [], agent: [] };
  for (let i = 0; i < perRound; i++) {
    h.direct.push(await time(() => direct("GET", "/v1/sys/health")));
    h.agent.push(await time(() => viaSocket("/v1/sys/health", undefined, "GET")));
  }
  console.log(`health (no token, no crypto): direct p50 ${f(stat(h.direct).p50)}, through the agent p50 ${f(stat(h.agent).p50)}`);
  console.log(`agent proxy adds ${f(a.p50 - d.p50)} ms at the median (${f(a.mean - d.mean)} ms mean) per request`);
} finally {
  for (const c of children) c.kill("SIGTERM");
  await sleep(500);
  rmSync(dir, { recursive: true, force: true });
}
