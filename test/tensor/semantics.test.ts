/**
 * Forward semantics of tensor ops on hand-computed values: broadcasting, dtype conversion and
 * promotion, comparisons and logic, arg-reductions (with NaN), reductions over several dims.
 * PyTorch's behaviour is the reference wherever the two agree by design.
 */
import { describe, expect, it } from 'vitest';

import {
  add, arange, div, eq, isnan, matmul, maximum, minimum, mul, sub, tensor, where, zeros,
} from '../../src/index.js';
import { expectClose } from '../helpers.js';

const i32 = (d: Parameters<typeof tensor>[0]) => tensor(d, { dtype: 'int32' });

describe('broadcasting', () => {
  it('[3,1] op [1,4] gives [3,4]', () => {
    const a = tensor([[1], [2], [3]]);
    const b = tensor([[10, 20, 30, 40]]);
    expect(add(a, b).toArray()).toEqual([[11, 21, 31, 41], [12, 22, 32, 42], [13, 23, 33, 43]]);
    expect(sub(a, b).shape).toEqual([3, 4]);
    expect((mul(a, b).toArray() as number[][])[2]).toEqual([30, 60, 90, 120]);
  });

  it('trailing alignment: [2,3] op [3], and scalars', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(x.add(tensor([10, 20, 30])).toArray()).toEqual([[11, 22, 33], [14, 25, 36]]);
    expect(x.mul(2).toArray()).toEqual([[2, 4, 6], [8, 10, 12]]);
    expect(sub(1, x).toArray()).toEqual([[0, -1, -2], [-3, -4, -5]]);
    expect(div(x, tensor(2)).toArray()).toEqual([[0.5, 1, 1.5], [2, 2.5, 3]]);
  });

  it('size-0 dims broadcast with size-1 dims', () => {
    expect(add(zeros([0, 3]), zeros([1, 3])).shape).toEqual([0, 3]);
  });

  it('a broadcast, non-contiguous operand (transposed) gives the same values as its copy', () => {
    const a = arange(6).float().reshape([2, 3]).T; // (3, 2), strides (1, 3)
    const b = tensor([[100], [200], [300]]);
    expect(add(a, b).toArray()).toEqual(add(a.contiguous(), b).toArray());
    expect(add(a, b).toArray()).toEqual([[100, 103], [201, 204], [302, 305]]);
  });

  it('where broadcasts its three operands; maximum/minimum propagate NaN', () => {
    const c = tensor([[true], [false]]);
    expect(where(c, tensor([1, 2, 3]), -1).toArray()).toEqual([[1, 2, 3], [-1, -1, -1]]);
    expect(maximum(tensor([1, NaN, 5]), tensor([2, 0, 4])).toArray()).toEqual([2, NaN, 5]);
    expect(minimum(tensor([1, 3]), 2).toArray()).toEqual([1, 2]);
  });
});

