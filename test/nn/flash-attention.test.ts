/**
 * The fused attention op (autograd/ops/attention.ts, kernel backends/cpu/attention.ts) against
 * the composite SDPA (F.attentionWithWeights: matmul, softmax, matmul): values and gradients of
 * q, k, v, for every mask the models use — none, HF BERT's additive (B, 1, 1, S), a boolean
 * keep-mask, causal, causal with an offset (GPT with a key/value cache) — on shapes that cross
 * the kernel's query and key blocks (ATTN_BR, ATTN_BC), with fully masked rows (zero output and
 * zero gradients, test/golden/edges.test.ts's semantics), on non-contiguous inputs, in float64
 * and float32; then BERT and GPT with the fused path forced on vs off.
 * The gradient property vs float64 central differences is in test/autograd/ops.property.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';

import { F, flashAttention, fromTypedArray, manualSeed, nn, noGrad, randn, tensor, type Tensor } from '../../src/index.js';
import { ATTN_BC, ATTN_BR } from '../../src/backends/cpu/attention.js';
import { FUSED_ATTENTION_MIN_SCORES, useFusedAttention } from '../../src/nn/functional.js';

type Mask = 'none' | 'additive' | 'bool' | 'causal' | 'causalOffset';

function maxDiff(a: Tensor, b: Tensor): number {
  const x = a.toTypedArray(), y = b.toTypedArray();
  expect(x.length).toBe(y.length);
  let m = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i]!) || Number.isNaN(y[i]!)) return Infinity;
    m = Math.max(m, Math.abs(x[i]! - y[i]!));
  }
  return m;
}

/** The composite with the same masking: causal (with offset) as a keep-mask (L, S). */
function composite(q: Tensor, k: Tensor, v: Tensor, attnMask: Tensor | null, causal: boolean, offset: number): Tensor {
  const L = q.shape[q.ndim - 2]!, S = k.shape[k.ndim - 2]!;
  if (!causal) return F.attentionWithWeights(q, k, v, { attnMask }).output;
  const keep = new Uint8Array(L * S);
  for (let i = 0; i < L; i++) for (let j = 0; j < S; j++) keep[i * S + j] = j <= i + offset ? 1 : 0;
  let m = fromTypedArray(keep, [L, S], { dtype: 'bool' });
  if (attnMask) m = m.logicalAnd(attnMask);
  return F.attentionWithWeights(q, k, v, { attnMask: m }).output;
}

/** Runs both with upstream gradient g; returns the largest differences of y, dq, dk, dv. */
function compare(dtype: 'float32' | 'float64', B: number, H: number, L: number, S: number, E: number, Ev: number, mask: Mask, deadRows = false) {
  manualSeed(L * 1000 + S);
  const mk = (shape: number[]) => randn(shape, { dtype, requiresGrad: true });
  const q = mk([B, H, L, E]), k = mk([B, H, S, E]), v = mk([B, H, S, Ev]);
  let attnMask: Tensor | null = null;
  if (mask === 'additive') {
    const m = randn([B, 1, 1, S], { dtype });
    attnMask = deadRows ? m.add(fromTypedArray(Float64Array.from({ length: B * S }, (_, i) => (i < S ? -Infinity : 0)), [B, 1, 1, S]).to(dtype)) : m;
  } else if (mask === 'bool') {
    const keep = Uint8Array.from({ length: L * S }, (_, i) => (deadRows && Math.floor(i / S) % 3 === 0 ? 0 : (i * 7919) % 5 !== 0 ? 1 : 0));
    attnMask = fromTypedArray(keep, [L, S], { dtype: 'bool' });
  }
  const causal = mask === 'causal' || mask === 'causalOffset';
  const offset = mask === 'causalOffset' ? S - L : deadRows ? -2 : 0;
  const g = randn([B, H, L, Ev], { dtype });
  const run = (f: () => Tensor) => {
    for (const t of [q, k, v]) t.grad = null;
    const y = f();
    y.mul(g).sum().backward();
    return [y.detach(), q.grad!, k.grad!, v.grad!];
  };
  const fused = run(() => flashAttention(q, k, v, { attnMask, isCausal: causal, causalOffset: offset }));
  const ref = run(() => composite(q, k, v, attnMask, causal, offset));
  return { diffs: fused.map((t, i) => maxDiff(t, ref[i]!)), fused, ref };
}

