/**
 * The signed-in session: the token (in api.ts's memory) and what the server says about it. Sign-out
 * revokes the token on the server (`POST /v1/auth/tokens/revoke` with the token itself) — except the
 * root token, which the console never destroys on the user's behalf.
 */
import { api, setToken } from "./api.js";

export interface TokenInfo {
  accessor: string;
  displayName: string;
  root: boolean;
  createdAt: string;
  expiresAt: string | null;
  role?: string | null;
  kind?: string;
  grants: { actions: string[]; resources: string[] }[];
}

export async function signIn(token: string): Promise<TokenInfo> {
  const info = await api<TokenInfo>("GET", "/v1/auth/tokens/self", undefined, { tokenOverride: token });
  setToken(token);
  return info;
}

/** Revokes the token (unless it is the root token) and forgets it; true when it was revoked. */
export async function signOut(info: TokenInfo, token: string): Promise<boolean> {
  try {
    if (info.root) return false;
    await api("POST", "/v1/auth/tokens/revoke", { token });
    return true;
  } finally {
    setToken(null);
  }
}
