/**
 * Root rotation re-seals only what is registered with the barrier (seal/sealed-data.ts), and a backup
 * carries only what is in the store. A new kind of data sealed under the root that is not registered
 * would stay under the old root — and become unreadable once a rotation drops it. This test lists every
 * place in the server that seals under the root; a new one fails here until it is registered with
 * `barrier.registerSealedData` (and covered in test/integration/root-of-trust-every-kind.test.ts) or
 * shown to be stored nowhere the rotation must reach.
 */
import { readFileSync, readdirSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO } from "../helpers/server-process.js";

const SRC = join(REPO, "packages/server/src");

/** Where the server seals under the root, and why the rotation reaches it. */
const SEALERS: Readonly<Record<string, string>> = {
  "keys/key-service.ts": "key version material: registers versionMaterial (keys/sealed-versions.ts)",
  "identity/ca.ts": "the CA key: registers sealedMetaFields",
  "keys/transit-wrapping-key.ts": "the Vault API's transit wrapping key: registers sealedMetaFields",
  "identity/access-key-service.ts": "access-key secrets: registers its own SealedData",
  "audit/audit-log.ts": "the audit keys: registers sealedMetaFields",
  "service/backup-service.ts": "a backup's key: in the backup file's header, under the root its own seal record holds",
  "seal/barrier.ts": "sealSecret itself",
  "seal/root-ring.ts": "RootRing.seal itself",
};

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") ? [join(dir, e.name)] : [],
  );
}

describe("data sealed under the root", () => {
  it("is sealed only where the rotation is known to reach it", () => {
    const sealing = sources(SRC)
      .filter((f) => /\bsealSecret\(|\bring(\(\))?\.seal\(|\bthis\.current\.key\b/.test(readFileSync(f, "utf8")))
      .map((f) => relative(SRC, f))
      .sort();
    expect(sealing).toEqual(Object.keys(SEALERS).sort());
  });

  it("every owner of stored sealed data registers it with the barrier", () => {
    for (const file of ["keys/key-service.ts", "keys/transit-wrapping-key.ts", "identity/ca.ts", "identity/access-key-service.ts", "audit/audit-log.ts"]) {
      expect(readFileSync(join(SRC, file), "utf8"), file).toMatch(/registerSealedData\(/);
    }
  });
});
