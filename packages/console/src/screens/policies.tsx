/**
 * Policies: the list, and a JSON editor whose validation messages name the field (the server's
 * `InvalidInput` carries a JSON Pointer) and its line, with a button that selects it in the editor.
 */
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, api, enc } from "../api.js";
import { t } from "../i18n.js";
import { useLoad } from "../load.js";
import { Link, navigate } from "../router.js";
import { lineOf, locate, syntaxErrorOffset } from "../json-locate.js";
import { ErrorBox, Loading, Notice } from "../components/ui.js";

const TEMPLATE = `{
  "statements": [
    {
      "sid": "example",
      "effect": "allow",
      "actions": ["kms:Encrypt", "kms:Decrypt"],
      "resources": ["key/example-*"]
    }
  ]
}`;

export function Policies({ selected }: { selected: string | undefined }) {
  const list = useLoad(() => api<{ names: string[] }>("GET", "/v1/policies"), []);
  const [newName, setNewName] = useState("");
  return (
    <div class="split">
      <aside class="card">
        <h1>{t("policies.heading")}</h1>
        <ErrorBox error={list.error} />
        {list.data === undefined ? (
          <Loading />
        ) : (
          <ul class="plain">
            {list.data.names.map((n) => (
              <li key={n}>
                <Link href={`/policies/${enc(n)}`} aria-current={n === selected ? "page" : undefined}>
                  {n}
                </Link>
              </li>
            ))}
          </ul>
        )}
        <form
          class="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (newName.trim() !== "") navigate(`/policies/${enc(newName.trim())}`);
          }}
        >
          <label>
            {t("policies.newName")}
            <input value={newName} onInput={(e) => setNewName((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="secondary">
            {t("policies.new")}
          </button>
        </form>
      </aside>
      {selected !== undefined && <Editor key={selected} name={selected} onSaved={() => list.reload()} />}
    </div>
  );
}

interface Problem {
  message: string;
  field?: string;
  start?: number;
  end?: number;
}

function Editor({ name, onSaved }: { name: string; onSaved: () => void }) {
  const policy = useLoad(
    () => api<{ document: unknown }>("GET", `/v1/policies/${enc(name)}`).catch((e: unknown) => (e instanceof ApiError && e.code === "NotFound" ? null : Promise.reject(e))),
    [name],
  );
  const [text, setText] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [saved, setSaved] = useState(false);
  const [error, setError] = useState<unknown>(undefined);
  const area = useRef<HTMLTextAreaElement>(null);
  useEffect(() => {
    if (policy.data !== undefined && text === undefined) setText(policy.data === null ? TEMPLATE : JSON.stringify(policy.data.document, null, 2));
  }, [policy.data]);
  if (policy.error !== undefined) return <ErrorBox error={policy.error} />;
  if (text === undefined) return <Loading />;

  const select = (p: Problem) => {
    if (p.start === undefined || area.current === null) return;
    area.current.focus();
    area.current.setSelectionRange(p.start, p.end ?? p.start + 1);
  };
  const save = async (e: Event) => {
    e.preventDefault();
    setSaved(false);
    setError(undefined);
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      const at = syntaxErrorOffset(err, text);
      setProblem({ message: t("policies.syntax", { detail: (err as Error).message }), ...(at !== undefined && { start: at, end: at + 1 }) });
      return;
    }
    try {
      await api("PUT", `/v1/policies/${enc(name)}`, doc);
      setProblem(null);
      setSaved(true);
      onSaved();
    } catch (err) {
      if (err instanceof ApiError && err.code === "InvalidInput") {
        const pos = err.field === undefined ? undefined : nearest(locate(text).positions, err.field);
        setProblem({ message: err.message, ...(err.field !== undefined && { field: err.field }), ...(pos !== undefined && pos) });
      } else setError(err);
    }
  };
  const where = problem?.start === undefined ? undefined : lineOf(text, problem.start);
  return (
    <section class="card editor" aria-labelledby="editor-h">
      <h2 id="editor-h">{t("policies.editing", { name })}</h2>
      {policy.data === null && <Notice>{t("policies.isNew")}</Notice>}
      <form onSubmit={save}>
        <label for="policy-json">{t("policies.document")}</label>
        <textarea
          id="policy-json"
          ref={area}
          class="mono"
          rows={18}
          spellcheck={false}
          value={text}
          aria-invalid={problem !== null}
          aria-describedby={problem !== null ? "policy-problem" : undefined}
          onInput={(e) => {
            setText((e.target as HTMLTextAreaElement).value);
            setSaved(false);
          }}
        />
        {problem !== null && (
          <div id="policy-problem" class="notice error" role="alert">
            {problem.field !== undefined && (
              <>
                <strong>{t("policies.atField", { field: problem.field })}</strong>{" "}
              </>
            )}
            {where !== undefined && <span>{t("policies.atLine", { line: where.line, column: where.column })} </span>}
            <span>{problem.message}</span>{" "}
            {problem.start !== undefined && (
              <button type="button" class="secondary small" onClick={() => select(problem)}>
                {t("policies.showField")}
              </button>
            )}
          </div>
        )}
        {saved && <Notice kind="ok">{t("policies.saved", { name })}</Notice>}
        <ErrorBox error={error} />
        <button type="submit">{t("policies.save")}</button>
      </form>
    </section>
  );
}

/** The position of the field, or of its nearest enclosing value that exists in the text. */
function nearest(positions: Map<string, { start: number; end: number }>, field: string): { start: number; end: number } | undefined {
  let p = field;
  for (;;) {
    const hit = positions.get(p);
    if (hit !== undefined) return hit;
    if (p === "") return undefined;
    p = p.slice(0, p.lastIndexOf("/"));
  }
}
