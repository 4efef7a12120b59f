/**
 * The policy simulator (`POST /v1/policies/simulate`): the decision, and the deciding policy's
 * statements with the deciding one highlighted (or, on a default deny, the ones whose conditions failed).
 */
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { t } from "../i18n.js";
import { ErrorBox, Notice } from "../components/ui.js";

interface Decision {
  allowed: boolean;
  reason: string;
  policy?: string;
  statement?: number;
  sid?: string;
  resource?: string;
  unmet?: { policy: string; statement: number; sid?: string; failed: string[] }[];
  warnings?: { code: string; message: string }[];
}

export function Simulator() {
  const [role, setRole] = useState("");
  const [action, setAction] = useState("kms:Decrypt");
  const [resource, setResource] = useState("");
  const [context, setContext] = useState("");
  const [source, setSource] = useState("");
  const [decision, setDecision] = useState<Decision | null>(null);
  const [statements, setStatements] = useState<unknown[] | null>(null);
  const [error, setError] = useState<unknown>(undefined);

  const run = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    setDecision(null);
    setStatements(null);
    try {
      const ctx = Object.fromEntries(
        context
          .split(",")
          .map((p) => p.trim())
          .filter((p) => p.includes("="))
          .map((p) => [p.slice(0, p.indexOf("=")), p.slice(p.indexOf("=") + 1)]),
      );
      const d = await api<Decision>("POST", "/v1/policies/simulate", {
        ...(role !== "" && { role }),
        action,
        ...(resource !== "" && { resource }),
        ...(Object.keys(ctx).length > 0 && { context: ctx }),
        ...(source !== "" && { source }),
      });
      setDecision(d);
      const policy = d.policy ?? d.unmet?.[0]?.policy;
      if (policy !== undefined) {
        const p = await api<{ document: { statements: unknown[] } }>("GET", `/v1/policies/${enc(policy)}`).catch(() => null);
        setStatements(p?.document.statements ?? null);
      }
    } catch (err) {
      setError(err);
    }
  };
  const highlighted = new Set<number>(decision?.statement !== undefined ? [decision.statement] : (decision?.unmet ?? []).map((u) => u.statement));
  return (
    <div>
      <h1>{t("simulator.heading")}</h1>
      <form class="card form-grid" onSubmit={run}>
        <label>
          {t("identity.role")}
          <input value={role} onInput={(e) => setRole((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          {t("simulator.action")}
          <input value={action} onInput={(e) => setAction((e.target as HTMLInputElement).value)} required />
        </label>
        <label>
          {t("simulator.resource")}
          <input value={resource} onInput={(e) => setResource((e.target as HTMLInputElement).value)} placeholder="key/payment-db" />
        </label>
        <label>
          {t("simulator.context")}
          <input value={context} onInput={(e) => setContext((e.target as HTMLInputElement).value)} placeholder="vm=vm-1" />
        </label>
        <label>
          {t("simulator.source")}
          <input value={source} onInput={(e) => setSource((e.target as HTMLInputElement).value)} placeholder="10.0.3.7" />
        </label>
        <button type="submit">{t("simulator.run")}</button>
      </form>
      <ErrorBox error={error} />
      {decision !== null && (
        <section class="card" aria-labelledby="decision-h">
          <h2 id="decision-h" class={decision.allowed ? "allowed" : "denied"}>
            {decision.allowed ? t("simulator.allowed") : t("simulator.denied")} — {decision.reason}
          </h2>
          <p>
            {decision.policy !== undefined && t("simulator.decidedBy", { policy: decision.policy, statement: decision.statement ?? 0, sid: decision.sid ?? "" })}
            {decision.resource !== undefined && <span class="muted"> · {decision.resource}</span>}
          </p>
          {(decision.unmet ?? []).map((u) => (
            <p key={`${u.policy}/${u.statement}`}>{t("simulator.unmet", { policy: u.policy, statement: u.statement, failed: u.failed.join(", ") })}</p>
          ))}
          {decision.reason === "default-deny" && (decision.unmet ?? []).length === 0 && <p>{t("simulator.noStatement")}</p>}
          {(decision.warnings ?? []).map((w) => (
            <Notice key={w.code} kind="warn">
              {w.message}
            </Notice>
          ))}
          {statements !== null && (
            <ol class="statements" start={0}>
              {statements.map((s, i) => (
                <li key={i} class={highlighted.has(i) ? "deciding" : ""} aria-current={highlighted.has(i) ? "true" : undefined}>
                  {highlighted.has(i) && <strong class="marker">{t("simulator.deciding")}</strong>}
                  <pre>{JSON.stringify(s, null, 2)}</pre>
                </li>
              ))}
            </ol>
          )}
        </section>
      )}
    </div>
  );
}
