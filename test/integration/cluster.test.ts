/**
 * Several nodes, one truth: three real Tessera server processes on one real PostgreSQL database
 * (the run's shared server). A change made through one node is in force on every other node for
 * the very next request; background work runs on the lease holder only and moves when it dies;
 * `tessera status` through any node lists them all.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { CreateGrantCommand, EncryptCommand, KMSClient, RevokeGrantCommand } from "@aws-sdk/client-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startCluster, type Cluster } from "../helpers/cluster.js";
import { runCli } from "../helpers/cli-process.js";
import { sharedPostgres, startPostgres } from "../helpers/postgres.js";
import { api } from "../helpers/server-process.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
let c: Cluster;
const url = (i: number) => c.nodes[i]!.url;

beforeAll(async () => {
  c = await startCluster(sharedPostgres(), { nodes: 3, leaseTtlSeconds: 2 });
});
afterAll(async () => {
  await c?.stop();
});

describe("a change on one node is in force on the others at once", () => {
  it("a key created on A encrypts on B and decrypts on C", async () => {
    expect((await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "shared" })).status).toBe(201);
    const enc = await api(url(1), c.rootToken, "POST", "/v1/keys/shared/encrypt", { plaintext: b64("across nodes") });
    expect(enc.status).toBe(200);
    const dec = await api(url(2), c.rootToken, "POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext });
    expect(dec.status).toBe(200);
    expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe("across nodes");
  });

  it("a key disabled on B is refused on A and C for the next request, and works again once enabled", async () => {
    await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "toggled" });
    // Every node has the key cached, enabled.
    for (const i of [0, 1, 2]) expect((await api(url(i), c.rootToken, "POST", "/v1/keys/toggled/encrypt", { plaintext: b64("x") })).status).toBe(200);
    for (let round = 0; round < 5; round++) {
      expect((await api(url(1), c.rootToken, "POST", "/v1/keys/toggled/disable")).status).toBe(200);
      for (const i of [0, 2]) {
        const refused = await api(url(i), c.rootToken, "POST", "/v1/keys/toggled/encrypt", { plaintext: b64("x") });
        expect(refused.body.error?.code, `round ${round}, node ${i}`).toBe("Disabled");
      }
      expect((await api(url(2), c.rootToken, "POST", "/v1/keys/toggled/enable")).status).toBe(200);
      for (const i of [0, 1]) expect((await api(url(i), c.rootToken, "POST", "/v1/keys/toggled/encrypt", { plaintext: b64("x") })).status, `round ${round}, node ${i}`).toBe(200);
    }
  });

  it("a token revoked on A is refused on B and C for the next request", async () => {
    await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "for-token" });
    const created = await api(url(0), c.rootToken, "POST", "/v1/auth/tokens", { grants: [{ actions: ["kms:Encrypt"], resources: ["for-token"] }] });
    expect(created.status).toBe(201);
    const token = created.body.token as string;
    // B and C have the token cached.
    for (const i of [1, 2]) expect((await api(url(i), token, "POST", "/v1/keys/for-token/encrypt", { plaintext: b64("x") })).status).toBe(200);
    expect((await api(url(0), c.rootToken, "POST", "/v1/auth/tokens/revoke", { accessor: created.body.accessor })).status).toBeLessThan(300);
    for (const i of [1, 2]) {
      const refused = await api(url(i), token, "POST", "/v1/keys/for-token/encrypt", { plaintext: b64("x") });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe("Unauthenticated");
    }
  });

  it("a policy narrowed on C applies on A for the next request", async () => {
    await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "pol-a" });
    await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "pol-b" });
    const policy = (keys: string[]) => ({ statements: [{ effect: "allow", actions: ["kms:Encrypt"], resources: keys }] });
    expect((await api(url(0), c.rootToken, "PUT", "/v1/policies/app", policy(["pol-a", "pol-b"]))).status).toBeLessThan(300);
    expect((await api(url(0), c.rootToken, "PUT", "/v1/roles/app", { policies: ["app"] })).status).toBeLessThan(300);
    const roleToken = await roleLogin();
    expect((await api(url(0), roleToken, "POST", "/v1/keys/pol-b/encrypt", { plaintext: b64("x") })).status).toBe(200);
    expect((await api(url(2), c.rootToken, "PUT", "/v1/policies/app", policy(["pol-a"]))).status).toBeLessThan(300);
    const refused = await api(url(0), roleToken, "POST", "/v1/keys/pol-b/encrypt", { plaintext: b64("x") });
    expect(refused.body.error?.code).toBe("AccessDenied");
    expect((await api(url(1), roleToken, "POST", "/v1/keys/pol-a/encrypt", { plaintext: b64("x") })).status).toBe(200);
  });
});

describe("AWS grants across nodes", () => {
  it("a grant created on A is in force on B for the next request; revoked on C, it is refused on A", async () => {
    process.env["AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED"] = "true";
    const key = await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "granted-key" });
    expect((await api(url(0), c.rootToken, "PUT", "/v1/roles/grantee", { policies: [] })).status).toBeLessThan(300);
    const kms = async (node: number, role: string) => {
      const k = await api(url(0), c.rootToken, "POST", "/v1/auth/access-keys", { role });
      return new KMSClient({ region: "us-east-1", endpoint: url(node), credentials: { accessKeyId: k.body.accessKeyId, secretAccessKey: k.body.secretAccessKey }, maxAttempts: 1 });
    };
    const [adminA, adminC, granteeA, granteeB] = [await kms(0, "operator"), await kms(2, "operator"), await kms(0, "grantee"), await kms(1, "grantee")];
    const encrypt = (client: KMSClient) => client.send(new EncryptCommand({ KeyId: key.body.keyId, Plaintext: Buffer.from("x") }));
    // Both nodes have the role's (empty) grants cached.
    for (const client of [granteeA, granteeB]) await expect(encrypt(client)).rejects.toMatchObject({ name: "AccessDeniedException" });
    const g = await adminA.send(new CreateGrantCommand({ KeyId: key.body.keyId, GranteePrincipal: "arn:aws:iam::000000000000:role/grantee", Operations: ["Encrypt"] }));
    expect((await encrypt(granteeB)).KeyId).toContain(key.body.keyId);
    expect((await encrypt(granteeA)).KeyId).toContain(key.body.keyId);
    await adminC.send(new RevokeGrantCommand({ KeyId: key.body.keyId, GrantId: g.GrantId }));
    await expect(encrypt(granteeA)).rejects.toMatchObject({ name: "AccessDeniedException" });
    await expect(encrypt(granteeB)).rejects.toMatchObject({ name: "AccessDeniedException" });
  });
});

/** A token of role "app" through AppRole (role id + secret id), issued by node A. */
async function roleLogin(): Promise<string> {
  expect((await api(url(0), c.rootToken, "PUT", "/v1/roles/app", { policies: ["app"], approle: {} })).status).toBeLessThan(300);
  const roleId = await api(url(2), c.rootToken, "GET", "/v1/auth/approle/roles/app/role-id");
  const secret = await api(url(0), c.rootToken, "POST", "/v1/auth/approle/roles/app/secret-id", {});
  expect(secret.status).toBe(201);
  const login = await api(url(1), undefined, "POST", "/v1/auth/approle/login", { roleId: roleId.body.roleId, secretId: secret.body.secretId });
  expect(login.status).toBe(200);
  return login.body.token as string;
}