describe('dtypes', () => {
  it('int op int stays int32; true division gives float32', () => {
    const a = i32([7, -7, 2]);
    const b = i32([2, 2, 2]);
    expect(add(a, b).dtype).toBe('int32');
    expect(add(a, b).toArray()).toEqual([9, -5, 4]);
    expect(mul(a, b).dtype).toBe('int32');
    expect(sub(a, 1).dtype).toBe('int32');
    const q = div(a, b);
    expect(q.dtype).toBe('float32');
    expect(q.toArray()).toEqual([3.5, -3.5, 1]);
  });

  it('scalars never widen a float tensor; a non-integer scalar makes an int tensor float32', () => {
    expect(tensor([1], { dtype: 'float64' }).add(1.5).dtype).toBe('float64');
    expect(tensor([1]).mul(2).dtype).toBe('float32');
    expect(i32([1]).add(0.5).dtype).toBe('float32');
    expect(i32([1]).add(0.5).toArray()).toEqual([1.5]);
    expect(i32([1]).add(2).dtype).toBe('int32');
  });

  it('tensor–tensor promotion: bool < int32 < float32 < float64', () => {
    expect(add(i32([1]), tensor([1.5])).dtype).toBe('float32');
    expect(add(tensor([1.5]), tensor([1], { dtype: 'float64' })).dtype).toBe('float64');
    expect(add(tensor([true]), i32([2])).toArray()).toEqual([3]);
    expect(matmul(i32([[1, 2]]), i32([[3], [4]])).dtype).toBe('int32');
    expect(matmul(i32([[1, 2]]), i32([[3], [4]])).toArray()).toEqual([[11]]);
  });

  it('sums of bool and int tensors are int32; max of int stays int32', () => {
    expect(tensor([true, true, false]).sum().dtype).toBe('int32');
    expect(tensor([true, true, false]).sum().item()).toBe(2);
    expect(i32([[1, 2], [3, 4]]).sum(0).toArray()).toEqual([4, 6]);
    expect(i32([[1, 2], [3, 4]]).max(1).dtype).toBe('int32');
    expect(i32([[1, 2], [3, 4]]).max(1).toArray()).toEqual([2, 4]);
  });

  it('to(float→int) truncates toward zero', () => {
    const t = tensor([1.7, -1.7, 0.5, -0.5, 2, -2.999], { dtype: 'float64' }).to('int32');
    expect(t.dtype).toBe('int32');
    expect(t.toArray()).toEqual([1, -1, 0, 0, 2, -2]);
    expect(tensor([3.9]).int().toArray()).toEqual([3]);
  });

  it('to(→bool) is x != 0 (NaN is true)', () => {
    expect(tensor([0, -0, 0.1, -3, NaN]).to('bool').toArray()).toEqual([false, false, true, true, true]);
    expect(i32([0, 5]).bool().toArray()).toEqual([false, true]);
  });

  it('bool/int → float, float64 → float32 rounding, float32 → float64 exact', () => {
    expect(tensor([true, false]).float().toArray()).toEqual([1, 0]);
    expect(i32([-3]).double().dtype).toBe('float64');
    expect(tensor([0.1], { dtype: 'float64' }).float().toArray()).toEqual([Math.fround(0.1)]);
    expect(tensor([0.1]).double().toArray()).toEqual([Math.fround(0.1)]);
    expect(tensor([1]).to('float32').dtype).toBe('float32');
    const x = tensor([1]);
    expect(x.to('float32')).toBe(x); // same dtype: no copy
  });

  it("to({ dtype, device }) and to('cpu')", () => {
    const x = tensor([1.5]);
    expect(x.to({ dtype: 'float64', device: 'cpu' }).dtype).toBe('float64');
    expect(x.to('cpu')).toBe(x);
    expect(x.cpu()).toBe(x);
    expect(() => x.to('nope')).toThrow(/unknown device 'nope'/);
  });

  it('neg and abs of int tensors stay int32', () => {
    expect(i32([1, -2]).neg().toArray()).toEqual([-1, 2]);
    expect(i32([1, -2]).abs().dtype).toBe('int32');
  });
});

describe('comparisons and logic', () => {
  const a = tensor([1, 2, 3, NaN]);
  const b = tensor([3, 2, 1, NaN]);
  it('eq ne lt le gt ge give bool tensors (NaN compares false, ne true)', () => {
    expect(a.eq(b).toArray()).toEqual([false, true, false, false]);
    expect(a.ne(b).toArray()).toEqual([true, false, true, true]);
    expect(a.lt(b).toArray()).toEqual([true, false, false, false]);
    expect(a.le(b).toArray()).toEqual([true, true, false, false]);
    expect(a.gt(b).toArray()).toEqual([false, false, true, false]);
    expect(a.ge(b).toArray()).toEqual([false, true, true, false]);
    expect(a.eq(b).dtype).toBe('bool');
  });

  it('comparisons broadcast and accept scalars', () => {
    expect(tensor([[1], [2]]).lt(tensor([1, 2, 3])).toArray()).toEqual([[false, true, true], [false, false, true]]);
    expect(a.ge(2).toArray()).toEqual([false, true, true, false]);
    expect(eq(i32([1, 2]), tensor([1, 2.5])).toArray()).toEqual([true, false]);
  });

  it('logicalAnd / Or / Xor / Not treat nonzero as true', () => {
    const p = tensor([true, true, false, false]);
    const q = tensor([true, false, true, false]);
    expect(p.logicalAnd(q).toArray()).toEqual([true, false, false, false]);
    expect(p.logicalOr(q).toArray()).toEqual([true, true, true, false]);
    expect(p.logicalXor(q).toArray()).toEqual([false, true, true, false]);
    expect(p.logicalNot().toArray()).toEqual([false, false, true, true]);
    expect(tensor([0, 2.5, -1]).logicalNot().toArray()).toEqual([true, false, false]);
    expect(tensor([0, 2.5]).logicalAnd(tensor([3, 4])).toArray()).toEqual([false, true]);
  });

  it('isnan, equal, allclose', () => {
    expect(isnan(a).toArray()).toEqual([false, false, false, true]);
    expect(tensor([1, 2]).equal(tensor([1, 2]))).toBe(true);
    expect(tensor([1, 2]).equal(tensor([1, 3]))).toBe(false);
    expect(tensor([1, 2]).equal(tensor([[1, 2]]))).toBe(false);
    expect(tensor([1, 2]).allclose(tensor([1, 2 + 1e-6]))).toBe(true);
    expect(tensor([1, 2]).allclose(tensor([1, 2.1]))).toBe(false);
    expect(tensor([NaN]).allclose(tensor([NaN]))).toBe(false);
  });
});

