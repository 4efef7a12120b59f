/**
 * Dashboard: seal state and nodes, requests per minute by outcome over the last hour, top keys,
 * recent denials and open alerts — all from the public API (seal status, audit entries, alerts),
 * refreshed every 10 seconds.
 */
import { api } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { allKeys, auditEntries, type Alert, type AuditEntry } from "../model.js";
import { Link } from "../router.js";
import { BarChart, bucket } from "../components/chart.js";
import { Badge, ErrorBox, Loading } from "../components/ui.js";

interface SealStatus {
  initialized: boolean;
  sealed: boolean;
  node?: string;
  nodes?: { id: string; address: string; state: string; live: boolean; self: boolean; version: string }[];
}

const REFRESH_MS = 10_000;
const MINUTES = 60;

export function Dashboard() {
  const seal = useLoad(() => api<SealStatus>("GET", "/v1/sys/seal-status"), [], REFRESH_MS);
  const activity = useLoad(async () => {
    const now = Date.now();
    const [records, keys] = await Promise.all([auditEntries({ from: new Date(now - MINUTES * 60_000).toISOString() }, 5000), allKeys().catch(() => [])]);
    return { now, records: records.filter((r) => r.outcome !== "intent" && r.kind !== "checkpoint"), names: new Map(keys.map((k) => [k.keyId, k.name])) };
  }, [], REFRESH_MS);
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
          <h2 id="rpm-h">{t("dashboard.requests")}</h2>
          <ErrorBox error={activity.error} />
          {activity.data === undefined ? <Loading /> : <RequestsChart records={activity.data.records} now={activity.data.now} />}
        </section>
        <section class="card" aria-labelledby="top-h">
          <h2 id="top-h">{t("dashboard.topKeys")}</h2>
          {activity.data !== undefined && <TopKeys records={activity.data.records} names={activity.data.names} />}
        </section>
        <section class="card" aria-labelledby="deny-h">
          <h2 id="deny-h">{t("dashboard.denials")}</h2>
          {activity.data !== undefined && <Denials records={activity.data.records} />}
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

function RequestsChart({ records, now }: { records: AuditEntry[]; now: number }) {
  const outcomes = ["allowed", "denied", "error"];
  const counts = bucket(records, now, 60_000, MINUTES, outcomes, (r) => r.outcome);
  const labels = Array.from({ length: MINUTES }, (_, i) => new Date(now - (MINUTES - i) * 60_000).toTimeString().slice(0, 5));
  return (
    <BarChart
      title={t("dashboard.requestsCaption")}
      labels={labels}
      series={[
        { name: t("outcome.allowed"), className: "s-allowed", values: counts[0]! },
        { name: t("outcome.denied"), className: "s-denied", values: counts[1]! },
        { name: t("outcome.error"), className: "s-error", values: counts[2]! },
      ]}
    />
  );
}

function TopKeys({ records, names }: { records: AuditEntry[]; names: Map<string, string> }) {
  const counts = new Map<string, number>();
  for (const r of records) if (r.keyId !== null && r.outcome === "allowed") counts.set(r.keyId, (counts.get(r.keyId) ?? 0) + 1);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 5);
  if (top.length === 0) return <p class="muted">{t("dashboard.noUse")}</p>;
  return (
    <ol class="plain">
      {top.map(([id, n]) => (
        <li key={id}>
          <Link href={`/keys/${encodeURIComponent(names.get(id) ?? id)}`}>{names.get(id) ?? id}</Link> <span class="muted">{t("dashboard.uses", { count: n })}</span>
        </li>
      ))}
    </ol>
  );
}

function Denials({ records }: { records: AuditEntry[] }) {
  const denied = records.filter((r) => r.outcome === "denied").slice(-5).reverse();
  if (denied.length === 0) return <p class="muted">{t("dashboard.noDenials")}</p>;
  return (
    <ul class="plain">
      {denied.map((r) => (
        <li key={r.seq}>
          <code>{r.action}</code> {r.principal?.displayName ?? t("audit.anonymous")} <span class="muted">{formatTime(r.time)}</span>
        </li>
      ))}
    </ul>
  );
}