describe("status through any node", () => {
  it("lists every node with its id, state and version", async () => {
    const result = await runCli(["status", "--json"], { address: url(2) });
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as { node: string; nodes: { id: string; state: string; version: string; live: boolean; lastSeen: string }[] };
    expect(status.node).toBe("node-c");
    expect(status.nodes.map((n) => [n.id, n.state, n.live])).toEqual([
      ["node-a", "unsealed", true],
      ["node-b", "unsealed", true],
      ["node-c", "unsealed", true],
    ]);
    expect(new Set(status.nodes.map((n) => n.version)).size).toBe(1);
  });

  it("each node unseals on its own: a sealed node says so, and so does the list", async () => {
    expect((await api(url(1), c.rootToken, "POST", "/v1/sys/seal")).status).toBeLessThan(300);
    try {
      const through = await api(url(0), undefined, "GET", "/v1/sys/seal-status");
      expect(through.body.sealed).toBe(false);
      await expect.poll(async () => (await api(url(0), undefined, "GET", "/v1/sys/seal-status")).body.nodes.find((n: { id: string }) => n.id === "node-b").state).toBe("sealed");
      expect((await api(url(1), c.rootToken, "POST", "/v1/keys/shared/encrypt", { plaintext: b64("x") })).body.error.code).toBe("Sealed");
      expect((await api(url(0), c.rootToken, "POST", "/v1/keys/shared/encrypt", { plaintext: b64("x") })).status).toBe(200);
    } finally {
      const unsealed = await api(url(1), undefined, "POST", "/v1/sys/unseal", { share: c.share });
      expect(unsealed.body.sealed).toBe(false);
    }
  });
});

