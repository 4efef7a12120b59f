import { TesseraError } from "@tessera/protocol";
import { describe, expect, it } from "vitest";
import { compilePolicy } from "./policy-document.js";
import { formatPattern, parseResource, parseResourcePattern, patternCovers, patternMatches, resources } from "./resource.js";

const parse = (text: string, strict = true) => parseResourcePattern(text, "/r", strict);
const fieldOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    if (err instanceof TesseraError && err.code === "InvalidInput") return err.field;
    throw err;
  }
  return undefined;
};

describe("resource patterns", () => {
  it("reads TYPE/GLOB, unnamed types, `*`, and bare patterns as keys", () => {
    expect(parse("*")).toEqual({ type: "*" });
    expect(parse("orders-*")).toEqual({ type: "key", glob: "orders-*" });
    expect(parse("key/orders-*")).toEqual({ type: "key", glob: "orders-*" });
    expect(parse("key/team/orders")).toEqual({ type: "key", glob: "team/orders" });
    expect(parse("policy/orders-*")).toEqual({ type: "policy", glob: "orders-*" });
    expect(parse("alias/orders")).toEqual({ type: "alias", glob: "orders" });
    expect(parse("access-key/TSRK*")).toEqual({ type: "access-key", glob: "TSRK*" });
    expect(parse("audit")).toEqual({ type: "audit" });
    expect(parse("sys")).toEqual({ type: "sys" });
    for (const text of ["*", "orders-*", "policy/a", "audit", "key/team/x"]) expect(parse(text, false)).toEqual(parse(text));
  });

  it("writes refuse unknown types, named types without a name and names on unnamed types; stored documents read them as keys", () => {
    for (const text of ["team/orders", "keys/orders", "policy", "policy/", "audit/x", "*/x"]) {
      expect(fieldOf(() => parse(text))).toBe("/r");
      expect(parse(text, false)).toEqual({ type: "key", glob: text });
    }
  });

  it("matches only its own type; keys by id or name", () => {
    const key = resources.key("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11", "orders-db");
    expect(patternMatches(parse("orders-*"), key)).toBe(true);
    expect(patternMatches(parse("6f1c0b8e-*"), key)).toBe(true);
    expect(patternMatches(parse("orders-*"), resources.policy("orders-db"))).toBe(false);
    expect(patternMatches(parse("orders-*"), resources.role("orders-db"))).toBe(false);
    expect(patternMatches(parse("policy/orders-*"), key)).toBe(false);
    expect(patternMatches(parse("policy/orders-*"), resources.policy("orders-x"))).toBe(true);
    expect(patternMatches(parse("role/orders-*"), resources.policy("orders-x"))).toBe(false);
    expect(patternMatches(parse("alias/orders"), resources.alias("alias/orders"))).toBe(true);
    expect(patternMatches(parse("orders"), resources.alias("alias/orders"))).toBe(false);
    expect(patternMatches(parse("audit"), resources.audit)).toBe(true);
    expect(patternMatches(parse("audit"), resources.sys)).toBe(false);
    expect(patternMatches(parse("*"), resources.sys)).toBe(true);
  });

  it("coverage for token grants is by type and never by reasoning about globs", () => {
    expect(patternCovers(parse("orders-*"), parse("key/orders-db"))).toBe(true);
    expect(patternCovers(parse("key/*"), parse("orders-*"))).toBe(true);
    expect(patternCovers(parse("orders-*"), parse("orders-a*"))).toBe(false);
    expect(patternCovers(parse("orders-*"), parse("policy/orders-db"))).toBe(false);
    expect(patternCovers(parse("*"), parse("audit"))).toBe(true);
    expect(patternCovers(parse("key/*"), parse("*"))).toBe(false);
  });

  it("formats back to the typed spelling", () => {
    expect(["*", "orders-*", "policy/a*", "audit"].map((t) => formatPattern(parse(t)))).toEqual(["*", "key/orders-*", "policy/a*", "audit"]);
  });
});

describe("single resources (the simulator's)", () => {
  it("reads one resource, TYPE/* for a collection, and refuses patterns and unknown types", () => {
    expect(parseResource("payment-db", "/resource")).toEqual(resources.keyRef("payment-db"));
    expect(parseResource("policy/*", "/resource")).toEqual(resources.every("policy"));
    expect(parseResource("alias/orders", "/resource")).toEqual(resources.alias("alias/orders"));
    expect(parseResource("audit", "/resource")).toEqual(resources.audit);
    for (const text of ["*", "orders-*", "policy/o*", "team/x"]) expect(fieldOf(() => parseResource(text, "/resource"))).toBe("/resource");
  });
});

describe("policy writes", () => {
  const write = (statement: object) => compilePolicy("p", { statements: [{ effect: "allow", ...statement }] }, { strict: true });

  it("refuse a resource type no action of the statement acts on, naming the field", () => {
    expect(fieldOf(() => write({ actions: ["kms:Encrypt"], resources: ["orders-*", "policy/orders-*"] }))).toBe("/statements/0/resources/1");
    expect(fieldOf(() => write({ actions: ["kms:*"], resources: ["audit"] }))).toBe("/statements/0/resources/0");
  });

  it("refuse an action none of the resources can match (administration on a bare, that is key, pattern)", () => {
    expect(fieldOf(() => write({ actions: ["kms:Encrypt", "audit:Read"], resources: ["orders-*"] }))).toBe("/statements/0/actions/1");
    expect(fieldOf(() => write({ actions: ["policy:PutPolicy"], resources: ["orders-*"] }))).toBe("/statements/0/actions/0");
  });

  it("accept typed statements, wildcards and `*`", () => {
    expect(() => write({ actions: ["*"], resources: ["orders-*"] })).not.toThrow();
    expect(() => write({ actions: ["policy:*", "kms:Encrypt"], resources: ["policy/orders-*", "orders-*"] })).not.toThrow();
    expect(() => write({ actions: ["audit:Read", "sys:Seal"], resources: ["audit", "sys"] })).not.toThrow();
    expect(() => write({ actions: ["policy:PutPolicy"], resources: ["*"] })).not.toThrow();
  });

  it("stored documents written before types keep loading, their bare patterns meaning keys", () => {
    const legacy = compilePolicy("old", { statements: [{ effect: "allow", actions: ["policy:PutPolicy", "kms:Encrypt"], resources: ["team/orders-*"] }] });
    expect(legacy.statements[0]!.resources).toEqual([{ type: "key", glob: "team/orders-*" }]);
  });
});
