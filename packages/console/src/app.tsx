/** The shell: sign-in until there is a session, then navigation, the session bar and the current screen. */
import { useEffect, useState } from "preact/hooks";
import { onSessionExpired, currentToken, setToken } from "./api.js";
import { LANGUAGES, setLanguage, t, useLanguage, type Language } from "./i18n.js";
import { Link, usePath } from "./router.js";
import { signOut, type TokenInfo } from "./session.js";
import { Notice } from "./components/ui.js";
import { SignIn } from "./screens/sign-in.js";
import { Dashboard } from "./screens/dashboard.js";
import { KeysList } from "./screens/keys.js";
import { KeyPage } from "./screens/key-page.js";
import { Policies } from "./screens/policies.js";
import { Identity } from "./screens/identity.js";
import { Simulator } from "./screens/simulator.js";
import { Audit } from "./screens/audit.js";
import { Alerts } from "./screens/alerts.js";

const NAV: { href: string; label: () => string; match: (p: string) => boolean }[] = [
  { href: "/", label: () => t("nav.dashboard"), match: (p) => p === "/" },
  { href: "/keys", label: () => t("nav.keys"), match: (p) => p.startsWith("/keys") },
  { href: "/policies", label: () => t("nav.policies"), match: (p) => p.startsWith("/policies") },
  { href: "/identity", label: () => t("nav.identity"), match: (p) => p.startsWith("/identity") },
  { href: "/simulator", label: () => t("nav.simulator"), match: (p) => p.startsWith("/simulator") },
  { href: "/audit", label: () => t("nav.audit"), match: (p) => p.startsWith("/audit") },
  { href: "/alerts", label: () => t("nav.alerts"), match: (p) => p.startsWith("/alerts") },
];

/** Minutes before expiry at which the session bar warns. */
const WARN_MS = 5 * 60_000;

export function App() {
  const language = useLanguage();
  const path = usePath();
  const [session, setSession] = useState<TokenInfo | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [now, setNow] = useState(Date.now());

  useEffect(() => onSessionExpired(() => endSession(t("session.expired"))), []);
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 15_000);
    return () => clearInterval(timer);
  }, []);
  const expiresAt = session?.expiresAt ? Date.parse(session.expiresAt) : undefined;
  useEffect(() => {
    if (expiresAt !== undefined && now >= expiresAt) endSession(t("session.expired"));
  }, [now, expiresAt]);
  useEffect(() => {
    document.title = `${t("app.title")}`;
  }, [language]);

  function endSession(message: string) {
    setToken(null);
    setSession(null);
    setNotice(message);
  }

  if (session === null) {
    return (
      <>
        <LanguageSwitch language={language} />
        <SignIn
          notice={notice}
          onSignedIn={(info) => {
            setNotice(null);
            setSession(info);
          }}
        />
      </>
    );
  }

  const doSignOut = async () => {
    const token = currentToken();
    let revoked = false;
    try {
      revoked = token === null ? false : await signOut(session, token);
    } catch {
      revoked = false;
    }
    endSession(revoked ? t("session.signedOut") : t("session.signedOutRoot"));
  };

  return (
    <div class="shell">
      <a class="skip" href="#main">
        {t("nav.skip")}
      </a>
      <header>
        <span class="brand">{t("app.title")}</span>
        <nav aria-label={t("nav.label")}>
          <ul>
            {NAV.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.match(path) ? "page" : undefined}>
                  {n.label()}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div class="session">
          <span class="who" title={session.accessor}>
            {session.displayName}
          </span>
          <LanguageSwitch language={language} />
          <button type="button" class="secondary" onClick={doSignOut}>
            {t("session.signOut")}
          </button>
        </div>
      </header>
      {expiresAt !== undefined && expiresAt - now < WARN_MS && (
        <Notice kind="warn">{t("session.expiresSoon", { minutes: Math.max(0, Math.ceil((expiresAt - now) / 60_000)) })}</Notice>
      )}
      <main id="main" tabIndex={-1}>
        <Screen path={path} />
      </main>
    </div>
  );
}

function Screen({ path }: { path: string }) {
  const parts = path.split("/").filter((p) => p !== "").map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
      return <Dashboard />;
    case "keys":
      return parts[1] === undefined ? <KeysList /> : <KeyPage name={parts[1]} action={parts[2]} />;
    case "policies":
      return <Policies selected={parts[1]} />;
    case "identity":
      return <Identity />;
    case "simulator":
      return <Simulator />;
    case "audit":
      return <Audit />;
    case "alerts":
      return <Alerts />;
    default:
      return <Notice kind="warn">{t("common.notFound")}</Notice>;
  }
}

function LanguageSwitch({ language }: { language: Language }) {
  return (
    <label class="language">
      <span class="visually-hidden">{t("common.language")}</span>
      <select value={language} onChange={(e) => setLanguage((e.target as HTMLSelectElement).value as Language)}>
        {LANGUAGES.map((l) => (
          <option key={l.id} value={l.id}>
            {l.label}
          </option>
        ))}
      </select>
    </label>
  );
}
