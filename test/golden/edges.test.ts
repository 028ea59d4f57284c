/**
 * Edge points against PyTorch (issue #11): values and gradients AT kinks, ties, NaN/±∞, empty
 * dims, all-ignored targets and fully masked attention rows
 * (test/fixtures/golden/edges.json, made by gen_edges.py; fully masked SDPA rows follow
 * PyTorch ≥ 2.5, see the generator).
 *
 * Every case: y = f(inputs) is compared with `outputs.y`, and the gradients of sum(y) with
 * `grads` — exactly where the reference is exact (0, ±∞, NaN, 0.5, …), else to 1e-12.
 * Everything runs in float64.
 */
import { describe, expect, it } from 'vitest';

import { F, nn, noGrad, tensor, where, type Tensor } from '../../src/index.js';
import { expectClose, fixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  name: string;
  ref: string;
  params: Record<string, number>;
  inputs: Record<string, FixtureTensor>;
  outputs: { y: FixtureTensor };
  grads: Record<string, FixtureTensor>;
}

type Fn = (x: Record<string, Tensor>, p: Record<string, number>) => Tensor;

const FNS: Record<string, Fn> = {
  ce_all_ignored_label_smoothing: (x) => F.crossEntropy(x.input!, x.target!, { labelSmoothing: 0.1 }),
  ce_all_ignored_weight: (x) => F.crossEntropy(x.input!, x.target!, { weight: x.weight }),
  ce_all_ignored_weight_label_smoothing: (x) => F.crossEntropy(x.input!, x.target!, { weight: x.weight, labelSmoothing: 0.2 }),
  ce_all_ignored_NCd: (x) => F.crossEntropy(x.input!, x.target!),
  ce_all_ignored_fused_path: (x) => F.crossEntropy(x.input!, x.target!),
  nll_all_ignored: (x) => F.nllLoss(x.input!, x.target!),
  ce_some_ignored_label_smoothing: (x) => F.crossEntropy(x.input!, x.target!, { labelSmoothing: 0.1 }),
  bce_logits_at_zero_sum: (x) => F.binaryCrossEntropyWithLogits(x.input!, x.target!, { reduction: 'sum' }),
  bce_logits_at_zero_pos_weight_weight_none: (x) =>
    F.binaryCrossEntropyWithLogits(x.input!, x.target!, { weight: x.weight, posWeight: x.pos_weight, reduction: 'none' }),
  bce_logits_at_zero_pos_weight_mean: (x) => F.binaryCrossEntropyWithLogits(x.input!, x.target!, { posWeight: x.pos_weight }),
  std_constant_row: (x) => x.x!.std(1),
  std_size1_dim_correction0: (x) => x.x!.std(1, { correction: 0 }),
  std_size1_dim_correction1: (x) => x.x!.std(1),
  std_all_constant: (x) => x.x!.std(),
  max_all_nan: (x) => x.x!.max(),
  min_all_two_nans: (x) => x.x!.min(),
  max_all_tie: (x) => x.x!.max(),
  logsumexp_empty_dim: (x) => x.x!.logsumexp(1),
  softmax_empty_dim: (x) => x.x!.softmax(1),
  log_softmax_empty_dim: (x) => x.x!.logSoftmax(0),
  sum_empty_dims: (x) => x.x!.sum([]),
  mean_empty_dims: (x) => x.x!.mean([]),
  amax_empty_dims: (x) => x.x!.amax([]),
  relu_nan: (x) => x.x!.relu(),
  clamp_min_gt_max: (x, p) => x.x!.clamp(p.min, p.max),
  clamp_edges: (x, p) => x.x!.clamp(p.min, p.max),
  pow_tensor_edges: (x) => x.a!.pow(x.b!),
  'pow_scalar_at_zero_p0.0': (x) => x.x!.pow(0),
  'pow_scalar_at_zero_p0.5': (x) => x.x!.pow(0.5),
  'pow_scalar_at_zero_p2.0': (x) => x.x!.pow(2),
  'pow_scalar_at_zero_p-1.0': (x) => x.x!.pow(-1),
  sdpa_fully_masked_rows: (x) => F.scaledDotProductAttention(x.q!, x.k!, x.v!, { attnMask: x.mask }),
  sdpa_all_padding_batch: (x) => F.scaledDotProductAttention(x.q!, x.k!, x.v!, { attnMask: x.mask }),
};

const { cases } = loadFixture<{ cases: Case[] }>('golden/edges.json');

function run(c: Case, fn: Fn): { x: Record<string, Tensor>; y: Tensor } {
  const x: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.inputs)) x[k] = fixtureTensor(v, { name: k, requiresGrad: k in c.grads });
  const y = fn(x, c.params);
  return { x, y };
}

