import { describe, expect, it } from "vitest";
import { parseTemplate, TemplateSyntaxError } from "./template-syntax.js";

const error = (text: string) => {
  try {
    parseTemplate(text, "t");
  } catch (err) {
    expect(err).toBeInstanceOf(TemplateSyntaxError);
    return (err as Error).message;
  }
  throw new Error("parsed");
};

describe("the template syntax", () => {
  it("parses text, calls with arguments, options and filters, and literals", () => {
    expect(parseTemplate('a={{ decrypt "file:/x.ct" context.app="billing" }}\nb={{ derive "k" length=32 | hex }}{{ "{{" }}', "t")).toEqual([
      { kind: "text", text: "a=" },
      { kind: "call", fn: "decrypt", args: ["file:/x.ct"], options: { "context.app": "billing" }, filters: [], line: 1 },
      { kind: "text", text: "\nb=" },
      { kind: "call", fn: "derive", args: ["k"], options: { length: "32" }, filters: ["hex"], line: 2 },
      { kind: "literal", value: "{{", filters: [] },
    ]);
    expect(parseTemplate('{{ secret "db/a b" "pass\\"word" version=2 mount="kv" | trim | json }}', "t")).toEqual([
      { kind: "call", fn: "secret", args: ["db/a b", 'pass"word'], options: { version: "2", mount: "kv" }, filters: ["trim", "json"], line: 1 },
    ]);
    expect(parseTemplate("no actions at all }}", "t")).toEqual([{ kind: "text", text: "no actions at all }}" }]);
  });

  it("reports mistakes with the template and line", () => {
    expect(error("x\n{{ decrypt }}")).toBe("t:2: decrypt takes 1 quoted argument(s), got 0");
    expect(error('{{ fetch "x" }}')).toContain('unknown function "fetch"');
    expect(error('{{ decrypt "x" length=3 }}')).toContain('decrypt takes no option "length"');
    expect(error('{{ derive "k" length=0 }}')).toContain("length must be a positive integer");
    expect(error('{{ decrypt "x" | upper }}')).toContain("a filter after");
    expect(error('{{ decrypt "x"')).toContain("without a matching");
    expect(error('{{ decrypt "x }}')).toContain("without a matching");
    expect(error('{{ secret "a" mount="m" "b" }}')).toContain("arguments come before options");
    expect(error("{{ }}")).toContain("empty action");
  });
});
