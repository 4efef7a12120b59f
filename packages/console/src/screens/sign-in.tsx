import { useState } from "preact/hooks";
import { t } from "../i18n.js";
import { signIn, signInWithJwt, type TokenInfo } from "../session.js";
import { ErrorBox, Notice } from "../components/ui.js";

type Method = "token" | "jwt";

/**
 * Sign in with a Tessera token, or with a JWT exchanged for one (`POST /v1/auth/jwt/login`; needs a
 * trusted issuer and a role with a `jwt` binding on the server). Either way the console ends up
 * holding only the Tessera token, in memory.
 */
export function SignIn({ onSignedIn, notice }: { onSignedIn: (info: TokenInfo, token: string) => void; notice: string | null }) {
  const [method, setMethod] = useState<Method>("token");
  const [token, setTokenValue] = useState("");
  const [role, setRole] = useState("");
  const [jwt, setJwt] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      if (method === "token") {
        const value = token.trim();
        const info = await signIn(value);
        setTokenValue("");
        onSignedIn(info, value);
      } else {
        const session = await signInWithJwt(role.trim(), jwt.trim());
        setJwt("");
        onSignedIn(session.info, session.token);
      }
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const value = (set: (v: string) => void) => (e: Event) => set((e.target as HTMLInputElement).value);
  return (
    <main class="sign-in" id="main">
      <h1>{t("app.title")}</h1>
      {notice !== null && <Notice kind="warn">{notice}</Notice>}
      <form onSubmit={submit} class="card">
        <h2>{t("signIn.heading")}</h2>
        <label for="sign-in-method">{t("signIn.method")}</label>
        <select id="sign-in-method" value={method} onChange={(e) => {
            setMethod((e.target as HTMLSelectElement).value as Method);
            setError(undefined);
          }}>
          <option value="token">{t("signIn.methodToken")}</option>
          <option value="jwt">{t("signIn.methodJwt")}</option>
        </select>
        {method === "token" ? (
          <>
            <label for="token">{t("signIn.token")}</label>
            <input id="token" name="token" type="password" autoComplete="off" spellcheck={false} value={token} onInput={value(setTokenValue)} required />
            <p class="hint">{t("signIn.hint")}</p>
          </>
        ) : (
          <>
            <label for="jwt-role">{t("signIn.role")}</label>
            <input id="jwt-role" name="role" autoComplete="off" spellcheck={false} value={role} onInput={value(setRole)} required />
            <label for="jwt">{t("signIn.jwt")}</label>
            <textarea id="jwt" name="jwt" rows={4} autoComplete="off" spellcheck={false} value={jwt} onInput={value(setJwt)} required />
            <p class="hint">{t("signIn.jwtHint")}</p>
          </>
        )}
        <button type="submit" disabled={busy}>
          {t("signIn.submit")}
        </button>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}