describe('argmax / argmin', () => {
  it('over all elements (flat index) and along a dim, first occurrence on ties', () => {
    const x = tensor([[1, 5, 3], [7, 2, 7]]);
    expect(x.argmax().item()).toBe(3);
    expect(x.argmax().shape).toEqual([]);
    expect(x.argmin().item()).toBe(0);
    expect(x.argmax(1).toArray()).toEqual([1, 0]);
    expect(x.argmax(0).toArray()).toEqual([1, 0, 1]);
    expect(x.argmin(-1).toArray()).toEqual([0, 1]);
    expect(x.argmax(1, true).shape).toEqual([2, 1]);
    expect(x.argmax(undefined, true).shape).toEqual([1, 1]);
    expect(x.argmax(1).dtype).toBe('int32');
    expect(tensor([2, 2, 2]).argmin().item()).toBe(0);
  });

  it('NaN wins both argmax and argmin (as in torch)', () => {
    expect(tensor([1, NaN, 3]).argmax().item()).toBe(1);
    expect(tensor([1, NaN, 3]).argmin().item()).toBe(1);
    expect(tensor([NaN, 9, NaN]).argmax().item()).toBe(0);
    expect(tensor([[0, NaN], [5, 1]]).argmax(1).toArray()).toEqual([1, 0]);
  });

  it('on a non-contiguous view', () => {
    const x = tensor([[1, 5, 3], [7, 2, 0]]).T; // [[1,7],[5,2],[3,0]]
    expect(x.argmax(1).toArray()).toEqual([1, 0, 0]);
    expect(x.argmin(0).toArray()).toEqual([0, 2]);
  });

  it('empty tensors are an error', () => {
    expect(() => zeros([0]).argmax()).toThrow(/empty tensor/);
  });
});

