/**
 * Identity: roles (and which accept AppRole or JWT logins), join tokens (created with a TTL and shown
 * once), access keys, JWT issuers, and certificate revocation for enrolled VMs.
 */
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { Link } from "../router.js";
import { useCapabilities } from "../capabilities.js";
import { Badge, ErrorBox, Loading, Notice } from "../components/ui.js";

interface Role {
  name: string;
  policies: string[];
  description?: string;
  approle?: unknown;
  jwt?: unknown;
  tokenTtlSeconds?: number;
}
interface JoinToken {
  accessor: string;
  role: string;
  vmId: string | null;
  usesLeft: number | null;
  expiresAt: string | null;
  createdAt: string;
  joinToken?: string;
}

export function Identity() {
  const can = useCapabilities(
    [
      { action: "policy:ListRoles", resource: "role/*" },
      { action: "auth:ListJoinTokens" },
      { action: "auth:ListAccessKeys", resource: "access-key/*" },
      { action: "auth:ConfigureJwt", resource: "jwt-issuer/*" },
      { action: "auth:RevokeCertificate" },
      { action: "auth:ListCertificates" },
    ],
    [],
  );
  if (can === undefined) return <Loading />;
  return (
    <div>
      <h1>{t("identity.heading")}</h1>
      {can("policy:ListRoles") && <Roles />}
      <JoinTokens />
      {can("auth:ListAccessKeys") && <AccessKeys />}
      {can("auth:ConfigureJwt") && <JwtIssuers />}
      {can("auth:ListCertificates") && <Certificates canRevoke={can("auth:RevokeCertificate")} />}
    </div>
  );
}

