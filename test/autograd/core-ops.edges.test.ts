/**
 * Edge points of the op-table declarations of matmul/addmm, the views (reshape, view, permute,
 * expand, slice, contiguous), dropout and the fused cross-entropy (issue #12 item 2): empty dims,
 * 0-d tensors, IEEE special values, the extremes of p, all-ignored targets and saturated logits —
 * with the values and gradients PyTorch gives (exact by construction; the gradient properties in
 * ops.property.test.ts cover the smooth interior). Gradients are of sum(y) unless said otherwise.
 */
import { describe, expect, it } from 'vitest';

import {
  contiguous, dropout, expand, manualSeed, matmul, OPS, permute, reshape, slice, tensor, zeros, type Tensor, view,
} from '../../src/index.js';
import { addmm, crossEntropyFused } from '../../src/autograd/ops.js';

const f64 = (v: number | number[] | number[][] | number[][][], requiresGrad = true): Tensor => tensor(v as number[], { dtype: 'float64', requiresGrad });
const leaf = (shape: number[]): Tensor => zeros(shape, { dtype: 'float64' }).requiresGrad_();
const int32 = (v: number[]): Tensor => tensor(v, { dtype: 'int32' });
/** y.sum().backward() and each input's gradient as nested arrays. */
function grads(y: Tensor, ...xs: Tensor[]): unknown[] {
  y.sum().backward();
  return xs.map((x) => x.grad!.toArray());
}

describe('the moved ops are op-table declarations', () => {
  it('each has a gradient formula and a real forward in OPS', () => {
    for (const name of ['matmul', 'addmm', 'reshape', 'permute', 'expand', 'slice', 'contiguous', 'dropout', 'crossEntropyFused']) {
      const spec = OPS.get(name);
      expect(spec, name).toBeDefined();
      expect(typeof spec!.forward, name).toBe('function');
      expect(spec!.gradient, name).toMatch(/∂/);
    }
  });
});

describe('matmul / addmm edge points', () => {
  it('inner dim K = 0: zeros of shape (M, N), empty gradients (torch)', () => {
    const a = leaf([2, 0]), b = leaf([0, 3]);
    const y = matmul(a, b);
    expect(y.toArray()).toEqual([[0, 0, 0], [0, 0, 0]]);
    y.sum().backward();
    expect(a.grad!.shape).toEqual([2, 0]);
    expect(b.grad!.shape).toEqual([0, 3]);
  });
  it('M = 0: an empty (0, N) result; ∂b = zeros', () => {
    const a = leaf([0, 3]), b = f64([[1, 2], [3, 4], [5, 6]]);
    const y = matmul(a, b);
    expect(y.shape).toEqual([0, 2]);
    expect(grads(y, b)).toEqual([[[0, 0], [0, 0], [0, 0]]]);
  });
  it('∞·0 gives NaN in the product; gradients G·Bᵀ and Aᵀ·G carry the ∞ as IEEE does', () => {
    const a = f64([[Infinity, 1]]), b = f64([[0], [1]]);
    const y = matmul(a, b);
    expect(y.toArray()).toEqual([[NaN]]);
    expect(grads(y, a, b)).toEqual([[[0, 1]], [[Infinity], [1]]]);
  });
  it('1-D · 1-D is a 0-d dot product; its gradients are the other vector', () => {
    const a = f64([1, 2, 3]), b = f64([4, 5, 6]);
    const y = matmul(a, b);
    expect(y.shape).toEqual([]);
    expect(y.item()).toBe(32);
    expect(grads(y, a, b)).toEqual([[4, 5, 6], [1, 2, 3]]);
  });
  it('a broadcast batch operand gets its gradient summed over the batch', () => {
    const a = f64([[[1, 2]]]); // (1, 1, 2) against b (3, 2, 1)
    const b = f64([[[1], [0]], [[0], [1]], [[1], [1]]]);
    const y = matmul(a, b);
    expect(y.shape).toEqual([3, 1, 1]);
    expect(grads(y, a)).toEqual([[[[2, 2]]]]);
  });
  it('int32 operands: an int32 product, nothing recorded', () => {
    const y = matmul(int32([1, 2, 3, 4]).reshape([2, 2]), int32([1, 0, 0, 1]).reshape([2, 2]));
    expect(y.dtype).toBe('int32');
    expect(y.gradFn).toBeNull();
    expect(y.toArray()).toEqual([[1, 2], [3, 4]]);
  });
  it('addmm with K = 0 is the bias on every row; ∂bias = M per column', () => {
    const bias = f64([1, -2, 3]), a = leaf([4, 0]), b = leaf([0, 3]);
    const y = addmm(bias, a, b);
    expect(y.toArray()).toEqual(Array(4).fill([1, -2, 3]));
    expect(grads(y, bias)).toEqual([[4, 4, 4]]);
    expect(a.grad!.shape).toEqual([4, 0]);
  });
  it('addmm with M = 0: an empty (0, N) result, ∂bias = zeros', () => {
    const bias = f64([1, 2]), a = leaf([0, 3]), b = leaf([3, 2]);
    const y = addmm(bias, a, b);
    expect(y.shape).toEqual([0, 2]);
    expect(grads(y, bias, b)).toEqual([[0, 0], [[0, 0], [0, 0], [0, 0]]]);
  });
});

