/**
 * Vault's path router for one mount: paths like `keys/:name/config` (or `data/*path`, whose last
 * parameter takes the rest of the path, `/`-joined), each with handlers per Vault
 * operation (read, write, delete, list). One table per secrets engine (transit-routes.ts), as Vault's
 * `framework.Path`s: a path that exists but lacks the operation is 405, an unknown path 404.
 */
import type { CallContext } from "../../service/door.js";
import type { Refusal } from "../../service/refusal-log.js";
import type { Json } from "./vault-input.js";

export type VaultOp = "read" | "write" | "delete" | "list" | "patch";

export interface VaultCall {
  ctx: CallContext;
  /** Who the token named (checked before the path was looked at): refusals of batch items name them. */
  principal: NonNullable<Refusal["principal"]>;
  params: Readonly<Record<string, string>>;
  body: Json;
  /** Added to the response's `warnings` (Vault's answer to parameters it ignored). */
  warnings: string[];
}

/**
 * `null`: 204 No Content. `status` overrides 200 (batch partial failures). `errors`: an answer that
 * is not a refusal but has Vault's error shape (an empty list is 404 `{"errors": []}` in Vault).
 */
export type VaultResult = { data: Json; status?: number } | { errors: string[]; status: number } | null;
export type VaultHandler = (call: VaultCall) => Promise<VaultResult>;

export interface VaultRoute {
  path: string;
  ops: Partial<Record<VaultOp, VaultHandler>>;
  /** Body fields the path reads; others are ignored with a warning, as Vault does. */
  fields?: readonly string[];
}

interface Compiled {
  route: VaultRoute;
  segments: readonly string[];
}

export class VaultRouter {
  private readonly compiled: Compiled[];

  constructor(routes: readonly VaultRoute[]) {
    this.compiled = routes.map((route) => ({ route, segments: route.path.split("/") }));
  }

  /** The route for decoded path segments, and its parameters; literal segments win over parameters. */
  match(segments: readonly string[]): { route: VaultRoute; params: Record<string, string> } | undefined {
    let best: { route: VaultRoute; params: Record<string, string>; literals: number } | undefined;
    for (const c of this.compiled) {
      const last = c.segments[c.segments.length - 1]!;
      const rest = last.startsWith("*");
      if (rest ? segments.length < c.segments.length : c.segments.length !== segments.length) continue;
      const params: Record<string, string> = {};
      let literals = 0;
      let ok = true;
      for (let i = 0; i < c.segments.length && ok; i++) {
        const pattern = c.segments[i]!;
        if (pattern.startsWith("*")) {
          const tail = segments.slice(i);
          if (tail.some((t) => t === "")) ok = false;
          else params[pattern.slice(1)] = tail.join("/");
        } else if (pattern.startsWith(":")) {
          if (segments[i] === "") ok = false;
          else params[pattern.slice(1)] = segments[i]!;
        } else if (pattern === segments[i]) literals++;
        else ok = false;
      }
      if (ok && (best === undefined || literals > best.literals)) best = { route: c.route, params, literals };
    }
    return best && { route: best.route, params: best.params };
  }
}
