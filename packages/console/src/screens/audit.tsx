/** Audit: a filterable timeline (time range, principal, key, action, outcome, request id), entry detail, and "verify trail". */
import { useState } from "preact/hooks";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { auditEntries, type AuditEntry } from "../model.js";
import { verifyTrail, type TrailReport } from "../verify-trail.js";
import { Badge, ErrorBox, Fields, Loading, Notice } from "../components/ui.js";

interface Filters {
  from: string;
  to: string;
  principal: string;
  key: string;
  action: string;
  outcome: string;
  requestId: string;
}
const EMPTY: Filters = { from: "", to: "", principal: "", key: "", action: "", outcome: "", requestId: "" };

/** `datetime-local` values are local time; the API takes RFC 3339. */
const toIso = (local: string) => (local === "" ? "" : new Date(local).toISOString());

export function Audit() {
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [selected, setSelected] = useState<AuditEntry | null>(null);
  const entries = useLoad(async () => {
    const q: Record<string, string> = {};
    for (const [k, v] of Object.entries(filters)) if (v !== "") q[k] = k === "from" || k === "to" ? toIso(v) : v;
    // The last day by default; a request id is looked up over the whole trail.
    if (q["from"] === undefined && q["requestId"] === undefined) q["from"] = new Date(Date.now() - 24 * 3_600_000).toISOString();
    return (await auditEntries(q, 2000)).filter((r) => r.kind !== "checkpoint").reverse();
  }, [JSON.stringify(filters)]);
  const field = (name: keyof Filters, label: string, type: "text" | "datetime-local" = "text") => (
    <label>
      {label}
      {type === "text" ? (
        <input type="text" value={draft[name]} onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} />
      ) : (
        <input type="datetime-local" value={draft[name]} onInput={(e) => setDraft({ ...draft, [name]: (e.target as HTMLInputElement).value })} />
      )}
    </label>
  );
  return (
    <div>
      <div class="title-row">
        <h1>{t("audit.heading")}</h1>
        <VerifyButton />
      </div>
      <form
        class="card form-grid"
        aria-label={t("audit.filters")}
        onSubmit={(e) => {
          e.preventDefault();
          setSelected(null);
          setFilters(draft);
        }}
      >
        {field("from", t("audit.from"), "datetime-local")}
        {field("to", t("audit.to"), "datetime-local")}
        {field("principal", t("audit.principal"))}
        {field("key", t("audit.key"))}
        {field("action", t("audit.action"))}
        <label>
          {t("audit.outcome")}
          <select value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: (e.target as HTMLSelectElement).value })}>
            <option value="">{t("audit.any")}</option>
            <option value="allowed">{t("outcome.allowed")}</option>
            <option value="denied">{t("outcome.denied")}</option>
            <option value="error">{t("outcome.error")}</option>
            <option value="intent">{t("outcome.intent")}</option>
          </select>
        </label>
        {field("requestId", t("audit.requestId"))}
        <button type="submit">{t("audit.apply")}</button>
      </form>
      <ErrorBox error={entries.error} />
      <div class="audit-split">
        <div class="table-wrap">
          {entries.data === undefined ? (
            <Loading />
          ) : entries.data.length === 0 ? (
            <p class="muted">{t("audit.none")}</p>
          ) : (
            <table class="timeline">
              <caption class="visually-hidden">{t("audit.heading")}</caption>
              <thead>
                <tr>
                  <th scope="col">{t("audit.time")}</th>
                  <th scope="col">{t("audit.action")}</th>
                  <th scope="col">{t("audit.principal")}</th>
                  <th scope="col">{t("audit.outcome")}</th>
                </tr>
              </thead>
              <tbody>
                {entries.data.slice(0, 200).map((r) => (
                  <tr key={r.seq} class={selected?.seq === r.seq ? "selected" : ""}>
                    <td>
                      <button type="button" class="link" onClick={() => setSelected(r)}>
                        {formatTime(r.time)}
                      </button>
                    </td>
                    <td>
                      <code>{r.action}</code>
                    </td>
                    <td>{r.principal?.displayName ?? t("audit.anonymous")}</td>
                    <td>
                      <Badge value={r.outcome} /> {r.errorCode ?? ""}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
        {selected !== null && <EntryDetail r={selected} onClose={() => setSelected(null)} />}
      </div>
    </div>
  );
}

function EntryDetail({ r, onClose }: { r: AuditEntry; onClose: () => void }) {
  return (
    <aside class="card detail" aria-labelledby="entry-h">
      <h2 id="entry-h">{t("audit.entry", { seq: r.seq })}</h2>
      <Fields
        rows={[
          [t("audit.time"), formatTime(r.time)],
          [t("audit.action"), <code>{r.action}</code>],
          [t("audit.outcome"), `${r.outcome}${r.errorCode !== null ? ` (${r.errorCode})` : ""}`],
          [t("audit.principal"), r.principal === null ? t("audit.anonymous") : `${r.principal.displayName} (${r.principal.kind}${r.principal.role !== null ? `, ${r.principal.role}` : ""})`],
          [t("audit.source"), r.source],
          [t("audit.key"), r.keyId === null ? "—" : `${r.keyId}${r.keyVersion !== null ? ` v${r.keyVersion}` : ""}`],
          [t("audit.requestId"), <code>{r.requestId}</code>],
          [t("audit.latency"), `${r.latencyMs} ms`],
          ...Object.entries(r.detail ?? {}).map(([k, v]) => [k, String(v)] as [string, string]),
        ]}
      />
      <button type="button" class="secondary" onClick={onClose}>
        {t("common.close")}
      </button>
    </aside>
  );
}

function VerifyButton() {
  const [report, setReport] = useState<TrailReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const run = async () => {
    setBusy(true);
    setError(undefined);
    setReport(null);
    try {
      setReport(await verifyTrail());
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <div class="verify">
      <button type="button" onClick={run} disabled={busy}>
        {busy ? t("audit.verifying") : t("audit.verify")}
      </button>
      <ErrorBox error={error} />
      {report !== null &&
        (report.ok ? (
          <Notice kind="ok">{t(report.signaturesChecked ? "audit.verified" : "audit.verifiedNoSignatures", { entries: report.entries, checkpoints: report.checkpoints, seq: report.lastSeq ?? 0 })}</Notice>
        ) : (
          <div class="notice error" role="alert">
            {t("audit.verifyFailed", { seq: report.problem?.seq ?? "?", what: report.problem?.what ?? "" })}
          </div>
        ))}
    </div>
  );
}