describe('view edge points', () => {
  it('reshape of an empty tensor, with -1 inferred from the non-zero dims', () => {
    const x = leaf([0, 3]);
    const y = reshape(x, [3, -1]);
    expect(y.shape).toEqual([3, 0]);
    y.sum().backward();
    expect(x.grad!.shape).toEqual([0, 3]);
    expect(() => reshape(x, [0, -1])).toThrow(/invalid for input of size 0/);
  });
  it('reshape of a 0-d tensor to [1, 1] and back; ∂x = 1', () => {
    const x = f64(5);
    const y = reshape(reshape(x, [1, 1]), []);
    expect(y.shape).toEqual([]);
    expect(grads(y, x)).toEqual([1]);
  });
  it('reshape of a transposed tensor copies (no strides express it) and routes ∂x back through the transpose', () => {
    const x = f64([[1, 2, 3], [4, 5, 6]]);
    const y = reshape(permute(x, [1, 0]), [6]); // [1, 4, 2, 5, 3, 6]
    expect(y.toArray()).toEqual([1, 4, 2, 5, 3, 6]);
    y.mul(tensor([1, 2, 3, 4, 5, 6], { dtype: 'float64' })).sum().backward();
    expect(x.grad!.toArray()).toEqual([[1, 3, 5], [2, 4, 6]]);
    expect(() => view(permute(x, [1, 0]), [6])).toThrow(/use reshape\(\)/);
  });
  it('permute of a 0-d tensor by [] is the tensor itself as a view', () => {
    const x = f64(2);
    const y = permute(x, []);
    expect(y.shape).toEqual([]);
    expect(grads(y.mul(3), x)).toEqual([3]);
  });
  it('expand of a 0-d tensor: ∂x is the number of copies; expanding to its own shape records nothing', () => {
    const x = f64(1.5);
    const y = expand(x, [2, 3]);
    expect(y.strides).toEqual([0, 0]);
    expect(grads(y, x)).toEqual([6]);
    const z = f64([1, 2]);
    expect(expand(z, [2])).toBe(z);
    expect(expand(z, [0, 2]).shape).toEqual([0, 2]);
  });
  it('slice: empty ranges, a step past the end, negative starts — ∂x is zero outside the window', () => {
    const x = f64([0, 1, 2, 3, 4]);
    expect(slice(x, 0, 3, 1).shape).toEqual([0]);
    expect(slice(x, 0, 9, 12).shape).toEqual([0]);
    expect(slice(x, 0, 1, null, 10).toArray()).toEqual([1]);
    const y = slice(x, 0, -2);
    expect(y.toArray()).toEqual([3, 4]);
    expect(grads(slice(x, 0, 0, null, 2).mul(2), x)).toEqual([[2, 0, 2, 0, 2]]);
    const e = f64([1, 2]);
    expect(grads(slice(e, 0, 2, 2).sum().add(slice(e, 0, 0, 1)), e)).toEqual([[1, 0]]);
    expect(() => slice(x, 0, 0, 2, 0)).toThrow(/step must be a positive integer/);
  });
  it('contiguous returns a contiguous tensor itself; clone of it copies with ∂x = g', () => {
    const x = f64([[1, 2], [3, 4]]);
    expect(contiguous(x)).toBe(x);
    const c = contiguous(permute(x, [1, 0]));
    expect(c.isContiguous()).toBe(true);
    expect(c.toArray()).toEqual([[1, 3], [2, 4]]);
    const y = x.clone();
    expect(y).not.toBe(x);
    expect(grads(y.mul(c), x)).toEqual([[[2, 6], [4, 8]]]); // Σ xᵢⱼ·xⱼᵢ: ∂xᵢⱼ = 2xⱼᵢ
  });
});

