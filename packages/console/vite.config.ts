/**
 * The console is served by the server at /ui (packages/server/src/api/console/). Everything the page
 * loads comes from files this build writes — no inline script or style, so the server's
 * Content-Security-Policy can forbid both; asset names carry content hashes so they can be cached forever.
 */
import { defineConfig } from "vite";

export default defineConfig({
  base: "/ui/",
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // data: URLs and inline preload helpers would need CSP exceptions.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
    sourcemap: false,
    reportCompressedSize: false,
  },
});
