import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { collectClaim, issuerBody, jwtUnbound, roleBody } from "./identity-args.js";
import { UsageError } from "./usage-error.js";

describe("collectClaim", () => {
  it("collects claims, splitting at the first '='", () => {
    let c = collectClaim("sub=system:serviceaccount:prod:*", undefined);
    c = collectClaim("google.compute_engine.instance_id=*", c);
    expect(c).toEqual({ sub: "system:serviceaccount:prod:*", "google.compute_engine.instance_id": "*" });
  });

  it("turns the same claim given twice into a list of accepted patterns", () => {
    let c = collectClaim("groups=ops", undefined);
    c = collectClaim("groups=payments-*", c);
    c = collectClaim("groups=sre", c);
    expect(c).toEqual({ groups: ["ops", "payments-*", "sre"] });
  });

  it("refuses a claim without '=' or with an empty pattern", () => {
    expect(() => collectClaim("sub", undefined)).toThrow(InvalidArgumentError);
    expect(() => collectClaim("sub=", undefined)).toThrow(InvalidArgumentError);
  });
});

describe("roleBody", () => {
  it("builds a role with policies, lifetimes and an AppRole binding", () => {
    expect(roleBody({ policy: ["a", "b"], tokenTtl: 3600, approle: true, secretIdUses: 1, boundCidr: ["10.0.0.0/8"] })).toEqual({
      policies: ["a", "b"],
      tokenTtlSeconds: 3600,
      approle: { secretIdUses: 1, boundCidrs: ["10.0.0.0/8"] },
    });
  });

  it("implies --approle from AppRole options and sends no binding without them", () => {
    expect(roleBody({ policy: ["a"], secretIdTtl: 60 })).toEqual({ policies: ["a"], approle: { secretIdTtlSeconds: 60 } });
    expect(roleBody({})).toEqual({ policies: [] });
  });

  it("builds a JWT binding and refuses JWT options without an issuer", () => {
    expect(roleBody({ policy: ["a"], jwtIssuer: "gce", boundClaim: { sub: "1*" }, claimAttr: { "google.compute_engine.instance_name": "vm_id" }, boundAudience: ["kms"] })).toEqual({
      policies: ["a"],
      jwt: { issuer: "gce", boundClaims: { sub: "1*" }, claimsToAttributes: { "google.compute_engine.instance_name": "vm_id" }, boundAudiences: ["kms"] },
    });
    expect(() => roleBody({ policy: ["a"], boundClaim: { sub: "*" } })).toThrow(UsageError);
  });

  it("keeps what an update does not give and merges the bindings field by field", () => {
    const current = {
      name: "ci",
      createdAt: "2026-01-01T00:00:00.000Z",
      updatedAt: "2026-01-01T00:00:00.000Z",
      policies: ["a"],
      tokenTtlSeconds: 600,
      approle: { roleId: "rid-1234", secretIdUses: 1 },
      jwt: { issuer: "gce", boundClaims: { sub: "1*" } },
    };
    expect(roleBody({ tokenMaxTtl: 3600, boundCidr: ["10.0.0.0/8"], boundClaim: { sub: "2*" } }, current)).toEqual({
      policies: ["a"],
      tokenTtlSeconds: 600,
      tokenMaxTtlSeconds: 3600,
      approle: { roleId: "rid-1234", secretIdUses: 1, boundCidrs: ["10.0.0.0/8"] },
      jwt: { issuer: "gce", boundClaims: { sub: "2*" } },
    });
    expect(roleBody({ policy: ["b"] }, current)["policies"]).toEqual(["b"]);
  });

  it("flags a JWT binding without bound claims", () => {
    expect(jwtUnbound(roleBody({ jwtIssuer: "gce" }))).toBe(true);
    expect(jwtUnbound(roleBody({ jwtIssuer: "gce", boundClaim: { sub: "*" } }))).toBe(false);
    expect(jwtUnbound(roleBody({ policy: ["a"] }))).toBe(false);
  });
});

describe("issuerBody", () => {
  it("builds an issuer from a JWKS URL, audiences and algorithms", () => {
    expect(issuerBody({ issuer: "https://idp", jwksUrl: "https://idp/jwks", audience: ["kms"], algorithm: ["ES256"], clockSkew: 30 })).toEqual({
      issuer: "https://idp",
      jwksUrl: "https://idp/jwks",
      audiences: ["kms"],
      algorithms: ["ES256"],
      clockSkewSeconds: 30,
    });
  });

  it("needs exactly one key source and an audience", () => {
    expect(() => issuerBody({ issuer: "i", audience: ["a"] })).toThrow(UsageError);
    expect(() => issuerBody({ issuer: "i", jwksUrl: "https://x", jwksFile: "/f", audience: ["a"] })).toThrow(UsageError);
    expect(() => issuerBody({ issuer: "i", jwksUrl: "https://x" })).toThrow(UsageError);
    expect(issuerBody({ issuer: "i", jwks: { keys: [] }, audience: ["a"] })).toEqual({ issuer: "i", jwks: { keys: [] }, audiences: ["a"] });
  });
});