describe('edge points vs PyTorch (edges.json)', () => {
  it('has a function for every case and a case for every function', () => {
    expect(cases.map((c) => c.name).sort()).toEqual(Object.keys(FNS).sort());
  });
  for (const c of cases) {
    it(`${c.name} (${c.ref})`, () => {
      const { x, y } = run(c, FNS[c.name]!);
      expectClose(y, fixtureTensor(c.outputs.y), { rtol: 1e-12, atol: 1e-14, what: `${c.name} y` });
      if (Object.keys(c.grads).length === 0) return;
      y.sum().backward();
      for (const [k, want] of Object.entries(c.grads)) {
        expect(x[k]!.grad, `${c.name}: no gradient for ${k}`).not.toBeNull();
        expectClose(x[k]!.grad!, fixtureTensor(want), { rtol: 1e-12, atol: 1e-14, what: `${c.name} grad ${k}` });
      }
    });
  }
});

describe('edge points: the same rules in float32 and on the composite paths', () => {
  it('crossEntropy with every target ignored: NaN loss, all-zero gradient, in float32 too (item 1)', () => {
    for (const dtype of ['float32', 'float64'] as const) {
      for (const opts of [{ labelSmoothing: 0.1 }, { weight: tensor([1, 2, 3], { dtype }) }, {}]) {
        const x = tensor([[0.3, -1, 2], [1, 1, 1]], { dtype, requiresGrad: true });
        const loss = F.crossEntropy(x, tensor([-100, -100], { dtype: 'int32' }), opts);
        expect(Number.isNaN(loss.item())).toBe(true);
        loss.backward();
        expect(Array.from(x.grad!.toTypedArray())).toEqual([0, 0, 0, 0, 0, 0]);
      }
    }
  });

  it('binaryCrossEntropyWithLogits at x = 0 gives σ(0) − y = ½ − y exactly (item 3)', () => {
    const x = tensor([0, 0, 0], { requiresGrad: true });
    F.binaryCrossEntropyWithLogits(x, tensor([0, 0.5, 1]), { reduction: 'sum' }).backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([0.5, 0, -0.5]);
  });

  it('MultiheadAttention with an all-padding key mask: zero rows in output and weights, finite gradients (item 4)', () => {
    const mha = new nn.MultiheadAttention(4, 2);
    const q = tensor([[[0.1, 0.2, -0.3, 0.4], [1, -1, 0.5, 0]], [[0.3, 0.3, 0.1, -0.2], [0, 1, 0, 1]]], { requiresGrad: true });
    const pad = tensor([[false, false], [true, true]]); // batch 1: every key is padding
    const { output, weights } = mha.forward(q, q, q, { keyPaddingMask: pad });
    const w = weights!.toArray() as number[][][];
    expect(w[1]).toEqual([[0, 0], [0, 0]]);
    // the attention rows are 0, so the output rows are out_proj's bias alone
    const bias = Array.from(mha.out_proj.bias!.toTypedArray());
    const out = output.toArray() as number[][][];
    for (const row of out[1]!) row.forEach((v, i) => expect(v).toBeCloseTo(bias[i]!, 6));
    output.sum().backward();
    for (const p of [q, ...mha.parameters()]) {
      expect(Array.from(p.grad!.toTypedArray()).every(Number.isFinite), 'finite gradients').toBe(true);
    }
  });

  it('causal attention with left padding: the fully masked first rows are 0 with zero gradients (item 4)', () => {
    const q = tensor([[[1, 0], [0.5, 0.5], [0, 1]]], { requiresGrad: true }); // (1, 3, 2)
    const keep = tensor([[[false, true, true]]]); // (1, 1, 3): key 0 is left padding
    const y = F.scaledDotProductAttention(q, q, q, { attnMask: keep, isCausal: true });
    const rows = y.toArray() as number[][][];
    expect(rows[0]![0]).toEqual([0, 0]); // query 0 may only see key 0, which is padding
    y.sum().backward();
    expect(Array.from(q.grad!.toTypedArray()).every(Number.isFinite)).toBe(true);
  });

  it('an additive mask of −∞ everywhere in a row gives a zero row on the fused path; finfo.min stays uniform (item 4)', () => {
    const q = tensor([[[1, 0], [0, 1]]], { requiresGrad: true }); // (1, 2, 2)
    const v = tensor([[[1, 2], [3, 4]]]);
    const inf = tensor([[[-Infinity, -Infinity], [0, 0]]]);
    const y = F.scaledDotProductAttention(q, q, v, { attnMask: inf });
    expect((y.toArray() as number[][][])[0]![0]).toEqual([0, 0]);
    y.sum().backward();
    expect(Array.from(q.grad!.toTypedArray()).every(Number.isFinite)).toBe(true);
    // HF BERT's mask: a large finite negative number. The row is the uniform softmax, as HF computes it.
    const min = -3.4028234663852886e38;
    const yHF = noGrad(() => F.scaledDotProductAttention(q, q, v, { attnMask: tensor([[[min, min], [0, 0]]]) }));
    expect((yHF.toArray() as number[][][])[0]![0]).toEqual([2, 3]);
  });

  it('an additive mask reused across calls is rescanned after an in-place write (the no-dead-rows cache follows _version)', () => {
    const q = tensor([[[1, 0], [0, 1]]]);
    const v = tensor([[[1, 2], [3, 4]]]);
    const m = tensor([[[0, 0], [0, 0]]]);
    expect((F.scaledDotProductAttention(q, q, v, { attnMask: m }).toArray() as number[][][])[0]![0]![0]).toBeGreaterThan(1);
    m.select(1, 0).fill_(-Infinity); // row 0 now masks every key
    expect((F.scaledDotProductAttention(q, q, v, { attnMask: m }).toArray() as number[][][])[0]![0]).toEqual([0, 0]);
  });

  it('max()/min() over all elements put the gradient on the NaN (item 6)', () => {
    const x = tensor([1, NaN, 3], { requiresGrad: true });
    const y = x.max();
    expect(Number.isNaN(y.item())).toBe(true);
    y.backward();
    expect(Array.from(x.grad!.toTypedArray())).toEqual([0, 1, 0]);
  });
});

