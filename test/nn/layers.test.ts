/**
 * Layers (src/nn/layers.ts): Linear, Embedding, LayerNorm, Dropout, Sequential, ModuleList,
 * MultiheadAttention against a hand computation in plain JS loops, TransformerEncoderLayer
 * (post-LN and pre-LN), and the errors for bad sizes, masks and inputs.
 */
import { describe, expect, it } from 'vitest';

import { F, fromTypedArray, manualSeed, nn, noGrad, ones, randn, tensor, Tensor, zeros } from '../../src/index.js';
import { errorOf, expectClose, expectEqual } from '../helpers.js';

const f64 = (data: number[] | number[][] | number[][][], requiresGrad = false): Tensor => tensor(data, { dtype: 'float64', requiresGrad });
const ids = (data: number[] | number[][]): Tensor => tensor(data, { dtype: 'int32' });

/** Sets a parameter's values in place. */
function setParam(p: Tensor, data: number[] | number[][]): void {
  noGrad(() => p.copy_(tensor(data, { dtype: p.dtype })));
}

// ---- plain-JS reference maths (float64) -------------------------------------------------------------

type Mat = number[][];
const matmul = (a: Mat, b: Mat): Mat => a.map((row) => b[0]!.map((_, j) => row.reduce((s, v, k) => s + v * b[k]![j]!, 0)));
const transpose = (a: Mat): Mat => a[0]!.map((_, j) => a.map((row) => row[j]!));
const addRow = (a: Mat, b: number[]): Mat => a.map((row) => row.map((v, j) => v + b[j]!));
const softmaxRow = (r: number[]): number[] => {
  const m = Math.max(...r);
  const e = r.map((v) => Math.exp(v - m));
  const s = e.reduce((p, q) => p + q, 0);
  return e.map((v) => v / s);
};
const cols = (a: Mat, from: number, to: number): Mat => a.map((row) => row.slice(from, to));

/**
 * torch.nn.MultiheadAttention for one batch element: q = xWqᵀ + bq (…), per head
 * P = softmax(q_h k_hᵀ/√d + mask), o = concat_h(P v_h)·Woᵀ + bo; weights averaged over heads.
 */
function mhaReference(
  xq: Mat, xkv: Mat, inW: Mat, inB: number[], outW: Mat, outB: number[], h: number, mask: (i: number, j: number, head: number) => boolean,
): { out: Mat; weights: Mat } {
  const E = inW[0]!.length, d = E / h;
  const q = addRow(matmul(xq, transpose(inW.slice(0, E))), inB.slice(0, E));
  const k = addRow(matmul(xkv, transpose(inW.slice(E, 2 * E))), inB.slice(E, 2 * E));
  const v = addRow(matmul(xkv, transpose(inW.slice(2 * E))), inB.slice(2 * E));
  const heads: Mat[] = [];
  const avg: Mat = xq.map(() => xkv.map(() => 0));
  for (let hh = 0; hh < h; hh++) {
    const qh = cols(q, hh * d, (hh + 1) * d), kh = cols(k, hh * d, (hh + 1) * d), vh = cols(v, hh * d, (hh + 1) * d);
    const scores = matmul(qh, transpose(kh)).map((row, i) => row.map((s, j) => (mask(i, j, hh) ? -Infinity : s / Math.sqrt(d))));
    const P = scores.map(softmaxRow);
    P.forEach((row, i) => row.forEach((p, j) => (avg[i]![j]! += p / h)));
    heads.push(matmul(P, vh));
  }
  const concat = xq.map((_, i) => heads.flatMap((hm) => hm[i]!));
  return { out: addRow(matmul(concat, transpose(outW)), outB), weights: avg };
}

// ---- Linear ---------------------------------------------------------------------------------------------

