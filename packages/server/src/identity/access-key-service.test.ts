import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isTesseraError } from "@tessera/protocol";
import { ManualClock } from "../clock.js";
import { RootRing, type Barrier } from "../seal/index.js";
import type { AccessKeyRepo, AccessKeyRow } from "../store/index.js";
import { AccessKeyService } from "./access-key-service.js";

/** An in-memory repo whose reads can be held, to interleave them with other calls. */
class Repo implements AccessKeyRepo {
  readonly rows = new Map<string, AccessKeyRow>();
  gets = 0;
  hold: Promise<void> | undefined;
  async insert(row: AccessKeyRow) {
    this.rows.set(row.id, row);
  }
  async get(id: string) {
    this.gets++;
    const row = this.rows.get(id);
    const read = row && { ...row };
    await this.hold;
    return read;
  }
  async list() {
    return [...this.rows.values()];
  }
  async setState(id: string, state: AccessKeyRow["state"]) {
    const row = this.rows.get(id);
    if (row === undefined) return false;
    row.state = state;
    return true;
  }
  async delete(id: string) {
    return this.rows.delete(id);
  }
  async deleteByRole() {
    return 0;
  }
  async replaceSecret() {
    return false;
  }
}

function setup() {
  const ring = new RootRing([{ id: "root-test", key: randomBytes(32) }]);
  const sealListeners: (() => void)[] = [];
  const barrier = {
    assertUnsealed: () => undefined,
    sealSecret: (secret: Uint8Array, aad: Uint8Array) => ring.seal(secret, aad),
    openSecret: (record: Uint8Array, aad: Uint8Array) => ring.open(record, aad),
    registerSealedData: () => undefined,
    onSeal: (l: () => void) => sealListeners.push(l),
  } as unknown as Barrier;
  const repo = new Repo();
  const service = new AccessKeyService(repo, barrier, new ManualClock(), async () => true);
  return { repo, service, seal: () => sealListeners.forEach((l) => l()) };
}

describe("AccessKeyService cache", () => {
  it("zeroes the cached secrets when the server seals", async () => {
    const { service, seal } = setup();
    const { accessKeyId } = await service.create("app");
    const { secret } = await service.resolve(accessKeyId);
    expect(secret.some((b) => b !== 0)).toBe(true);
    seal();
    expect(secret.every((b) => b === 0)).toBe(true);
  });

  it("a key disabled while its row was being read is not cached as active", async () => {
    const { repo, service } = setup();
    const { accessKeyId } = await service.create("app");
    let release!: () => void;
    repo.hold = new Promise((r) => (release = r));
    const inFlight = service.resolve(accessKeyId);
    repo.hold = undefined;
    await service.setState(accessKeyId, "Inactive");
    release();
    await inFlight; // read before the change: answered as it was
    const err = await service.resolve(accessKeyId).catch((e: unknown) => e);
    expect(isTesseraError(err) && err.code).toBe("Unauthenticated");
    expect(repo.gets).toBe(3);
  });
});
