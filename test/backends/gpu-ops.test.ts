/**
 * Op-level conformance on the GPU: forward values and gradients of every differentiable op of the
 * registry (a test checks the table covers OPS), and
 * a whole BERT training step (forward, backward, AdamW), computed on 'gpu' and on 'cpu' from the
 * same float32 data, agree within float32 tolerances. Skipped (with the reason in the title)
 * where the GPU backend is not available; run under `xvfb-run -a` (CI does).
 */
import { describe, expect, it } from 'vitest';
import { OPS } from '../../src/autograd/ops.js';
import { flashAttention } from '../../src/autograd/ops/attention.js';
import {
  backendInfo, cat, cumprod, cumsum, dropout, expm1, F, Generator, fromTypedArray, log1p, manualSeed, mish, nn, norm, optim, scatter,
  scatterAdd, silu, softplus, stack, tensor, where, type Tensor,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

const info = backendInfo('gpu');
const TOL = { rtol: 2e-4, atol: 2e-5 };

/** Seeded float32 data, created on the CPU and moved (so both devices see identical inputs). */
function data(gen: Generator, shape: number[], lo = -2, hi = 2): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  return fromTypedArray(Float32Array.from({ length: n }, () => lo + (hi - lo) * gen.random()), shape);
}

type Case = { name: string; ops: string[]; shapes: number[][]; positive?: boolean; fn: (...x: Tensor[]) => Tensor };