describe('Linear', () => {
  it('computes x·Wᵀ + b for (*, in) inputs', () => {
    const fc = new nn.Linear(3, 2, { dtype: 'float64' });
    setParam(fc.weight, [[1, 2, 3], [-1, 0, 0.5]]);
    setParam(fc.bias!, [0.5, -1]);
    expectClose(fc.forward(f64([1, 1, 1])), [6.5, -1.5], { what: '1-D input' });
    const y = fc.forward(f64([[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [2, 2, 2]]])); // (2, 2, 3)
    expectClose(y, [[[1.5, -2], [2.5, -1]], [[3.5, -0.5], [12.5, -2]]], { what: '3-D input' });
  });

  it('has no bias with bias: false; default init is U(±1/√in) for weight and bias', () => {
    manualSeed(0);
    const fc = new nn.Linear(16, 32, { bias: false });
    expect(fc.bias).toBeNull();
    expect([...fc.namedParameters()].map(([k]) => k)).toEqual(['weight']);
    const fc2 = new nn.Linear(16, 32);
    const bound = 1 / Math.sqrt(16);
    for (const p of [fc2.weight, fc2.bias!]) {
      const a = Array.from(p.toTypedArray() as Float32Array);
      expect(Math.max(...a.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...a.map(Math.abs))).toBeGreaterThan(0.8 * bound); // not degenerate
    }
    expect(fc2.weight.shape).toEqual([32, 16]); // (out, in) as PyTorch
  });

  it('gradients: ∂/∂W = gᵀx, ∂/∂b = Σg', () => {
    const fc = new nn.Linear(2, 2, { dtype: 'float64' });
    setParam(fc.weight, [[1, 2], [3, 4]]);
    const x = f64([[1, -1], [2, 0.5]], true);
    fc.forward(x).sum().backward();
    expectClose(fc.weight.grad!, [[3, -0.5], [3, -0.5]], { what: 'dW' });
    expectClose(fc.bias!.grad!, [2, 2], { what: 'db' });
    expectClose(x.grad!, [[4, 6], [4, 6]], { what: 'dx' });
  });

  it('rejects bad sizes and inputs, naming what it got', () => {
    expect(errorOf(() => new nn.Linear(0, 2))).toMatch(/Linear: inFeatures must be a positive integer, got 0/);
    expect(errorOf(() => new nn.Linear(2, 1.5))).toMatch(/Linear: outFeatures must be a positive integer, got 1.5/);
    expect(errorOf(() => new nn.Linear(3, 2).forward(randn([4, 2])))).toMatch(/input of shape \[4,2\] does not end in in_features = 3/);
    expect(errorOf(() => new nn.Linear(3, 2).forward(tensor(1)))).toMatch(/input of shape \[\] does not end in in_features = 3/);
  });
});

// ---- Embedding ------------------------------------------------------------------------------------------

describe('Embedding', () => {
  it('looks up rows for ids of any shape', () => {
    const emb = new nn.Embedding(4, 2, { dtype: 'float64' });
    setParam(emb.weight, [[0, 1], [2, 3], [4, 5], [6, 7]]);
    expectClose(emb.forward(ids([[3, 0], [1, 1]])), [[[6, 7], [0, 1]], [[2, 3], [2, 3]]], { what: 'lookup' });
    expect(emb.forward(ids([2])).shape).toEqual([1, 2]);
  });

  it('paddingIdx: the row starts at zero and gets zero gradient; other rows accumulate per occurrence', () => {
    manualSeed(1);
    const emb = new nn.Embedding(5, 3, { paddingIdx: 0, dtype: 'float64' });
    expectEqual(emb.weight.select(0, 0), [0, 0, 0], 'padding row at init');
    expect(emb.weight.select(0, 1).abs().sum().item()).toBeGreaterThan(0);
    emb.forward(ids([[0, 2, 0], [2, 4, 0]])).sum().backward();
    expectClose(emb.weight.grad!, [[0, 0, 0], [0, 0, 0], [2, 2, 2], [0, 0, 0], [1, 1, 1]], { what: 'embedding grad' });
    // a negative paddingIdx counts from the end
    const e2 = new nn.Embedding(5, 3, { paddingIdx: -1 });
    expect(e2.paddingIdx).toBe(4);
    expectEqual(e2.weight.select(0, 4), [0, 0, 0], 'padding row -1');
  });

  it('rejects bad sizes, paddingIdx and ids', () => {
    expect(errorOf(() => new nn.Embedding(5, 3, { paddingIdx: 5 }))).toMatch(/paddingIdx must be within \[-5, 5\), got 5/);
    expect(errorOf(() => new nn.Embedding(-1, 3))).toMatch(/numEmbeddings must be a positive integer, got -1/);
    expect(errorOf(() => new nn.Embedding(5, 3).forward(ids([1, 5])))).toMatch(/5.*the table has 5 rows/);
    expect(errorOf(() => new nn.Embedding(5, 3).forward(tensor([1, 2])))).toMatch(/index must be an int32 tensor, got dtype float32/);
  });
});

