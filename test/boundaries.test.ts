/**
 * The layering of docs/architecture.md, checked on the import graph so nobody has to remember it:
 * the server's folders form one order and import only downwards; there are no import cycles, not
 * even between files of one folder; adapters reach keys and storage only through the service;
 * crypto/ and format/ are pure; the audit package is pure and the server's only source of the record
 * format; the client and CLI do not depend on the server (a VM installs them without the server or
 * any native module) — the CLI loads it only at run time for `tessera server`.
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

/**
 * The server's layers, lowest first. A file may import its own folder and the folders below it,
 * never above. `clock.ts` is a leaf anyone may use; app.ts, main.ts, scheduler.ts and index.ts are
 * the composition root above everything.
 */
const layers = ["clock.ts", "crypto", "format", "store", "seal", "keys", "principal", "policy", "identity", "audit", "config", "service", "api", "workers", "(root)"];

/** The layer of a file under packages/server/src. */
function layerOf(file: string): number {
  const rest = file.slice(server.length);
  const top = rest.includes("/") ? rest.slice(0, rest.indexOf("/")) : rest === "clock.ts" ? "clock.ts" : "(root)";
  const i = layers.indexOf(top);
  if (i < 0) throw new Error(`${file}: folder ${top} has no place in the layer order; add it to test/boundaries.test.ts`);
  return i;
}

/** Every relative import as an edge between source files (`.js` specifiers name `.ts` sources). */
function edges(files: string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const f of files) {
    graph.set(
      f,
      staticImports(f)
        .filter((s) => s.startsWith("."))
        .map((s) => target(f, s).replace(/\.js$/, ".ts")),
    );
  }
  return graph;
}

/** The import cycles of a graph, each as the list of files around it (Tarjan's strongly connected components). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (graph.get(v) ?? []).includes(v)) out.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return out;
}
const violations = (files: string[], forbidden: (to: string) => boolean) =>
  files.flatMap((f) => staticImports(f).filter((s) => forbidden(target(f, s))).map((s) => `${f} imports ${s}`));

describe("import boundaries", () => {
  it("the server's folders import only their own layer and those below it", () => {
    const files = sources(server);
    const upwards = files.flatMap((f) =>
      staticImports(f)
        .map((s) => target(f, s).replace(/\.js$/, ".ts"))
        .filter((to) => to.startsWith(server) && layerOf(to) > layerOf(f))
        .map((to) => `${f} (${layers[layerOf(f)]}) imports ${to} (${layers[layerOf(to)]})`),
    );
    expect(upwards).toEqual([]);
  });

  it("there are no import cycles, between folders or between files, in any package", () => {
    const files = ["packages/protocol/src", "packages/server/src", "packages/client/src", "packages/cli/src"].flatMap(sources);
    expect(cycles(edges(files))).toEqual([]);
    // The cycle check can see one: a graph with a loop in it is reported.
    expect(cycles(new Map([["a", ["b"]], ["b", ["c"]], ["c", ["a"]], ["d", ["a"]]]))).toEqual([["a", "b", "c"]]);
  });

  it("policy/ decides over what it is given: it imports no identity, service or audit code", () => {
    expect(violations(sources(`${server}policy`), (to) => /^packages\/server\/src\/(identity|service|audit|api|keys)\//.test(to))).toEqual([]);
  });

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