const CASES: Case[] = [
  { name: 'add (broadcast)', ops: ['add', 'expand'], shapes: [[3, 4], [4]], fn: (a, b) => a.add(b) },
  { name: 'sub', ops: ['sub'], shapes: [[3, 1], [1, 5]], fn: (a, b) => a.sub(b) },
  { name: 'mul', ops: ['mul'], shapes: [[2, 3, 4], [3, 1]], fn: (a, b) => a.mul(b) },
  { name: 'div', ops: ['div'], shapes: [[4, 3], [4, 3]], positive: true, fn: (a, b) => a.div(b) },
  { name: 'pow', ops: ['powScalar'], shapes: [[5]], positive: true, fn: (a) => a.pow(2.5) },
  { name: 'exp/log/sqrt/rsqrt', ops: ['exp', 'log', 'sqrt', 'rsqrt'], shapes: [[6]], positive: true, fn: (a) => a.exp().add(a.log()).add(a.sqrt()).add(a.rsqrt()) },
  { name: 'tanh/sigmoid/relu/abs', ops: ['tanh', 'sigmoid', 'relu', 'abs'], shapes: [[7]], fn: (a) => a.tanh().add(a.sigmoid()).add(a.relu()).add(a.abs()) },
  { name: 'gelu (erf and tanh)', ops: ['gelu', 'geluTanh'], shapes: [[3, 5]], fn: (a) => a.gelu().add(a.gelu('tanh')) },
  { name: 'sin/cos/clamp', ops: ['sin', 'cos', 'clamp'], shapes: [[8]], fn: (a) => a.sin().mul(a.cos()).add(a.clamp(-0.5, 0.7)) },
  { name: 'maximum/minimum/where', ops: ['maximum', 'minimum', 'where'], shapes: [[4, 4], [4, 4]], fn: (a, b) => a.maximum(b).add(a.minimum(b)).add(where(a.gt(b), a, b.mul(2))) },
  { name: 'sum/mean/max over dims', ops: ['sum', 'max'], shapes: [[3, 4, 5]], fn: (a) => a.sum(1).sum(-1).add(a.mean([0, 2]).sum()).add(a.max(-1).sum(-1)) },
  { name: 'var/std/logsumexp', ops: ['std'], shapes: [[4, 6]], fn: (a) => a.var(1).add(a.std(0).sum()).add(a.logsumexp(1)) },
  { name: 'softmax/logSoftmax', ops: ['softmax', 'logSoftmax'], shapes: [[3, 7]], fn: (a) => a.softmax(-1).add(a.logSoftmax(0)) },
  { name: 'matmul (batched, broadcast, transposed)', ops: ['matmul'], shapes: [[2, 3, 4], [4, 5]], fn: (a, b) => a.matmul(b).add(a.transpose(1, 2).transpose(1, 2).matmul(b)) },
  { name: 'views: permute/reshape/slice/expand/contiguous', ops: ['permute', 'reshape', 'slice', 'contiguous'], shapes: [[2, 3, 4]], fn: (a) => a.permute(2, 0, 1).reshape(4, 6).slice(1, 1, 5, 2).expand(2, 4, 2).contiguous() },
  { name: 'cat/stack/split', ops: ['cat'], shapes: [[2, 3], [2, 3]], fn: (a, b) => cat([a, b], 1).add(stack([a, b], 2).reshape(2, 6)).split(2, 1)[1]! },
  { name: 'gather/indexSelect', ops: ['gather', 'indexSelect'], shapes: [[4, 5]], fn: (a) => a.gather(1, tensor([[0, 4], [2, 2], [1, 3], [4, 0]], { dtype: 'int32', device: a.device })).sum(1).add(a.indexSelect(0, tensor([3, 1], { dtype: 'int32', device: a.device })).sum(1).sum()) },
  { name: 'embedding', ops: ['embedding'], shapes: [[6, 3]], fn: (w) => F.embedding(tensor([[1, 5, 1], [0, 2, 5]], { dtype: 'int32', device: w.device }), w, 0) },
  { name: 'layerNorm + linear', ops: ['layerNorm', 'addmm'], shapes: [[2, 3, 8], [4, 8], [4]], fn: (x, w, b) => F.layerNorm(F.linear(x, w, b), 4) },
  { name: 'crossEntropy (ignoreIndex, smoothing)', ops: [], shapes: [[5, 4]], fn: (x) => F.crossEntropy(x, tensor([0, 3, -100, 2, 1], { dtype: 'int32', device: x.device }), { labelSmoothing: 0.1 }) },
  // the CPU runs the fused kernel (crossEntropyFused); the GPU, which has none, the composite
  { name: 'crossEntropy (ignoreIndex, fused on the CPU)', ops: ['crossEntropyFused'], shapes: [[5, 4]], fn: (x) => F.crossEntropy(x, tensor([0, 3, -100, 2, 1], { dtype: 'int32', device: x.device })) },
  { name: 'binaryCrossEntropyWithLogits (weight, posWeight)', ops: ['binaryCrossEntropyWithLogits'], shapes: [[3, 4], [3, 4], [4], [4]], positive: true, fn: (x, y, w, p) => F.binaryCrossEntropyWithLogits(x.sub(1), y.div(2), { weight: w, posWeight: p, reduction: 'none' }) },
  { name: 'attention with a padding mask', ops: [], shapes: [[2, 3, 4], [2, 3, 4], [2, 3, 4]], fn: (q, k, v) => F.scaledDotProductAttention(q, k, v, { attnMask: tensor([[[true, true, false]], [[true, false, false]]], { device: q.device }) }) },
  // the CPU runs the fused flash-attention kernel; the GPU, which has none, the composite
  { name: 'flashAttention (causal) on the CPU = the composite on the GPU', ops: ['flashAttention'], shapes: [[2, 5, 4], [2, 5, 4], [2, 5, 3]], fn: (q, k, v) => q.device === 'cpu' ? flashAttention(q, k, v, { isCausal: true }) : F.scaledDotProductAttention(q, k, v, { isCausal: true }) },
  { name: 'neg/sign/erf', ops: ['neg', 'sign', 'erf'], shapes: [[6]], fn: (a) => a.neg().add(a.sign()).add(a.erf()) },
  { name: 'pow (tensor exponent)', ops: ['pow'], shapes: [[5], [5]], positive: true, fn: (a, b) => a.pow(b) },
  { name: 'min over a dim', ops: ['min'], shapes: [[3, 4]], fn: (a) => a.min(1) },
  { name: 'cast float32 → float64 → float32', ops: ['cast'], shapes: [[4]], fn: (a) => a.to('float64').mul(2).to('float32') },
  { name: 'toDevice (gpu → cpu → gpu)', ops: ['toDevice'], shapes: [[2, 3]], fn: (a) => a.cpu().exp().to(a.device) },
  { name: 'dropout (seeded)', ops: ['dropout'], shapes: [[4, 5]], fn: (a) => { manualSeed(11); return dropout(a, 0.3); } },
  // the toolkit ops (src/autograd/ops/*): new opcodes compiled to GLSL, host-side scans, index ops
  { name: 'log1p/expm1/softplus/silu/mish', ops: ['log1p', 'expm1', 'softplus', 'silu', 'mish'], shapes: [[9]], positive: true, fn: (a) => log1p(a).add(expm1(a)).add(softplus(a, 2, 3)).add(silu(a.sub(1))).add(mish(a.sub(1))) },
  { name: 'cumsum/cumprod/norm', ops: ['cumsum', 'cumprod', 'norm'], shapes: [[3, 4]], fn: (a) => cumsum(a, 1).add(cumprod(a, 0)).add(norm(a, 2, 1, true)).add(norm(a, Infinity)) },
  { name: 'scatter/scatterAdd', ops: ['scatter', 'scatterAdd'], shapes: [[2, 4], [2, 2]], fn: (x, s) => scatter(x, 1, tensor([[3, 0], [1, 2]], { dtype: 'int32', device: x.device }), s!).add(scatterAdd(x, 1, tensor([[1, 1], [0, 3]], { dtype: 'int32', device: x.device }), s!)) },
];

