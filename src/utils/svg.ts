/**
 * A dependency-free SVG line chart for training curves (loss on the left axis, a metric such
 * as F1 on the right), viewable in any browser.
 */
export interface Series {
  name: string;
  values: number[];
  color: string;
  /** Which y axis: 'left' (e.g. loss) or 'right' (e.g. F1 in [0, 1]). */
  axis: 'left' | 'right';
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

export function lineChartSvg(opts: { title: string; xLabel: string; leftLabel: string; rightLabel?: string; series: Series[]; width?: number; height?: number; /** x tick labels (default 1, 2, …) */ xTicks?: string[] }): string {
  const W = opts.width ?? 640, H = opts.height ?? 360;
  const m = { l: 60, r: 60, t: 40, b: 50 };
  const pw = W - m.l - m.r, ph = H - m.t - m.b;
  const n = Math.max(1, ...opts.series.map((s) => s.values.length));
  const leftMax = niceMax(Math.max(0, ...opts.series.filter((s) => s.axis === 'left').flatMap((s) => s.values.filter(Number.isFinite))));
  const rightMax = niceMax(Math.max(0, ...opts.series.filter((s) => s.axis === 'right').flatMap((s) => s.values.filter(Number.isFinite))));
  const x = (i: number) => m.l + (n === 1 ? pw / 2 : (i / (n - 1)) * pw);
  const y = (v: number, axis: 'left' | 'right') => m.t + ph - (v / (axis === 'left' ? leftMax : rightMax)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  parts.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(opts.title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const yy = m.t + (ph * k) / 4;
    parts.push(`<line x1="${m.l}" y1="${yy}" x2="${m.l + pw}" y2="${yy}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${m.l - 6}" y="${yy + 4}" text-anchor="end" fill="#555">${+(leftMax * (1 - k / 4)).toPrecision(3)}</text>`);
    if (opts.rightLabel) parts.push(`<text x="${m.l + pw + 6}" y="${yy + 4}" fill="#555">${+(rightMax * (1 - k / 4)).toPrecision(3)}</text>`);
  }
  for (let i = 0; i < n; i++) parts.push(`<text x="${x(i)}" y="${m.t + ph + 18}" text-anchor="middle" fill="#555">${esc(opts.xTicks?.[i] ?? String(i + 1))}</text>`);
  parts.push(`<line x1="${m.l}" y1="${m.t + ph}" x2="${m.l + pw}" y2="${m.t + ph}" stroke="#333"/>`);
  parts.push(`<text x="${m.l + pw / 2}" y="${H - 10}" text-anchor="middle">${esc(opts.xLabel)}</text>`);
  parts.push(`<text transform="translate(16 ${m.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(opts.leftLabel)}</text>`);
  if (opts.rightLabel) parts.push(`<text transform="translate(${W - 14} ${m.t + ph / 2}) rotate(90)" text-anchor="middle">${esc(opts.rightLabel)}</text>`);
  opts.series.forEach((s, si) => {
    const pts = s.values.map((v, i) => (Number.isFinite(v) ? `${x(i).toFixed(1)},${y(v, s.axis).toFixed(1)}` : null)).filter((p): p is string => p !== null);
    if (pts.length) parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"/>`);
    for (const p of pts) {
      const [px, py] = p.split(',');
      parts.push(`<circle cx="${px}" cy="${py}" r="3" fill="${s.color}"/>`);
    }
    parts.push(`<rect x="${m.l + 10}" y="${m.t + 8 + si * 18}" width="12" height="3" fill="${s.color}"/>`);
    parts.push(`<text x="${m.l + 28}" y="${m.t + 13 + si * 18}">${esc(s.name)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
