/**
 * Every error code is documented in docs/api.md with the status the native adapter maps it to, and
 * docs/policy.md names the resource every action is authorised on.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TesseraError, actions, errorCatalogue, errorCodes } from "@tessera/protocol";
import { toTesseraError } from "../packages/server/src/api/native/errors.js";
import { awsErrors } from "../packages/server/src/api/aws/aws-api.js";
import { vaultErrors } from "../packages/server/src/api/vault/vault-api.js";
import { actionResourceTypes } from "../packages/server/src/policy/action-resources.js";
import { resourceTypes } from "../packages/server/src/policy/resource.js";

const apiDoc = readFileSync(new URL("../docs/api.md", import.meta.url), "utf8");
const table = apiDoc.slice(apiDoc.indexOf("<!-- error-catalogue:start -->"), apiDoc.indexOf("<!-- error-catalogue:end -->"));

describe("error catalogue", () => {
  it.each(errorCodes)("%s is documented in docs/api.md with its HTTP status", (code) => {
    const row = table.split("\n").find((l) => l.startsWith(`| \`${code}\` |`));
    expect(row, `docs/api.md has no row for ${code}`).toBeDefined();
    expect(row).toContain(`| ${errorCatalogue[code].status} |`);
  });

  it("documents no code that does not exist", () => {
    const documented = [...table.matchAll(/^\| `([A-Za-z]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual([...errorCodes].sort());
  });

  it("the AWS adapter maps every code to an AWS exception name", () => {
    for (const code of errorCodes) expect(awsErrors[code]?.type, code).toMatch(/Exception$/);
  });

  it("the Vault adapter maps every code to a status, documented in docs/vault-compatibility.md", () => {
    const vaultDoc = readFileSync(new URL("../docs/vault-compatibility.md", import.meta.url), "utf8");
    const vaultTable = vaultDoc.slice(vaultDoc.indexOf("<!-- vault-errors:start -->"), vaultDoc.indexOf("<!-- vault-errors:end -->"));
    for (const code of errorCodes) {
      expect(vaultErrors[code]?.status, code).toBeGreaterThanOrEqual(400);
      expect(vaultTable, code).toContain(`| \`${code}\` | ${vaultErrors[code].status} |`);
    }
  });

  it("the native adapter passes every code through unchanged", () => {
    for (const code of errorCodes) expect(toTesseraError(new TesseraError(code)).code).toBe(code);
    expect(toTesseraError(new Error("boom")).code).toBe("Internal");
  });
});

describe("docs/policy.md", () => {
  const policyDoc = readFileSync(new URL("../docs/policy.md", import.meta.url), "utf8");
  const rows = policyDoc
    .slice(policyDoc.indexOf("<!-- action-resources:start -->"), policyDoc.indexOf("<!-- action-resources:end -->"))
    .split("\n")
    .filter((l) => l.startsWith("| `"));
  const ticks = (cell: string) => [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]!);

  it("lists every action once, with the resource types the code authorises it on", () => {
    const documented = new Map<string, string[]>();
    for (const row of rows) {
      const [, actionCell, resourceCell] = row.split("|");
      const types = [...new Set(ticks(resourceCell!).map((r) => r.split("/")[0]!))].sort();
      for (const action of ticks(actionCell!)) {
        expect(documented.has(action), `${action} is listed twice`).toBe(false);
        documented.set(action, types);
      }
    }
    const expected = actions.filter((a) => actionResourceTypes[a].length > 0).map((a) => [a, [...actionResourceTypes[a]].sort()] as const);
    expect([...documented].sort()).toEqual([...expected].sort());
  });

  it("names every resource type", () => {
    for (const type of resourceTypes) expect(policyDoc).toContain(`| \`${type}`);
  });
});
