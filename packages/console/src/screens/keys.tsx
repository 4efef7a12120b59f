/** Keys: a searchable, paged list with each key's spec, state, primary version, rotation and last use. */
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { formatTime, t } from "../i18n.js";
import { useLoad } from "../load.js";
import { allKeys, type KeyMetadata, type KeyVersionInfo } from "../model.js";
import { Link, navigate } from "../router.js";
import { useCapabilities } from "../capabilities.js";
import { Badge, ErrorBox, Loading } from "../components/ui.js";

const PAGE = 20;

export function rotationText(seconds: number | null): string {
  if (seconds === null) return t("keys.rotationOff");
  const days = seconds / 86_400;
  return Number.isInteger(days) ? t("keys.everyDays", { days }) : t("keys.everySeconds", { seconds });
}

export function KeysList() {
  const [query, setQuery] = useState("");
  const [page, setPage] = useState(0);
  const keys = useLoad(() => allKeys(), []);
  const can = useCapabilities([{ action: "kms:CreateKey", resource: "key/*" }], []);
  const matching = (keys.data ?? []).filter((k) => query === "" || k.name.toLowerCase().includes(query.toLowerCase()) || k.keyId.startsWith(query));
  const pages = Math.max(1, Math.ceil(matching.length / PAGE));
  const shown = matching.slice(page * PAGE, page * PAGE + PAGE);
  const lastUsed = useLoad(async () => {
    const entries = await Promise.all(shown.map(async (k) => [k.keyId, await api<{ versions: KeyVersionInfo[] }>("GET", `/v1/keys/${enc(k.keyId)}/versions`).then(latestUse, () => null)] as const));
    return new Map(entries);
  }, [shown.map((k) => k.keyId).join(",")]);

  return (
    <div>
      <div class="title-row">
        <h1>{t("keys.heading")}</h1>
        {can?.("kms:CreateKey") === true && <CreateKey onCreated={(k) => navigate(`/keys/${enc(k.name)}`)} />}
      </div>
      <label class="search">
        {t("keys.search")}
        <input
          type="search"
          value={query}
          onInput={(e) => {
            setQuery((e.target as HTMLInputElement).value);
            setPage(0);
          }}
        />
      </label>
      <ErrorBox error={keys.error} />
      {keys.data === undefined ? (
        <Loading />
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="visually-hidden">{t("keys.heading")}</caption>
            <thead>
              <tr>
                <th scope="col">{t("keys.name")}</th>
                <th scope="col">{t("keys.spec")}</th>
                <th scope="col">{t("keys.state")}</th>
                <th scope="col">{t("keys.primary")}</th>
                <th scope="col">{t("keys.rotation")}</th>
                <th scope="col">{t("keys.lastUsed")}</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((k) => (
                <tr key={k.keyId}>
                  <td>
                    <Link href={`/keys/${enc(k.name)}`}>{k.name}</Link>
                  </td>
                  <td>{k.keySpec}</td>
                  <td>
                    <Badge value={k.state} />
                  </td>
                  <td>{k.primaryVersion}</td>
                  <td>{rotationText(k.rotationPeriodSeconds)}</td>
                  <td>{formatTime(lastUsed.data?.get(k.keyId) ?? null)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && <p class="muted">{t("keys.none")}</p>}
        </div>
      )}
      <div class="pager">
        <button type="button" class="secondary" disabled={page === 0} onClick={() => setPage(page - 1)}>
          {t("common.previous")}
        </button>
        <span>{t("common.page", { page: page + 1, pages })}</span>
        <button type="button" class="secondary" disabled={page + 1 >= pages} onClick={() => setPage(page + 1)}>
          {t("common.next")}
        </button>
      </div>
    </div>
  );
}

function latestUse(r: { versions: KeyVersionInfo[] }): string | null {
  const times = r.versions.map((v) => v.lastUsedAt).filter((x): x is string => x !== null);
  return times.length === 0 ? null : times.sort().at(-1)!;
}

const SPECS = ["SYMMETRIC_DEFAULT", "AES_128", "CHACHA20_POLY1305", "SM4", "HMAC_256", "RSA_2048", "ECC_NIST_P256", "ECC_NIST_EDWARDS25519", "SM2", "ML_DSA_65"];
const USAGES: Record<string, string> = { HMAC_256: "GENERATE_VERIFY_MAC", RSA_2048: "SIGN_VERIFY", ECC_NIST_P256: "SIGN_VERIFY", ECC_NIST_EDWARDS25519: "SIGN_VERIFY", SM2: "SIGN_VERIFY", ML_DSA_65: "SIGN_VERIFY" };

function CreateKey({ onCreated }: { onCreated: (k: KeyMetadata) => void }) {
  const [open, setOpen] = useState(false);
  const [name, setName] = useState("");
  const [spec, setSpec] = useState("SYMMETRIC_DEFAULT");
  const [error, setError] = useState<unknown>(undefined);
  if (!open)
    return (
      <button type="button" onClick={() => setOpen(true)}>
        {t("keys.create")}
      </button>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    try {
      const usage = USAGES[spec];
      onCreated(await api<KeyMetadata>("POST", "/v1/keys", { name, keySpec: spec, ...(usage !== undefined && { keyUsage: usage }) }));
    } catch (err) {
      setError(err);
    }
  };
  return (
    <form class="card inline-form" onSubmit={submit}>
      <label>
        {t("keys.newName")}
        <input value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
      </label>
      <label>
        {t("keys.spec")}
        <select value={spec} onChange={(e) => setSpec((e.target as HTMLSelectElement).value)}>
          {SPECS.map((s) => (
            <option key={s}>{s}</option>
          ))}
        </select>
      </label>
      <button type="submit">{t("keys.createSubmit")}</button>
      <button type="button" class="secondary" onClick={() => setOpen(false)}>
        {t("common.cancel")}
      </button>
      <ErrorBox error={error} />
    </form>
  );
}
