/**
 * `tessera operator seal` while a root rotation writes the seal record. Sealing zeroes every root the
 * node holds; the rotation, resuming after its write, must not put a ring back — else the node would
 * answer unsealed with a zeroed old root (beginning) or seal new material under an all-zero "root"
 * (finishing). It stays sealed; after the next unseal every key works and the rotation completes.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { injectCall } from "../helpers/app.js";
import { ManualClock, SqliteStore, buildApp, type Store, type TesseraApp } from "@tessera/server";

const dir = mkdtempSync(join(tmpdir(), "tessera-seal-rotation-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const call = injectCall;

const rootCount = async (store: SqliteStore) => (await store.meta.get<{ escrow: { roots: unknown[] } }>("seal"))?.escrow.roots.length ?? 0;

describe("sealing while the rotation writes the seal record", () => {
  it.each([
    ["beginning (the new root is stored beside the old)", 2],
    ["finishing (the old root is dropped)", 1],
  ])("%s: the node stays sealed, and after the unseal every key works", async (what, sealWhenRoots) => {
    const inner = new SqliteStore({ path: join(dir, `${sealWhenRoots}.db`) });
    let app: TesseraApp | undefined;
    let armed = false;
    let before = 0;
    // The real store; after a transaction that left the record with `sealWhenRoots` roots (coming from a
    // different count), an operator seals the node.
    const store = new Proxy(inner, {
      get(target, prop, receiver) {
        if (prop !== "transaction") return Reflect.get(target, prop, receiver);
        return async (fn: Parameters<Store["transaction"]>[0]) => {
          const result = await target.transaction(fn);
          const now = await rootCount(target);
          if (armed && now === sealWhenRoots && now !== before) {
            armed = false;
            app!.barrier.sealNow();
          }
          before = now;
          return result;
        };
      },
    }) as unknown as Store;
    app = await buildApp({ store, clock: new ManualClock(Date.UTC(2026, 0, 5, 12)) });
    try {
      const { shares, rootToken } = (await call(app, "POST", "/v1/sys/init", { shares: 1, threshold: 1 })).body;
      await call(app, "POST", "/v1/sys/unseal", { share: shares[0] });
      await call(app, "POST", "/v1/keys", { name: "k" }, rootToken);
      const ct = (await call(app, "POST", "/v1/keys/k/encrypt", { plaintext: "aGVsbG8=" }, rootToken)).body.ciphertext;
      before = await rootCount(inner);
      armed = true;
      const rotated = await call(app, "POST", "/v1/sys/rotate-root", {}, rootToken);
      expect(rotated.status, what).not.toBe(200);
      expect(app.barrier.sealed).toBe(true);
      expect((await call(app, "POST", "/v1/keys", { name: "after-seal" }, rootToken)).body.error.code).toBe("Sealed");

      await call(app, "POST", "/v1/sys/unseal", { share: shares[0] });
      expect(app.barrier.sealed).toBe(false);
      for (let i = 0; i < 100 && (await rootCount(inner)) > 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(await rootCount(inner)).toBe(1);
      expect((await call(app, "POST", "/v1/decrypt", { ciphertext: ct }, rootToken)).body.plaintext).toBe("aGVsbG8=");
    } finally {
      await app.close();
    }
  });
});