describe("a root rotation through one node", () => {
  it("every node follows it for the next request: keys sealed under the new root work everywhere, and another node can rotate next", async () => {
    const rootIds = async () => Promise.all([0, 1, 2].map(async (i) => (await api(url(i), c.rootToken, "GET", "/v1/sys/rotate-root")).body.rootId as string));
    expect((await api(url(1), c.rootToken, "POST", "/v1/keys", { name: "before-rotation" })).status).toBe(201);
    // Every node has the key cached, as sealed under the first root.
    const before = await api(url(2), c.rootToken, "POST", "/v1/keys/before-rotation/encrypt", { plaintext: b64("under the first root") });
    for (const i of [0, 1]) expect((await api(url(i), c.rootToken, "POST", "/v1/keys/before-rotation/encrypt", { plaintext: b64("x") })).status).toBe(200);
    const [first] = await rootIds();
    for (const [rotator, others] of [[0, [1, 2]], [1, [0, 2]]] as const) {
      const rotated = await api(url(rotator), c.rootToken, "POST", "/v1/sys/rotate-root");
      expect(rotated.status).toBe(200);
      expect(rotated.body.state).toBe("idle");
      // Created after the rotation: its version is sealed under the new root alone.
      const name = `after-rotation-${rotator}`;
      expect((await api(url(rotator), c.rootToken, "POST", "/v1/keys", { name })).status).toBe(201);
      for (const i of others) {
        const enc = await api(url(i), c.rootToken, "POST", `/v1/keys/${name}/encrypt`, { plaintext: b64("new root") });
        expect(enc.status, `node ${i} after node ${rotator} rotated`).toBe(200);
        // The older key was re-sealed under the new root by the rotation.
        const dec = await api(url(i), c.rootToken, "POST", "/v1/decrypt", { ciphertext: before.body.ciphertext });
        expect(Buffer.from(dec.body.plaintext, "base64").toString(), `node ${i}`).toBe("under the first root");
      }
      const ids = await rootIds();
      expect(new Set(ids).size).toBe(1);
      expect(ids[0]).toBe(rotated.body.rootId);
    }
    expect((await rootIds())[0]).not.toBe(first);
  });
});

describe("a rekey through one node", () => {
  it("the old shares stop opening every node: a node sealed after the rekey unseals only with the new ones; an unsealed node keeps changing the record for them", async () => {
    const started = await api(url(0), c.rootToken, "POST", "/v1/sys/rekey/init", { shares: 1, threshold: 1 });
    expect(started.status).toBe(200);
    const done = await api(url(0), c.rootToken, "POST", "/v1/sys/rekey/update", { nonce: started.body.nonce, share: c.share });
    expect(done.body).toMatchObject({ complete: true, newShares: 1, newThreshold: 1 });
    const old = c.share;
    c.share = done.body.shares[0];
    // Node B, unsealed with the old shares and never sealed since, takes the new escrow's key (handed
    // over under the root) and can change the record itself: the escrow it writes opens with the new shares.
    const rotated = await api(url(1), c.rootToken, "POST", "/v1/sys/rotate-root");
    expect(rotated.status).toBe(200);
    // Node C read the seal record before the rekey and was never sealed since.
    expect((await api(url(2), c.rootToken, "POST", "/v1/sys/seal")).status).toBeLessThan(300);
    const refused = await api(url(2), undefined, "POST", "/v1/sys/unseal", { share: old });
    expect(refused.body.error.code).toBe("InvalidUnsealKey");
    const unsealed = await api(url(2), undefined, "POST", "/v1/sys/unseal", { share: c.share });
    expect(unsealed.body.sealed).toBe(false);
    expect((await api(url(2), c.rootToken, "POST", "/v1/keys/shared/encrypt", { plaintext: b64("after rekey") })).status).toBe(200);
  });
});