function run(c: Case, device: 'cpu' | 'gpu', seed: number): { y: number[]; grads: number[][] } {
  const gen = new Generator(seed);
  const xs = c.shapes.map((s) => data(gen, s, c.positive ? 0.2 : -2, 2).to(device).requiresGrad_());
  const y = c.fn(...xs);
  const gy = data(gen, [...y.shape]).to(device);
  y.mul(gy).sum().backward();
  return { y: Array.from(y.cpu().toTypedArray()), grads: xs.map((x) => Array.from(x.grad!.cpu().toTypedArray())) };
}

describe('the GPU conformance table', () => {
  it('covers every differentiable op of the registry', () => {
    const covered = new Set(CASES.flatMap((c) => c.ops));
    expect([...OPS.keys()].filter((op) => !covered.has(op))).toEqual([]);
  });
});

describe.skipIf(!info.available)(`ops on the GPU equal the CPU${info.available ? '' : ` — SKIPPED: ${info.reason}`}`, () => {
  for (const c of CASES) {
    it(c.name, () => {
      for (const seed of [1, 2]) {
        const g = run(c, 'gpu', seed);
        const r = run(c, 'cpu', seed);
        expectClose(g.y, r.y, { ...TOL, what: `${c.name} forward` });
        g.grads.forEach((gr, i) => expectClose(gr, r.grads[i]!, { ...TOL, what: `${c.name} grad of input ${i}` }));
      }
    });
  }

  it('a BERT training step (forward, backward, clipGradNorm, AdamW) equals the CPU', () => {
    const config = new nn.BertConfig({ vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 5, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 });
    const batch = (device: string) => ({
      inputIds: tensor([[2, 7, 9, 11, 3, 0], [2, 5, 5, 3, 0, 0]], { dtype: 'int32', device }),
      attentionMask: tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]], { dtype: 'int32', device }),
      labels: tensor([[-100, 1, 0, 4, -100, -100], [-100, 2, 2, -100, -100, -100]], { dtype: 'int32', device }),
    });
    const step = (device: 'cpu' | 'gpu') => {
      manualSeed(5);
      const model = new nn.BertForTokenClassification(config).to(device);
      const opt = new optim.AdamW(model.parameters(), { lr: 1e-2 });
      const losses: number[] = [];
      for (let s = 0; s < 2; s++) {
        const out = model.forward(batch(device));
        opt.zeroGrad();
        out.loss!.backward();
        optim.clipGradNorm(model.parameters(), 1.0);
        opt.step();
        losses.push(out.loss!.item());
      }
      return { losses, params: Object.fromEntries([...model.namedParameters()].map(([k, p]) => [k, Array.from(p.cpu().toTypedArray())])) };
    };
    const g = step('gpu');
    const c = step('cpu');
    expectClose(g.losses, c.losses, { rtol: 1e-5, atol: 1e-6, what: 'losses' });
    for (const k of Object.keys(c.params)) expectClose(g.params[k]!, c.params[k]!, { rtol: 1e-4, atol: 1e-5, what: `${k} after 2 steps` });
    expect(Object.keys(g.params).length).toBeGreaterThan(20);
  }, 120_000);
});

describe.skipIf(info.available)('without a usable GPU (CI runs this once with no display)', () => {
  it("says why, and 'gpu' tensors still compute correctly (on the CPU)", () => {
    expect(info.available).toBe(false);
    expect(info.reason).toMatch(/\w/);
    const c = run(CASES.find((x) => x.name.startsWith('matmul'))!, 'cpu', 3);
    const g = run(CASES.find((x) => x.name.startsWith('matmul'))!, 'gpu', 3);
    expect(g.y).toEqual(c.y);
    expect(g.grads).toEqual(c.grads);
  });
});
