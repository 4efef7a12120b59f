/**
 * Rendering the configured templates and keeping them current. A file template is written
 * atomically (temporary file in the same directory, owner and mode set before any byte, rename),
 * so an application never reads half a file; it is rendered again when a ciphertext file it reads
 * changes (fs.watch on the file's directory, and a hash check at every poll as a fallback), when a
 * key it used gets a new primary version, or when a secret it read gets a new version. The file is
 * rewritten, and its `command` run, only when the text differs. Rendered files are removed on stop.
 * Plaintext goes to the configured destinations and nowhere else: never to a log or the status file.
 */
import { execFile } from "node:child_process";
import { watch, type FSWatcher } from "node:fs";
import { readFile, rm } from "node:fs/promises";
import { basename, dirname } from "node:path";
import type { TesseraClient } from "@tessera/client";
import type { AgentClock } from "./clock.js";
import { AgentConfigError, type ResolvedTemplate } from "./config.js";
import { describeError, type AgentLog } from "./log.js";
import { groupId, userId } from "./os-ids.js";
import { writeAtomic } from "./state.js";
import type { StatusFile } from "./status.js";
import { renderTemplate, sha256, type Dependencies } from "./template-render.js";
import { parseTemplate, TemplateSyntaxError, type TemplateNode } from "./template-syntax.js";

interface Loaded {
  config: ResolvedTemplate;
  nodes: TemplateNode[];
  /** Hash of the last text written (or handed to the child). */
  rendered: string | undefined;
  deps: Dependencies | undefined;
  dirty: boolean;
}

