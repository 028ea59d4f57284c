/**
 * A self-contained SVG (and HTML page) of an autograd graph, laid out here — no Graphviz.
 *
 * The layout is a small layered (Sugiyama-style; Sugiyama, Tagawa & Toda 1981) drawing, left to
 * right like micrograd's `draw_dot`:
 *   1. layers: longest path from the sources (a tensor's column is one past its op's; an op's one
 *      past its inputs'); then every node moves right, next to the first op that uses it;
 *   2. an edge spanning k > 1 layers gets k − 1 invisible waypoints, so it is ordered like a node;
 *   3. order within a layer: barycenter sweeps (each node at the mean position of its neighbours
 *      in the previous layer, then the next), which removes most crossings;
 *   4. y: nodes stacked in that order, then pulled toward their neighbours' mean a few times,
 *      never overlapping; x: one column per layer, as wide as its widest node;
 *   5. edges: cubic Béziers through the waypoints.
 * Text widths are estimated for a monospace font (no DOM needed), so this runs in Node and in
 * a browser alike.
 */
import type { AutogradGraph, GraphOp, GraphTensor } from './graph.js';
import { fmtNum, tensorLines } from './graph-format.js';
import type { BackwardTrace } from './trace.js';

/** Options of the SVG renderer. */
export interface SvgOptions {
  /** Prefix of the element ids (`<prefix>t12`, `<prefix>op7`), for several graphs in one page (default 'tg-'). */
  idPrefix?: string;
  /** Ids of tensors or ops to draw highlighted (class `tg-active`). */
  highlight?: readonly number[];
}

interface LNode {
  key: number; // graph id, or a negative number for a waypoint
  item: GraphTensor | GraphOp | null;
  lines: string[];
  w: number;
  h: number;
  layer: number;
  pos: number; // order within the layer
  x: number;
  y: number; // centre
  preds: LNode[];
  succs: LNode[];
}

const CHAR_W = 7.2;
const LINE_H = 15;
const COL_GAP = 56;
const ROW_GAP = 14;
const MARGIN = 16;

/** The positions of every node and the points of every edge (exported for custom renderers). */
export interface GraphLayout {
  /** The drawing's width in px. */
  readonly width: number;
  /** The drawing's height in px. */
  readonly height: number;
  /** Node boxes by graph id: centre (x, y), width and height. */
  readonly nodes: ReadonlyMap<number, { readonly x: number; readonly y: number; readonly w: number; readonly h: number }>;
  /** Each edge's polyline (from the source's right side to the target's left side, through waypoints). */
  readonly edges: readonly { readonly from: number; readonly to: number; readonly points: readonly (readonly [number, number])[] }[];
}

/**
 * Lays out `g` left to right (sources left, the root right).
 * @example
 * ```ts
 * const x = tensor([2], { requiresGrad: true });
 * const layout = layoutGraph(graph(x.mul(3).sum()));
 * layout.nodes.size;                      // one box per tensor and per op; layout.edges holds the polylines
 * ```
 */
