/** Small shared pieces: error and notice boxes, a status badge, a definition list. */
import type { ComponentChildren } from "preact";
import { ApiError } from "../api.js";
import { t } from "../i18n.js";

export function ErrorBox({ error }: { error: unknown }) {
  if (error === undefined || error === null) return null;
  const e = error as Error;
  const code = e instanceof ApiError ? e.code : undefined;
  const field = e instanceof ApiError ? e.field : undefined;
  return (
    <div class="notice error" role="alert">
      {code !== undefined && <strong>{code}: </strong>}
      {e.message}
      {field !== undefined && <span class="field"> ({t("error.field", { field })})</span>}
    </div>
  );
}

export function Notice({ children, kind = "info" }: { children: ComponentChildren; kind?: "info" | "warn" | "ok" }) {
  return (
    <div class={`notice ${kind}`} role="status">
      {children}
    </div>
  );
}

export function Badge({ value }: { value: string }) {
  return <span class={`badge badge-${value.toLowerCase()}`}>{value}</span>;
}

export function Fields({ rows }: { rows: [string, ComponentChildren][] }) {
  return (
    <dl class="fields">
      {rows.map(([k, v]) => (
        <div key={k}>
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Loading() {
  return <p class="muted">{t("common.loading")}</p>;
}
