/**
 * A test that cannot fail reads as coverage and is worse than none. This scans every test source
 * (and the store contract suite) and fails on the two shapes that most often hide one:
 *
 * - a bare `.toThrow()` / `rejects.toThrow()`: any error passes, a TypeError from a bug included.
 *   Name what must be thrown: `rejects.toMatchObject({ code: "…" })`, `toThrow(expect.objectContaining({ code }))`,
 *   or an error class. (`not.toThrow()` is fine: it asserts that nothing is thrown.)
 * - a test body with no assertion: no call of anything named `expect…` or `assert…` (helpers such as
 *   `expectCode` count), nor of a function of the same file that makes one, so it passes whatever the
 *   code does. A test whose assertions truly live elsewhere (an imported helper with another name)
 *   says so inside its body, with a reason: `// test-hygiene: asserts in <helper> (<why>)`;
 * - a test body that returns early under a condition (`if (!available) return;`): it passes silently
 *   where it checked nothing. Use `it.skipIf(…)` / `it.runIf(…)`, which report the skip.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = new URL("..", import.meta.url).pathname;

/** Test sources: every *.test.ts and contract suite under packages/<pkg>/src and test/. */
function testSources(): string[] {
  const dirs = [
    "test",
    ...readdirSync(join(root, "packages"), { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => `packages/${e.name}/src`),
  ];
  return dirs.flatMap((dir) =>
    readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
      .filter((e) => e.isFile() && /(\.test|-contract)\.ts$/.test(e.name) && !e.parentPath.includes("node_modules"))
      .map((e) => relative(root, join(e.parentPath, e.name))),
  );
}

const ESCAPE_HATCH = /\/\/ test-hygiene: asserts in \S+ \(.+\)/;
const TEST_FUNCTIONS = new Set(["it", "test"]);
const TEST_MODIFIERS = new Set(["only", "skip", "concurrent", "sequential", "fails", "each", "skipIf", "runIf", "for"]);

/** The identifier an expression chain starts from: `expect(x).rejects.toThrow` → `expect`. */
function base(e: ts.Expression): string | undefined {
  for (;;) {
    if (ts.isIdentifier(e)) return e.text;
    if (ts.isPropertyAccessExpression(e) || ts.isCallExpression(e) || ts.isNonNullExpression(e) || ts.isParenthesizedExpression(e)) e = e.expression;
    else if (ts.isAwaitExpression(e)) e = e.expression;
    else return undefined;
  }
}

/** Whether `callee` registers a test: `it`, `test`, `it.only`, `it.each(table)`, `it.skipIf(c)`, … */
function isTestCallee(callee: ts.Expression): boolean {
  if (ts.isIdentifier(callee)) return TEST_FUNCTIONS.has(callee.text);
  if (ts.isPropertyAccessExpression(callee)) return TEST_MODIFIERS.has(callee.name.text) && isTestCallee(callee.expression);
  if (ts.isCallExpression(callee)) return isTestCallee(callee.expression);
  return false;
}

/** Whether `node` calls `expect…`/`assert…` or a function of this file that does (`asserting`). */
function containsAssertion(node: ts.Node, asserting: ReadonlySet<string>): boolean {
  let found = false;
  const visit = (n: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(n)) {
      const name = base(n.expression) ?? "";
      if (/^(expect|assert)/.test(name) || asserting.has(name)) {
        found = true;
        return;
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(node);
  return found;
}

/** The functions declared in a file (`function f` or `const f = () => …`) that assert, directly or through each other. */
function assertingHelpers(source: ts.SourceFile): Set<string> {
  const helpers = new Map<string, ts.Node>();
  const visit = (n: ts.Node): void => {
    if (ts.isFunctionDeclaration(n) && n.name !== undefined && n.body !== undefined) helpers.set(n.name.text, n.body);
    if (ts.isVariableDeclaration(n) && ts.isIdentifier(n.name) && n.initializer !== undefined && (ts.isArrowFunction(n.initializer) || ts.isFunctionExpression(n.initializer))) {
      helpers.set(n.name.text, n.initializer.body);
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  const asserting = new Set<string>();
  for (let grew = true; grew; ) {
    grew = false;
    for (const [name, body] of helpers) {
      if (!asserting.has(name) && containsAssertion(body, asserting)) {
        asserting.add(name);
        grew = true;
      }
    }
  }
  return asserting;
}

/** The hygiene problems of one test source, as `file:line: what`. */
function hygieneProblems(file: string, text: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const problems: string[] = [];
  const asserting = assertingHelpers(source);
  const at = (n: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(n.getStart(source)).line + 1}`;
  const visit = (n: ts.Node): void => {
    if (ts.isCallExpression(n)) {
      const callee = n.expression;
      // A bare toThrow(): any thrown value satisfies it.
      if (
        ts.isPropertyAccessExpression(callee) &&
        (callee.name.text === "toThrow" || callee.name.text === "toThrowError") &&
        n.arguments.length === 0 &&
        !(ts.isPropertyAccessExpression(callee.expression) && callee.expression.name.text === "not")
      ) {
        problems.push(`${at(n)}: bare ${callee.name.text}() — name the error (its code, or its class)`);
      }
      // A test whose body asserts nothing.
      if (isTestCallee(callee)) {
        const fn = n.arguments.find((a) => ts.isArrowFunction(a) || ts.isFunctionExpression(a)) as ts.ArrowFunction | ts.FunctionExpression | undefined;
        const name = n.arguments[0] !== undefined && ts.isStringLiteralLike(n.arguments[0]) ? n.arguments[0].text : "(computed name)";
        if (fn !== undefined && !containsAssertion(fn.body, asserting) && !ESCAPE_HATCH.test(fn.body.getFullText(source))) {
          problems.push(`${at(n)}: test "${name}" asserts nothing (no expect…/assert… call)`);
        }
        if (fn !== undefined && ts.isBlock(fn.body)) {
          for (const statement of fn.body.statements) {
            const then = ts.isIfStatement(statement) ? statement.thenStatement : undefined;
            if (then !== undefined && (ts.isReturnStatement(then) || (ts.isBlock(then) && then.statements.some(ts.isReturnStatement)))) {
              problems.push(`${at(statement)}: test "${name}" returns early under a condition — use it.skipIf/it.runIf`);
            }
          }
        }
      }
    }
    ts.forEachChild(n, visit);
  };
  visit(source);
  return problems;
}

describe("test hygiene", () => {
  it("finds the test sources (the scan is not vacuous)", () => {
    const files = testSources();
    expect(files).toContain("test/test-hygiene.test.ts");
    expect(files).toContain("packages/server/src/store/store-contract.ts");
    expect(files.filter((f) => f.startsWith("packages/")).length).toBeGreaterThan(20);
    expect(files.filter((f) => f.startsWith("test/integration/")).length).toBeGreaterThan(10);
  });

  it("flags bare toThrow(), tests without assertions and silent early returns, and nothing else", () => {
    const sample = [
      'it("calls only", () => { run(); });',
      'it("rejects anything", async () => { await expect(p).rejects.toThrow(); });',
      'test("throws anything", () => { expect(() => f()).toThrowError(); });',
      'it("throws nothing", () => { expect(() => f()).not.toThrow(); });',
      'it("names the code", async () => { await expect(p).rejects.toMatchObject({ code: "NotFound" }); });',
      'it.each([1, 2])("helper %i", (n) => { expectCode(n, "InvalidInput"); });',
      'it.skipIf(x)("skipped, empty", () => {});',
      'it.each([1])("table, empty", async (n) => { await call(n); });',
      'it("assert module", () => { assert.equal(1, 1); });',
      'it("in a helper", () => { refusal(); // test-hygiene: asserts in refusal (it throws unless refused)',
      "});",
      'describe("group", () => { it("nested", () => { void 0; }); });',
      "const checks = (n: number) => { expect(n).toBe(1); };",
      "function indirect(n: number) { checks(n); }",
      'it("through local helpers", () => { indirect(1); });',
      'it("hatch without a reason", () => { h(); // test-hygiene: asserts in h',
      "});",
      'it("silently skipped", () => { if (!tool) return; expect(run()).toBe(0); });',
      'it("loops and returns", () => { for (const x of xs) { if (x) return; } expect(1).toBe(1); });',
    ].join("\n");
    expect(hygieneProblems("sample.ts", sample)).toEqual([
      'sample.ts:1: test "calls only" asserts nothing (no expect…/assert… call)',
      "sample.ts:2: bare toThrow() — name the error (its code, or its class)",
      "sample.ts:3: bare toThrowError() — name the error (its code, or its class)",
      'sample.ts:7: test "skipped, empty" asserts nothing (no expect…/assert… call)',
      'sample.ts:8: test "table, empty" asserts nothing (no expect…/assert… call)',
      'sample.ts:12: test "nested" asserts nothing (no expect…/assert… call)',
      'sample.ts:16: test "hatch without a reason" asserts nothing (no expect…/assert… call)',
      'sample.ts:18: test "silently skipped" returns early under a condition — use it.skipIf/it.runIf',
    ]);
  });

  it("no test source has a bare toThrow(), a test that asserts nothing or one that returns early", () => {
    const problems = testSources().flatMap((f) => hygieneProblems(f, readFileSync(join(root, f), "utf8")));
    expect(problems).toEqual([]);
  });
});
