/**
 * One key: its settings, versions (with use counts and last use, so an operator sees a version is
 * idle before retiring it), a usage chart, the actions the signed-in principal may take, and a
 * "try it" panel. Actions reached by URL (/keys/NAME/rotate …) that the principal may not take
 * get a clear refusal instead of a button.
 */
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { auditEntries, type KeyMetadata, type KeyRetention, type KeyVersionInfo } from "../model.js";
import { Link, navigate } from "../router.js";
import { useCapabilities } from "../capabilities.js";
import { BarChart, bucket } from "../components/chart.js";
import { Badge, ErrorBox, Fields, Loading, Notice } from "../components/ui.js";
import { TryIt } from "./try-it.js";
import { KeyAliases } from "./key-aliases.js";
import { rotationText } from "./keys.js";

/** URL actions and the permission each needs. */
const URL_ACTIONS: Record<string, string> = {
  rotate: "kms:RotateKey",
  enable: "kms:EnableKey",
  disable: "kms:DisableKey",
  "schedule-deletion": "kms:ScheduleKeyDeletion",
  "cancel-deletion": "kms:CancelKeyDeletion",
};
const ACTIONS = ["kms:RotateKey", "kms:EnableKey", "kms:DisableKey", "kms:EnableKeyVersion", "kms:DisableKeyVersion", "kms:UpdateKey", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:Encrypt", "kms:Decrypt", "kms:Sign", "kms:Verify", "kms:GenerateMac", "audit:Read"];

export function KeyPage({ name, action }: { name: string; action: string | undefined }) {
  const key = useLoad(() => api<KeyMetadata>("GET", `/v1/keys/${enc(name)}`), [name]);
  const versions = useLoad(() => api<{ versions: KeyVersionInfo[] }>("GET", `/v1/keys/${enc(name)}/versions`), [name]);
  // Version retention (docs/retention.md): what it will do to each version, and uses since retirement.
  const retention = useLoad(() => api<KeyRetention>("GET", `/v1/keys/${enc(name)}/retention`), [name]);
  const can = useCapabilities(
    ACTIONS.map((a) => (a === "audit:Read" ? { action: a } : { action: a, resource: `key/${name}` })),
    [name],
  );
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | null>(null);

  const run = async (label: string, method: string, path: string, body?: unknown) => {
    setError(undefined);
    setDone(null);
    try {
      await api(method, `/v1/keys/${enc(name)}${path}`, body);
      setDone(label);
      key.reload();
      versions.reload();
      retention.reload();
      if (action !== undefined) navigate(`/keys/${enc(name)}`, true);
    } catch (err) {
      setError(err);
    }
  };

  if (key.error !== undefined) return <ErrorBox error={key.error} />;
  const k = key.data;
  if (k === undefined || can === undefined) return <Loading />;
  const urlAction = action === undefined ? undefined : URL_ACTIONS[action];

  return (
    <div>
      <p class="crumbs">
        <Link href="/keys">{t("nav.keys")}</Link> / {k.name}
      </p>
      <div class="title-row">
        <h1>{k.name}</h1>
        <Badge value={k.state} />
      </div>
      {action !== undefined && urlAction === undefined && <Notice kind="warn">{t("common.notFound")}</Notice>}
      {urlAction !== undefined && !can(urlAction) && (
        <div class="notice error" role="alert">
          {t("key.forbidden", { action: urlAction, key: k.name })}
        </div>
      )}
      {urlAction !== undefined && can(urlAction) && action !== "schedule-deletion" && (
        <div class="notice info confirm" role="status">
          {t("key.confirmUrl", { action: urlAction, key: k.name })}{" "}
          <button type="button" onClick={() => run(urlAction, "POST", `/${action}`)}>
            {t("common.confirm")}
          </button>
        </div>
      )}
      {done !== null && <Notice kind="ok">{t("key.done", { action: done })}</Notice>}
      <ErrorBox error={error} />

      <div class="actions" role="group" aria-label={t("key.actions")}>
        {can("kms:RotateKey") && k.state === "Enabled" && (
          <button type="button" onClick={() => run("kms:RotateKey", "POST", "/rotate")}>
            {t("key.rotate")}
          </button>
        )}
        {can("kms:DisableKey") && k.state === "Enabled" && (
          <button type="button" class="secondary" onClick={() => run("kms:DisableKey", "POST", "/disable")}>
            {t("key.disable")}
          </button>
        )}
        {can("kms:EnableKey") && k.state === "Disabled" && (
          <button type="button" class="secondary" onClick={() => run("kms:EnableKey", "POST", "/enable")}>
            {t("key.enable")}
          </button>
        )}
        {can("kms:CancelKeyDeletion") && k.state === "PendingDeletion" && (
          <button type="button" class="secondary" onClick={() => run("kms:CancelKeyDeletion", "POST", "/cancel-deletion")}>
            {t("key.cancelDeletion")}
          </button>
        )}
      </div>

      <div class="grid">
        <section class="card" aria-labelledby="details-h">
          <h2 id="details-h">{t("key.details")}</h2>
          <Fields
            rows={[
              [t("key.id"), <code>{k.keyId}</code>],
              [t("keys.spec"), `${k.keySpec} · ${k.keyUsage}`],
              [t("key.origin"), k.origin],
              [t("key.created"), formatTime(k.createdAt)],
              [t("key.description"), k.description || "—"],
              [t("key.tags"), Object.keys(k.tags).length === 0 ? "—" : Object.entries(k.tags).map(([a, b]) => <span class="tag" key={a}>{`${a}=${b}`}</span>)],
              [t("keys.rotation"), rotationText(k.rotationPeriodSeconds)],
              [t("key.lastRotated"), formatTime(k.lastRotatedAt)],
              [t("key.nextRotation"), formatTime(k.nextRotationAt)],
              [t("key.minDecryption"), String(k.minDecryptionVersion)],
              ...(k.deletionDate !== null ? ([[t("key.deletionDate"), formatTime(k.deletionDate)]] as [string, string][]) : []),
            ]}
          />
          {can("kms:UpdateKey") && <RotationSettings k={k} onSaved={() => key.reload()} />}
          <RetentionSettings k={k} retention={retention.data} editable={can("kms:UpdateKey")} onSaved={() => retention.reload()} />
        </section>
        <KeyAliases k={k} />
        {can("audit:Read") && <UsageChart k={k} />}
      </div>

      <section aria-labelledby="versions-h">
        <h2 id="versions-h">{t("key.versions")}</h2>
        <ErrorBox error={versions.error} />
        <div class="table-wrap">
          <table class="versions">
            <thead>
              <tr>
                <th scope="col">{t("key.version")}</th>
                <th scope="col">{t("key.created")}</th>
                <th scope="col">{t("keys.state")}</th>
                <th scope="col">{t("key.useCount")}</th>
                <th scope="col">{t("key.lastUse")}</th>
                <th scope="col">{t("key.sinceRetired")}</th>
                <th scope="col">{t("key.retentionNext")}</th>
                <th scope="col">{t("key.versionActions")}</th>
              </tr>
            </thead>
            <tbody>
              {(versions.data?.versions ?? []).map((v) => (
                <tr key={v.version}>
                  <td>
                    {v.version} {v.primary && <Badge value="Primary" />}
                  </td>
                  <td>{formatTime(v.createdAt)}</td>
                  <td>
                    <Badge value={v.state} /> {v.retired && <Badge value="Retired" />}
                  </td>
                  <td>{v.useCount}</td>
                  <td>{formatTime(v.lastUsedAt)}</td>
                  <td>{sinceRetired(retention.data, v.version)}</td>
                  <td>{retentionNext(retention.data, v.version)}</td>
                  <td>
                    {!v.primary && v.state === "Enabled" && can("kms:DisableKeyVersion") && (
                      <button type="button" class="secondary small" onClick={() => run("kms:DisableKeyVersion", "POST", `/versions/${v.version}/disable`)}>
                        {t("key.disableVersion", { version: v.version })}
                      </button>
                    )}
                    {v.state === "Disabled" && can("kms:EnableKeyVersion") && (
                      <button type="button" class="secondary small" onClick={() => run("kms:EnableKeyVersion", "POST", `/versions/${v.version}/enable`)}>
                        {t("key.enableVersion", { version: v.version })}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {can("kms:UpdateKey") && versions.data !== undefined && k.primaryVersion > 1 && (
          <MinDecryption k={k} onSet={(v) => run("kms:UpdateKey", "POST", "/min-decryption-version", { minDecryptionVersion: v })} />
        )}
      </section>

      <TryIt k={k} can={can} />

      {can("kms:ScheduleKeyDeletion") && (k.state === "Enabled" || k.state === "Disabled") && (
        <ScheduleDeletion k={k} open={action === "schedule-deletion"} onConfirm={(days) => run("kms:ScheduleKeyDeletion", "POST", "/schedule-deletion", { pendingWindowDays: days })} />
      )}
    </div>
  );
}

function MinDecryption({ k, onSet }: { k: KeyMetadata; onSet: (v: number) => void }) {
  const [value, setValue] = useState(String(Math.min(k.primaryVersion, k.minDecryptionVersion + 1)));
  const options = Array.from({ length: k.primaryVersion }, (_, i) => i + 1);
  return (
    <form
      class="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        onSet(Number(value));
      }}
    >
      <label>
        {t("key.minDecryptionLabel")}
        <select value={value} onChange={(e) => setValue((e.target as HTMLSelectElement).value)}>
          {options.map((o) => (
            <option key={o} value={String(o)}>
              {o}
            </option>
          ))}
        </select>
      </label>
      <button type="submit" class="secondary">
        {t("key.retire")}
      </button>
    </form>
  );
}

/** Uses of a version since it stopped being primary (and refused uses), or "—" for the primary. */
function sinceRetired(r: KeyRetention | undefined, version: number): string {
  const v = r?.versions.find((x) => x.version === version);
  if (v === undefined || v.primary) return "—";
  return v.refused > 0 ? t("key.usesRefused", { uses: v.usesSinceRetired, refused: v.refused }) : String(v.usesSinceRetired);
}

/** What retention does to a version next: disable or destroy on a date, or waits because it is in use. */
function retentionNext(r: KeyRetention | undefined, version: number): string {
  const v = r?.versions.find((x) => x.version === version);
  if (v === undefined) return "—";
  if (v.destroyAt !== null) return t(v.inUse ? "key.destroyWaits" : "key.destroyAt", { time: formatTime(v.destroyAt) });
  if (v.disableAt !== null) return t("key.disableAt", { time: formatTime(v.disableAt) });
  return "—";
}

function RetentionSettings({ k, retention, editable, onSaved }: { k: KeyMetadata; retention: KeyRetention | undefined; editable: boolean; onSaved: () => void }) {
  const p = retention?.policy ?? null;
  const [disable, setDisable] = useState(p === null ? "" : String(p.disableAfterSeconds / 86_400));
  const [destroy, setDestroy] = useState(p === null ? "" : String(p.destroyAfterSeconds / 86_400));
  const [keep, setKeep] = useState(p === null ? "1" : String(p.keepAtLeast));
  const [error, setError] = useState<unknown>(undefined);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      setError(undefined);
      if (disable.trim() === "" && destroy.trim() === "") await api("DELETE", `/v1/keys/${enc(k.keyId)}/retention`);
      else await api("PUT", `/v1/keys/${enc(k.keyId)}/retention`, { disableAfterSeconds: Math.round(Number(disable) * 86_400), destroyAfterSeconds: Math.round(Number(destroy) * 86_400), keepAtLeast: Number(keep) });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  const summary =
    p === null ? t("key.retentionNone") : t("key.retentionPolicy", { disable: p.disableAfterSeconds / 86_400, destroy: p.destroyAfterSeconds / 86_400, keep: p.keepAtLeast });
  return (
    <div class="retention">
      <h3>{t("key.retention")}</h3>
      <p>{summary}</p>
      {editable && (
        <form class="inline-form" onSubmit={save}>
          <label>
            {t("key.disableAfterDays")}
            <input inputMode="numeric" value={disable} onInput={(e) => setDisable((e.target as HTMLInputElement).value)} size={4} />
          </label>
          <label>
            {t("key.destroyAfterDays")}
            <input inputMode="numeric" value={destroy} onInput={(e) => setDestroy((e.target as HTMLInputElement).value)} size={4} />
          </label>
          <label>
            {t("key.keepAtLeast")}
            <input inputMode="numeric" value={keep} onInput={(e) => setKeep((e.target as HTMLInputElement).value)} size={3} />
          </label>
          <button type="submit" class="secondary">
            {t("key.saveRetention")}
          </button>
          <ErrorBox error={error} />
        </form>
      )}
    </div>
  );
}

function RotationSettings({ k, onSaved }: { k: KeyMetadata; onSaved: () => void }) {
  const [days, setDays] = useState(k.rotationPeriodSeconds === null ? "" : String(k.rotationPeriodSeconds / 86_400));
  const [error, setError] = useState<unknown>(undefined);
  const save = async (e: Event) => {
    e.preventDefault();
    try {
      setError(undefined);
      await api("PATCH", `/v1/keys/${enc(k.keyId)}`, { rotationPeriodSeconds: days.trim() === "" ? null : Math.round(Number(days) * 86_400) });
      onSaved();
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="inline-form" onSubmit={save}>
      <label>
        {t("key.rotationDays")}
        <input inputMode="numeric" value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} size={5} />
      </label>
      <button type="submit" class="secondary">
        {t("common.save")}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}

function UsageChart({ k }: { k: KeyMetadata }) {
  const usage = useLoad(async () => {
    const now = Date.now();
    return { now, records: await auditEntries({ key: k.keyId, from: new Date(now - 24 * 3_600_000).toISOString() }, 5000) };
  }, [k.keyId]);
  return (
    <section class="card wide" aria-labelledby="usage-h">
      <h2 id="usage-h">{t("key.usage")}</h2>
      <ErrorBox error={usage.error} />
      {usage.data !== undefined && (() => {
        const counts = bucket(usage.data.records, usage.data.now, 3_600_000, 24, ["allowed", "denied", "error"], (r) => r.outcome);
        const labels = Array.from({ length: 24 }, (_, i) => new Date(usage.data!.now - (24 - i) * 3_600_000).toTimeString().slice(0, 5));
        return (
          <BarChart
            title={t("key.usageCaption")}
            labels={labels}
            series={[
              { name: t("outcome.allowed"), className: "s-allowed", values: counts[0]! },
              { name: t("outcome.denied"), className: "s-denied", values: counts[1]! },
              { name: t("outcome.error"), className: "s-error", values: counts[2]! },
            ]}
          />
        );
      })()}
    </section>
  );
}

function ScheduleDeletion({ k, open, onConfirm }: { k: KeyMetadata; open: boolean; onConfirm: (days: number) => void }) {
  const [typed, setTyped] = useState("");
  const [days, setDays] = useState("30");
  return (
    <details class="card danger" open={open}>
      <summary>{t("key.scheduleDeletion")}</summary>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (typed === k.name) onConfirm(Number(days));
        }}
      >
        <p>{t("key.deletionWarning", { key: k.name })}</p>
        <label>
          {t("key.pendingDays")}
          <input inputMode="numeric" value={days} onInput={(e) => setDays((e.target as HTMLInputElement).value)} size={3} />
        </label>
        <label>
          {t("key.typeName", { key: k.name })}
          <input value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} autoComplete="off" />
        </label>
        <button type="submit" class="danger" disabled={typed !== k.name}>
          {t("key.scheduleDeletion")}
        </button>
      </form>
    </details>
  );
}