describe("one audit chain per node", () => {
  type NodeReport = { node: string; ok: boolean; entries: number; checkpoints: number; problem?: { code: string; seq: number; where: string } };
  const verify = async () => {
    const pub = await api(url(0), c.rootToken, "GET", "/v1/audit/public-key");
    const keyFile = join(c.dir, "audit.pub");
    writeFileSync(keyFile, pub.body.publicKey);
    const result = await runCli(["audit", "verify", "--server", "--public-key", keyFile, "--json"], { address: url(0), token: c.rootToken });
    return { code: result.code, report: JSON.parse(result.stdout) as { ok: boolean; nodes: NodeReport[] } };
  };

  it("each node writes its own chain with checkpoints naming it; `audit verify --server` checks every chain and reports per node", async () => {
    // Every node has answered requests and written a checkpoint (once a second) since.
    for (const i of [0, 1, 2]) expect((await api(url(i), c.rootToken, "POST", "/v1/keys/shared/encrypt", { plaintext: b64("audited") })).status).toBe(200);
    await expect
      .poll(async () => Number((await c.db.query("SELECT count(DISTINCT node) AS n FROM audit_chains WHERE record LIKE '%\"kind\":\"checkpoint\"%'")).rows[0].n), { timeout: 10_000 })
      .toBe(3);
    const named = await c.db.query<{ node: string; record: string }>("SELECT DISTINCT ON (node) node, record FROM audit_chains WHERE record LIKE '%\"kind\":\"checkpoint\"%' ORDER BY node, seq DESC");
    for (const row of named.rows) expect(JSON.parse(row.record).node).toBe(row.node);

    const { code, report } = await verify();
    expect(code).toBe(0);
    expect(report.ok).toBe(true);
    expect(report.nodes.map((n) => [n.node, n.ok])).toEqual([
      ["node-a", true],
      ["node-b", true],
      ["node-c", true],
    ]);
    for (const n of report.nodes) expect(n.checkpoints).toBeGreaterThan(0);
  });

  it("a record edited in one node's chain is located: that node's chain fails at that record, the others verify", async () => {
    const target = await c.db.query<{ seq: number; record: string }>(
      "SELECT seq, record FROM audit_chains WHERE node = 'node-b' AND record LIKE '%\"outcome\":\"allowed\"%' ORDER BY seq LIMIT 1",
    );
    const { seq, record } = target.rows[0]!;
    await c.db.query("UPDATE audit_chains SET record = $1 WHERE node = 'node-b' AND seq = $2", [record.replace('"outcome":"allowed"', '"outcome":"denied"'), seq]);
    try {
      const { code, report } = await verify();
      expect(code).toBe(1);
      expect(report.ok).toBe(false);
      const b = report.nodes.find((n) => n.node === "node-b")!;
      expect(b.problem).toMatchObject({ code: "edited", seq: Number(seq) });
      expect(report.nodes.filter((n) => n.node !== "node-b").map((n) => n.ok)).toEqual([true, true]);
    } finally {
      await c.db.query("UPDATE audit_chains SET record = $1 WHERE node = 'node-b' AND seq = $2", [record, seq]);
    }
  });
});

