/**
 * The graph viewer and the backward trace (src/autograd/graph.ts, graph-svg.ts, trace.ts):
 * graph structure of small expressions (ops, tensors, edges, shapes, roles), gradient norms that
 * match the gradients computed independently, the trace's order (reverse topological: each op
 * after every op that consumed its output), DOT / Mermaid / SVG syntax checks, the HTML stepper's
 * data, `TENSORGRAD_TRACE=1` in a child process, and that tracing changes no gradient.
 */
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  F, graph, layoutGraph, manualSeed, nn, OPS, randn, setBackwardTracePrinting, tensor, traceBackward, type AutogradGraph,
  type Tensor,
} from '../../src/index.js';

const ROOT = resolve(import.meta.dirname, '../..');
const f64 = { dtype: 'float64' } as const;

/** micrograd's neuron: o = tanh(x1·w1 + x2·w2 + b). */
function neuron() {
  const x1 = tensor(2.0, f64), x2 = tensor(0.0, f64);
  const w1 = tensor(-3.0, { ...f64, requiresGrad: true }), w2 = tensor(1.0, { ...f64, requiresGrad: true });
  const b = tensor(6.8813735870195432, { ...f64, requiresGrad: true });
  const x1w1 = x1.mul(w1), x2w2 = x2.mul(w2), s = x1w1.add(x2w2), n = s.add(b), o = n.tanh();
  return { x1, x2, w1, w2, b, x1w1, x2w2, s, n, o };
}

/** ‖t‖₂ computed here, from toArray. */
function norm(t: Tensor): number {
  return Math.sqrt((t.toArray() as number[] | number[][]).flat(4 as 1).reduce((a: number, v) => a + (v as number) ** 2, 0));
}

/** For every tensor consumed by op B and produced by op A: B's step comes before A's. */
function expectReverseTopological(g: AutogradGraph, order: Map<number, number>): void {
  let checked = 0;
  for (const consumer of g.ops) {
    for (const tid of consumer.inputs) {
      const producer = g.tensors.find((t) => t.id === tid)!.producer;
      if (producer === null) continue;
      expect(order.get(consumer.id)!).toBeLessThan(order.get(producer)!);
      checked++;
    }
  }
  expect(checked).toBeGreaterThan(0);
}

