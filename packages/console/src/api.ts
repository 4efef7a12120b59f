/**
 * The console's only way to the server: the public native API (/v1), with the token in a request
 * header. The token lives in this module's memory only — never in localStorage, sessionStorage or a
 * cookie — so closing or reloading the tab forgets it.
 */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
}

let token: string | null = null;
const expiredListeners = new Set<() => void>();

export function setToken(value: string | null): void {
  token = value;
}
export function currentToken(): string | null {
  return token;
}
/** Called when the server says the token is no longer valid (expired or revoked elsewhere). */
export function onSessionExpired(listener: () => void): () => void {
  expiredListeners.add(listener);
  return () => expiredListeners.delete(listener);
}

export async function api<T>(method: string, path: string, body?: unknown, options: { tokenOverride?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  const t = options.tokenOverride ?? token;
  if (t !== null) headers["x-tessera-token"] = t;
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(path, { method, headers, ...(body !== undefined && { body: JSON.stringify(body) }), credentials: "omit", cache: "no-store" });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  const parsed: unknown = text === "" ? undefined : safeJson(text);
  if (!res.ok) {
    const e = (parsed as { error?: { code?: string; message?: string; field?: string } } | undefined)?.error;
    const err = new ApiError(res.status, e?.code ?? "Internal", e?.message ?? res.statusText, e?.field);
    if (res.status === 401 && options.tokenOverride === undefined && token !== null) for (const l of expiredListeners) l();
    throw err;
  }
  return parsed as T;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export const enc = encodeURIComponent;

/** Standard base64 of UTF-8 text, as the API carries bytes. */
export function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}
export function fromBase64(b64: string): string {
  const s = atob(b64);
  const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
  return new TextDecoder("utf-8", { fatal: false }).decode(bytes);
}
