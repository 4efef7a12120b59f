/**
 * The layering of docs/architecture.md, checked on the import graph so nobody has to remember it:
 * adapters reach keys and storage only through the service; crypto/ and format/ are pure; the
 * client and CLI never import the server statically (a VM installs the client without natives).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".test.ts"))
    .map((e) => relative(root, join(e.parentPath, e.name)));
}

function staticImports(file: string): string[] {
  const text = readFileSync(join(root, file), "utf8");
  return [...text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+["']([^"']+)["']/gms)].map((m) => m[1]!);
}

/** Resolves a relative import to a path under packages/server/src (or returns the bare specifier). */
function target(file: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  return relative(root, join(root, file, "..", spec));
}

const server = "packages/server/src/";
const violations = (files: string[], forbidden: (to: string) => boolean) =>
  files.flatMap((f) => staticImports(f).filter((s) => forbidden(target(f, s))).map((s) => `${f} imports ${s}`));

describe("import boundaries", () => {
  it("api/* reaches keys/ and store/ only through the service", () => {
    const files = sources(`${server}api`);
    expect(files.length).toBeGreaterThan(0);
    expect(violations(files, (to) => /^packages\/server\/src\/(keys|store|seal|crypto|format|identity|policy)\//.test(to))).toEqual([]);
  });

  it("crypto/ and format/ import nothing of the project but protocol and each other", () => {
    const files = [...sources(`${server}crypto`), ...sources(`${server}format`)];
    expect(
      violations(files, (to) => (to.startsWith(server) && !/^packages\/server\/src\/(crypto|format)\//.test(to)) || (to.startsWith("@tessera/") && to !== "@tessera/protocol")),
    ).toEqual([]);
  });

  it("the store knows rows, not policies, keys or crypto", () => {
    expect(violations(sources(`${server}store`), (to) => to.startsWith(server) && !to.startsWith(`${server}store/`))).toEqual([]);
  });

  it("protocol has no I/O and no project imports", () => {
    expect(violations(sources("packages/protocol/src"), (to) => to.startsWith("node:") || to.startsWith("@tessera/"))).toEqual([]);
  });

  it("client and cli never import the server statically", () => {
    const files = [...sources("packages/client/src"), ...sources("packages/cli/src")];
    expect(violations(files, (to) => to === "@tessera/server" || to.startsWith("packages/server/"))).toEqual([]);
  });
});
