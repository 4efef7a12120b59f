/**
 * The layering of docs/architecture.md, checked on the import graph so nobody has to remember it:
 * adapters reach keys and storage only through the service; crypto/ and format/ are pure; the
 * audit package is pure and the server's only source of the record format; the client and CLI do
 * not depend on the server (a VM installs them without the server or any native module) — the CLI
 * loads it only at run time for `tessera server`.
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

/** Whether a file names `spec` as a string literal (a static or dynamic import, or a constant handed to one). */
function anyMention(file: string, spec: string): boolean {
  return readFileSync(join(root, file), "utf8").includes(`"${spec}"`);
}

const manifest = (pkg: string): { dependencies?: Record<string, string> } => JSON.parse(readFileSync(join(root, "packages", pkg, "package.json"), "utf8"));

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

  it("the cli names the server package in one place only: the run-time loader of `tessera server`", () => {
    const files = [...sources("packages/client/src"), ...sources("packages/cli/src")];
    expect(files.filter((f) => anyMention(f, "@tessera/server"))).toEqual(["packages/cli/src/commands/load-server.ts"]);
  });

  it("neither the client, the cli nor the audit package depends on the server", () => {
    for (const pkg of ["protocol", "audit", "client", "cli"]) {
      const deps = Object.keys(manifest(pkg).dependencies ?? {});
      expect(deps, pkg).not.toContain("@tessera/server");
      expect(deps.filter((d) => d.startsWith("@tessera/") && !["@tessera/protocol", "@tessera/audit", "@tessera/client"].includes(d)), pkg).toEqual([]);
    }
    expect(Object.keys(manifest("audit").dependencies ?? {})).toEqual([]);
  });

  it("the audit package imports only node: built-ins and its own files (no native module, nothing of the project)", () => {
    const files = sources("packages/audit/src");
    expect(files.length).toBeGreaterThan(0);
    expect(violations(files, (to) => !to.startsWith("node:") && !to.startsWith("packages/audit/src/"))).toEqual([]);
  });

  it("the server takes the audit record format and verification from @tessera/audit, not from a copy", () => {
    const files = sources(server);
    expect(files.filter((f) => /\/audit\/(record|verify|file-trail)\.ts$/.test(f))).toEqual([]);
    expect(files.filter((f) => /export (function|const) (canonicalBody|checkLine|verifyTrail|splitLine)\b/.test(readFileSync(join(root, f), "utf8")))).toEqual([]);
  });
});