export function layoutGraph(g: AutogradGraph): GraphLayout {
  const nodes = new Map<number, LNode>();
  const all: LNode[] = [];
  const mk = (key: number, item: GraphTensor | GraphOp | null, lines: string[], op: boolean): LNode => {
    const chars = Math.max(1, ...lines.map((l) => [...l].length));
    const n: LNode = {
      key, item, lines,
      w: item === null ? 0 : op ? Math.max(44, chars * CHAR_W + 26) : chars * CHAR_W + 16,
      h: item === null ? 0 : op ? 28 : lines.length * LINE_H + 10,
      layer: 0, pos: 0, x: 0, y: 0, preds: [], succs: [],
    };
    all.push(n);
    if (item) nodes.set(key, n);
    return n;
  };
  for (const t of g.tensors) mk(t.id, t, tensorLines(t), false);
  for (const o of g.ops) mk(o.id, o, [o.op], true);
  for (const e of g.edges) {
    const a = nodes.get(e.from)!;
    const b = nodes.get(e.to)!;
    if (!a.succs.includes(b)) a.succs.push(b);
    if (!b.preds.includes(a)) b.preds.push(a);
  }
  // 1. layers: longest path from the sources (Kahn's order)
  const indeg = new Map<LNode, number>(all.map((n) => [n, n.preds.length]));
  const queue = all.filter((n) => n.preds.length === 0);
  const topo: LNode[] = [];
  while (queue.length) {
    const n = queue.shift()!;
    topo.push(n);
    for (const s of n.succs) {
      s.layer = Math.max(s.layer, n.layer + 1);
      const d = indeg.get(s)! - 1;
      indeg.set(s, d);
      if (d === 0) queue.push(s);
    }
  }
  // then, from the root back, every node moves right next to its first consumer (a weight's
  // transpose sits beside the matmul that uses it, not in the first column)
  for (let i = topo.length - 1; i >= 0; i--) {
    const n = topo[i]!;
    if (n.succs.length > 0) n.layer = Math.max(n.layer, Math.min(...n.succs.map((s) => s.layer)) - 1);
  }
  // 2. waypoints on long edges
  let dummyKey = -1;
  const chains = new Map<string, LNode[]>(); // "from>to" → the waypoints
  for (const a of [...all]) {
    for (let k = 0; k < a.succs.length; k++) {
      const b = a.succs[k]!;
      if (b.layer - a.layer <= 1) continue;
      const chain: LNode[] = [];
      let prev = a;
      for (let l = a.layer + 1; l < b.layer; l++) {
        const d = mk(dummyKey--, null, [], false);
        d.layer = l;
        d.preds.push(prev);
        if (prev !== a) prev.succs.push(d);
        chain.push(d);
        prev = d;
      }
      prev.succs.push(b);
      a.succs[k] = chain[0]!;
      b.preds[b.preds.indexOf(a)] = prev;
      chains.set(`${a.key}>${b.key}`, chain);
    }
  }
  // 3. order within layers: initial order = walk order (input 0 first), then barycenter sweeps
  const nLayers = Math.max(0, ...all.map((n) => n.layer)) + 1;
  const layers: LNode[][] = Array.from({ length: nLayers }, () => []);
  for (const n of all) layers[n.layer]!.push(n);
  const renumber = (layer: LNode[]) => layer.forEach((n, i) => { n.pos = i; });
  layers.forEach(renumber);
  const bary = (n: LNode, side: LNode[]) => (side.length ? side.reduce((s, m) => s + m.pos, 0) / side.length : n.pos);
  for (let sweep = 0; sweep < 8; sweep++) {
    const down = sweep % 2 === 0;
    for (let li = down ? 1 : nLayers - 2; down ? li < nLayers : li >= 0; li += down ? 1 : -1) {
      const layer = layers[li]!;
      const keyOf = new Map(layer.map((n) => [n, bary(n, down ? n.preds : n.succs)]));
      layer.sort((p, q) => keyOf.get(p)! - keyOf.get(q)! || p.pos - q.pos);
      renumber(layer);
    }
  }
  // 4. coordinates
  let x = MARGIN;
  for (const layer of layers) {
    const w = Math.max(0, ...layer.map((n) => n.w));
    for (const n of layer) n.x = x + w / 2;
    x += w + COL_GAP;
  }
  const gapOf = (a: LNode, b: LNode) => (a.h + b.h) / 2 + (a.item && b.item ? ROW_GAP : ROW_GAP / 2);
  for (const layer of layers) {
    let y = 0;
    layer.forEach((n, i) => {
      y += i === 0 ? n.h / 2 : gapOf(layer[i - 1]!, n);
      n.y = y;
    });
  }
  const place = (layer: LNode[], want: number[]) => {
    // keep the order, no overlaps, as close to `want` as a forward and a backward pass get
    const y = [...want];
    for (let i = 1; i < layer.length; i++) y[i] = Math.max(y[i]!, y[i - 1]! + gapOf(layer[i - 1]!, layer[i]!));
    for (let i = layer.length - 2; i >= 0; i--) y[i] = Math.min(y[i]!, y[i + 1]! - gapOf(layer[i]!, layer[i + 1]!));
    const shift = layer.reduce((s, n, i) => s + want[i]! - y[i]!, 0) / Math.max(1, layer.length);
    layer.forEach((n, i) => { n.y = y[i]! + shift; });
  };
  for (let it = 0; it < 12; it++) {
    for (const layer of it % 2 === 0 ? layers : [...layers].reverse()) {
      const want = layer.map((n) => {
        const nb = [...n.preds, ...n.succs];
        return nb.length ? nb.reduce((s, m) => s + m.y, 0) / nb.length : n.y;
      });
      place(layer, want);
    }
  }
  const top = Math.min(...all.map((n) => n.y - n.h / 2));
  const bottom = Math.max(...all.map((n) => n.y + n.h / 2));
  for (const n of all) n.y += MARGIN - top;
  const width = Math.max(x - COL_GAP + MARGIN, 2 * MARGIN);
  const height = bottom - top + 2 * MARGIN;
  // 5. edges through their waypoints
  const edges = g.edges.map((e) => {
    const a = nodes.get(e.from)!;
    const b = nodes.get(e.to)!;
    const via = chains.get(`${a.key}>${b.key}`) ?? [];
    const points: [number, number][] = [[a.x + a.w / 2, a.y], ...via.map((d): [number, number] => [d.x, d.y]), [b.x - b.w / 2, b.y]];
    return { from: e.from, to: e.to, points };
  });
  const boxes = new Map<number, { x: number; y: number; w: number; h: number }>();
  for (const [k, n] of nodes) boxes.set(k, { x: n.x, y: n.y, w: n.w, h: n.h });
  return { width, height, nodes: boxes, edges };
}

