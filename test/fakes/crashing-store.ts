/**
 * A real store that "dies" after a number of transactions: from then on every call throws, as if
 * the process had crashed — nothing more reaches the database. Typed against the real Store.
 */
import type { Store } from "@tessera/server";

export class CrashedError extends Error {
  override name = "CrashedError";
}

export function crashingStore(inner: Store): { store: Store; crashAfter(transactions: number): void; get crashed(): boolean } {
  let left = Number.POSITIVE_INFINITY;
  let crashed = false;
  const guard = () => {
    if (crashed) throw new CrashedError("the process crashed");
  };
  const wrapRepo = (repo: object) =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver);
        return typeof v === "function" ? (...args: unknown[]) => (guard(), (v as (...a: unknown[]) => unknown).apply(target, args)) : v;
      },
    });
  const repoNames = ["keys", "versions", "tokens", "meta", "policies", "roles", "jwtIssuers", "joinTokens", "secretIds", "certificates", "accessKeys", "audit", "alerts", "aliases", "leases", "nodes"] as const;
  const repos = Object.fromEntries(repoNames.map((n) => [n, wrapRepo(inner[n])]));
  const store = {
    ...repos,
    changes: wrapRepo(inner.changes),
    kind: inner.kind,
    migrate: () => (guard(), inner.migrate()),
    eraseDeleted: () => (guard(), inner.eraseDeleted()),
    snapshot: () => (guard(), inner.snapshot()),
    replaceAll: (schema: number, rows: Parameters<Store["replaceAll"]>[1]) => (guard(), inner.replaceAll(schema, rows)),
    close: () => inner.close(),
    async transaction(fn: Parameters<Store["transaction"]>[0]) {
      guard();
      if (left-- <= 0) {
        crashed = true;
        guard();
      }
      return inner.transaction(fn);
    },
  } as unknown as Store;
  return {
    store,
    crashAfter(transactions: number) {
      left = transactions;
    },
    get crashed() {
      return crashed;
    },
  };
}
