/**
 * Lesson 12 — watch backpropagation.
 *
 * Reverse-mode autodiff (Rumelhart, Hinton & Williams 1986) visits the graph from the loss back to
 * the inputs, in reverse topological order, and at each op applies the chain rule locally:
 *
 *     ∂L/∂xᵢ = ∂L/∂y · ∂y/∂xᵢ          (g = ∂L/∂y arrives; each input gets its share)
 *
 * First micrograd's classic neuron (Karpathy 2020): o = tanh(x1·w1 + x2·w2 + b), with b chosen
 * so that n = 0.8814 and o = 0.7071. Since ∂tanh(n)/∂n = 1 − o² = 0.5, every gradient below the
 * tanh is 0.5 times a product of the inputs: ∂o/∂w1 = 0.5·x1 = 1, ∂o/∂w2 = 0.5·x2 = 0.
 * `traceBackward` prints each step's formula (from the op table) and the gradients in and out;
 * `graph` draws it (DOT, Mermaid, SVG, and an HTML page whose buttons step through the backward).
 *
 * Then one BERT layer (Devlin et al. 2019) — self-attention, residuals, LayerNorm, GELU MLP —
 * with every parameter named by its checkpoint name; its graph and trace go to out/ too.
 *
 * Also try: TENSORGRAD_TRACE=1 npx tsx examples/01-autograd-by-hand.ts  (every backward printed)
 *
 * Run: npx tsx examples/12-watch-backprop.ts     (writes into out/watch-backprop/, or $OUT)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { F, graph, manualSeed, nn, randn, tensor, traceBackward } from '../src/index.js';

const OUT = process.env.OUT ?? join('out', 'watch-backprop');
mkdirSync(OUT, { recursive: true });

// ---- micrograd's neuron -------------------------------------------------------------------------
const f64 = { dtype: 'float64' } as const;
const x1 = tensor(2.0, f64);
const x2 = tensor(0.0, f64);
const w1 = tensor(-3.0, { ...f64, requiresGrad: true });
const w2 = tensor(1.0, { ...f64, requiresGrad: true });
const b = tensor(6.8813735870195432, { ...f64, requiresGrad: true });
const x1w1 = x1.mul(w1);
const x2w2 = x2.mul(w2);
const x1w1x2w2 = x1w1.add(x2w2);
const n = x1w1x2w2.add(b);
const o = n.tanh();
const names = { x1, x2, w1, w2, b, x1w1, x2w2, 'x1w1 + x2w2': x1w1x2w2, n, o };

const trace = traceBackward(o, { names });
console.log(trace.format());
console.log(`\nw1.grad = ${w1.grad!.item()} (expected 0.5·x1 = 1), w2.grad = ${w2.grad!.item()} (0.5·x2 = 0), b.grad = ${b.grad!.item().toFixed(4)} (1 − o² = 0.5)`);

const neuron = graph(o, { names, trace });
writeFileSync(join(OUT, 'neuron.dot'), neuron.toDot());
writeFileSync(join(OUT, 'neuron.mmd'), neuron.toMermaid());
writeFileSync(join(OUT, 'neuron.svg'), neuron.toSvg());
writeFileSync(join(OUT, 'neuron.html'), neuron.toHtml({ title: 'micrograd neuron: o = tanh(x1·w1 + x2·w2 + b)' }));
console.log(`neuron: ${neuron.ops.length} ops, ${neuron.tensors.length} tensors → ${join(OUT, 'neuron.{dot,mmd,svg,html}')}`);

// ---- one BERT layer -----------------------------------------------------------------------------
manualSeed(0);
const config = new nn.BertConfig({ vocabSize: 16, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16 });
const layer = new nn.BertLayer(config);
const h = randn([1, 4, 8]); // (B, T, H)
const target = randn([1, 4, 8]);
const loss = F.mseLoss(layer.forward(h, null), target);
const bertNames = new Map([...layer.namedParameters('layer')].map(([k, p]) => [k, p] as const));
bertNames.set('h', h);
bertNames.set('loss', loss);
const bertTrace = traceBackward(loss, { names: bertNames });
const bert = graph(loss, { names: bertNames, trace: bertTrace });
writeFileSync(join(OUT, 'bert-layer.dot'), bert.toDot());
writeFileSync(join(OUT, 'bert-layer.svg'), bert.toSvg());
writeFileSync(join(OUT, 'bert-layer.html'), bert.toHtml({ title: 'one BERT layer (hidden 8, 2 heads): loss = MSE(layer(h), target)' }));
writeFileSync(join(OUT, 'bert-layer-trace.txt'), bertTrace.format() + '\n');
const counts = new Map<string, number>();
for (const op of bert.ops) counts.set(op.op, (counts.get(op.op) ?? 0) + 1);
console.log(`BERT layer: ${bert.ops.length} ops (${[...counts].sort((p, q) => q[1] - p[1]).map(([k, v]) => `${k}×${v}`).join(', ')}), ` +
  `${bertTrace.steps.length} backward steps → ${join(OUT, 'bert-layer.{dot,svg,html}')}, bert-layer-trace.txt`);
const biggest = [...bert.tensors].filter((t) => t.role === 'parameter').sort((p, q) => (q.gradNorm ?? 0) - (p.gradNorm ?? 0))[0]!;
console.log(`largest parameter gradient: ${biggest.name} ‖grad‖ = ${biggest.gradNorm!.toFixed(4)}`);
