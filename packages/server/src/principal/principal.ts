import type { Grant } from "@tessera/protocol";

/** How a principal proved who it is. Values go into tokens, policies and audit; never renumbered. */
export type AuthMethod = "root" | "token" | "cert" | "jwt" | "approle" | "access-key";
export const authMethods: readonly AuthMethod[] = Object.freeze(["root", "token", "cert", "jwt", "approle", "access-key"]);

/** What kind of caller: a VM (instance certificate), a workload (JWT), automation (approle, access key), a person's token. */
export type PrincipalKind = "root" | "token" | "vm" | "workload" | "service";

/** Whoever is calling, as established by authentication. */
export interface Principal {
  /** Stable id for audit: the token accessor, `cert:<serial>` or `access-key:<id>`. */
  id: string;
  kind: PrincipalKind;
  displayName: string;
  root: boolean;
  /** The role whose policies apply, or null (root, grant-only tokens). */
  role: string | null;
  authMethod: AuthMethod;
  /** Facts from the login (vm_id, JWT claims mapped to attributes …); referenced by `${principal.<name>}`. */
  attributes: Readonly<Record<string, string>>;
  /** Inline allow statements a token was created with (in addition to its role's policies). */
  grants: readonly Grant[];
  /** Expiry (ms), null for never (root token). */
  expiresAt: number | null;
  /** The address the principal logged in from. */
  loginSource: string;
}
