/**
 * Which actions the signed-in principal may take, asked of the server
 * (`POST /v1/auth/tokens/self/capabilities`, decided as the real requests would be). The console
 * shows an action only when it is allowed; the server still decides every request itself.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "./api.js";

export interface Check {
  action: string;
  resource?: string;
}
interface Answer {
  results: { action: string; resource: string; allowed: boolean }[];
}

/** `undefined` while asking; then a function telling whether check `i` is allowed. */
export function useCapabilities(checks: Check[], deps: unknown[]): ((action: string) => boolean) | undefined {
  const [allowed, setAllowed] = useState<Map<string, boolean> | undefined>(undefined);
  useEffect(() => {
    let live = true;
    setAllowed(undefined);
    api<Answer>("POST", "/v1/auth/tokens/self/capabilities", { checks })
      .then((a) => live && setAllowed(new Map(a.results.map((r, i) => [checks[i]!.action, r.allowed]))))
      .catch(() => live && setAllowed(new Map()));
    return () => {
      live = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  return allowed === undefined ? undefined : (action: string) => allowed.get(action) === true;
}
