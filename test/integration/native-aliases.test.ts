/**
 * Aliases on the native API (`GET /v1/aliases`, `PUT|DELETE /v1/aliases/{name}`), through a real
 * server process: names as AWS spells them or bare, PUT creating (kms:CreateAlias) or moving
 * (kms:UpdateAlias), each authorised on the alias as well as on the keys — a caller allowed on the
 * key but not on `alias/…` is refused — and `tessera key alias list|set|delete` over the same routes.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../helpers/cli-process.js";
import { startServer, type ServerProcess } from "../helpers/server-process.js";

const ROOT = "native-aliases-root";
let server: ServerProcess;
let first = "";
let second = "";

async function call(method: string, path: string, body?: unknown, token = ROOT): Promise<{ status: number; body: any }> {
  const res = await fetch(server.url + path, {
    method,
    headers: { "x-tessera-token": token, ...(body !== undefined && { "content-type": "application/json" }) },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === "" ? undefined : JSON.parse(text) };
}
const tokenFor = async (actions: string[], resources: string[]) =>
  (await call("POST", "/v1/auth/tokens", { displayName: "alias-test", grants: [{ actions, resources }] })).body.token as string;
const names = async (key: string) => ((await call("GET", `/v1/aliases?keyId=${encodeURIComponent(key)}`)).body.aliases as { name: string }[]).map((a) => a.name);

beforeAll(async () => {
  server = await startServer(["--dev", "--listen", "127.0.0.1:{port}", "--dev-root-token", ROOT]);
  first = (await call("POST", "/v1/keys", { name: "orders-2026" })).body.keyId;
  second = (await call("POST", "/v1/keys", { name: "orders-2027" })).body.keyId;
}, 60_000);
afterAll(async () => {
  await server?.stop();
});

describe("aliases on the native API", () => {
  it("creates an alias by bare or AWS name, moves it with a second PUT, resolves keys through it and deletes it", async () => {
    expect(await call("PUT", "/v1/aliases/orders", { keyId: "orders-2026" })).toEqual({ status: 200, body: { name: "alias/orders", created: true } });
    expect(await call("PUT", "/v1/aliases/alias/team/orders", { keyId: first })).toEqual({ status: 200, body: { name: "alias/team/orders", created: true } });
    expect(await names("orders-2026")).toEqual(["alias/orders", "alias/team/orders"]);
    expect((await call("GET", `/v1/keys/${encodeURIComponent("alias/orders")}`)).body.keyId).toBe(first);

    expect(await call("PUT", "/v1/aliases/alias/orders", { keyId: "orders-2027" })).toEqual({ status: 200, body: { name: "alias/orders", created: false } });
    expect((await call("GET", `/v1/keys/${encodeURIComponent("alias/orders")}`)).body.keyId).toBe(second);
    const listed = (await call("GET", "/v1/aliases")).body.aliases as { name: string; keyId: string; createdAt: string; updatedAt: string }[];
    expect(listed.map((a) => [a.name, a.keyId])).toEqual([
      ["alias/orders", second],
      ["alias/team/orders", first],
    ]);
    expect(listed[0]!.updatedAt >= listed[0]!.createdAt).toBe(true);

    // The entries of the trail name the action each PUT was authorised as.
    const actions = async (action: string) => (await call("GET", `/v1/audit/entries?action=${action}&outcome=allowed`)).body.records.length as number;
    expect([await actions("kms:CreateAlias"), await actions("kms:UpdateAlias")]).toEqual([2, 1]);

    expect((await call("DELETE", "/v1/aliases/team/orders")).status).toBe(204);
    expect((await call("DELETE", "/v1/aliases/alias/orders")).status).toBe(204);
    expect((await call("DELETE", "/v1/aliases/orders")).body.error.code).toBe("NotFound");
    expect((await call("GET", "/v1/aliases")).body).toEqual({ aliases: [] });
  });

  it("refuses reserved and malformed names, unknown keys and bodies without a key", async () => {
    expect((await call("PUT", "/v1/aliases/aws/orders", { keyId: first })).body.error.code).toBe("InvalidInput");
    expect((await call("PUT", "/v1/aliases/bad name", { keyId: first })).body.error.code).toBe("InvalidInput");
    expect((await call("PUT", "/v1/aliases/ghost", { keyId: "no-such-key" })).body.error.code).toBe("NotFound");
    expect((await call("PUT", "/v1/aliases/ghost", {})).body.error.code).toBe("InvalidInput");
    expect((await call("GET", "/v1/aliases?keyId=no-such-key")).body.error.code).toBe("NotFound");
    expect((await call("GET", "/v1/aliases")).body).toEqual({ aliases: [] });
  });

  it("authorises the alias as well as the key: allowed on the key but not on alias/… is refused", async () => {
    const all = ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias", "kms:ListAliases"];
    const keyOnly = await tokenFor(all, ["key/orders-2026", "key/orders-2027"]);
    const refused = await call("PUT", "/v1/aliases/billing", { keyId: "orders-2026" }, keyOnly);
    expect([refused.status, refused.body.error.code]).toEqual([403, "AccessDenied"]);
    expect(refused.body.error.message).toContain("kms:CreateAlias");
    expect((await call("GET", "/v1/aliases")).body).toEqual({ aliases: [] });
    // Listing one key's aliases needs the key only; listing every alias needs alias/*.
    expect((await call("GET", "/v1/aliases?keyId=orders-2026", undefined, keyOnly)).status).toBe(200);
    expect((await call("GET", "/v1/aliases", undefined, keyOnly)).body.error.code).toBe("AccessDenied");

    // Allowed on alias/billing and both keys, but only to create: moving it is kms:UpdateAlias, refused.
    const createOnly = await tokenFor(["kms:CreateAlias"], ["alias/billing", "key/orders-2026", "key/orders-2027"]);
    expect((await call("PUT", "/v1/aliases/billing", { keyId: "orders-2026" }, createOnly)).body).toEqual({ name: "alias/billing", created: true });
    expect((await call("PUT", "/v1/aliases/other", { keyId: "orders-2026" }, createOnly)).body.error.code).toBe("AccessDenied");
    const move = await call("PUT", "/v1/aliases/billing", { keyId: "orders-2027" }, createOnly);
    expect([move.body.error.code, move.body.error.message.includes("kms:UpdateAlias")]).toEqual(["AccessDenied", true]);

    // Allowed on the alias and the key it points at, but not on the key it would move to.
    const oneKey = await tokenFor(["kms:UpdateAlias", "kms:DeleteAlias"], ["alias/billing", "key/orders-2026"]);
    expect((await call("PUT", "/v1/aliases/billing", { keyId: "orders-2027" }, oneKey)).body.error.code).toBe("AccessDenied");
    expect((await call("DELETE", "/v1/aliases/billing", undefined, keyOnly)).body.error.code).toBe("AccessDenied");
    expect(await names("orders-2026")).toEqual(["alias/billing"]);
    expect((await call("DELETE", "/v1/aliases/billing", undefined, oneKey)).status).toBe(204);
    expect(await names("orders-2026")).toEqual([]);
  });

  it("tessera key alias set, list and delete", async () => {
    const cli = (...args: string[]) => runCli(args, { address: server.url, token: ROOT });
    const set = await cli("key", "alias", "set", "payments", "orders-2026");
    expect([set.code, set.stdout, set.stderr]).toEqual([0, "Alias alias/payments created for orders-2026.\n", ""]);
    const moved = await cli("key", "alias", "set", "alias/payments", "orders-2027");
    expect([moved.code, moved.stdout]).toEqual([0, "Alias alias/payments now points at orders-2027.\n"]);
    const list = await cli("key", "alias", "list", "orders-2027", "--json");
    expect(JSON.parse(list.stdout).aliases.map((a: { name: string; keyId: string }) => [a.name, a.keyId])).toEqual([["alias/payments", second]]);
    const table = await cli("key", "alias", "list");
    expect(table.stdout).toContain("alias/payments");
    expect(table.stdout).toContain(second);
    expect(await cli("key", "alias", "delete", "payments")).toMatchObject({ code: 0, stdout: "Alias payments deleted.\n" });
    const again = await cli("key", "alias", "delete", "payments");
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("alias/payments does not exist");
  });
});
