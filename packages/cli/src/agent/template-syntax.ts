/**
 * The template language: text with `{{ … }}` actions. An action is a function call with quoted
 * arguments and `name=value` options, optionally piped through filters:
 *
 *   {{ decrypt "file:/etc/app/db.ct" context.app="billing" }}      plaintext of a ciphertext (text)
 *   {{ datakey "file:/etc/app/dek.ct" }}                            a wrapped data key, unwrapped (base64)
 *   {{ derive "app-keys" context.purpose="session" length=32 }}     a derived key (base64)
 *   {{ secret "db/billing" "password" version=3 mount="secret" }}  one field of a secret (text)
 *   {{ "{{" }}                                                      a literal string
 *   {{ datakey "file:/etc/app/dek.ct" | hex }}                      filters: base64, hex, trim, json
 *
 * Strings are double-quoted with `\"` and `\\` escapes. Parsing happens when the configuration is
 * loaded, so a mistake is reported at start (or SIGHUP) with its line, never half-way through a render.
 */

export const FUNCTIONS = Object.freeze({
  decrypt: { args: 1, options: ["context.*"] },
  datakey: { args: 1, options: ["context.*"] },
  derive: { args: 1, options: ["context.*", "length", "version"] },
  secret: { args: 2, options: ["mount", "version"] },
} as const);
export type TemplateFunction = keyof typeof FUNCTIONS;
export const FILTERS = Object.freeze(["base64", "hex", "trim", "json"] as const);
export type TemplateFilter = (typeof FILTERS)[number];

export type TemplateNode =
  | { kind: "text"; text: string }
  | { kind: "literal"; value: string; filters: TemplateFilter[] }
  | { kind: "call"; fn: TemplateFunction; args: string[]; options: Record<string, string>; filters: TemplateFilter[]; line: number };

export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "TemplateSyntaxError";
  }
}

type Token = { t: "string"; v: string } | { t: "word"; v: string } | { t: "eq" } | { t: "pipe" };

function tokenize(src: string, fail: (m: string) => never): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) i++;
    else if (c === "|") (out.push({ t: "pipe" }), i++);
    else if (c === "=") (out.push({ t: "eq" }), i++);
    else if (c === '"') {
      let v = "";
      i++;
      for (;;) {
        if (i >= src.length) fail("unterminated string");
        const d = src[i]!;
        if (d === '"') break;
        if (d === "\\") {
          const e = src[i + 1];
          if (e !== '"' && e !== "\\") fail(`unknown escape \\${e ?? ""} (only \\" and \\\\)`);
          v += e;
          i += 2;
        } else (v += d, i++);
      }
      i++;
      out.push({ t: "string", v });
    } else {
      const m = /^[A-Za-z0-9_.:-]+/.exec(src.slice(i));
      if (m === null) fail(`unexpected character "${c}"`);
      out.push({ t: "word", v: m[0] });
      i += m[0].length;
    }
  }
  return out;
}

function optionAllowed(fn: TemplateFunction, name: string): boolean {
  return FUNCTIONS[fn].options.some((o) => (o.endsWith(".*") ? name.startsWith(o.slice(0, -1)) && name.length > o.length - 1 : o === name));
}

export function parseTemplate(text: string, where: string): TemplateNode[] {
  const nodes: TemplateNode[] = [];
  let pos = 0;
  while (pos < text.length) {
    const open = text.indexOf("{{", pos);
    if (open === -1) {
      nodes.push({ kind: "text", text: text.slice(pos) });
      break;
    }
    if (open > pos) nodes.push({ kind: "text", text: text.slice(pos, open) });
    const line = text.slice(0, open).split("\n").length;
    const fail = (m: string): never => {
      throw new TemplateSyntaxError(`${where}:${line}: ${m}`);
    };
    // The action ends at the first "}}" outside a string.
    let close = -1;
    for (let i = open + 2, inString = false; i < text.length; i++) {
      if (inString && text[i] === "\\") i++;
      else if (text[i] === '"') inString = !inString;
      else if (!inString && text.startsWith("}}", i)) {
        close = i;
        break;
      }
    }
    if (close === -1) fail('"{{" without a matching "}}"');
    const tokens = tokenize(text.slice(open + 2, close), fail);
    const pipe = tokens.findIndex((t) => t.t === "pipe");
    const head = pipe === -1 ? tokens : tokens.slice(0, pipe);
    const filters: TemplateFilter[] = [];
    if (pipe !== -1) {
      const rest = tokens.slice(pipe);
      for (let i = 0; i < rest.length; i += 2) {
        const name = rest[i + 1];
        if (rest[i]!.t !== "pipe" || name?.t !== "word" || !(FILTERS as readonly string[]).includes(name.v)) {
          fail(`a filter after "|" must be one of ${FILTERS.join(", ")}`);
        }
        filters.push((name as { v: TemplateFilter }).v);
      }
    }
    const first = head[0];
    if (first === undefined) fail("empty action");
    if (first!.t === "string" && head.length === 1) nodes.push({ kind: "literal", value: first!.v, filters });
    else {
      if (first!.t !== "word" || !Object.hasOwn(FUNCTIONS, first!.v)) fail(`unknown function ${first!.t === "word" ? `"${first!.v}"` : ""}; one of ${Object.keys(FUNCTIONS).join(", ")}`);
      const fn = (first as { v: TemplateFunction }).v;
      const args: string[] = [];
      const options: Record<string, string> = {};
      for (let i = 1; i < head.length; i++) {
        const t = head[i]!;
        if (t.t === "string") {
          if (Object.keys(options).length > 0) fail(`${fn}: arguments come before options`);
          args.push(t.v);
        } else if (t.t === "word" && head[i + 1]?.t === "eq") {
          const value = head[i + 2];
          if (value === undefined || (value.t !== "string" && value.t !== "word")) fail(`${fn}: option ${t.v}= needs a value`);
          if (!optionAllowed(fn, t.v)) fail(`${fn} takes no option "${t.v}" (options: ${FUNCTIONS[fn].options.join(", ")})`);
          options[t.v] = (value as { v: string }).v;
          i += 2;
        } else fail(`${fn}: unexpected ${t.t === "word" ? `"${t.v}"` : t.t} (arguments are quoted strings)`);
      }
      if (args.length !== FUNCTIONS[fn].args) fail(`${fn} takes ${FUNCTIONS[fn].args} quoted argument(s), got ${args.length}`);
      for (const n of ["length", "version"]) if (options[n] !== undefined && !/^[1-9][0-9]*$/.test(options[n]!)) fail(`${fn}: ${n} must be a positive integer`);
      nodes.push({ kind: "call", fn, args, options, filters, line });
    }
    pos = close + 2;
  }
  return nodes;
}