describe('graph(): structure', () => {
  it("micrograd's neuron: 5 ops, 10 tensors, 14 edges, roles, values and grads", () => {
    const v = neuron();
    const names = { x1: v.x1, x2: v.x2, w1: v.w1, w2: v.w2, b: v.b, n: v.n, o: v.o };
    const before = graph(v.o, { names });
    expect(before.ops.map((o) => o.op)).toEqual(['tanh', 'add', 'add', 'mul', 'mul']);
    expect(before.tensors).toHaveLength(10);
    expect(before.edges).toHaveLength(5 + 9); // one output edge per op, one edge per op input
    expect(before.tensors.every((t) => t.gradNorm === null)).toBe(true); // no backward yet
    const byName = (g: AutogradGraph, n: string) => g.tensors.find((t) => t.name === n)!;
    expect(byName(before, 'o').role).toBe('output');
    expect(byName(before, 'w1').role).toBe('parameter');
    expect(byName(before, 'x1').role).toBe('input');
    expect(byName(before, 'x1').requiresGrad).toBe(false);
    expect(byName(before, 'n').role).toBe('intermediate');
    expect(byName(before, 'n').values![0]).toBeCloseTo(0.881373587, 8);
    expect(byName(before, 'o').values![0]).toBeCloseTo(Math.SQRT1_2, 8);
    // the tanh op: input n, output o
    const tanh = before.ops[0]!;
    expect(tanh.inputs).toEqual([byName(before, 'n').id]);
    expect(tanh.output).toBe(byName(before, 'o').id);
    expect(tanh.formula).toBe(OPS.get('tanh')!.gradient);
    expect(before.edges).toContainEqual({ from: byName(before, 'n').id, to: tanh.id, slot: 0 });
    expect(before.edges).toContainEqual({ from: tanh.id, to: byName(before, 'o').id, slot: -1 });

    const trace = traceBackward(v.o, { names });
    const after = graph(v.o, { names, trace });
    // micrograd's numbers: ∂o/∂n = 1 − o² = 0.5, ∂o/∂w1 = 0.5·x1 = 1, ∂o/∂w2 = 0.5·x2 = 0, ∂o/∂b = 0.5
    expect(byName(after, 'n').gradValues![0]).toBeCloseTo(0.5, 12);
    expect(byName(after, 'w1').gradValues![0]).toBeCloseTo(1, 12);
    expect(byName(after, 'w2').gradValues![0]).toBe(0);
    expect(byName(after, 'b').gradNorm).toBeCloseTo(0.5, 12);
    expect(byName(after, 'x1').gradNorm).toBeNull(); // requires no grad
    // the graph's ids are the trace's
    expect(trace.steps.map((s) => s.opId).sort()).toEqual(after.ops.map((o) => o.id).sort());
    expectReverseTopological(after, new Map(trace.steps.map((s) => [s.opId, s.index])));
  });

  it('a matrix expression: shapes, dtypes, broadcast bias, fan-out and gradient norms', () => {
    manualSeed(1);
    const a = randn([2, 3], { requiresGrad: true });
    const w = randn([3, 4], { requiresGrad: true });
    const c = randn([4], { requiresGrad: true });
    const h = a.matmul(w).add(c); // c broadcast over rows
    h.retainGrad();
    const y = h.relu().mul(h).sum(); // h used twice (fan-out)
    const g0 = graph(y, { names: { a, w, c, h, y } });
    expect(g0.ops.map((o) => o.op).sort()).toEqual(['add', 'matmul', 'mul', 'relu', 'sum']);
    expect(g0.tensors).toHaveLength(3 + 5); // a, w, c + matmul, add, relu, mul, sum outputs
    const hT = g0.tensors.find((t) => t.name === 'h')!;
    expect(hT.shape).toEqual([2, 4]);
    expect(hT.dtype).toBe('float32');
    expect(hT.values).toBeNull(); // 8 elements > maxValues 4
    const mulOp = g0.ops.find((o) => o.op === 'mul')!;
    expect(mulOp.inputs[1]).toBe(hT.id);
    expect(g0.edges.filter((e) => e.from === hT.id)).toHaveLength(2); // to relu and to mul
    expect(g0.tensors.find((t) => t.name === 'c')!.shape).toEqual([4]);

    const trace = traceBackward(y);
    const g = graph(y, { names: { a, w, c, h, y }, trace });
    for (const [n, t] of [['a', a], ['w', w], ['c', c], ['h', h]] as const) {
      expect(g.tensors.find((x) => x.name === n)!.gradNorm).toBeCloseTo(norm(t.grad!), 5);
    }
    // the add step un-broadcasts: ∂L/∂c arrives as [4], its norm that of c.grad
    const add = trace.steps.find((s) => s.op === 'add')!;
    expect(add.gradOutput.shape).toEqual([2, 4]);
    expect(add.gradOutput.norm).toBeCloseTo(norm(h.grad!), 5);
    expect(add.inputs[1]!.shape).toEqual([4]);
    expect(add.inputs[1]!.grad!.shape).toEqual([4]);
    expect(add.inputs[1]!.grad!.norm).toBeCloseTo(norm(c.grad!), 5);
    expect(add.inputs[1]!.toLeaf).toBe(true);
    // the intermediate relu output's gradient: from the trace, = ‖h‖ restricted to h > 0 (∂(r·h)/∂r = h)
    const reluOut = g.tensors.find((t) => t.producer === g.ops.find((o) => o.op === 'relu')!.id)!;
    expect(reluOut.gradNorm).toBeCloseTo(norm(h.detach()), 5);
  });

  it('refuses a non-tensor, bad names and graphs over maxNodes', () => {
    expect(() => graph(null as unknown as Tensor)).toThrow(/graph: expected a Tensor/);
    const x = tensor([1, 2], { requiresGrad: true });
    const y = x.mul(2).sum();
    expect(() => graph(y, { names: [['x', 3]] as unknown as [string, Tensor][] })).toThrow(/names must map strings to tensors/);
    expect(() => graph(y, { maxNodes: 2 })).toThrow(/more than maxNodes = 2/);
    expect(() => traceBackward(3 as unknown as Tensor)).toThrow(/traceBackward: expected a Tensor/);
  });
});

