import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import { formatGrant, parseAllow, parseGrantsJson } from "./grants.js";

describe("parseAllow", () => {
  it("splits actions from resources at the last colon", () => {
    expect(parseAllow("kms:Encrypt,kms:Decrypt:payment-db")).toEqual({
      actions: ["kms:Encrypt", "kms:Decrypt"],
      resources: ["payment-db"],
    });
  });

  it("takes several resources and patterns", () => {
    expect(parseAllow("kms:*:orders-*,billing")).toEqual({ actions: ["kms:*"], resources: ["orders-*", "billing"] });
    expect(parseAllow("*:*")).toEqual({ actions: ["*"], resources: ["*"] });
  });

  it("takes key ids and names with every character a key name may hold", () => {
    const id = "0b9f1c2e-8a7d-4c1b-9e2f-3a4b5c6d7e8f";
    expect(parseAllow(`kms:Decrypt:${id},team/a_b+c=d.e@f-g`).resources).toEqual([id, "team/a_b+c=d.e@f-g"]);
  });

  it("refuses actions without resources", () => {
    expect(() => parseAllow("kms:Encrypt")).toThrow(InvalidArgumentError);
    expect(() => parseAllow("kms:Encrypt,kms:Decrypt")).toThrow(InvalidArgumentError);
    expect(() => parseAllow("kms:*")).toThrow(InvalidArgumentError);
  });

  it("refuses an empty action or resource list", () => {
    expect(() => parseAllow(":payment-db")).toThrow(InvalidArgumentError);
    expect(() => parseAllow("kms:Encrypt:")).toThrow(InvalidArgumentError);
    expect(() => parseAllow("kms:Encrypt:a,,b")).toThrow(InvalidArgumentError);
    expect(() => parseAllow("payment-db")).toThrow(InvalidArgumentError);
  });

  it("refuses an unknown action so a typo does not silently grant nothing", () => {
    expect(() => parseAllow("kms:Encrpt:payment-db")).toThrow(/Unknown action "kms:Encrpt"/);
  });

  it("refuses resources placed before the actions", () => {
    expect(() => parseAllow("payment-db:kms:Encrypt")).toThrow(InvalidArgumentError);
  });
});

describe("parseGrantsJson", () => {
  it("reads the API's grant shape", () => {
    const grants = [{ actions: ["kms:Encrypt"], resources: ["a", "b"] }, { actions: ["*"], resources: ["*"] }];
    expect(parseGrantsJson(JSON.stringify(grants))).toEqual(grants);
  });

  it.each([
    ["not JSON", "{"],
    ["not an array", '{"actions":["kms:Encrypt"],"resources":["a"]}'],
    ["an entry that is not an object", "[1]"],
    ["missing resources", '[{"actions":["kms:Encrypt"]}]'],
    ["empty actions", '[{"actions":[],"resources":["a"]}]'],
    ["an unknown field", '[{"actions":["kms:Encrypt"],"resources":["a"],"effect":"Allow"}]'],
    ["an unknown action", '[{"actions":["kms:Nope"],"resources":["a"]}]'],
  ])("refuses %s", (_why, text) => {
    // A deliberate refusal (a plain Error the CLI prints as a usage error), not a crash on the input.
    let thrown: unknown;
    try {
      parseGrantsJson(text);
    } catch (err) {
      thrown = err;
    }
    expect((thrown as Error | undefined)?.constructor).toBe(Error);
  });
});

describe("formatGrant", () => {
  it("writes a grant in --allow syntax, which parseAllow reads back", () => {
    const grant = { actions: ["kms:Encrypt", "kms:Decrypt"], resources: ["payment-db", "orders-*"] };
    expect(formatGrant(grant)).toBe("kms:Encrypt,kms:Decrypt:payment-db,orders-*");
    expect(parseAllow(formatGrant(grant))).toEqual(grant);
  });
});