// ---- LayerNorm ------------------------------------------------------------------------------------------

describe('LayerNorm', () => {
  it('normalises the last dims with biased variance and ε, then applies γ and β', () => {
    const ln = new nn.LayerNorm(4, { dtype: 'float64', eps: 1e-5 });
    setParam(ln.weight!, [1, 2, 1, 1]);
    setParam(ln.bias!, [0, 0, 1, 0]);
    const x = [1, 2, 3, 6];
    const mu = 3, v = (4 + 1 + 0 + 9) / 4;
    const want = x.map((xi, i) => ((xi - mu) / Math.sqrt(v + 1e-5)) * [1, 2, 1, 1][i]! + [0, 0, 1, 0][i]!);
    expectClose(ln.forward(f64([x])), [want], { rtol: 1e-14, what: 'layer norm' });
  });

  it('normalizedShape with 2 dims; elementwiseAffine false has no parameters; bias false has only γ', () => {
    const ln = new nn.LayerNorm([2, 3], { elementwiseAffine: false, dtype: 'float64' });
    expect(ln.parameters()).toHaveLength(0);
    const y = ln.forward(randn([4, 2, 3], { dtype: 'float64' }));
    expectClose(y.mean([1, 2]), new Float64Array(4), { atol: 1e-14, what: 'means' });
    expectClose(y.var([1, 2], { correction: 0 }), new Float64Array(4).fill(1), { rtol: 1e-4, what: 'variances' });
    const lnNoBias = new nn.LayerNorm(3, { bias: false });
    expect([...lnNoBias.namedParameters()].map(([k]) => k)).toEqual(['weight']);
  });

  it('rejects inputs that do not end in normalizedShape', () => {
    expect(errorOf(() => new nn.LayerNorm([2, 3]).forward(randn([4, 3, 2])))).toMatch(/input of shape \[4,3,2\] does not end in normalizedShape \[2,3\]/);
    expect(errorOf(() => new nn.LayerNorm(0))).toMatch(/normalizedShape must be a positive integer, got 0/);
  });
});

// ---- Dropout --------------------------------------------------------------------------------------------