function Roles() {
  const roles = useLoad(async () => {
    const { names } = await api<{ names: string[] }>("GET", "/v1/roles");
    return Promise.all(names.map((n) => api<Role>("GET", `/v1/roles/${enc(n)}`)));
  }, []);
  return (
    <section class="card" aria-labelledby="roles-h">
      <h2 id="roles-h">{t("identity.roles")}</h2>
      <ErrorBox error={roles.error} />
      {roles.data === undefined ? (
        <Loading />
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("identity.role")}</th>
                <th scope="col">{t("identity.policies")}</th>
                <th scope="col">{t("identity.logins")}</th>
              </tr>
            </thead>
            <tbody>
              {roles.data.map((r) => (
                <tr key={r.name}>
                  <td>{r.name}</td>
                  <td>
                    {r.policies.map((p) => (
                      <Link key={p} class="tag" href={`/policies/${enc(p)}`}>
                        {p}
                      </Link>
                    ))}
                  </td>
                  <td>{[r.approle !== undefined && r.approle !== null ? "AppRole" : null, r.jwt !== undefined && r.jwt !== null ? "JWT" : null, t("identity.tokenLogin")].filter((x) => x !== null).join(", ")}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function JoinTokens() {
  const list = useLoad(() => api<{ joinTokens: JoinToken[] }>("GET", "/v1/auth/join-tokens"), []);
  const [role, setRole] = useState("");
  const [ttl, setTtl] = useState("900");
  const [created, setCreated] = useState<JoinToken | null>(null);
  const [copied, setCopied] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const create = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      setCopied(false);
      setCreated(await api<JoinToken>("POST", "/v1/auth/join-tokens", { role, ttlSeconds: Number(ttl) }));
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  const copy = async () => {
    if (created?.joinToken === undefined) return;
    await navigator.clipboard.writeText(created.joinToken).catch(() => undefined);
    // Shown once: after copying, the token leaves the page's memory.
    setCreated({ ...created, joinToken: undefined } as JoinToken);
    setCopied(true);
  };
  const revoke = async (accessor: string) => {
    try {
      await api("DELETE", `/v1/auth/join-tokens/${enc(accessor)}`);
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card" aria-labelledby="join-h">
      <h2 id="join-h">{t("identity.joinTokens")}</h2>
      <form class="inline-form" onSubmit={create}>
        <label>
          {t("identity.role")}
          <input value={role} onInput={(e) => setRole((e.target as HTMLInputElement).value)} required />
        </label>
        <label>
          {t("identity.ttlSeconds")}
          <input inputMode="numeric" value={ttl} onInput={(e) => setTtl((e.target as HTMLInputElement).value)} size={7} />
        </label>
        <button type="submit">{t("identity.createJoinToken")}</button>
      </form>
      <ErrorBox error={error} />
      {created?.joinToken !== undefined && (
        <div class="notice warn once" role="status">
          <p>{t("identity.copyOnce")}</p>
          <code class="secret" aria-label={t("identity.joinToken")}>
            {created.joinToken}
          </code>{" "}
          <button type="button" onClick={copy}>
            {t("identity.copy")}
          </button>
        </div>
      )}
      {copied && <Notice kind="ok">{t("identity.copied")}</Notice>}
      {list.data !== undefined && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("identity.accessor")}</th>
                <th scope="col">{t("identity.role")}</th>
                <th scope="col">{t("identity.usesLeft")}</th>
                <th scope="col">{t("identity.expires")}</th>
                <th scope="col">
                  <span class="visually-hidden">{t("key.versionActions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.joinTokens.map((j) => (
                <tr key={j.accessor}>
                  <td>
                    <code>{j.accessor.slice(0, 12)}…</code>
                  </td>
                  <td>{j.role}</td>
                  <td>{j.usesLeft ?? t("identity.unlimited")}</td>
                  <td>{formatTime(j.expiresAt)}</td>
                  <td>
                    <button type="button" class="secondary small" onClick={() => revoke(j.accessor)}>
                      {t("identity.revoke")}
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function AccessKeys() {
  const keys = useLoad(() => api<{ accessKeys: { accessKeyId: string; role: string; state: string; description: string; createdAt: string }[] }>("GET", "/v1/auth/access-keys"), []);
  return (
    <section class="card" aria-labelledby="ak-h">
      <h2 id="ak-h">{t("identity.accessKeys")}</h2>
      <ErrorBox error={keys.error} />
      {keys.data !== undefined &&
        (keys.data.accessKeys.length === 0 ? (
          <p class="muted">{t("common.none")}</p>
        ) : (
          <ul class="plain">
            {keys.data.accessKeys.map((k) => (
              <li key={k.accessKeyId}>
                <code>{k.accessKeyId}</code> {k.role} · {k.state} <span class="muted">{formatTime(k.createdAt)}</span>
              </li>
            ))}
          </ul>
        ))}
    </section>
  );
}

function JwtIssuers() {
  const issuers = useLoad(() => api<{ names: string[] }>("GET", "/v1/auth/jwt/issuers"), []);
  return (
    <section class="card" aria-labelledby="jwt-h">
      <h2 id="jwt-h">{t("identity.jwtIssuers")}</h2>
      <ErrorBox error={issuers.error} />
      {issuers.data !== undefined && (issuers.data.names.length === 0 ? <p class="muted">{t("common.none")}</p> : <ul class="plain">{issuers.data.names.map((n) => <li key={n}>{n}</li>)}</ul>)}
    </section>
  );
}

interface Certificate {
  serial: string;
  vmId: string;
  role: string;
  notAfter: string;
  state: "active" | "revoked" | "expired";
}

function Certificates({ canRevoke }: { canRevoke: boolean }) {
  const [marker, setMarker] = useState<string | undefined>(undefined);
  const list = useLoad(() => api<{ certificates: Certificate[]; nextMarker: string | null }>("GET", `/v1/auth/certs?limit=50${marker === undefined ? "" : `&marker=${enc(marker)}`}`), [marker]);
  const [result, setResult] = useState<{ certificates: number; tokens: number } | null>(null);
  const [error, setError] = useState<unknown>(undefined);
  const revoke = async (target: { vmId: string } | { serial: string }) => {
    setError(undefined);
    try {
      setResult(await api<{ certificates: number; tokens: number }>("POST", "/v1/auth/certs/revoke", target));
      list.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <section class="card" aria-labelledby="certs-h">
      <h2 id="certs-h">{t("identity.certificates")}</h2>
      <ErrorBox error={list.error ?? error} />
      {result !== null && <Notice kind="ok">{t("identity.revoked", result)}</Notice>}
      {list.data === undefined ? (
        <Loading />
      ) : list.data.certificates.length === 0 ? (
        <p class="muted">{t("identity.noCertificates")}</p>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("identity.vmId")}</th>
                <th scope="col">{t("identity.role")}</th>
                <th scope="col">{t("identity.serial")}</th>
                <th scope="col">{t("keys.state")}</th>
                <th scope="col">{t("identity.expires")}</th>
                <th scope="col">
                  <span class="visually-hidden">{t("key.versionActions")}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.data.certificates.map((c) => (
                <tr key={c.serial}>
                  <td>{c.vmId}</td>
                  <td>{c.role}</td>
                  <td>
                    <code>{c.serial.slice(0, 16)}</code>
                  </td>
                  <td>
                    <Badge value={c.state} />
                  </td>
                  <td>{formatTime(c.notAfter)}</td>
                  <td>
                    {canRevoke && c.state === "active" && (
                      <button type="button" class="secondary small" onClick={() => revoke({ vmId: c.vmId })}>
                        {t("identity.revokeVmNamed", { vm: c.vmId })}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.data?.nextMarker != null && (
        <button type="button" class="secondary" onClick={() => setMarker(list.data!.nextMarker!)}>
          {t("common.next")}
        </button>
      )}
      {canRevoke && <p class="muted">{t("identity.certificatesHint")}</p>}
    </section>
  );
}
