/**
 * The envelope example of packages/client/README.md runs as written against a real server on a
 * loopback socket: the block between its envelope-example markers, with its `import` lines bound to
 * the same modules (the SDK's sources, as every test uses them) and `console.log` captured.
 */
import type { AddressInfo } from "node:net";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import * as sdk from "@tessera/client";
import { REPO } from "../helpers/server-process.js";
import { startTestApp, type TestApp } from "../helpers/app.js";

let t: TestApp;
let address: string;
beforeAll(async () => {
  t = await startTestApp();
  await t.app.http.listen({ host: "127.0.0.1", port: 0 });
  address = `http://127.0.0.1:${(t.app.http.server.address() as AddressInfo).port}`;
  await new sdk.TesseraClient({ address, token: t.rootToken }).createKey({ name: "records" });
});
afterAll(async () => {
  await t?.close();
});

function example(): string {
  const readme = readFileSync(`${REPO}packages/client/README.md`, "utf8");
  const block = readme.slice(readme.indexOf("<!-- envelope-example:start -->"), readme.indexOf("<!-- envelope-example:end -->"));
  const code = /```js\n([\s\S]*?)```/.exec(block)?.[1];
  if (code === undefined) throw new Error("packages/client/README.md has no envelope example block");
  return code;
}

/** `import { a, b } from "m";` → `const { a, b } = await load("m");` — the rest of the code unchanged. */
function bindImports(code: string): string {
  return code.replace(/^import \{([^}]*)\} from "([^"]+)";$/gm, (_line, names: string, from: string) => `const {${names}} = await load(${JSON.stringify(from)});`);
}

describe("packages/client/README.md envelope example", () => {
  it("runs as written and prints what its comments say", async () => {
    const lines: string[] = [];
    const log = (...args: unknown[]) => lines.push(args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" "));
    const load = (from: string) => (from === "@tessera/client" ? Promise.resolve(sdk) : import(from));
    const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...a: unknown[]) => Promise<void>;
    const run = new AsyncFunction("load", "console", "process", bindImports(example()));
    await run(load, { log }, { env: { TESSERA_ADDR: address, TESSERA_TOKEN: t.rootToken } });
    // The three GenerateDataKey calls: the buffer, the file, and the one for all 50 cached records.
    const audit = await new sdk.TesseraClient({ address, token: t.rootToken }).auditQuery({ action: "kms:GenerateDataKey", limit: 1000 });
    expect(audit.records.filter((r) => r["outcome"] === "allowed")).toHaveLength(3);
    expect(lines).toEqual([
      'invoice 42 {"table":"invoices","tenant":"acme"}',
      "id,amount\n1,100\n",
      "50 records, 1 GenerateDataKey call",
    ]);
  });
});
