import { describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { checkPath } from "./secrets-service.js";

const refused = (path: string): boolean => {
  try {
    checkPath(path);
    return false;
  } catch (err) {
    return isTesseraError(err) && err.code === "InvalidInput" && err.field === "/path";
  }
};

describe("secret paths", () => {
  it("takes /-separated segments of the allowed characters", () => {
    for (const ok of ["db", "payments/db-password", "a/b/c.d_e@f=g+h-i", "x".repeat(512)]) expect(checkPath(ok)).toBe(ok);
  });
  it("refuses empty, dot and dot-dot segments, other characters and over-long paths", () => {
    for (const bad of ["", "/a", "a/", "a//b", ".", "..", "a/../b", "./a", "a/.", "sp ace", "a\u0000b", "ü", "a\\b", "x".repeat(513)]) expect(refused(bad), bad).toBe(true);
  });
});