/** Text for SVG/HTML: the five markup characters escaped. */
function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const r1 = (v: number) => Math.round(v * 10) / 10;

function pathOf(points: readonly (readonly [number, number])[]): string {
  let d = `M${r1(points[0]![0])},${r1(points[0]![1])}`;
  for (let i = 1; i < points.length; i++) {
    const [x0, y0] = points[i - 1]!;
    const [x1, y1] = points[i]!;
    const cx = (x1 - x0) / 2;
    d += ` C${r1(x0 + cx)},${r1(y0)} ${r1(x1 - cx)},${r1(y1)} ${r1(x1)},${r1(y1)}`;
  }
  return d;
}

/** The renderer's style sheet (classes `tg-*`; a page may override them). */
export const GRAPH_CSS = `
.tg-edge { fill: none; stroke: #7a869a; stroke-width: 1.2; }
.tg-tensor rect { stroke: #555; stroke-width: 1; }
.tg-tensor.tg-output rect { fill: #fde2c8; stroke: #c07020; }
.tg-tensor.tg-parameter rect { fill: #d4f0d4; stroke: #2a7a2a; stroke-width: 2; }
.tg-tensor.tg-input rect { fill: #eeeeee; stroke: #888; }
.tg-tensor.tg-intermediate rect { fill: #ffffff; }
.tg-op ellipse { fill: #dbe8fb; stroke: #4a6fa5; }
.tg-op.tg-done ellipse { fill: #eceff4; stroke: #aab; }
.tg-active ellipse, .tg-active rect { fill: #fff3a0 !important; stroke: #d4a000 !important; stroke-width: 2.5 !important; }
.tg-grad rect { stroke: #d4a000 !important; stroke-width: 2 !important; }
text { fill: #222; }
`;

/**
 * The graph as a self-contained SVG document (its own layout and style; no external resources).
 * @example
 * ```ts
 * const x = tensor([2], { requiresGrad: true });
 * const y = x.mul(x).sum();
 * y.backward();
 * const svg = renderGraphSvg(graph(y, { names: { x, y } })); // '<svg …>…</svg>', the same as graph(y).toSvg()
 * ```
 */
