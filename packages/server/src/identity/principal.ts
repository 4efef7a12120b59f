import type { Grant } from "@tessera/protocol";

/** Whoever is calling, as established by authentication. */
export interface Principal {
  /** Stable id for audit: the token accessor. */
  id: string;
  kind: "root" | "token";
  displayName: string;
  root: boolean;
  grants: readonly Grant[];
  /** Token expiry (ms), null for tokens that never expire. */
  expiresAt: number | null;
}
