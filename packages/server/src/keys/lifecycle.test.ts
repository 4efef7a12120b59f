import { describe, expect, it } from "vitest";
import type { KeyState } from "@tessera/protocol";
import type { KeyRow, VersionRow } from "../store/index.js";
import * as l from "./lifecycle.js";

const NOW = Date.UTC(2026, 5, 1);
const row = (state: KeyState, extra: Partial<KeyRow> = {}): KeyRow => ({
  id: "6f1c0b8e-8c39-4c35-9d67-2a6f3d3b9a11",
  name: "k",
  description: "",
  tags: {},
  keySpec: "SYMMETRIC_DEFAULT",
  keyUsage: "ENCRYPT_DECRYPT",
  origin: "TESSERA",
  state,
  priorState: null,
  derived: false,
  convergent: false,
  exportable: false,
  createdAt: NOW,
  primaryVersion: 3,
  minDecryptionVersion: 1,
  minEncryptionVersion: 0,
  rotationPeriodSeconds: null,
  lastRotatedAt: NOW,
  deletionDate: state === "PendingDeletion" ? NOW + 7 * l.DAY_MS : null,
  destroyedAt: null,
  revision: 4,
  ...extra,
});
const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code: string }).code;
  }
  return "ok";
};

describe("key state machine", () => {
  const states: KeyState[] = ["Enabled", "Disabled", "PendingDeletion", "Destroyed"];
  it.each([
    ["enable", (r: KeyRow) => l.enable(r), ["ok", "ok", "InvalidState", "InvalidState"]],
    ["disable", (r: KeyRow) => l.disable(r), ["ok", "ok", "InvalidState", "InvalidState"]],
    ["scheduleDeletion", (r: KeyRow) => l.scheduleDeletion(r, NOW), ["ok", "ok", "InvalidState", "InvalidState"]],
    ["cancelDeletion", (r: KeyRow) => l.cancelDeletion(r), ["InvalidState", "InvalidState", "ok", "InvalidState"]],
    ["rotate", (r: KeyRow) => l.rotate(r, NOW), ["ok", "ok", "InvalidState", "InvalidState"]],
  ] as const)("%s is allowed only from the right states", (_name, op, expected) => {
    expect(states.map((s) => code(() => op(row(s))))).toEqual(expected);
  });

  it("every change bumps the revision; a no-op returns the same row", () => {
    const pending = row("PendingDeletion", { priorState: "Enabled" });
    const changes: [string, KeyRow, KeyRow][] = [
      ["enable", row("Disabled"), l.enable(row("Disabled"))],
      ["disable", row("Enabled"), l.disable(row("Enabled"))],
      ["scheduleDeletion", row("Enabled"), l.scheduleDeletion(row("Enabled"), NOW)],
      ["cancelDeletion", pending, l.cancelDeletion(pending)],
      ["cancelDeletion as AWS", pending, l.cancelDeletion(pending, "Disabled")],
      ["destroy", pending, l.destroy(pending, pending.deletionDate!)],
      ["rotate", row("Enabled"), l.rotate(row("Enabled"), NOW)],
      ["setMinDecryptionVersion", row("Enabled"), l.setMinDecryptionVersion(row("Enabled"), 2)],
      ["update", row("Enabled"), l.update(row("Enabled"), { description: "d" }, NOW)],
    ];
    expect(changes.map(([op, before, after]) => [op, after.revision - before.revision])).toEqual(changes.map(([op]) => [op, 1]));
    const enabled = row("Enabled");
    const disabled = row("Disabled");
    expect(l.enable(enabled)).toBe(enabled);
    expect(l.disable(disabled)).toBe(disabled);
  });

  it("cancelling a deletion restores the state the key had", () => {
    expect(l.cancelDeletion(l.scheduleDeletion(row("Disabled"), NOW)).state).toBe("Disabled");
    expect(l.cancelDeletion(l.scheduleDeletion(row("Enabled"), NOW)).state).toBe("Enabled");
  });

  it("cancelling as AWS KMS does leaves the key Disabled, whatever it was, and clears the deletion date", () => {
    for (const prior of ["Enabled", "Disabled"] as const) {
      const cancelled = l.cancelDeletion(l.scheduleDeletion(row(prior), NOW), "Disabled");
      expect([cancelled.state, cancelled.deletionDate, cancelled.priorState]).toEqual(["Disabled", null, null]);
    }
  });

  it("the pending window is 7–30 days, default 30", () => {
    expect(l.scheduleDeletion(row("Enabled"), NOW).deletionDate).toBe(NOW + 30 * l.DAY_MS);
    for (const days of [7, 30]) expect(l.scheduleDeletion(row("Enabled"), NOW, days).deletionDate).toBe(NOW + days * l.DAY_MS);
    for (const days of [6, 31, 7.5]) expect(code(() => l.scheduleDeletion(row("Enabled"), NOW, days)), String(days)).toBe("InvalidInput");
  });

  it("destroys only after the deletion date", () => {
    const pending = row("PendingDeletion");
    expect(code(() => l.destroy(pending, pending.deletionDate! - 1))).toBe("InvalidState");
    expect(l.destroy(pending, pending.deletionDate!)).toMatchObject({ state: "Destroyed", destroyedAt: pending.deletionDate });
  });

  it("min decryption version stays within 1..primary", () => {
    expect(l.setMinDecryptionVersion(row("Enabled"), 3).minDecryptionVersion).toBe(3);
    expect(code(() => l.setMinDecryptionVersion(row("Enabled"), 4))).toBe("InvalidInput");
    expect(code(() => l.setMinDecryptionVersion(row("Enabled"), 0))).toBe("InvalidInput");
  });

  it("min encryption version is 0 (none) or within minDecryptionVersion..primary, and min decryption may not pass it", () => {
    expect(l.setMinEncryptionVersion(row("Enabled"), 2).minEncryptionVersion).toBe(2);
    expect(l.setMinEncryptionVersion(row("Enabled", { minEncryptionVersion: 2 }), 0).minEncryptionVersion).toBe(0);
    expect(code(() => l.setMinEncryptionVersion(row("Enabled"), 4))).toBe("InvalidInput");
    expect(code(() => l.setMinEncryptionVersion(row("Enabled"), -1))).toBe("InvalidInput");
    expect(code(() => l.setMinEncryptionVersion(row("Enabled", { minDecryptionVersion: 3 }), 2))).toBe("InvalidInput");
    expect(code(() => l.setMinDecryptionVersion(row("Enabled", { minEncryptionVersion: 2 }), 3))).toBe("InvalidInput");
    expect(l.setMinDecryptionVersion(row("Enabled", { minEncryptionVersion: 2 }), 2).minDecryptionVersion).toBe(2);
  });

  it("the primary version cannot be disabled; destroyed versions cannot change", () => {
    const v = (version: number, state: VersionRow["state"] = "Enabled"): VersionRow => ({
      keyId: "x",
      version,
      state,
      createdAt: NOW,
      material: null,
      lastUsedAt: null,
      useCount: 0,
      destroyedAt: null,
    });
    expect(code(() => l.setVersionState(row("Enabled"), v(3), "Disabled"))).toBe("InvalidState");
    expect(l.setVersionState(row("Enabled"), v(2), "Disabled").state).toBe("Disabled");
    expect(code(() => l.setVersionState(row("Enabled"), v(2, "Destroyed"), "Enabled"))).toBe("InvalidState");
  });

  it("turning rotation on counts the period from now", () => {
    const r = l.update(row("Enabled", { lastRotatedAt: NOW - 100 * l.DAY_MS }), { rotationPeriodSeconds: 86400 }, NOW);
    expect(l.nextRotationAt(r)).toBe(NOW + l.DAY_MS);
    expect(l.nextRotationAt(l.disable(r))).toBeNull();
  });
});
