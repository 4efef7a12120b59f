import { useState } from "preact/hooks";
import { t } from "../i18n.js";
import { signIn, type TokenInfo } from "../session.js";
import { ErrorBox, Notice } from "../components/ui.js";

export function SignIn({ onSignedIn, notice }: { onSignedIn: (info: TokenInfo, token: string) => void; notice: string | null }) {
  const [token, setTokenValue] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const value = token.trim();
      const info = await signIn(value);
      setTokenValue("");
      onSignedIn(info, value);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="sign-in" id="main">
      <h1>{t("app.title")}</h1>
      {notice !== null && <Notice kind="warn">{notice}</Notice>}
      <form onSubmit={submit} class="card">
        <h2>{t("signIn.heading")}</h2>
        <label for="token">{t("signIn.token")}</label>
        <input id="token" name="token" type="password" autoComplete="off" spellcheck={false} value={token} onInput={(e) => setTokenValue((e.target as HTMLInputElement).value)} required />
        <p class="hint">{t("signIn.hint")}</p>
        <button type="submit" disabled={busy}>
          {t("signIn.submit")}
        </button>
        <ErrorBox error={error} />
      </form>
    </main>
  );
}
