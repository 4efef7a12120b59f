/**
 * Stacked bar chart drawn as inline SVG (no chart library): one bar per time bucket, one colour per
 * series. Colours come from CSS classes; the SVG carries a text summary for screen readers.
 */
export interface Series {
  name: string;
  className: string;
  values: number[];
}

export function BarChart({ labels, series, title }: { labels: string[]; series: Series[]; title: string }) {
  const width = 600;
  const height = 160;
  const pad = { left: 32, bottom: 18, top: 8 };
  const totals = labels.map((_, i) => series.reduce((s, x) => s + (x.values[i] ?? 0), 0));
  const max = Math.max(1, ...totals);
  const bw = (width - pad.left) / Math.max(1, labels.length);
  const y = (v: number) => ((height - pad.bottom - pad.top) * v) / max;
  const summary = `${title}: ${series.map((s) => `${s.name} ${s.values.reduce((a, b) => a + b, 0)}`).join(", ")}`;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={summary} preserveAspectRatio="none">
        <line class="axis" x1={pad.left} y1={height - pad.bottom} x2={width} y2={height - pad.bottom} />
        <text class="tick" x={pad.left - 4} y={pad.top + 8} text-anchor="end">
          {max}
        </text>
        <text class="tick" x={pad.left - 4} y={height - pad.bottom} text-anchor="end">
          0
        </text>
        {labels.map((label, i) => {
          let base = height - pad.bottom;
          return (
            <g key={label + i}>
              {series.map((s) => {
                const h = y(s.values[i] ?? 0);
                base -= h;
                return h > 0 ? <rect key={s.name} class={s.className} x={pad.left + i * bw + 1} y={base} width={Math.max(1, bw - 2)} height={h} /> : null;
              })}
              {(i % Math.ceil(labels.length / 6) === 0) && (
                <text class="tick" x={pad.left + i * bw} y={height - 4}>
                  {label}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption>
        {title}
        <span class="legend">
          {series.map((s) => (
            <span key={s.name}>
              <i class={`swatch ${s.className}`} aria-hidden="true" />
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
    </figure>
  );
}

/** Counts records into `count` buckets of `bucketMs` ending now, by a classifier. */
export function bucket<R extends { time: string }>(records: R[], now: number, bucketMs: number, count: number, classes: string[], classify: (r: R) => string): number[][] {
  const out = classes.map(() => new Array<number>(count).fill(0));
  const start = now - bucketMs * count;
  for (const r of records) {
    const at = Date.parse(r.time);
    if (at < start || at > now) continue;
    const i = Math.min(count - 1, Math.floor((at - start) / bucketMs));
    const c = classes.indexOf(classify(r));
    if (c >= 0) out[c]![i]! += 1;
  }
  return out;
}
