import { describe, expect, it } from "vitest";
import { PROXIED_ACTIONS, proxiedAction } from "./proxy-routes.js";

describe("the routes the agent's proxy forwards", () => {
  it("maps data-plane routes to their actions", () => {
    expect(proxiedAction("POST", "/v1/keys/app-db/encrypt")).toBe("kms:Encrypt");
    expect(proxiedAction("POST", "/v1/decrypt")).toBe("kms:Decrypt");
    expect(proxiedAction("POST", "/v1/batch/decrypt")).toBe("kms:Decrypt");
    expect(proxiedAction("POST", "/v1/keys/alias%2Fpay/derive")).toBe("kms:Derive");
    expect(proxiedAction("GET", "/v1/secrets/secret/data/db/billing")).toBe("secrets:Read");
    expect(proxiedAction("GET", "/v1/secrets/secret/list/")).toBe("secrets:List");
  });

  it("forwards no administration: keys, policies, tokens, sys, secret writes", () => {
    for (const [method, path] of [
      ["POST", "/v1/keys"],
      ["POST", "/v1/keys/app-db/rotate"],
      ["PATCH", "/v1/keys/app-db"],
      ["PUT", "/v1/policies/p"],
      ["POST", "/v1/auth/tokens"],
      ["POST", "/v1/sys/seal"],
      ["PUT", "/v1/secrets/secret/data/db/billing"],
      ["POST", "/v1/secrets/secret/destroy/db/billing"],
      ["GET", "/v1/keys/a/b/encrypt"],
      ["POST", "/v1/keys/app-db/encrypt/../../keys"],
    ]) {
      expect(proxiedAction(method!, path!), `${method} ${path}`).toBeUndefined();
    }
  });

  it("every forwardable action is a data-plane or read action", () => {
    expect(PROXIED_ACTIONS.filter((a) => /Create|Update|Delete|Rotate|Enable|Disable|Schedule|Import|Write|Destroy|Policy|Alias/.test(a))).toEqual([]);
  });
});