/** Parses every template (reading `source` files); a syntax error names the template and line. */
export async function loadTemplates(templates: readonly ResolvedTemplate[]): Promise<Loaded[]> {
  const out: Loaded[] = [];
  for (const t of templates) {
    let text = t.contents;
    if (text === undefined) {
      try {
        text = await readFile(t.source!, "utf8");
      } catch (err) {
        throw new AgentConfigError(`template ${t.name}: cannot read ${t.source}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
      }
    }
    try {
      out.push({ config: t, nodes: parseTemplate(text, `template ${t.name}`), rendered: undefined, deps: undefined, dirty: true });
    } catch (err) {
      if (err instanceof TemplateSyntaxError) throw new AgentConfigError(err.message);
      throw err;
    }
  }
  return out;
}

export interface TemplateRunnerOptions {
  client: () => TesseraClient;
  clock: AgentClock;
  log: AgentLog;
  status: StatusFile;
  pollMs: number;
}

export class TemplateRunner {
  readonly #o: TemplateRunnerOptions;
  #templates: Loaded[];
  #watchers = new Map<string, FSWatcher>();
  #wake = new AbortController();
  #written = new Set<string>();
  #pollMs: number;
  /** Set by {@link poke}: a change noticed while a check ran is checked again at once. */
  #pending = false;

  constructor(templates: Loaded[], options: TemplateRunnerOptions) {
    this.#templates = templates.filter((t) => t.config.target.kind === "file");
    this.#o = options;
    this.#pollMs = options.pollMs;
  }

  /** Replaces the templates and the poll interval (SIGHUP); files no longer configured are removed. */
  async replace(templates: Loaded[], pollMs: number): Promise<void> {
    this.#pollMs = pollMs;
    const next = templates.filter((t) => t.config.target.kind === "file");
    const kept = new Set(next.map((t) => (t.config.target as { path: string }).path));
    for (const path of this.#written) if (!kept.has(path)) await this.#remove(path);
    this.#templates = next;
    this.#wake.abort();
  }

  /** Renders what is due, then checks for changes every `pollMs` (sooner when a watched file changes). */
  async run(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      this.#pending = false;
      await this.#check();
      if (this.#pending) continue;
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
      await this.#o.clock.sleep(this.#pollMs, AbortSignal.any([signal, this.#wake.signal]));
    }
  }

  /** Asks for a check now (a new token arrived, a file changed). */
  poke(): void {
    this.#pending = true;
    this.#wake.abort();
  }

  async #check(): Promise<void> {
    let client: TesseraClient;
    try {
      client = this.#o.client();
    } catch {
      return; // no token yet: the renewal loop pokes us when it has one
    }
    for (const t of this.#templates) {
      try {
        if (!t.dirty && !(await this.#changed(t, client))) continue;
        await this.#render(t, client);
      } catch (err) {
        t.dirty = true;
        const e = describeError(err);
        this.#o.log("warn", "template not rendered; will retry", { template: t.config.name, ...e });
        await this.#o.status.template(t.config.name, null, `${e.code}: ${e.message}`, this.#o.clock.now());
      }
    }
  }

  async #changed(t: Loaded, client: TesseraClient): Promise<boolean> {
    const deps = t.deps;
    if (deps === undefined) return true;
    for (const [path, hash] of deps.files) {
      const now = await readFile(path).then(sha256, () => "missing");
      if (now !== hash) return true;
    }
    for (const [key, primary] of deps.keys) {
      const current = (await client.describeKey(key)).primaryVersion;
      if (primary === undefined) deps.keys.set(key, current);
      else if (current !== primary) return true;
    }
    for (const [ref, version] of deps.secrets) {
      // Metadata, not the secret: polling reads no value (and needs only secrets:ReadMetadata).
      const slash = ref.indexOf("/");
      if ((await client.secretMetadata(ref.slice(slash + 1), { mount: ref.slice(0, slash) })).currentVersion !== version) return true;
    }
    return false;
  }

  async #render(t: Loaded, client: TesseraClient): Promise<void> {
    const { text, deps } = await renderTemplate(t.nodes, t.config.baseDir, client);
    const target = t.config.target as Extract<ResolvedTemplate["target"], { kind: "file" }>;
    const hash = sha256(Buffer.from(text, "utf8"));
    const first = t.rendered === undefined;
    t.deps = deps;
    t.dirty = false;
    this.#watch(deps);
    if (hash === t.rendered) return;
    const chown =
      target.owner === undefined && target.group === undefined
        ? undefined
        : { uid: target.owner === undefined ? -1 : await userId(target.owner), gid: target.group === undefined ? -1 : await groupId(target.group) };
    await writeAtomic(target.path, text, target.mode, chown);
    this.#written.add(target.path);
    t.rendered = hash;
    const at = new Date(this.#o.clock.now()).toISOString();
    this.#o.log("info", first ? "template rendered" : "template re-rendered", { template: t.config.name, destination: target.path });
    await this.#o.status.template(t.config.name, at, null, this.#o.clock.now());
    if (!first && t.config.command !== undefined) await this.#command(t.config.name, t.config.command);
  }

  #command(name: string, argv: string[]): Promise<void> {
    return new Promise((resolve) => {
      // No shell, no output captured: the command's output could echo what it reloads.
      execFile(argv[0]!, argv.slice(1), { timeout: 60_000 }, (err) => {
        const code = err === null ? 0 : ((err as { code?: unknown }).code ?? "failed");
        this.#o.log(err === null ? "info" : "warn", "template command ran", { template: name, command: argv[0], exitCode: code });
        resolve();
      });
    });
  }

  #watch(deps: Dependencies): void {
    for (const path of deps.files.keys()) {
      const dir = dirname(path);
      if (this.#watchers.has(dir)) continue;
      try {
        // The directory, not the file: an editor or `mv` replaces the file (a new inode).
        const w = watch(dir, { persistent: false }, (_event, file) => {
          if (file === null || this.#templates.some((t) => t.deps?.files.has(`${dir}/${file}`) || basename(path) === file)) this.poke();
        });
        w.on("error", () => undefined);
        this.#watchers.set(dir, w);
      } catch {
        // No inotify (or too many watches): the poll still notices the change.
      }
    }
  }

  async #remove(path: string): Promise<void> {
    await rm(path, { force: true });
    this.#written.delete(path);
  }

  /** Stops watching and removes every rendered file. */
  async close(): Promise<void> {
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    for (const path of [...this.#written]) await this.#remove(path);
  }
}

/** Renders the `env` templates once, for `tessera agent exec`. */
export async function renderEnvironment(templates: Loaded[], client: TesseraClient): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const t of templates) {
    if (t.config.target.kind !== "env") continue;
    env[t.config.target.name] = (await renderTemplate(t.nodes, t.config.baseDir, client)).text;
  }
  return env;
}
