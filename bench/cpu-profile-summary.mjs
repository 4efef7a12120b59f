/**
 * Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=1 node bench/run.mjs, or node --cpu-prof): the
 * functions with the most self time, the most inclusive time, and self time by module group.
 *
 *   node bench/cpu-profile-summary.mjs bench/results/prof/CPU.*.cpuprofile [top=25]
 */
import { readFileSync } from "node:fs";

const [file, topArg] = process.argv.slice(2);
if (!file) {
  console.error("usage: node bench/cpu-profile-summary.mjs FILE.cpuprofile [top]");
  process.exit(2);
}
const top = Number(topArg ?? 25);
const profile = JSON.parse(readFileSync(file, "utf8"));

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parent = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const shortUrl = (url) =>
  url
    .replace(/^file:\/\//, "")
    .replace(/^.*\/node_modules\//, "~/")
    .replace(/^.*\/packages\//, "packages/");

const keyOf = (n) => {
  const f = n.callFrame;
  const name = f.functionName || "(anonymous)";
  return f.url ? `${name}  ${shortUrl(f.url)}:${f.lineNumber + 1}` : name;
};

/** Module group: an npm package, a Tessera folder, node internals, or V8 pseudo-frames. */
const groupOf = (n) => {
  const url = n.callFrame.url;
  if (!url) return n.callFrame.functionName.startsWith("(") ? n.callFrame.functionName : "(native)";
  let m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (m) return m[1];
  m = /packages\/([^/]+)\/dist\/(?:([^/]+)\/)?/.exec(url);
  if (m) return `tessera ${m[1]}${m[2] && !m[2].endsWith(".js") ? "/" + m[2] : ""}`;
  if (url.startsWith("node:")) return "node " + url.slice(5).split("/")[0];
  return url;
};

// Sample interval: total time / sample count.
const totalUs = profile.endTime - profile.startTime;
const sampleUs = totalUs / profile.samples.length;
const self = new Map();
const inclusive = new Map();
const groups = new Map();
let idle = 0;
for (const id of profile.samples) {
  const n = byId.get(id);
  if (n.callFrame.functionName === "(idle)") {
    idle++;
    continue;
  }
  self.set(keyOf(n), (self.get(keyOf(n)) ?? 0) + 1);
  groups.set(groupOf(n), (groups.get(groupOf(n)) ?? 0) + 1);
  const seen = new Set();
  for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
    const k = keyOf(byId.get(cur));
    if (seen.has(k)) continue;
    seen.add(k);
    inclusive.set(k, (inclusive.get(k) ?? 0) + 1);
  }
}
const busy = profile.samples.length - idle;
const pct = (count) => ((100 * count) / busy).toFixed(1).padStart(5) + "%";

console.log(`${file}: ${(totalUs / 1e6).toFixed(1)} s, ${profile.samples.length} samples (${(sampleUs / 1000).toFixed(2)} ms), idle ${((100 * idle) / profile.samples.length).toFixed(1)}%; percentages are of busy samples\n`);
const print = (title, map, n) => {
  console.log(title);
  for (const [k, v] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${pct(v)}  ${k}`);
  console.log("");
};
print("self time by module group:", groups, top);
print("self time by function:", self, top);
print("inclusive time by function:", inclusive, top);
