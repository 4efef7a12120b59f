/**
 * AWS-compatible Encrypt (SigV4-signed, JSON 1.1) beside native Encrypt (token), same server, same
 * key, same 256-byte plaintext, 64 keep-alive connections, measured in the same run.
 *
 * The AWS request is signed once by the official SDK (captured from its middleware after signing)
 * and replayed: SigV4 has no nonce, so the server verifies the full signature on every request, which
 * is what this measures. The server runs in its own process (bench/audit.mjs --server on).
 *
 *   npx tsc -b && node bench/aws.mjs          BENCH_SECONDS=10 BENCH_CONNECTIONS=64
 */
import { fork } from "node:child_process";
import { loadavg } from "node:os";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { EncryptCommand, KMSClient } from "@aws-sdk/client-kms";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 64);
const plaintext = Buffer.alloc(256, 7);

const child = fork(fileURLToPath(new URL("./audit.mjs", import.meta.url)), ["--server", "on"], {
  stdio: ["ignore", "inherit", "inherit", "ipc"],
  // BENCH_CPU_PROF=1 writes a --cpu-prof of the server to bench/results/prof/aws/.
  ...(process.env.BENCH_CPU_PROF === "1" && { execArgv: ["--cpu-prof", "--cpu-prof-dir", fileURLToPath(new URL("./results/prof/aws/", import.meta.url))] }),
});
const { port, token } = await new Promise((resolve, reject) => {
  child.once("message", resolve);
  child.once("exit", (code) => reject(new Error(`server exited ${code}`)));
});
const base = `http://127.0.0.1:${port}`;

try {
  const post = (path, body, headers = {}) => fetch(base + path, { method: "POST", headers: { "content-type": "application/json", "x-tessera-token": token, ...headers }, body: JSON.stringify(body) }).then((r) => r.json());
  const key = await fetch(`${base}/v1/keys/bench-key`, { headers: { "x-tessera-token": token } }).then((r) => r.json());
  const access = await post("/v1/auth/access-keys", { role: "operator" });

  // Let the SDK build and sign one Encrypt request, then stop it before it is sent.
  const kms = new KMSClient({ region: "us-east-1", endpoint: base, credentials: { accessKeyId: access.accessKeyId, secretAccessKey: access.secretAccessKey } });
  let signed;
  kms.middlewareStack.add(
    () => async (args) => {
      signed = args.request;
      throw new Error("captured");
    },
    { step: "finalizeRequest", priority: "low", name: "capture" },
  );
  await kms.send(new EncryptCommand({ KeyId: key.keyId, Plaintext: plaintext })).catch(() => undefined);
  const awsHeaders = Object.fromEntries(Object.entries(signed.headers).filter(([k]) => k.toLowerCase() !== "content-length"));

  const run = async (name, opts) => {
    await autocannon({ ...opts, connections, duration: 2 });
    const r = await autocannon({ ...opts, connections, duration: seconds });
    if (r.errors || r.non2xx) throw new Error(`${name}: ${r.errors} errors, ${r.non2xx} non-2xx`);
    console.log(`  ${name.padEnd(28)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p99 ${r.latency.p99} ms`);
    return r.requests.average;
  };
  console.log(`AWS vs native encrypt: ${seconds} s, ${connections} connections, load average ${loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  const nativeRps = await run("native (token)", {
    url: `${base}/v1/keys/bench-key/encrypt`,
    method: "POST",
    headers: { "content-type": "application/json", "x-tessera-token": token },
    body: JSON.stringify({ plaintext: plaintext.toString("base64") }),
  });
  const awsRps = await run("AWS JSON 1.1 (SigV4)", { url: `${base}/`, method: "POST", headers: awsHeaders, body: typeof signed.body === "string" ? signed.body : Buffer.from(signed.body) });
  console.log(`  ratio AWS / native: ${(awsRps / nativeRps).toFixed(3)} (aim >= 0.8)`);
} finally {
  child.kill("SIGTERM");
}