describe('Dropout', () => {
  it('in training zeroes about p of the elements and scales the rest by 1/(1−p), keeping the expected value', () => {
    manualSeed(2);
    const p = 0.3;
    const d = new nn.Dropout(p);
    const x = ones([100, 100]);
    const y = d.forward(x);
    const vals = Array.from(y.toTypedArray() as Float32Array);
    const zerosFrac = vals.filter((v) => v === 0).length / vals.length;
    // 10 000 Bernoulli draws: sd of the fraction is √(p(1−p)/n) ≈ 0.0046
    expect(Math.abs(zerosFrac - p)).toBeLessThan(0.025);
    const kept = vals.filter((v) => v !== 0);
    expect(new Set(kept.map((v) => v.toFixed(5)))).toEqual(new Set([(1 / (1 - p)).toFixed(5)]));
    expect(Math.abs(y.mean().item() - 1)).toBeLessThan(0.05);
  });

  it('is the identity in eval mode and for p = 0; p = 1 zeroes everything', () => {
    const x = randn([5, 5]);
    const d = new nn.Dropout(0.5).eval();
    expect(d.forward(x)).toBe(x);
    expect(new nn.Dropout(0).forward(x)).toBe(x);
    expectEqual(new nn.Dropout(1).forward(x), new Float32Array(25), 'p = 1');
  });

  it('is reproducible under manualSeed, and its gradient is the same mask', () => {
    const x = randn([6, 7], { dtype: 'float64', requiresGrad: true });
    manualSeed(42);
    const y1 = new nn.Dropout(0.5).forward(x);
    manualSeed(42);
    const y2 = new nn.Dropout(0.5).forward(x);
    expectEqual(y1, y2, 'same seed, same mask');
    const y3 = new nn.Dropout(0.5).forward(x);
    expect(y3.equal(y1)).toBe(false);
    y1.sum().backward();
    const mask = y1.detach().div(x.detach()); // 0 or 2
    expectClose(x.grad!, mask, { rtol: 1e-12, what: 'grad = mask/(1−p)' });
  });

  it('rejects p outside [0, 1]', () => {
    expect(errorOf(() => new nn.Dropout(1.5))).toMatch(/p must be in \[0, 1\], got 1.5/);
    expect(errorOf(() => new nn.Dropout(-0.1))).toMatch(/got -0.1/);
  });
});

// ---- containers -----------------------------------------------------------------------------------------

describe('Sequential and ModuleList', () => {
  it('Sequential applies its modules in order; children are named 0, 1, …', () => {
    const a = new nn.Linear(2, 3, { dtype: 'float64' });
    const b = new nn.Linear(3, 1, { dtype: 'float64' });
    const seq = new nn.Sequential(a, new nn.ReLU(), b);
    expect(seq.length).toBe(3);
    expect([...seq.namedParameters()].map(([k]) => k)).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const x = randn([4, 2], { dtype: 'float64' });
    expectClose(seq.forward(x), b.forward(a.forward(x).relu()), { what: 'sequential' });
  });

  it('ModuleList: append, at (negative too), iteration, dotted names, out-of-range error', () => {
    const list = new nn.ModuleList([new nn.Linear(2, 2), new nn.Tanh()]);
    list.append(new nn.Linear(2, 1));
    expect(list.length).toBe(3);
    expect(list.at(-1)).toBeInstanceOf(nn.Linear);
    expect(list.at(1)).toBeInstanceOf(nn.Tanh);
    expect([...list].map((m) => m.constructor.name)).toEqual(['Linear', 'Tanh', 'Linear']);
    expect([...list.namedParameters('layers')].map(([k]) => k)).toEqual(['layers.0.weight', 'layers.0.bias', 'layers.2.weight', 'layers.2.bias']);
    expect(errorOf(() => list.at(3))).toMatch(/index 3 is out of range for a list of length 3/);
    // after to(), the list's items are the converted modules' (same objects, converted params)
    list.to('float64');
    expect((list.at(0) as nn.Linear).weight.dtype).toBe('float64');
  });
});

// ---- MultiheadAttention ---------------------------------------------------------------------------------

