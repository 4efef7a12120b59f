/** Every error code is documented in docs/api.md with the status the native adapter maps it to. */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { TesseraError, errorCatalogue, errorCodes } from "@tessera/protocol";
import { toTesseraError } from "../packages/server/src/api/native/errors.js";
import { awsErrors } from "../packages/server/src/api/aws/aws-api.js";

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

  it("the native adapter passes every code through unchanged", () => {
    for (const code of errorCodes) expect(toTesseraError(new TesseraError(code)).code).toBe(code);
    expect(toTesseraError(new Error("boom")).code).toBe("Internal");
  });
});
