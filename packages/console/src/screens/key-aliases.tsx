/**
 * A key's aliases on its page (`GET /v1/aliases?keyId=`), with add (`PUT /v1/aliases/{name}`) and
 * remove (`DELETE /v1/aliases/{name}`) when the signed-in principal may. The buttons are asked for on
 * the key; the server also decides on the alias (`alias/NAME`) and says so when it refuses.
 */
import { useState } from "preact/hooks";
import { api, enc } from "../api.js";
import { t } from "../i18n.js";
import { useLoad } from "../load.js";
import type { KeyMetadata } from "../model.js";
import { useCapabilities } from "../capabilities.js";
import { ErrorBox, Notice } from "../components/ui.js";

interface Alias {
  name: string;
  keyId: string;
}

/** `/v1/aliases/alias/team/orders`: each part of the name encoded on its own, the `/` kept. */
const aliasPath = (name: string) => `/v1/aliases/${name.split("/").map(enc).join("/")}`;

/** Shown only to a principal that may list the key's aliases, so others cause no refused request. */
export function KeyAliases({ k }: { k: KeyMetadata }) {
  const can = useCapabilities(
    ["kms:ListAliases", "kms:CreateAlias", "kms:DeleteAlias"].map((action) => ({ action, resource: `key/${k.keyId}` })),
    [k.keyId],
  );
  if (can === undefined || !can("kms:ListAliases")) return null;
  return <AliasList k={k} can={can} />;
}

function AliasList({ k, can }: { k: KeyMetadata; can: (action: string) => boolean }) {
  const aliases = useLoad(() => api<{ aliases: Alias[] }>("GET", `/v1/aliases?keyId=${enc(k.keyId)}`), [k.keyId]);
  const [name, setName] = useState("");
  const [error, setError] = useState<unknown>(undefined);
  const [done, setDone] = useState<string | null>(null);

  const change = async (method: "PUT" | "DELETE", alias: string) => {
    setError(undefined);
    setDone(null);
    try {
      if (method === "PUT") {
        const r = await api<{ name: string; created: boolean }>("PUT", aliasPath(alias), { keyId: k.keyId });
        setName("");
        setDone(t(r.created ? "aliases.added" : "aliases.moved", { alias: r.name }));
      } else {
        await api("DELETE", aliasPath(alias));
        setDone(t("aliases.removed", { alias }));
      }
      aliases.reload();
    } catch (err) {
      setError(err);
    }
  };

  const list = aliases.data?.aliases ?? [];
  return (
    <section class="card" aria-labelledby="aliases-h">
      <h2 id="aliases-h">{t("aliases.heading")}</h2>
      <ErrorBox error={aliases.error ?? error} />
      {done !== null && <Notice kind="ok">{done}</Notice>}
      {aliases.data !== undefined && list.length === 0 && <p class="hint">{t("aliases.none")}</p>}
      <ul class="plain aliases">
        {list.map((a) => (
          <li key={a.name}>
            <code>{a.name}</code>{" "}
            {can("kms:DeleteAlias") && (
              <button type="button" class="secondary small" aria-label={t("aliases.remove", { alias: a.name })} onClick={() => change("DELETE", a.name)}>
                {t("aliases.removeShort")}
              </button>
            )}
          </li>
        ))}
      </ul>
      {can("kms:CreateAlias") && (
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            void change("PUT", name.trim());
          }}
        >
          <label>
            {t("aliases.new")}
            <input value={name} placeholder="alias/orders" spellcheck={false} autoComplete="off" onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
          </label>
          <button type="submit" class="secondary">
            {t("aliases.add")}
          </button>
        </form>
      )}
    </section>
  );
}
