import { describe, expect, it } from "vitest";
import type { Principal } from "../principal/index.js";
import { evaluate, type RequestFacts } from "./evaluator.js";
import { compilePolicy, inWindow } from "./policy-document.js";
import { resources } from "./resource.js";

const principal = (overrides: Partial<Principal> = {}): Principal => ({
  id: "acc_1",
  kind: "vm",
  displayName: "vm-1",
  root: false,
  role: "r",
  authMethod: "cert",
  attributes: { vm_id: "vm-1", team: "pay" },
  grants: [],
  expiresAt: null,
  loginSource: "10.0.0.1",
  ...overrides,
});
const facts = (overrides: Partial<RequestFacts> = {}): RequestFacts => ({
  principal: principal(),
  action: "kms:Decrypt",
  resource: resources.key("6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11", "payment-db"),
  source: "10.1.2.3",
  time: Date.UTC(2026, 0, 5, 3),
  ...overrides,
});
const policy = (statements: unknown[]) => compilePolicy("p", { statements });

describe("evaluate", () => {
  it("denies by default and allows root", () => {
    expect(evaluate(facts(), [])).toEqual({ allowed: false, reason: "default-deny" });
    expect(evaluate(facts({ principal: principal({ root: true }) }), [])).toEqual({ allowed: true, reason: "root" });
  });

  it("matches actions and resources by pattern, by key name or id", () => {
    const p = policy([{ effect: "allow", actions: ["kms:De*"], resources: ["payment-*"] }]);
    expect(evaluate(facts(), [p]).allowed).toBe(true);
    expect(evaluate(facts({ action: "kms:Encrypt" }), [p]).allowed).toBe(false);
    const byId = policy([{ effect: "allow", actions: ["kms:*"], resources: ["6f1c0b8e-*"] }]);
    expect(evaluate(facts(), [byId]).allowed).toBe(true);
    expect(evaluate(facts({ resource: resources.newKey("orders") }), [p]).allowed).toBe(false);
  });

  it("an applicable deny anywhere wins, and is named", () => {
    const allow = policy([{ effect: "allow", actions: ["*"], resources: ["*"] }]);
    const deny = compilePolicy("guard", { statements: [{ sid: "no", effect: "deny", actions: ["kms:Decrypt"], resources: ["payment-db"] }] });
    expect(evaluate(facts(), [allow, deny])).toEqual({ allowed: false, reason: "explicit-deny", policy: "guard", statement: 0, sid: "no" });
  });

  it("context conditions: literal, present, principal attribute", () => {
    const p = policy([{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { encryptionContext: { vm: "${principal.vm_id}", app: "*", env: "prod" } } }]);
    expect(evaluate(facts({ encryptionContext: { vm: "vm-1", app: "x", env: "prod" } }), [p]).allowed).toBe(true);
    expect(evaluate(facts({ encryptionContext: { vm: "vm-2", app: "x", env: "prod" } }), [p]).allowed).toBe(false);
    expect(evaluate(facts({ encryptionContext: { vm: "vm-1", env: "prod" } }), [p]).allowed).toBe(false);
    expect(evaluate(facts({ encryptionContext: undefined }), [p]).allowed).toBe(false);
    const composite = policy([{ effect: "allow", actions: ["kms:Decrypt"], resources: ["*"], conditions: { encryptionContext: { path: "${principal.team}/${principal.vm_id}" } } }]);
    expect(evaluate(facts({ encryptionContext: { path: "pay/vm-1" } }), [composite]).allowed).toBe(true);
  });

  it("source CIDRs accept IPv4-mapped IPv6 addresses and IPv6 ranges", () => {
    const p = policy([{ effect: "allow", actions: ["*"], resources: ["*"], conditions: { sourceCidr: ["10.0.0.0/8", "fd00::/8"] } }]);
    expect(evaluate(facts({ source: "::ffff:10.9.9.9" }), [p]).allowed).toBe(true);
    expect(evaluate(facts({ source: "fd12::1" }), [p]).allowed).toBe(true);
    expect(evaluate(facts({ source: "192.168.1.1" }), [p]).allowed).toBe(false);
  });
});

describe("time windows", () => {
  const window = (spec: object) => compilePolicy("w", { statements: [{ effect: "allow", actions: ["*"], resources: ["*"], conditions: { withinHours: spec } }] }).statements[0]!.withinHours!;

  it("uses the named zone's local weekday and time, end exclusive", () => {
    const w = window({ tz: "Asia/Shanghai", days: "Mon-Fri", hours: "08:30-20" });
    expect(inWindow(w, Date.UTC(2026, 0, 5, 0, 30))).toBe(true); // Mon 08:30
    expect(inWindow(w, Date.UTC(2026, 0, 5, 0, 29))).toBe(false); // Mon 08:29
    expect(inWindow(w, Date.UTC(2026, 0, 5, 12, 0))).toBe(false); // Mon 20:00
    expect(inWindow(w, Date.UTC(2026, 0, 10, 3))).toBe(false); // Sat 11:00
  });

  it("wraps midnight, counting the early hours to the day the window started", () => {
    const w = window({ tz: "UTC", days: "Fri", hours: "22-06" });
    expect(inWindow(w, Date.UTC(2026, 0, 9, 23))).toBe(true); // Fri 23:00
    expect(inWindow(w, Date.UTC(2026, 0, 10, 5))).toBe(true); // Sat 05:00, window from Fri
    expect(inWindow(w, Date.UTC(2026, 0, 9, 5))).toBe(false); // Fri 05:00, window would be from Thu
  });

  it("day lists and ranges that wrap the week", () => {
    const w = window({ tz: "UTC", days: "Sat-Mon,Wed" });
    expect([4, 5, 6, 7, 8, 9, 10].map((d) => inWindow(w, Date.UTC(2026, 0, d, 12)))).toEqual([true, true, false, true, false, false, true]);
  });
});