describe('traceBackward()', () => {
  it('runs the backward: same gradients, bit for bit, as a plain backward', () => {
    const run = (traced: boolean) => {
      manualSeed(3);
      const layer = new nn.Linear(5, 3);
      const x = randn([4, 5]);
      const loss = F.crossEntropy(layer.forward(x).tanh(), tensor([0, 2, 1, 0], { dtype: 'int32' }));
      if (traced) traceBackward(loss); else loss.backward();
      return [...layer.parameters()].map((p) => Array.from(p.grad!.toTypedArray()));
    };
    expect(run(true)).toEqual(run(false));
  });

  it('steps come in reverse topological order with formulas, shapes and norms (a BERT layer)', () => {
    manualSeed(0);
    const config = new nn.BertConfig({ vocabSize: 16, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 });
    const layer = new nn.BertLayer(config);
    const loss = F.mseLoss(layer.forward(randn([1, 4, 8]), null), randn([1, 4, 8]));
    const names = new Map(layer.namedParameters('layer'));
    const trace = traceBackward(loss, { names });
    const g = graph(loss, { names, trace });
    expect(trace.steps).toHaveLength(g.ops.length); // every op is reached
    expect(trace.steps[0]!.opId).toBe(g.tensors[0]!.producer); // the loss's op first
    const order = new Map(trace.steps.map((s) => [s.opId, s.index]));
    expectReverseTopological(g, order);
    expect(trace.steps.every((s) => typeof s.formula === 'string' && s.formula.includes('∂L/∂'))).toBe(true);
    for (const s of trace.steps) {
      expect(s.gradOutput.shape).toEqual(s.output.shape);
      for (const i of s.inputs) if (i.grad) expect(i.grad.shape).toEqual(i.shape);
    }
    // every parameter's gradient norm in the graph is its .grad's
    for (const [name, p] of names) {
      expect(g.tensors.find((t) => t.name === name)!.gradNorm).toBeCloseTo(norm(p.grad!), 5);
    }
    expect(trace.format()).toMatch(/^backward from t\d+ \[\] float32: \d+ steps/);
    expect(trace.format()).toMatch(/∂L\/∂x₀ → layer\.attention\.self\.query\.bias \[8\] \(leaf\): ‖·‖ \d/);
  });

  it('format(): one block per step with the formula and ∂L/∂x lines', () => {
    const v = neuron();
    const text = traceBackward(v.o, { names: { w1: v.w1, n: v.n, o: v.o, b: v.b } }).format();
    const lines = text.split('\n');
    expect(lines[0]).toBe('backward from o [] float64: 5 steps (reverse topological order; g = ∂L/∂y reaching the op, ∂L/∂x sent to each input)');
    expect(lines[1]).toBe('  1. tanh → o [] float64   g: 1');
    expect(lines[2]).toBe('     y = tanh x;  ∂L/∂x = g·(1 − y²)');
    expect(lines[3]).toBe('     ∂L/∂x₀ → n []: 0.5');
    expect(text).toContain('∂L/∂x₁ → b [] (leaf): 0.5');
    expect(text).toMatch(/∂L\/∂x₀ → t\d+ \[\] \(leaf\): none \(does not require grad\)/);
  });

  it('setBackwardTracePrinting(true) prints each backward to stderr; TENSORGRAD_TRACE=1 switches it on', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {});
    try {
      setBackwardTracePrinting(true);
      const x = tensor([0.5, -1], { requiresGrad: true });
      x.exp().sum().backward();
      setBackwardTracePrinting(false);
      x.exp().sum().backward(); // not printed
      expect(spy).toHaveBeenCalledTimes(1);
      expect(String(spy.mock.calls[0]![0])).toMatch(/backward from t\d+ \[\] float32: 2 steps[^]*y = eˣ;  ∂L\/∂x = g·y/);
    } finally {
      setBackwardTracePrinting(false);
      spy.mockRestore();
    }
    const code = "import { tensor } from './src/index.ts'; const x = tensor([2], { requiresGrad: true }); x.mul(x).sum().backward(); console.log('grad', x.grad.item());";
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: ROOT, encoding: 'utf8', timeout: 60_000, env: { ...process.env, TENSORGRAD_TRACE: '1' },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('grad 4');
    expect(r.stderr).toMatch(/backward from t\d+ \[\] float32: 2 steps/);
    expect(r.stderr).toContain('y = a·b;  ∂L/∂a = g·b, ∂L/∂b = g·a');
  });

  it('every primitive in the op table has a gradient formula', () => {
    expect([...OPS.values()].filter((s) => !s.gradient).map((s) => s.name)).toEqual([]);
  });
});

