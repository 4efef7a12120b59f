/** Alerts: open (or all) alerts, the audit entries that triggered each, and acknowledge. */
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { auditEntries, type Alert } from "../model.js";
import { useCapabilities } from "../capabilities.js";
import { Badge, ErrorBox, Loading } from "../components/ui.js";

export function Alerts() {
  const [all, setAll] = useState(false);
  const alerts = useLoad(() => api<{ alerts: Alert[] }>("GET", `/v1/alerts?limit=100${all ? "&all=true" : ""}`), [all], 15_000);
  const can = useCapabilities([{ action: "audit:AckAlert" }], []);
  const [error, setError] = useState<unknown>(undefined);
  const ack = async (id: string) => {
    try {
      await api("POST", `/v1/alerts/${enc(id)}/ack`, {});
      alerts.reload();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <div>
      <div class="title-row">
        <h1>{t("alerts.heading")}</h1>
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> {t("alerts.showAll")}
        </label>
      </div>
      <ErrorBox error={alerts.error ?? error} />
      {alerts.data === undefined ? (
        <Loading />
      ) : alerts.data.alerts.length === 0 ? (
        <p class="muted">{t("alerts.none")}</p>
      ) : (
        <ul class="plain alerts">
          {alerts.data.alerts.map((a) => (
            <li key={a.id} class="card">
              <div class="title-row">
                <h2>
                  <Badge value={a.severity} /> {a.detector}
                </h2>
                <span class="muted">{formatTime(a.time)}</span>
              </div>
              <p>{a.message}</p>
              <Triggering alert={a} />
              {a.acknowledgedAt !== null ? (
                <p class="muted">{t("alerts.acknowledged", { by: a.acknowledgedBy ?? "?", at: formatTime(a.acknowledgedAt) })}</p>
              ) : (
                can?.("audit:AckAlert") === true && (
                  <button type="button" onClick={() => ack(a.id)}>
                    {t("alerts.ack")}
                  </button>
                )
              )}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function Triggering({ alert }: { alert: Alert }) {
  const [open, setOpen] = useState(false);
  const entries = useLoad(
    async () => (open ? (await Promise.all(alert.seqs.slice(0, 20).map((s) => auditEntries({ after: String(s - 1) }, 1)))).flat().filter((r) => alert.seqs.includes(r.seq)) : []),
    [open, alert.id],
  );
  if (alert.seqs.length === 0) return null;
  return (
    <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
      <summary>{t("alerts.triggering", { count: alert.seqs.length })}</summary>
      <ErrorBox error={entries.error} />
      {open && entries.data === undefined ? (
        <Loading />
      ) : (
        <ul class="plain">
          {(entries.data ?? []).map((r) => (
            <li key={r.seq}>
              #{r.seq} {formatTime(r.time)} <code>{r.action}</code> {r.principal?.displayName ?? t("audit.anonymous")} <Badge value={r.outcome} /> <span class="muted">{r.source}</span>
            </li>
          ))}
        </ul>
      )}
    </details>
  );
}