describe('flashAttention vs the composite SDPA (values and gradients)', () => {
  // L and S cross the query block (64) and the key block (128): several blocks, partial last ones
  const L = ATTN_BR + 7, S = 2 * ATTN_BC + 11;
  for (const mask of ['none', 'additive', 'bool', 'causal', 'causalOffset'] as const) {
    it(`float64, ${mask}, L = ${L}, S = ${S} (several query and key blocks)`, () => {
      const { diffs } = compare('float64', 1, 2, L, mask === 'causal' ? L : S, 8, 5, mask);
      for (const d of diffs) expect(d).toBeLessThan(1e-12);
    });
  }

  for (const mask of ['additive', 'bool', 'causal'] as const) {
    it(`fully masked rows (${mask}): zero output rows and zero gradients, as the composite`, () => {
      const { diffs, fused } = compare('float64', 2, 1, 9, 6, 4, 3, mask, true);
      for (const d of diffs) expect(d).toBeLessThan(1e-12);
      // the dead rows are exactly 0 in the output and every gradient is finite
      const y = fused[0]!.toArray() as number[][][][];
      if (mask === 'additive') expect(y[0]!.flat(2).every((x) => x === 0)).toBe(true); // batch 0: every key −∞
      if (mask === 'bool') expect(y[0]![0]![0]!.every((x) => x === 0)).toBe(true); // row 0 keeps nothing
      if (mask === 'causal') expect(y[1]![0]![1]!.every((x) => x === 0)).toBe(true); // offset −2: rows 0, 1 see no key
      for (const t of fused.slice(1)) expect(Array.from(t.toTypedArray()).every(Number.isFinite)).toBe(true);
    });
  }

  it('float32: within float32 rounding of the float64 result (several blocks, additive mask)', () => {
    manualSeed(3);
    const q = randn([2, 2, 80, 16]), k = randn([2, 2, 200, 16]), v = randn([2, 2, 200, 16]), m = randn([2, 1, 1, 200]);
    const y32 = flashAttention(q, k, v, { attnMask: m });
    const y64 = flashAttention(q.double(), k.double(), v.double(), { attnMask: m.double() });
    expect(maxDiff(y32, y64)).toBeLessThan(2e-6);
    expect(maxDiff(y32, F.attentionWithWeights(q, k, v, { attnMask: m }).output)).toBeLessThan(2e-6);
  });

  it('a non-contiguous upstream gradient (GPT\'s heads merged by transpose + reshape) gives the composite\'s gradients', () => {
    manualSeed(8);
    const [B, T, nh, hs] = [2, 5, 2, 4], C = nh * hs;
    const x = randn([B, T, 3 * C], { dtype: 'float64', requiresGrad: true }), w = randn([B, T, C], { dtype: 'float64' });
    const run = (fused: boolean) => {
      x.grad = null;
      const [q, k, v] = x.split(C, 2).map((t) => t.reshape([B, T, nh, hs]).transpose(1, 2)) as [Tensor, Tensor, Tensor]; // (B, nh, T, hs) views
      const y = fused ? flashAttention(q, k, v, { isCausal: true }) : composite(q, k, v, null, true, 0);
      y.transpose(1, 2).reshape([B, T, C]).mul(w).sum().backward();
      return x.grad!;
    };
    expect(maxDiff(run(true), run(false))).toBeLessThan(1e-12);
  });

  it('non-contiguous q, k, v (BERT\'s (B, T, nh, hs) → (B, nh, T, hs) permute) give the contiguous result', () => {
    manualSeed(4);
    const x = randn([2, 70, 3, 8], { dtype: 'float64' }); // (B, T, nh, hs)
    const q = x.permute(0, 2, 1, 3), k = x.mul(0.5).permute(0, 2, 1, 3), v = x.flip([3]).permute(0, 2, 1, 3);
    const m = randn([2, 1, 1, 70], { dtype: 'float64' });
    const a = flashAttention(q, k, v, { attnMask: m }), b = flashAttention(q.contiguous(), k.contiguous(), v.contiguous(), { attnMask: m });
    expect(maxDiff(a, b)).toBe(0);
  });

  it('a large finite negative mask (HF\'s finfo.min) is not "masked": the uniform softmax, as the composite', () => {
    const q = tensor([[[1, 0], [0, 1]]], { dtype: 'float64' }), v = tensor([[[1, 2], [3, 4]]], { dtype: 'float64' });
    const m = tensor([[[-3.4e38, -3.4e38], [0, 0]]], { dtype: 'float64' });
    expect(maxDiff(flashAttention(q, q, v, { attnMask: m }), F.attentionWithWeights(q, q, v, { attnMask: m }).output)).toBe(0);
  });

  it('names what it cannot take', () => {
    const q = randn([1, 2, 3, 4]);
    expect(() => flashAttention(q, randn([1, 1, 3, 4]), randn([1, 1, 3, 4]))).toThrow(/flashAttention: q, k, v need the same leading dims/);
    expect(() => flashAttention(q, randn([1, 2, 3, 5]), randn([1, 2, 3, 4]))).toThrow(/share the last dim/);
    expect(() => flashAttention(q, q, randn([1, 2, 4, 4]))).toThrow(/same sequence length/);
    expect(() => flashAttention(q, q, q, { attnMask: randn([2, 2]) })).toThrow(/does not broadcast to the scores' shape/);
    expect(() => flashAttention(q, q, q, { attnMask: randn([3, 3], { requiresGrad: true }) })).toThrow(/mask requires grad/);
    expect(() => flashAttention(q, q, q, { causalOffset: 0.5 })).toThrow(/causalOffset must be an integer/);
    expect(() => flashAttention(q.double(), q, q)).toThrow(/one float dtype/);
  });
});

describe('models take the fused path where useFusedAttention says so', () => {
  const saved = process.env['TENSORGRAD_FUSED_ATTENTION'];
  afterEach(() => {
    if (saved === undefined) delete process.env['TENSORGRAD_FUSED_ATTENTION'];
    else process.env['TENSORGRAD_FUSED_ATTENTION'] = saved;
  });

  it('the rule: scores ≥ FUSED_ATTENTION_MIN_SCORES elements, or TENSORGRAD_FUSED_ATTENTION=1; =0 turns it off', () => {
    delete process.env['TENSORGRAD_FUSED_ATTENTION'];
    const small = randn([1, 1, 4, 2]);
    expect(useFusedAttention(small, small, small, null)).toBe(false);
    const L = 2048, S = FUSED_ATTENTION_MIN_SCORES / L; // exactly at the threshold
    const q = randn([1, 1, L, 1]), k = randn([1, 1, S, 1]);
    expect(useFusedAttention(q, k, k, null)).toBe(true);
    process.env['TENSORGRAD_FUSED_ATTENTION'] = '1';
    expect(useFusedAttention(small, small, small, null)).toBe(true);
    expect(useFusedAttention(small, small, randn([1, 1, 4, 2], { dtype: 'float64' }), null)).toBe(false); // shapes/dtypes still checked
    process.env['TENSORGRAD_FUSED_ATTENTION'] = '0';
    expect(useFusedAttention(q, k, k, null)).toBe(false);
  });

  const bertLoss = (fused: '0' | '1') => {
    process.env['TENSORGRAD_FUSED_ATTENTION'] = fused;
    manualSeed(5);
    const m = new nn.BertModel(new nn.BertConfig({
      vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16,
      hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
    }), { dtype: 'float64' });
    const inputIds = tensor([[1, 2, 3, 4, 5, 0], [6, 7, 8, 0, 0, 0]], { dtype: 'int32' });
    const attentionMask = tensor([[1, 1, 1, 1, 1, 0], [1, 1, 1, 0, 0, 0]], { dtype: 'int32' });
    const h = m.forward({ inputIds, attentionMask }).lastHiddenState;
    h.mul(h).sum().backward();
    return { h: h.detach(), grads: m.parameters().filter((p) => p.grad).map((p) => p.grad!) };
  };

  it('BERT (padding mask): forward and every parameter gradient match with the fused path on and off', () => {
    const a = bertLoss('1'), b = bertLoss('0');
    expect(maxDiff(a.h, b.h)).toBeLessThan(1e-12);
    a.grads.forEach((g, i) => expect(maxDiff(g, b.grads[i]!)).toBeLessThan(1e-10));
  });

  const gptRun = (fused: '0' | '1') => {
    process.env['TENSORGRAD_FUSED_ATTENTION'] = fused;
    manualSeed(6);
    const m = new nn.GPT(new nn.GPTConfig({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8 }), { dtype: 'float64' });
    const idx = tensor([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], { dtype: 'int32' });
    const { loss } = m.forward(idx, tensor([[2, 3, 4, 5, 6], [7, 8, 9, 10, 1]], { dtype: 'int32' }));
    loss!.backward();
    // cached prefix then a chunk of 2 queries (the (T, P+T) keep-mask path), with grad recording on
    const cache = new nn.KVCache(2);
    m.forward(tensor([[1, 2, 3]], { dtype: 'int32' }), null, { kvCache: cache });
    const chunk = m.forward(tensor([[4, 5]], { dtype: 'int32' }), null, { kvCache: cache }).logits;
    return { loss: loss!.detach(), grads: m.parameters().map((p) => p.grad!), chunk: chunk.detach() };
  };

  it('GPT (causal; cached prefix + a chunk): loss, gradients and chunk logits match with the fused path on and off', () => {
    const a = gptRun('1'), b = gptRun('0');
    expect(maxDiff(a.loss, b.loss)).toBeLessThan(1e-12);
    a.grads.forEach((g, i) => expect(maxDiff(g, b.grads[i]!)).toBeLessThan(1e-10));
    expect(maxDiff(a.chunk, b.chunk)).toBeLessThan(1e-12);
  });

  it('inference under noGrad keeps the other paths (BERT: no change in results)', () => {
    process.env['TENSORGRAD_FUSED_ATTENTION'] = '1';
    const q = randn([1, 2, 5, 4], { dtype: 'float64' });
    const y = noGrad(() => F.scaledDotProductAttention(q, q, q, { isCausal: true }));
    expect(maxDiff(y, composite(q, q, q, null, true, 0))).toBeLessThan(1e-12);
  });
});
