/**
 * The layering of docs/architecture.md, checked on the import graph so nobody has to remember it:
 * the server's folders form one order and import only downwards; there are no import cycles, not
 * even between files of one folder; adapters reach keys and storage only through the service;
 * crypto/ and format/ are pure; the client and CLI never import the server statically (a VM installs
 * the client without natives).
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

/**
 * The server's layers, lowest first. A file may import its own folder and the folders below it,
 * never above. `clock.ts` is a leaf anyone may use; app.ts, main.ts, scheduler.ts and index.ts are
 * the composition root above everything.
 */
const layers = ["clock.ts", "crypto", "format", "store", "seal", "keys", "principal", "policy", "identity", "audit", "config", "service", "api", "(root)"];

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
});
