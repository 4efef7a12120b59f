/**
 * Evaluating a parsed template against the server: each call asks Tessera (through the agent's
 * token) and the answer goes into the rendered text only. Besides the text, a render reports what
 * it depended on — ciphertext files (by hash), keys, secrets (by version) — so the agent knows
 * when to render again. Plaintext buffers are zeroed once encoded.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { TesseraClient } from "@tessera/client";
import { TesseraError } from "@tessera/protocol/core";
import type { TemplateFilter, TemplateNode } from "./template-syntax.js";

/** What a render depended on. */
export interface Dependencies {
  /** Ciphertext file → SHA-256 of its contents when rendered. */
  files: Map<string, string>;
  /** Key id or name → its primary version when rendered (undefined: learnt at the first poll). */
  keys: Map<string, number | undefined>;
  /** `mount/path` → the secret's current version when rendered. */
  secrets: Map<string, number>;
}

export const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

/** A `file:` argument's bytes, or the argument itself; a ciphertext file holds base64 text (as `tessera encrypt` prints) or raw bytes. */
async function ciphertextOf(arg: string, deps: Dependencies, baseDir: string): Promise<string> {
  if (!arg.startsWith("file:")) return arg.trim();
  const path = resolve(baseDir, arg.slice(5));
  const bytes = await readFile(path);
  deps.files.set(path, sha256(bytes));
  const text = bytes.toString("latin1").trim();
  return /^[A-Za-z0-9+/=\s]+$/.test(text) ? text.replace(/\s+/g, "") : bytes.toString("base64");
}

function contextOf(options: Record<string, string>): Record<string, string> | undefined {
  const entries = Object.entries(options).filter(([k]) => k.startsWith("context."));
  return entries.length === 0 ? undefined : Object.fromEntries(entries.map(([k, v]) => [k.slice(8), v]));
}

function encode(bytes: Buffer, defaultEncoding: "utf8" | "base64", filters: TemplateFilter[]): string {
  let encoding: "utf8" | "base64" | "hex" = defaultEncoding;
  for (const f of filters) if (f === "base64" || f === "hex") encoding = f;
  let s = bytes.toString(encoding);
  for (const f of filters) {
    if (f === "trim") s = s.trim();
    else if (f === "json") s = JSON.stringify(s);
  }
  return s;
}

/** Renders `nodes`; relative `file:` paths are resolved against `baseDir`. */
export async function renderTemplate(nodes: readonly TemplateNode[], baseDir: string, client: TesseraClient): Promise<{ text: string; deps: Dependencies }> {
  const deps: Dependencies = { files: new Map(), keys: new Map(), secrets: new Map() };
  let text = "";
  for (const node of nodes) {
    if (node.kind === "text") {
      text += node.text;
      continue;
    }
    if (node.kind === "literal") {
      text += encode(Buffer.from(node.value, "utf8"), "utf8", node.filters);
      continue;
    }
    const context = contextOf(node.options);
    switch (node.fn) {
      case "decrypt":
      case "datakey": {
        const r = await client.decrypt({ ciphertext: await ciphertextOf(node.args[0]!, deps, baseDir), ...(context && { context }) });
        if (!deps.keys.has(r.keyId)) deps.keys.set(r.keyId, undefined);
        const bytes = Buffer.from(r.plaintext, "base64");
        text += encode(bytes, node.fn === "decrypt" ? "utf8" : "base64", node.filters);
        bytes.fill(0);
        break;
      }
      case "derive": {
        const version = node.options["version"] === undefined ? undefined : Number(node.options["version"]);
        const length = node.options["length"] === undefined ? undefined : Number(node.options["length"]);
        const r = await client.derive(node.args[0]!, { context: context ?? {}, ...(length !== undefined && { length }), ...(version !== undefined && { keyVersion: version }) });
        // Derived from the primary version unless pinned: a rotation changes the key.
        if (version === undefined) deps.keys.set(node.args[0]!, r.keyVersion);
        const bytes = Buffer.from(r.derivedKey, "base64");
        text += encode(bytes, "base64", node.filters);
        bytes.fill(0);
        break;
      }
      case "secret": {
        const mount = node.options["mount"] ?? "secret";
        const version = node.options["version"] === undefined ? undefined : Number(node.options["version"]);
        const r = await client.getSecret(node.args[0]!, { mount, ...(version !== undefined && { version }) });
        const value = r.data[node.args[1]!];
        if (value === undefined) throw new TesseraError("NotFound", `secret ${mount}/${node.args[0]} (version ${r.version}) has no field "${node.args[1]}"`);
        if (version === undefined) deps.secrets.set(`${mount}/${node.args[0]}`, r.version);
        text += encode(Buffer.from(typeof value === "string" ? value : JSON.stringify(value), "utf8"), "utf8", node.filters);
        break;
      }
    }
  }
  return { text, deps };
}
