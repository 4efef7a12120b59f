/**
 * The web console's built files (packages/console/dist), read once into memory with their
 * precompressed Brotli and gzip copies. Serving from this fixed map means a request path is only ever
 * a lookup key — it can never name a file outside the build.
 */
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, extname, join, relative, sep } from "node:path";

export interface ConsoleAsset {
  body: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  type: string;
  etag: string;
  /** Content-hashed names (under assets/) never change, so they may be cached for good. */
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".woff2": "font/woff2",
  ".json": "application/json",
  ".txt": "text/plain; charset=utf-8",
};

/** Where the console package's build is, or undefined when the package is not installed. */
export function consoleDirectory(): string | undefined {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("@tessera/console/package.json")), "dist");
  } catch {
    return undefined;
  }
}

/** Path below /ui/ (e.g. `index.html`, `assets/index-3f2a.js`) → asset. Empty when there is no build. */
export function loadConsoleAssets(directory: string | undefined): Map<string, ConsoleAsset> {
  const assets = new Map<string, ConsoleAsset>();
  if (directory === undefined || !existsSync(join(directory, "index.html"))) return assets;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || entry.name.endsWith(".br") || entry.name.endsWith(".gz")) continue;
    const file = join(entry.parentPath, entry.name);
    const name = relative(directory, file).split(sep).join("/");
    const body = readFileSync(file);
    const variant = (suffix: string) => (existsSync(file + suffix) ? readFileSync(file + suffix) : undefined);
    const br = variant(".br");
    const gzip = variant(".gz");
    assets.set(name, {
      body,
      ...(br !== undefined && { br }),
      ...(gzip !== undefined && { gzip }),
      type: TYPES[extname(name)] ?? "application/octet-stream",
      etag: `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`,
      immutable: name.startsWith("assets/"),
    });
  }
  return assets;
}