// ---- type promotion (item 8): result dtypes and values against PyTorch's -----------------------

interface DtypeCase { name: string; dtype?: string; value?: FixtureTensor; error?: string }

const b = () => tensor([true, false, true]);
const c2 = () => tensor([true, true, false]);
const i32 = (...v: number[]) => tensor(v, { dtype: 'int32' });
const f32 = (...v: number[]) => tensor(v, { dtype: 'float32' });
const f64 = (...v: number[]) => tensor(v, { dtype: 'float64' });
const scalar = (v: number, dtype: 'float32' | 'float64' | 'int32') => tensor(v, { dtype });

const DTYPE_FNS: Record<string, () => Tensor> = {
  bool_add_bool: () => b().add(c2()),
  bool_mul_bool: () => b().mul(c2()),
  bool_add_true: () => b().add(true),
  bool_sub_bool: () => b().sub(c2()),
  bool_add_int_scalar: () => b().add(2),
  f32_add_0d_f64: () => f32(1.5, 2).add(scalar(0.1, 'float64')),
  i32_add_0d_f64: () => i32(1, 2).add(scalar(0.5, 'float64')),
  bool_add_0d_i32: () => b().add(scalar(3, 'int32')),
  '0d_f32_add_0d_f64': () => scalar(1, 'float32').add(scalar(2, 'float64')),
  where_f32_0d_f64: () => where(b(), f32(1, 2, 3), scalar(9, 'float64')),
  i32_mul_wraps: () => i32(2 ** 30, 123456789, -(2 ** 31), 46341).mul(i32(3, 987654321, -1, 46341)),
  i32_add_wraps: () => i32(2 ** 31 - 1, -(2 ** 31)).add(i32(1, -1)),
  logical_not_nan: () => f64(NaN, 0, -0, 2).logicalNot(),
  logical_and_nan: () => f64(NaN, NaN, 0).logicalAnd(f64(1, 0, NaN)),
  logical_or_nan: () => f64(NaN, 0, 0).logicalOr(f64(0, 0, NaN)),
  logical_xor_nan: () => f64(NaN, NaN, 0).logicalXor(f64(1, 0, 0)),
  pow_i32_negative: () => i32(2, 3).pow(-1),
  pow_i32_2: () => i32(2, -3).pow(2),
  neg_bool: () => b().neg(),
  sum_i32_wraps: () => i32(2 ** 31 - 1, 1).sum(),
};

/** PyTorch's int64 is int32 here (no int64 dtype: docs/ARCHITECTURE.md, departures). */
const OUR_DTYPE: Record<string, string> = { int64: 'int32' };

describe('type promotion vs PyTorch (edges.json dtype_cases)', () => {
  const { dtype_cases: dcases } = loadFixture<{ dtype_cases: DtypeCase[] }>('golden/edges.json');
  it('has a function for every case', () => {
    expect(dcases.map((c) => c.name).sort()).toEqual(Object.keys(DTYPE_FNS).sort());
  });
  for (const c of dcases) {
    it(c.error ? `${c.name} throws (${c.error.slice(0, 40)}…)` : `${c.name} → ${c.dtype}`, () => {
      const fn = DTYPE_FNS[c.name]!;
      if (c.error) {
        expect(fn).toThrow(/not (supported|allowed)/);
        return;
      }
      const y = fn();
      expect(y.dtype).toBe(OUR_DTYPE[c.dtype!] ?? c.dtype);
      expectClose(y.to('float64'), fixtureTensor(c.value!), { rtol: 0, atol: 0, what: c.name });
    });
  }
  it('sum/mean/amax/amin/var/std(x, []) reduce every dim, as torch', () => {
    const x = tensor([[1, -2, 3.5], [0.25, 4, -1]], { dtype: 'float64' });
    for (const m of ['sum', 'mean', 'amax', 'amin'] as const) expect(x[m]([]).item()).toBe(x[m]().item());
    expect(x.var([]).item()).toBe(x.var().item());
    expect(x.std([]).item()).toBe(x.std().item());
  });
});