describe('renderers', () => {
  const names = (v: ReturnType<typeof neuron>) => ({ 'quote"back\\slash': v.x1, '<w1> & #1': v.w1, n: v.n });

  it('DOT: a digraph whose every statement parses and whose edges join declared nodes', () => {
    const v = neuron();
    v.o.backward();
    const g = graph(v.o, { names: names(v) });
    const dot = g.toDot();
    const lines = dot.trimEnd().split('\n');
    expect(lines[0]).toBe('digraph autograd {');
    expect(lines.at(-1)).toBe('}');
    const str = '"(?:[^"\\\\]|\\\\.)*"'; // a DOT quoted string: escapes only
    const attr = `\\w+=(?:${str}|[\\w#.]+)`;
    const nodeRe = new RegExp(`^  ((?:t|op)\\d+) \\[${attr}(?:, ${attr})*\\];$`);
    const edgeRe = /^ {2}((?:t|op)\d+) -> ((?:t|op)\d+);$/;
    const declared = new Set<string>();
    const edges: [string, string][] = [];
    for (const l of lines.slice(1, -1)) {
      if (/^ {2}(rankdir=LR|node \[.*\]);$/.test(l)) continue;
      const n = nodeRe.exec(l);
      if (n) { declared.add(n[1]!); continue; }
      const e = edgeRe.exec(l);
      if (e) { edges.push([e[1]!, e[2]!]); continue; }
      throw new Error(`not a DOT statement: ${l}`);
    }
    expect(declared.size).toBe(g.tensors.length + g.ops.length);
    expect(edges).toHaveLength(g.edges.length);
    for (const [a, b] of edges) {
      expect(declared.has(a) && declared.has(b)).toBe(true);
      expect(a.startsWith('t') !== b.startsWith('t')).toBe(true); // bipartite: tensor ↔ op
    }
    expect(dot).toContain('label="quote\\"back\\\\slash\\n[] float64\\ndata 2"');
  });

  it('Mermaid: a flowchart with escaped labels, declared ids and classes', () => {
    const v = neuron();
    const g = graph(v.o, { names: names(v) });
    const lines = g.toMermaid().trimEnd().split('\n');
    expect(lines[0]).toBe('flowchart LR');
    const ids = new Set<string>();
    for (const l of lines.slice(1)) {
      let m: RegExpExecArray | null;
      if ((m = /^ {2}(t\d+)\["([^"]*)"\]$/.exec(l)) || (m = /^ {2}(op\d+)\(\("([^"]*)"\)\)$/.exec(l))) {
        expect(m[2]!.replace(/<br\/>/g, '').replace(/#\d+;/g, '')).not.toMatch(/[<>&"#]/); // markup only as entity codes
        ids.add(m[1]!);
      } else if ((m = /^ {2}((?:t|op)\d+) --> ((?:t|op)\d+)$/.exec(l))) {
        expect(ids.has(m[1]!) && ids.has(m[2]!)).toBe(true);
      } else if (!/^ {2}classDef \w+ [\w:#,]+;$/.test(l) && !/^ {2}class [\w,]+ \w+;$/.test(l)) {
        throw new Error(`not a Mermaid statement: ${l}`);
      }
    }
    expect(ids.size).toBe(g.tensors.length + g.ops.length);
    const mmd = g.toMermaid();
    expect(mmd).toContain('"quote#34;back\\slash<br/>[] float64<br/>data 2"');
    expect(mmd).toContain('#60;w1#62; #38; #35;1');
  });

  it('SVG: one group per node, one path per edge, no overlaps, edges left to right, escaped text', () => {
    manualSeed(2);
    const a = randn([3, 3], { requiresGrad: true });
    const y = a.matmul(a).add(a).softmax(-1).sum();
    const v = neuron();
    for (const g of [graph(y), graph(v.o, { names: names(v) })]) {
      const svg = g.toSvg();
      expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
      expect(svg.match(/<g class="tg-op[ "]/g)).toHaveLength(g.ops.length);
      expect(svg.match(/<g class="tg-tensor /g)).toHaveLength(g.tensors.length);
      expect(svg.match(/<path class="tg-edge"/g)).toHaveLength(g.edges.length);
      // well-formed: tags balance
      const stack: string[] = [];
      for (const m of svg.matchAll(/<(\/?)([a-z]+)[^>]*?(\/?)>/g)) {
        if (m[3]) continue;
        if (m[1]) expect(stack.pop()).toBe(m[2]); else stack.push(m[2]!);
      }
      expect(stack).toEqual([]);
      expect(svg).not.toMatch(/<text[^>]*>[^<]*[>"][^<]*<\/text>/); // text content escaped
      const L = layoutGraph(g);
      const boxes = [...L.nodes.values()];
      for (let i = 0; i < boxes.length; i++) {
        for (let j = i + 1; j < boxes.length; j++) {
          const p = boxes[i]!, q = boxes[j]!;
          const overlap = Math.abs(p.x - q.x) < (p.w + q.w) / 2 && Math.abs(p.y - q.y) < (p.h + q.h) / 2;
          expect(overlap).toBe(false);
        }
      }
      for (const e of L.edges) expect(e.points[0]![0]).toBeLessThan(e.points.at(-1)![0]);
      for (const b of boxes) expect(b.x - b.w / 2 >= 0 && b.y - b.h / 2 >= 0 && b.x + b.w / 2 <= L.width && b.y + b.h / 2 <= L.height).toBe(true);
    }
    const gv = graph(v.o, { names: names(v) });
    const svg = gv.toSvg({ idPrefix: 'n1-', highlight: [gv.ops[0]!.id] });
    expect(svg).toContain('&lt;w1&gt; &amp; #1');
    expect(svg).toContain('id="n1-arrow"');
    expect(svg).toContain('class="tg-op tg-active"');
    expect(() => graph(v.o).toSvg({ idPrefix: '"x' })).toThrow(/idPrefix/);
  });

  it('HTML: self-contained, with the trace steps as data for the stepper', () => {
    const v = neuron();
    const trace = traceBackward(v.o);
    const html = graph(v.o, { trace }).toHtml({ title: 'a <neuron>' });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<title>a &lt;neuron&gt;</title>');
    expect(html).not.toMatch(/<(script|link|img)[^>]+(src|href)=/); // nothing external
    const steps = JSON.parse(/const STEPS = (.*);\n/.exec(html)![1]!) as { op: string }[];
    expect(steps.map((s) => s.op)).toEqual(['tanh', 'add', 'add', 'mul', 'mul']);
    expect(graph(v.o).toHtml()).not.toContain('<script>'); // no trace, no stepper
  });
});
