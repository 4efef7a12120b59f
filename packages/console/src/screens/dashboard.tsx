/**
 * Dashboard: seal state and nodes, requests by outcome over the last hour or day and the most used
 * keys (`GET /v1/audit/activity`), recent denials (audit entries) and open alerts — all from the
 * public API, refreshed every 10 seconds.
 */
import { useState } from "preact/hooks";
import { api } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { allKeys, auditEntries, type Alert, type AuditEntry } from "../model.js";
import type { Series } from "../components/chart.js";
import { Link } from "../router.js";
import { BarChart } from "../components/chart.js";
import { Badge, ErrorBox, Loading } from "../components/ui.js";

interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  node?: string;
  nodes?: { id: string; address: string; state: string; live: boolean; self: boolean; version: string }[];
}

const REFRESH_MS = 10_000;

interface Activity {
  node: string;
  bucketSeconds: number;
  buckets: { start: string; allowed: number; denied: number; error: number }[];
  topKeys: { keyId: string; count: number }[];
}

export function Dashboard() {
  const seal = useLoad(() => api<SealStatus>("GET", "/v1/sys/seal-status"), [], REFRESH_MS);
  const [span, setSpan] = useState<"hour" | "day">("hour");
  const activity = useLoad(() => api<Activity>("GET", `/v1/audit/activity?window=${span}`), [span], REFRESH_MS);
  const names = useLoad(async () => new Map((await allKeys()).map((k) => [k.keyId, k.name])), [], 60_000);
  const denials = useLoad(async () => (await auditEntries({ outcome: "denied", from: new Date(Date.now() - 3_600_000).toISOString() }, 1000)).slice(-5).reverse(), [], REFRESH_MS);
  const alerts = useLoad(() => api<{ alerts: Alert[] }>("GET", "/v1/alerts?limit=5"), [], REFRESH_MS);

  return (
    <div class="dashboard">
      <h1>{t("dashboard.heading")}</h1>
      <div class="grid">
        <section class="card" aria-labelledby="seal-h">
          <h2 id="seal-h">{t("dashboard.seal")}</h2>
          <ErrorBox error={seal.error} />
          {seal.data === undefined ? (
            <Loading />
          ) : (
            <>
              <p>
                <Badge value={seal.data.sealed ? "Sealed" : "Unsealed"} />
              </p>
              <ul class="plain">
                {(seal.data.nodes ?? [{ id: seal.data.node ?? t("dashboard.thisNode"), address: location.host, state: seal.data.sealed ? "sealed" : "unsealed", live: true, self: true, version: "" }]).map((n) => (
                  <li key={n.id}>
                    {n.id} <span class="muted">{n.address}</span> <Badge value={n.live ? n.state : "down"} />
                  </li>
                ))}
              </ul>
            </>
          )}
        </section>
        <section class="card wide" aria-labelledby="rpm-h">
          <div class="title-row">
            <h2 id="rpm-h">{span === "hour" ? t("dashboard.requests") : t("dashboard.requestsDay")}</h2>
            <div class="segmented" role="group" aria-label={t("dashboard.window")}>
              <button type="button" class="secondary small" aria-pressed={span === "hour"} onClick={() => setSpan("hour")}>
                {t("dashboard.lastHour")}
              </button>
              <button type="button" class="secondary small" aria-pressed={span === "day"} onClick={() => setSpan("day")}>
                {t("dashboard.lastDay")}
              </button>
            </div>
          </div>
          <ErrorBox error={activity.error} />
          {activity.data === undefined ? <Loading /> : <RequestsChart activity={activity.data} />}
        </section>
        <section class="card" aria-labelledby="top-h">
          <h2 id="top-h">{span === "hour" ? t("dashboard.topKeys") : t("dashboard.topKeysDay")}</h2>
          {activity.data !== undefined && <TopKeys activity={activity.data} names={names.data ?? new Map()} />}
        </section>
        <section class="card" aria-labelledby="deny-h">
          <h2 id="deny-h">{t("dashboard.denials")}</h2>
          <ErrorBox error={denials.error} />
          {denials.data !== undefined && <Denials records={denials.data} />}
        </section>
        <section class="card" aria-labelledby="alerts-h">
          <h2 id="alerts-h">{t("dashboard.alerts")}</h2>
          <ErrorBox error={alerts.error} />
          {alerts.data !== undefined &&
            (alerts.data.alerts.length === 0 ? (
              <p class="muted">{t("dashboard.noAlerts")}</p>
            ) : (
              <ul class="plain">
                {alerts.data.alerts.map((a) => (
                  <li key={a.id}>
                    <Badge value={a.severity} /> <Link href="/alerts">{a.message}</Link>
                  </li>
                ))}
              </ul>
            ))}
        </section>
      </div>
    </div>
  );
}

function RequestsChart({ activity }: { activity: Activity }) {
  const labels = activity.buckets.map((b) => new Date(b.start).toTimeString().slice(0, 5));
  const series: Series[] = [
    { name: t("outcome.allowed"), className: "s-allowed", values: activity.buckets.map((b) => b.allowed) },
    { name: t("outcome.denied"), className: "s-denied", values: activity.buckets.map((b) => b.denied) },
    { name: t("outcome.error"), className: "s-error", values: activity.buckets.map((b) => b.error) },
  ];
  return <BarChart title={activity.bucketSeconds === 60 ? t("dashboard.requestsCaption") : t("dashboard.requestsDayCaption")} labels={labels} series={series} />;
}

function TopKeys({ activity, names }: { activity: Activity; names: Map<string, string> }) {
  const top = activity.topKeys.slice(0, 5);
  if (top.length === 0) return <p class="muted">{t("dashboard.noUse")}</p>;
  return (
    <ol class="plain">
      {top.map(({ keyId, count }) => (
        <li key={keyId}>
          <Link href={`/keys/${encodeURIComponent(names.get(keyId) ?? keyId)}`}>{names.get(keyId) ?? keyId}</Link> <span class="muted">{t("dashboard.uses", { count })}</span>
        </li>
      ))}
    </ol>
  );
}

function Denials({ records }: { records: AuditEntry[] }) {
  if (records.length === 0) return <p class="muted">{t("dashboard.noDenials")}</p>;
  return (
    <ul class="plain">
      {records.map((r) => (
        <li key={r.seq}>
          <code>{r.action}</code> {r.principal?.displayName ?? t("audit.anonymous")} <span class="muted">{formatTime(r.time)}</span>
        </li>
      ))}
    </ul>
  );
}
