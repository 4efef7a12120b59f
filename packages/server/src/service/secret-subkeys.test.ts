import { describe, expect, it } from "vitest";
import { subkeysOf } from "./secret-subkeys.js";

const doc = { user: "orders", password: "s3cret", db: { host: "h", port: 5432, tls: { ca: "x" } }, tags: ["a", "b"], empty: {}, nothing: null };

describe("subkeysOf", () => {
  it("keeps every object and nulls every other value at any depth with depth 0", () => {
    expect(subkeysOf(doc, 0)).toEqual({ user: null, password: null, db: { host: null, port: null, tls: { ca: null } }, tags: null, empty: {}, nothing: null });
  });

  it("treats the objects at level depth as leaves", () => {
    expect(subkeysOf(doc, 1)).toEqual({ user: null, password: null, db: null, tags: null, empty: null, nothing: null });
    expect(subkeysOf(doc, 2)).toEqual({ user: null, password: null, db: { host: null, port: null, tls: null }, tags: null, empty: {}, nothing: null });
  });

  it("never carries a value through", () => {
    expect(JSON.stringify(subkeysOf(doc, 0))).not.toMatch(/orders|s3cret|5432|"h"/);
  });
});