describe('dropout edge points', () => {
  it('p = 1 zeroes everything with a zero gradient (scale 0, never ∞·0 = NaN)', () => {
    const x = f64([1, -2, Infinity]);
    const y = dropout(x, 1);
    expect(y.toArray()).toEqual([0, -0, NaN]); // ∞·0 = NaN, as torch (x * mask)
    expect(grads(y, x)).toEqual([[0, 0, 0]]);
  });
  it('p = 0 and eval mode return the input itself (no node)', () => {
    const x = f64([1, 2]);
    expect(dropout(x, 0)).toBe(x);
    expect(dropout(x, 0.5, false)).toBe(x);
  });
  it('the gradient is the scaled mask: ∂x ∈ {0, 1/(1 − p)} and ∂x·x = y exactly', () => {
    manualSeed(3);
    const x = tensor(Array.from({ length: 64 }, (_, i) => i + 1), { dtype: 'float64', requiresGrad: true });
    const y = dropout(x, 0.25);
    const [gx] = grads(y, x) as [number[]];
    const yv = y.toArray() as number[];
    expect(new Set(gx)).toEqual(new Set([0, 1 / 0.75]));
    gx.forEach((g, i) => expect(g * (i + 1)).toBe(yv[i]));
  });
  it('the same seed draws the same mask (on the fused path and off it)', () => {
    const run = (t: Tensor) => { manualSeed(9); return Array.from(dropout(t, 0.5).toTypedArray()); };
    const x = tensor(Array.from({ length: 40 }, (_, i) => i), { dtype: 'float32' });
    expect(run(x)).toEqual(run(x));
    const strided = slice(tensor(Array.from({ length: 80 }, (_, i) => i), { dtype: 'float32' }), 0, 0, null, 2);
    expect(run(strided)).toEqual(run(strided));
  });
  it('refuses p outside [0, 1] and integer input, naming the argument', () => {
    expect(() => dropout(f64([1]), 1.5)).toThrow(/between 0 and 1, but got 1.5/);
    expect(() => dropout(f64([1]), NaN)).toThrow(/between 0 and 1/);
    expect(() => dropout(int32([1, 2]), 0.5)).toThrow(/floating-point/);
  });
});

describe('fused cross-entropy edge points', () => {
  it("every row ignored: 'mean' is NaN with a zero gradient; 'sum' is 0 with a zero gradient (torch)", () => {
    for (const reduction of ['mean', 'sum'] as const) {
      const x = f64([[1, 2], [3, 4]]);
      const y = crossEntropyFused(x, int32([-100, -100]), -100, reduction)!;
      expect(y.item()).toEqual(reduction === 'mean' ? NaN : 0);
      y.backward();
      expect(x.grad!.toArray()).toEqual([[0, 0], [0, 0]]);
    }
  });
  it('a −∞ logit off the target: loss 0, gradient exactly 0', () => {
    const x = f64([[0, -Infinity]]);
    const y = crossEntropyFused(x, int32([0]), -100, 'mean')!;
    expect(y.item()).toBe(0);
    y.backward();
    expect(x.grad!.toArray()).toEqual([[0, 0]]);
  });
  it('saturated logits ±1000 stay finite: loss 2000, gradient p − onehot = [1, −1]', () => {
    const x = f64([[1000, -1000]]);
    const y = crossEntropyFused(x, int32([1]), -100, 'sum')!;
    expect(y.item()).toBe(2000);
    y.backward();
    expect(x.grad!.toArray()).toEqual([[1, -1]]);
  });
  it('a 1-class problem has loss 0 and gradient 0; the mean divides by the valid rows only', () => {
    const x = f64([[5], [-7], [3]]);
    const y = crossEntropyFused(x, int32([0, -100, 0]), -100, 'mean')!;
    expect(y.item()).toBe(0);
    y.mul(3).backward();
    expect(x.grad!.toArray()).toEqual([[0], [0], [0]]);
  });
});