describe('MultiheadAttention', () => {
  const E = 4, h = 2;
  // fixed weights, non-symmetric, so that a wrong head split or transpose shows
  const inW = Array.from({ length: 3 * E }, (_, i) => Array.from({ length: E }, (_, j) => Math.sin(1 + i * 0.7 + j * 1.3) * 0.8));
  const inB = Array.from({ length: 3 * E }, (_, i) => 0.05 * i - 0.2);
  const outW = Array.from({ length: E }, (_, i) => Array.from({ length: E }, (_, j) => Math.cos(i * 0.9 - j * 0.4) * 0.6));
  const outB = [0.1, -0.2, 0.3, 0];
  const xq = [[0.5, -1, 0.25, 2], [1, 0, -0.5, 0.3]]; // L = 2
  const xkv = [[0.2, 0.1, -0.3, 1], [-1, 0.5, 0.5, 0], [0.3, -0.7, 1.1, -0.2]]; // S = 3

  function known(): nn.MultiheadAttention {
    const mha = new nn.MultiheadAttention(E, h, { dtype: 'float64' });
    setParam(mha.in_proj_weight, inW);
    setParam(mha.in_proj_bias!, inB);
    setParam(mha.out_proj.weight, outW);
    setParam(mha.out_proj.bias!, outB);
    return mha;
  }

  it('matches a hand computation with known weights (output and head-averaged weights)', () => {
    const mha = known();
    const { output, weights } = mha.forward(f64([xq]), f64([xkv]), f64([xkv]));
    const ref = mhaReference(xq, xkv, inW, inB, outW, outB, h, () => false);
    expectClose(output, [ref.out], { rtol: 1e-12, atol: 1e-14, what: 'output' });
    expectClose(weights!, [ref.weights], { rtol: 1e-12, atol: 1e-14, what: 'weights' });
  });

  it('keyPaddingMask: padded keys get exactly zero weight, per batch element', () => {
    const mha = known();
    const kpm = tensor([[false, true, false], [false, false, true]]); // (B, S), true = padding
    const { output, weights } = mha.forward(f64([xq, xq]), f64([xkv, xkv]), f64([xkv, xkv]), { keyPaddingMask: kpm });
    const w = weights!.toArray() as number[][][];
    for (let i = 0; i < 2; i++) {
      expect(w[0]![i]![1]).toBe(0);
      expect(w[1]![i]![2]).toBe(0);
    }
    const ref0 = mhaReference(xq, xkv, inW, inB, outW, outB, h, (_i, j) => j === 1);
    const ref1 = mhaReference(xq, xkv, inW, inB, outW, outB, h, (_i, j) => j === 2);
    expectClose(output, [ref0.out, ref1.out], { rtol: 1e-12, atol: 1e-14, what: 'masked output' });
    expectClose(weights!, [ref0.weights, ref1.weights], { rtol: 1e-12, atol: 1e-14, what: 'masked weights' });
  });

  it('isCausal and a bool attnMask (true = not allowed) match the hand computation', () => {
    const mha = known();
    const x = [...xkv]; // self-attention, L = S = 3
    const ref = mhaReference(x, x, inW, inB, outW, outB, h, (i, j) => j > i);
    const causal = mha.forward(f64([x]), undefined, undefined, { isCausal: true });
    expectClose(causal.output, [ref.out], { rtol: 1e-12, atol: 1e-14, what: 'causal output' });
    const w = causal.weights!.toArray() as number[][][];
    expect([w[0]![0]![1], w[0]![0]![2], w[0]![1]![2]]).toEqual([0, 0, 0]);
    const notAllowed = tensor([[false, true, true], [false, false, true], [false, false, false]]);
    expectClose(mha.forward(f64([x]), undefined, undefined, { attnMask: notAllowed }).output, [ref.out], { rtol: 1e-12, atol: 1e-14, what: 'bool attnMask' });
    // an additive float mask
    const add = f64([[0, -Infinity, -Infinity], [0, 0, -Infinity], [0, 0, 0]]);
    expectClose(mha.forward(f64([x]), undefined, undefined, { attnMask: add }).output, [ref.out], { rtol: 1e-12, atol: 1e-14, what: 'additive attnMask' });
  });

  it('a 3-D attnMask (B·numHeads, L, S) masks each head separately (index b·numHeads + head, as torch)', () => {
    const mha = known();
    // batch 0: head 0 may not see key 0, head 1 may not see key 2; batch 1: nothing masked
    const m3 = tensor([
      [[true, false, false], [true, false, false]],
      [[false, false, true], [false, false, true]],
      [[false, false, false], [false, false, false]],
      [[false, false, false], [false, false, false]],
    ]); // (B·h = 4, L = 2, S = 3)
    const { output, weights } = mha.forward(f64([xq, xq]), f64([xkv, xkv]), f64([xkv, xkv]), { attnMask: m3 });
    const ref0 = mhaReference(xq, xkv, inW, inB, outW, outB, h, (_i, j, head) => (head === 0 ? j === 0 : j === 2));
    const ref1 = mhaReference(xq, xkv, inW, inB, outW, outB, h, () => false);
    expectClose(output, [ref0.out, ref1.out], { rtol: 1e-12, atol: 1e-14, what: 'per-head masked output' });
    expectClose(weights!, [ref0.weights, ref1.weights], { rtol: 1e-12, atol: 1e-14, what: 'per-head masked weights' });
  });

  it('gradients flow to every parameter and the inputs', () => {
    const mha = known();
    const q = f64([xq], true);
    const kv = f64([xkv], true);
    mha.forward(q, kv, kv).output.sum().backward();
    for (const [k, p] of mha.namedParameters()) expect(p.grad?.abs().sum().item() ?? 0, k).toBeGreaterThan(0);
    expect(q.grad!.abs().sum().item()).toBeGreaterThan(0);
    expect(kv.grad!.abs().sum().item()).toBeGreaterThan(0);
  });

  it('rejects a hidden size not divisible by the heads, bad inputs and masks that do not fit', () => {
    expect(errorOf(() => new nn.MultiheadAttention(6, 4))).toMatch(/embedDim 6 must be divisible by numHeads 4/);
    const mha = new nn.MultiheadAttention(4, 2);
    expect(errorOf(() => mha.forward(randn([2, 4])))).toMatch(/query must be \(B, L, 4\), got \[2,4\]/);
    expect(errorOf(() => mha.forward(randn([1, 2, 4]), randn([1, 3, 5])))).toMatch(/key and value must be \(B, S, 4\), got \[1,3,5\]/);
    const x = randn([2, 3, 4]);
    expect(errorOf(() => mha.forward(x, x, x, { keyPaddingMask: tensor([[false, true]]) }))).toMatch(/keyPaddingMask must be a bool tensor of shape \[2,3\] \(B, S\), got bool \[1,2\]/);
    expect(errorOf(() => mha.forward(x, x, x, { keyPaddingMask: zeros([2, 3]) }))).toMatch(/got float32 \[2,3\]/);
    expect(errorOf(() => mha.forward(x, x, x, { attnMask: zeros([3, 3, 3]) }))).toMatch(/3-D attnMask must be \(B·numHeads, L, S\) = \[4,3,3\], got \[3,3,3\]/);
    expect(errorOf(() => mha.forward(x, x, x, { attnMask: zeros([3]) }))).toMatch(/attnMask must be 2-D \(L, S\) or 3-D/);
    expect(errorOf(() => mha.forward(x, x, x, { attnMask: zeros([2, 3]) }))).toMatch(/does not broadcast|broadcast/);
  });
});