/** One request with a deadline: a node that hangs fails the test instead of stalling it. */
async function timed(base: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: any } | { failed: "timeout" | "connection" }> {
  try {
    const res = await fetch(base + path, {
      method,
      headers: { ...(token && { "x-tessera-token": token }), ...(body !== undefined && { "content-type": "application/json" }) },
      ...(body !== undefined && { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  } catch (err) {
    return { failed: (err as Error).name === "TimeoutError" ? "timeout" : "connection" };
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("background work runs on one node at a time", () => {
  it("kill -9 of the lease holder mid-rotation: another node takes over, and no key is rotated twice", async () => {
    const KEYS = 60;
    for (let i = 0; i < KEYS; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => api(url(j % 3), c.rootToken, "POST", "/v1/keys", { name: `rot-${i + j}`, rotationPeriodSeconds: 3600 }));
      for (const r of await Promise.all(batch)) expect(r.status).toBe(201);
    }
    const lease = async () => (await c.db.query<{ holder: string; epoch: string }>("SELECT holder, epoch FROM leases WHERE name = 'background-jobs'")).rows[0]!;
    const before = await lease();
    const holder = c.nodes.findIndex((n) => n.id === before.holder);
    expect(holder).toBeGreaterThanOrEqual(0);
    const rotated = async () => Number((await c.db.query("SELECT count(*) AS n FROM keys WHERE name LIKE 'rot-%' AND primary_version > 1")).rows[0].n);

    // Two hours pass for these keys (their period is one hour): the holder's next scheduler run rotates them all.
    await c.db.query("UPDATE keys SET last_rotated_at = last_rotated_at - 7200000 WHERE name LIKE 'rot-%'");
    const deadline = Date.now() + 20_000;
    while ((await rotated()) === 0 && Date.now() < deadline) await sleep(5);
    await c.nodes[holder]!.server.kill9();
    const atKill = await rotated();
    expect(atKill).toBeGreaterThan(0);

    // The lease expires (2 s, by the database's clock) and a surviving node finishes the work.
    await expect.poll(rotated, { timeout: 30_000, interval: 200 }).toBe(KEYS);
    const after = await lease();
    expect(after.holder).not.toBe(before.holder);
    expect(Number(after.epoch)).toBeGreaterThan(Number(before.epoch));
    const versions = await c.db.query<{ name: string; primary_version: number; n: string }>(
      "SELECT k.name, k.primary_version, count(v.version) AS n FROM keys k JOIN key_versions v ON v.key_id = k.id WHERE k.name LIKE 'rot-%' GROUP BY k.name, k.primary_version",
    );
    expect(versions.rows).toHaveLength(KEYS);
    expect(versions.rows.filter((r) => r.primary_version !== 2 || Number(r.n) !== 2)).toEqual([]);

    const survivor = url((holder + 1) % 3);
    const enc = await api(survivor, c.rootToken, "POST", "/v1/keys/rot-0/encrypt", { plaintext: b64("after takeover") });
    expect(enc.status).toBe(200);
    await c.startNode(holder);
    expect((await api(url(holder), c.rootToken, "POST", "/v1/decrypt", { ciphertext: enc.body.ciphertext })).status).toBe(200);
  });
});

describe("a node dies under load", () => {
  it("kill -9 of one node under mixed load: every acknowledged write survives and the other nodes keep answering", async () => {
    expect((await api(url(0), c.rootToken, "POST", "/v1/keys", { name: "load-shared" })).status).toBe(201);
    const victim = 2;
    const created: string[] = [];
    const sealed: { ciphertext: string; plaintext: string }[] = [];
    const survivorFailures: unknown[] = [];
    let stop = false;
    let victimDead = false;
    const worker = async (node: number, w: number) => {
      for (let n = 0; !stop; n++) {
        if (node === victim && victimDead) return;
        const write = n % 2 === 0;
        const plaintext = `w${w}-${n}`;
        const r = write
          ? await timed(url(node), c.rootToken, "POST", "/v1/keys", { name: `load-${w}-${n}` })
          : await timed(url(node), c.rootToken, "POST", "/v1/keys/load-shared/encrypt", { plaintext: b64(plaintext) });
        if ("failed" in r || r.status >= 300) {
          if (node !== victim) survivorFailures.push({ node, r });
          continue;
        }
        if (write) created.push(`load-${w}-${n}`);
        else sealed.push({ ciphertext: r.body.ciphertext, plaintext });
      }
    };
    const workers = [0, 1, 2, 0, 1, 2].map((node, w) => worker(node, w));
    await sleep(1000);
    await c.nodes[victim]!.server.kill9();
    victimDead = true;
    const ackedAtKill = created.length;
    await sleep(1500);
    stop = true;
    await Promise.all(workers);

    expect(survivorFailures).toEqual([]);
    expect(created.length).toBeGreaterThan(ackedAtKill);
    // Every acknowledged write is there, read through a surviving node.
    const listed = new Set<string>();
    let marker: string | undefined;
    do {
      const page = await api(url(0), c.rootToken, "GET", `/v1/keys?limit=1000${marker ? `&marker=${marker}` : ""}`);
      expect(page.status).toBe(200);
      for (const k of page.body.keys) listed.add(k.name);
      marker = page.body.nextMarker ?? undefined;
    } while (marker !== undefined);
    expect(created.filter((name) => !listed.has(name))).toEqual([]);
    for (const s of sealed.filter((_, i) => i % 10 === 0)) {
      const dec = await api(url(1), c.rootToken, "POST", "/v1/decrypt", { ciphertext: s.ciphertext });
      expect(Buffer.from(dec.body.plaintext, "base64").toString()).toBe(s.plaintext);
    }
    await c.startNode(victim);
    expect((await api(url(victim), c.rootToken, "GET", `/v1/keys/${created.at(-1)}`)).status).toBe(200);
  });
});

describe("PostgreSQL restarts under load", () => {
  it("nodes reconnect; requests in between fail cleanly with 503 Unavailable, none hangs", async () => {
    const own = await startPostgres();
    // timeout_ms 1000: a request waiting on the database gives up after a second.
    const rc = await startCluster(own, { nodes: 2, timeoutMs: 1000 }).catch((err) => {
      own.destroy();
      throw err;
    });
    try {
      const token = rc.rootToken;
      expect((await api(rc.nodes[0]!.url, token, "POST", "/v1/keys", { name: "steady" })).status).toBe(201);
      const outcomes: { phase: string; status: number | string; code?: string }[] = [];
      let phase = "before";
      let stop = false;
      const worker = async (node: number, w: number) => {
        for (let n = 0; !stop; n++) {
          const base = rc.nodes[node]!.url;
          const r =
            n % 2 === 0
              ? await timed(base, token, "POST", "/v1/keys", { name: `pg-${w}-${n}` })
              : await timed(base, token, "POST", "/v1/keys/steady/encrypt", { plaintext: b64("x") });
          outcomes.push("failed" in r ? { phase, status: r.failed } : { phase, status: r.status, ...(r.body?.error && { code: r.body.error.code }) });
          if ("failed" in r || r.status >= 300) await sleep(50);
        }
      };
      const workers = [0, 1, 0, 1].map((node, w) => worker(node, w));
      await sleep(700);
      phase = "down";
      own.stop("fast");
      await sleep(3000);
      own.start();
      phase = "after";
      // Both nodes serve writes and reads again on their own (no restart of a node).
      const recovered = async (i: number) => {
        const w = await timed(rc.nodes[i]!.url, token, "POST", "/v1/keys", { name: `back-${i}-${Date.now()}` });
        const r = await timed(rc.nodes[i]!.url, token, "POST", "/v1/keys/steady/encrypt", { plaintext: b64("x") });
        const ok = !("failed" in w) && w.status === 201 && !("failed" in r) && r.status === 200;
        return ok;
      };
      await expect.poll(() => recovered(0), { timeout: 30_000, interval: 250 }).toBe(true);
      await expect.poll(() => recovered(1), { timeout: 30_000, interval: 250 }).toBe(true);
      stop = true;
      await Promise.all(workers);

      // Both nodes lived through it.
      for (const n of rc.nodes) expect(n.server.proc.exitCode, n.server.output().slice(-2000)).toBeNull();
      // Every answer was a success or a clean Unavailable: no hang, no dropped connection, no 500.
      const unclean = outcomes.filter((o) => !((typeof o.status === "number" && o.status < 300) || (o.status === 503 && o.code === "Unavailable")));
      expect(unclean).toEqual([]);
      expect(outcomes.filter((o) => o.phase === "before" && o.status !== 200 && o.status !== 201)).toEqual([]);
      expect(outcomes.some((o) => o.phase === "down" && o.status === 503)).toBe(true);

      // Caches follow the database again: a key disabled on A is refused on B at once.
      expect((await api(rc.nodes[0]!.url, token, "POST", "/v1/keys/steady/disable")).status).toBe(200);
      expect((await api(rc.nodes[1]!.url, token, "POST", "/v1/keys/steady/encrypt", { plaintext: b64("x") })).body.error?.code).toBe("Disabled");
    } finally {
      await rc.stop();
      own.destroy();
    }
  });
});