export function renderGraphSvg(g: AutogradGraph, opts: SvgOptions = {}): string {
  const p = opts.idPrefix ?? 'tg-';
  if (!/^[A-Za-z][\w-]*$/.test(p)) throw new Error(`toSvg: idPrefix must start with a letter and hold only letters, digits, _ and -, got ${JSON.stringify(p)}`);
  const hl = new Set(opts.highlight ?? []);
  const L = layoutGraph(g);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(L.width)}" height="${Math.ceil(L.height)}" viewBox="0 0 ${Math.ceil(L.width)} ${Math.ceil(L.height)}" ` +
      'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="12">',
    `<defs><marker id="${p}arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#7a869a"/></marker></defs>`,
    `<style>${GRAPH_CSS}</style>`,
    '<g class="tg-edges">',
  );
  for (const e of L.edges) {
    out.push(`<path class="tg-edge" data-from="${e.from}" data-to="${e.to}" d="${pathOf(e.points)}" marker-end="url(#${p}arrow)"/>`);
  }
  out.push('</g>', '<g class="tg-nodes">');
  for (const t of g.tensors) {
    const b = L.nodes.get(t.id)!;
    const cls = `tg-tensor tg-${t.role}${hl.has(t.id) ? ' tg-active' : ''}`;
    const lines = tensorLines(t);
    const title = `${t.name ?? `t${t.id}`}: [${t.shape.join(',')}] ${t.dtype}${t.requiresGrad ? ', requires grad' : ''}${t.gradNorm !== null ? `, ‖grad‖ = ${fmtNum(t.gradNorm)}` : ''}`;
    out.push(`<g class="${cls}" id="${p}t${t.id}" data-id="${t.id}"><title>${esc(title)}</title>`);
    out.push(`<rect x="${r1(b.x - b.w / 2)}" y="${r1(b.y - b.h / 2)}" width="${r1(b.w)}" height="${r1(b.h)}" rx="4"/>`);
    lines.forEach((line, i) => {
      const y = b.y - b.h / 2 + 5 + LINE_H * (i + 0.5);
      const weight = i === 0 && t.name !== null ? ' font-weight="bold"' : '';
      out.push(`<text x="${r1(b.x)}" y="${r1(y)}" text-anchor="middle" dominant-baseline="central"${weight}>${esc(line)}</text>`);
    });
    out.push('</g>');
  }
  for (const o of g.ops) {
    const b = L.nodes.get(o.id)!;
    const cls = `tg-op${hl.has(o.id) ? ' tg-active' : ''}`;
    out.push(`<g class="${cls}" id="${p}op${o.id}" data-id="${o.id}" data-op="${esc(o.op)}"><title>${esc(o.formula ? `${o.op}: ${o.formula}` : o.op)}</title>`);
    out.push(`<ellipse cx="${r1(b.x)}" cy="${r1(b.y)}" rx="${r1(b.w / 2)}" ry="${r1(b.h / 2)}"/>`);
    out.push(`<text x="${r1(b.x)}" y="${r1(b.y)}" text-anchor="middle" dominant-baseline="central">${esc(o.op)}</text>`);
    out.push('</g>');
  }
  out.push('</g>', '</svg>');
  return out.join('\n') + '\n';
}

/** JSON safe inside a <script> element. */
function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * A self-contained HTML page with the graph's SVG; with a trace, a stepper walks the backward pass
 * (buttons or ←/→): the current op is highlighted, with its formula and the gradients in and out.
  * @example
  * ```ts
  * const x = tensor([0.5], { requiresGrad: true });
  * const loss = x.tanh().sum();
  * const trace = traceBackward(loss, { names: { x } });   // runs the backward
  * const html = renderGraphHtml(graph(loss, { names: { x }, trace }), trace, { title: 'tanh' });
  * writeFileSync('graph.html', html);    // open it and step through the backward with ←/→
  * ```
 */