describe('scaledDotProductAttention errors', () => {
  it('names the shapes of masks that do not broadcast and of mismatched q, k, v', () => {
    const q = randn([2, 3, 4]), k = randn([2, 5, 4]), v = randn([2, 5, 6]);
    expect(F.scaledDotProductAttention(q, k, v).shape).toEqual([2, 3, 6]);
    expect(errorOf(() => F.scaledDotProductAttention(q, k, v, { attnMask: zeros([3, 4]) })))
      .toMatch(/attnMask of shape \[3,4\] does not broadcast to the scores' shape \[2,3,5\]/);
    expect(errorOf(() => F.scaledDotProductAttention(q, randn([2, 5, 3]), v))).toMatch(/q and k must share the last dim, got \[2,3,4\] and \[2,5,3\]/);
    expect(errorOf(() => F.scaledDotProductAttention(q, k, randn([2, 4, 6])))).toMatch(/k and v must have the same sequence length/);
    expect(errorOf(() => F.scaledDotProductAttention(randn([4]), k, v))).toMatch(/need at least 2 dims/);
    expect(errorOf(() => F.scaledDotProductAttention(q, k, v, { attnMask: fromTypedArray(new Int32Array(15), [3, 5]) }))).toMatch(/must be bool \(keep-mask\) or floating \(additive\), got int32/);
  });
});

// ---- TransformerEncoderLayer ----------------------------------------------------------------------------

describe('TransformerEncoderLayer', () => {
  const make = (normFirst: boolean) => {
    manualSeed(3);
    return new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst, dtype: 'float64' });
  };

  it('post-LN (default) and pre-LN: shape (B, T, d), torch names, and every parameter and the input get a gradient', () => {
    for (const normFirst of [false, true]) {
      const layer = make(normFirst);
      expect([...layer.namedParameters()].map(([k]) => k)).toEqual([
        'self_attn.in_proj_weight', 'self_attn.in_proj_bias', 'self_attn.out_proj.weight', 'self_attn.out_proj.bias',
        'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
      ]);
      const x = randn([2, 5, 8], { dtype: 'float64', requiresGrad: true });
      const y = layer.forward(x);
      expect(y.shape).toEqual([2, 5, 8]);
      y.pow(2).sum().backward();
      for (const [k, p] of layer.namedParameters()) {
        expect(p.grad, `${normFirst ? 'pre' : 'post'}-LN ${k}`).not.toBeNull();
        expect(p.grad!.abs().sum().item(), `${normFirst ? 'pre' : 'post'}-LN ${k}`).toBeGreaterThan(0);
      }
      expect(x.grad!.abs().sum().item()).toBeGreaterThan(0);
    }
  });

  it('post-LN ends in a LayerNorm (rows normalised); pre-LN keeps the residual stream (not normalised)', () => {
    const x = randn([2, 5, 8], { dtype: 'float64' }).mul(3).add(1);
    const post = make(false).forward(x);
    expectClose(post.mean(-1), new Float64Array(10), { atol: 1e-12, what: 'post-LN row means' });
    expectClose(post.var(-1, { correction: 0 }), new Float64Array(10).fill(1), { rtol: 1e-4, what: 'post-LN row variances' });
    const pre = make(true).forward(x);
    expect(pre.mean(-1).abs().max().item()).toBeGreaterThan(0.1);
    // pre-LN by hand: x + SA(LN₁(x)), then + FF(LN₂(·))
    const layer = make(true);
    const a = x.add(layer.self_attn.forward(layer.norm1.forward(x)).output);
    const want = a.add(layer.linear2.forward(layer.linear1.forward(layer.norm2.forward(a)).relu()));
    expectClose(pre, want, { rtol: 1e-12, atol: 1e-12, what: 'pre-LN composition' });
  });

  it('a key padding mask keeps padded positions from influencing the others', () => {
    const layer = make(false);
    const x = randn([1, 4, 8], { dtype: 'float64' });
    const x2 = x.clone();
    noGrad(() => x2.select(1, 3).copy_(randn([8], { dtype: 'float64' }))); // change the padded token
    const kpm = tensor([[false, false, false, true]]);
    const y1 = layer.forward(x, { keyPaddingMask: kpm }), y2 = layer.forward(x2, { keyPaddingMask: kpm });
    expectClose(y1.slice(1, 0, 3), y2.slice(1, 0, 3), { rtol: 1e-12, atol: 1e-12, what: 'unpadded positions' });
  });
});