describe('reductions', () => {
  // x[i][j][k] = 100i + 10j + k, shape (2, 3, 4)
  const x = tensor(Array.from({ length: 2 }, (_, i) => Array.from({ length: 3 }, (_, j) => Array.from({ length: 4 }, (_, k) => 100 * i + 10 * j + k))), { dtype: 'float64' });

  it('sum over all dims, one dim, several dims, negative dims, keepdim', () => {
    expect(x.sum().item()).toBe(12 * 100 + 8 * 30 + 6 * 6);
    expect(x.sum(2).toArray()).toEqual([[6, 46, 86], [406, 446, 486]]);
    expect(x.sum([0, 2]).toArray()).toEqual([412, 492, 572]);
    expect(x.sum([-1, 0], true).shape).toEqual([1, 3, 1]);
    expect(x.sum([-1, 0], true).toArray()).toEqual([[[412], [492], [572]]]);
    expect(x.sum([0, 1]).toArray()).toEqual([360, 366, 372, 378]); // 3·100 + 2·(0+10+20) + 6k
    expect(x.sum(null, true).shape).toEqual([1, 1, 1]);
  });

  it('mean / max / min over several dims with keepdim', () => {
    expect(x.mean([0, 2]).toArray()).toEqual([412 / 8, 492 / 8, 572 / 8]);
    expect(x.mean(1, true).shape).toEqual([2, 1, 4]);
    expect(x.max([1, 2]).toArray()).toEqual([23, 123]);
    expect(x.min([0, 1], true).toArray()).toEqual([[[0, 1, 2, 3]]]);
    expect(x.max().item()).toBe(123);
    expect(x.amin(-1).toArray()).toEqual([[0, 10, 20], [100, 110, 120]]);
  });

  it('reductions of non-contiguous views', () => {
    const p = x.permute([2, 0, 1]); // (4, 2, 3)
    expect(p.sum([1, 2]).toArray()).toEqual(x.sum([0, 1]).toArray());
    expect(p.max(0).toArray()).toEqual(x.max(2).toArray());
    const s = x.slice(2, 1, null, 2); // k = 1, 3
    expect(s.sum(2).toArray()).toEqual([[4, 24, 44], [204, 224, 244]]);
  });

  it('max / min propagate NaN; sum of an empty dim is 0; max of one is an error', () => {
    expect(tensor([[1, NaN], [2, 3]]).max(1).toArray()).toEqual([NaN, 3]);
    expect(tensor([NaN, 1]).min().item()).toBeNaN();
    expect(zeros([2, 0]).sum(1).toArray()).toEqual([0, 0]);
    expect(() => zeros([2, 0]).max(1)).toThrow(/cannot reduce over dim 1 of size 0/);
  });

  it('var and std with Bessel correction by default, or a given correction', () => {
    const v = tensor([[1, 2, 3, 4], [2, 4, 6, 8]], { dtype: 'float64' });
    expectClose(v.var(1), [5 / 3, 20 / 3], { rtol: 1e-15 });
    expectClose(v.var(1, { correction: 0 }), [1.25, 5], { rtol: 1e-15 });
    expectClose(v.std(), Math.sqrt(((1 - 3.75) ** 2 + (2 - 3.75) ** 2 * 2 + (3 - 3.75) ** 2 + (4 - 3.75) ** 2 * 2 + (6 - 3.75) ** 2 + (8 - 3.75) ** 2) / 7), { rtol: 1e-15 });
    expect(v.var(0, { keepdim: true }).shape).toEqual([1, 4]);
  });

  it('logsumexp over several dims, stable for large values, -inf rows', () => {
    const t = tensor([[1000, 1000], [-Infinity, -Infinity]], { dtype: 'float64' });
    expectClose(t.logsumexp(1), [1000 + Math.log(2), -Infinity], { rtol: 1e-15 });
    expectClose(x.logsumexp([0, 2], true), x.exp().sum([0, 2], true).log(), { rtol: 1e-13 });
  });

  it('softmax rows sum to 1; logSoftmax = log(softmax)', () => {
    const t = tensor([[1, 2, 3], [1000, 1000, 1000]], { dtype: 'float64' });
    expectClose(t.softmax(-1).sum(-1), [1, 1], { rtol: 1e-15 });
    expectClose(t.softmax(1).select(0, 1), [1 / 3, 1 / 3, 1 / 3], { rtol: 1e-15 });
    expectClose(t.logSoftmax(1), t.softmax(1).log(), { rtol: 1e-14 });
  });
});

describe('matmul shapes', () => {
  it('follows torch.matmul for 1-D, 2-D and batched operands', () => {
    const v = tensor([1, 2]);
    const m = tensor([[1, 2], [3, 4]]);
    expect(matmul(v, v).shape).toEqual([]);
    expect(matmul(v, v).item()).toBe(5);
    expect(matmul(v, m).toArray()).toEqual([7, 10]);
    expect(matmul(m, v).toArray()).toEqual([5, 11]);
    expect(matmul(m, m).toArray()).toEqual([[7, 10], [15, 22]]);
    expect(matmul(zeros([5, 1, 3, 2]), zeros([4, 2, 6])).shape).toEqual([5, 4, 3, 6]);
    expect(matmul(zeros([3, 2, 4]), zeros([4])).shape).toEqual([3, 2]);
    expect(matmul(zeros([4]), zeros([3, 4, 2])).shape).toEqual([3, 2]);
  });
});