export function renderGraphHtml(g: AutogradGraph, trace: BackwardTrace | null, opts: SvgOptions & { title?: string } = {}): string {
  const p = opts.idPrefix ?? 'tg-';
  const title = opts.title ?? 'autograd graph';
  const svg = renderGraphSvg(g, opts);
  const names = Object.fromEntries(g.tensors.map((t) => [t.id, t.name ?? `t${t.id}`]));
  const steps = trace ? trace.steps : [];
  const stepper = trace
    ? `<div id="panel"><button id="prev">◀ prev</button> <button id="next">next ▶</button> <span id="where"></span><pre id="info"></pre></div>
<script>
const STEPS = ${scriptJson(steps)};
const NAMES = ${scriptJson(names)};
const P = ${scriptJson(p)};
let cur = -1;
const fmt = (v) => { if (!isFinite(v)) return String(v); if (v === 0) return '0'; const a = Math.abs(v); return a >= 1e-3 && a < 1e5 ? String(Number(v.toPrecision(4))) : v.toExponential(3); };
const g2s = (g) => g ? (g.values && g.values.length === 1 && g.shape.length === 0 ? fmt(g.values[0]) : '‖·‖ ' + fmt(g.norm)) + ' [' + g.shape.join(',') + ']' : 'none';
function show(i) {
  cur = Math.max(-1, Math.min(STEPS.length - 1, i));
  document.querySelectorAll('.tg-active, .tg-grad, .tg-done').forEach((e) => e.classList.remove('tg-active', 'tg-grad', 'tg-done'));
  for (let k = 0; k < cur; k++) document.getElementById(P + 'op' + STEPS[k].opId)?.classList.add('tg-done');
  if (cur < 0) { document.getElementById('where').textContent = 'before the backward pass (' + STEPS.length + ' steps)'; document.getElementById('info').textContent = ''; return; }
  const s = STEPS[cur];
  document.getElementById(P + 'op' + s.opId)?.classList.add('tg-active');
  if (s.output.tensorId !== null) document.getElementById(P + 't' + s.output.tensorId)?.classList.add('tg-active');
  for (const inp of s.inputs) if (inp.grad) document.getElementById(P + 't' + inp.tensorId)?.classList.add('tg-grad');
  document.getElementById('where').textContent = 'step ' + (cur + 1) + ' of ' + STEPS.length + ': ' + s.op;
  const lines = [s.formula || '(no formula in the op table)', 'g = ∂L/∂y at ' + (s.output.tensorId === null ? '(gone)' : NAMES[s.output.tensorId]) + ': ' + g2s(s.gradOutput)];
  for (const inp of s.inputs) lines.push('∂L/∂x' + inp.slot + ' → ' + (NAMES[inp.tensorId] || inp.name || 't' + inp.tensorId) + (inp.toLeaf ? ' (leaf)' : '') + ': ' + g2s(inp.grad));
  document.getElementById('info').textContent = lines.join('\\n');
}
document.getElementById('prev').onclick = () => show(cur - 1);
document.getElementById('next').onclick = () => show(cur + 1);
document.addEventListener('keydown', (e) => { if (e.key === 'ArrowRight') show(cur + 1); if (e.key === 'ArrowLeft') show(cur - 1); });
show(-1);
</script>`
    : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${esc(title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 16px; color: #222; }
#graph { overflow: auto; border: 1px solid #ddd; max-height: 80vh; }
#panel { margin-top: 10px; }
#info { background: #f6f8fa; padding: 8px; min-height: 3em; }
</style>
</head>
<body>
<h1 style="font-size: 1.2em">${esc(title)}</h1>
<p>${g.ops.length} ops, ${g.tensors.length} tensors. Green: leaves that require grad (∇); grey: inputs and constants; orange: the output.${trace ? ' Step through the backward pass with the buttons or ← / →.' : ''}</p>
<div id="graph">
${svg}</div>
${stepper}
</body>
</html>
`;
}