describe('TransformerEncoder', () => {
  it('stacks layers named layers.0, layers.1, … and applies the final norm', () => {
    manualSeed(4);
    const enc = new nn.TransformerEncoder((i) => new nn.TransformerEncoderLayer(8, 2, { dimFeedforward: 16, dropout: 0, normFirst: true, activation: i === 0 ? 'gelu' : 'relu', dtype: 'float64' }), 2, new nn.LayerNorm(8, { dtype: 'float64' }));
    expect([...enc.namedParameters()].map(([k]) => k).filter((k) => k.endsWith('norm1.weight') || k.startsWith('norm'))).toEqual(['layers.0.norm1.weight', 'layers.1.norm1.weight', 'norm.weight', 'norm.bias']);
    const x = randn([2, 3, 8], { dtype: 'float64' });
    const kpm = tensor([[false, false, true], [false, false, false]]);
    const want = enc.norm!.forward(enc.layers.at(1).forward(enc.layers.at(0).forward(x, { keyPaddingMask: kpm }), { keyPaddingMask: kpm }));
    expectClose(enc.forward(x, { keyPaddingMask: kpm }), want, { rtol: 1e-14, atol: 1e-14, what: 'encoder stack' });
    expect(errorOf(() => new nn.TransformerEncoder(() => new nn.TransformerEncoderLayer(8, 2), 0))).toMatch(/numLayers must be a positive integer, got 0/);
  });

  it('Tanh, ReLU and GELU modules apply their functions', () => {
    const x = f64([-1, 0.5, 2]);
    expectClose(new nn.Tanh().forward(x), x.tanh(), { what: 'tanh' });
    expectClose(new nn.ReLU().forward(x), [0, 0.5, 2], { what: 'relu' });
    expectClose(new nn.GELU('tanh').forward(x), F.gelu(x, { approximate: 'tanh' }), { what: 'gelu tanh' });
    expect(new nn.Embedding(5, 3, { paddingIdx: 1 }).toString()).toBe('Embedding(5, 3, paddingIdx=1)');
  });
});

// ---- BertConfig head divisibility -------------------------------------------------------------------------

describe('hidden size not divisible by heads', () => {
  it('BertConfig names both numbers', () => {
    expect(errorOf(() => new nn.BertConfig({ hiddenSize: 10, numAttentionHeads: 4 }))).toMatch(/hiddenSize \(hidden_size\) = 10 is not a multiple of numAttentionHeads \(num_attention_heads\) = 4/);
  });
});

describe("F.gelu(x, { approximate }) (issue #11 item 10)", () => {
  const x = tensor([-3, -1, -0.5, 0, 0.5, 1, 3], { dtype: 'float64' });
  // torch.nn.functional.gelu(x, approximate='tanh') and the exact form, float64
  const tanhRef = (v: number) => 0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v ** 3)));

  it('takes the option object of every other functional op; default exact', () => {
    expectClose(F.gelu(x, { approximate: 'tanh' }), [-3, -1, -0.5, 0, 0.5, 1, 3].map(tanhRef), { rtol: 1e-14, atol: 1e-15 });
    expectClose(F.gelu(x, {}), F.gelu(x), { rtol: 0, atol: 0 });
    expectClose(F.gelu(x, { approximate: 'none' }), F.gelu(x), { rtol: 0, atol: 0 });
    expectClose(x.gelu({ approximate: 'tanh' }), F.gelu(x, { approximate: 'tanh' }), { rtol: 0, atol: 0 });
  });

  it('a bare string still works, with one DeprecationWarning; anything else throws naming the argument', async () => {
    const seen: string[] = [];
    const on = (w: Error & { code?: string }) => {
      if (w.code === 'TENSORGRAD_GELU_STRING') seen.push(w.message);
    };
    process.on('warning', on);
    try {
      expectClose(F.gelu(x, 'tanh'), F.gelu(x, { approximate: 'tanh' }), { rtol: 0, atol: 0 });
      F.gelu(x, 'none');
      await new Promise((r) => setTimeout(r, 5));
    } finally {
      process.off('warning', on);
    }
    // at most once per process (another test file may have triggered it first in this worker)
    expect(seen.length).toBeLessThanOrEqual(1);
    if (seen.length) expect(seen[0]).toMatch(/gelu\(x, 'tanh'\) is deprecated; write gelu\(x, \{ approximate: 'tanh' \}\)/);
    expect(errorOf(() => F.gelu(x, { approximate: 'fast' as 'tanh' }))).toBe("gelu: approximate must be 'none' or 'tanh', got 'fast'");
    expect(errorOf(() => F.gelu(x, { approx: 'tanh' } as never))).toMatch(/gelu: unknown option 'approx'/);
    expect(errorOf(() => F.gelu(x, 1 as never))).toMatch(/gelu: the second argument must be \{ approximate: 'none' \| 'tanh' \}, got number 1/);
    expect(errorOf(() => F.gelu(x, null as never))).toMatch(/got null/);
  });
});
