/**
 * Reading data back: toArray, item, toTypedArray, data(), and PyTorch-style printing.
 * The expected strings are what PyTorch prints for the same tensors, except for the names
 * that are camelCase here (`requiresGrad=true`, `dtype=float64`, `gradFn=<mul>`) and the
 * lowercase booleans.
 */
import { describe, expect, it } from 'vitest';

import { arange, tensor, zeros } from '../../src/index.js';
import { errorOf } from '../helpers.js';

describe('toArray / item / toTypedArray / data', () => {
  it('toArray nests like the shape; 0-d gives a number', () => {
    expect(tensor([[1, 2], [3, 4]]).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(tensor(7).toArray()).toBe(7);
    expect(tensor(true).toArray()).toBe(true);
    expect(zeros([2, 0]).toArray()).toEqual([[], []]);
  });

  it('toArray / toTypedArray of a non-contiguous view are in logical row-major order', () => {
    const t = arange(6).reshape([2, 3]).T;
    expect(t.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(Array.from(t.toTypedArray())).toEqual([0, 3, 1, 4, 2, 5]);
    const s = arange(10).slice(0, 3, 7); // offset 3
    expect(Array.from(s.toTypedArray())).toEqual([3, 4, 5, 6]);
  });

  it('toTypedArray returns a copy of the right type', () => {
    const t = tensor([1, 2], { dtype: 'float64' });
    const a = t.toTypedArray();
    expect(a).toBeInstanceOf(Float64Array);
    a[0] = 100;
    expect(t.toArray()).toEqual([1, 2]);
    expect(tensor([1], { dtype: 'int32' }).toTypedArray()).toBeInstanceOf(Int32Array);
    expect(tensor([true]).toTypedArray()).toBeInstanceOf(Uint8Array);
  });

  it('await data() gives the same values', async () => {
    const t = arange(6).reshape([2, 3]).T;
    expect(Array.from(await t.data())).toEqual([0, 3, 1, 4, 2, 5]);
  });

  it('item reads one-element tensors of any rank', () => {
    expect(tensor([[2.5]]).item()).toBe(2.5);
    expect(tensor([3], { dtype: 'int32' }).item()).toBe(3);
    expect(tensor(false).item()).toBe(0);
    expect(errorOf(() => tensor([1, 2]).item())).toBe(
      'item: only one-element tensors can be converted to a number, got shape [2] (2 elements)',
    );
  });

  it('size / numel / ndim', () => {
    const t = zeros([2, 3, 4]);
    expect(t.size()).toEqual([2, 3, 4]);
    expect(t.size(-1)).toBe(4);
    expect(t.numel()).toBe(24);
    expect(t.ndim).toBe(3);
    expect(() => t.size(3)).toThrow(/dim 3 is out of range for a tensor of rank 3/);
  });
});

describe('toString (as PyTorch prints)', () => {
  const cases: [string, () => string, string][] = [
    ['integer-valued floats', () => tensor([[1, 2], [3, 4]]).toString(), 'tensor([[1., 2.],\n        [3., 4.]])'],
    ['signed floats are aligned', () => tensor([1.5, -2]).toString(), 'tensor([ 1.5000, -2.0000])'],
    ['a 0-d tensor', () => tensor(3.5).toString(), 'tensor(3.5000)'],
    ['ints', () => tensor([1, 2, 3], { dtype: 'int32' }).toString(), 'tensor([1, 2, 3])'],
    ['ints right-aligned', () => tensor([[1, -10], [100, 2]], { dtype: 'int32' }).toString(), 'tensor([[  1, -10],\n        [100,   2]])'],
    ['small magnitudes switch to scientific', () => tensor([1e-5, 1]).toString(), 'tensor([1.0000e-05, 1.0000e+00])'],
    ['wide ranges switch to scientific', () => tensor([100000, 1]).toString(), 'tensor([1.0000e+05, 1.0000e+00])'],
    ['fixed point with padding', () => tensor([100, 0.5]).toString(), 'tensor([100.0000,   0.5000])'],
    ['nan and inf do not widen the columns', () => tensor([1, NaN, Infinity]).toString(), 'tensor([1., nan, inf])'],
    ['nan is padded to the finite width', () => tensor([1.5, NaN]).toString(), 'tensor([1.5000,    nan])'],
    ['3-D with a blank line between blocks', () => arange(8).float().reshape([2, 2, 2]).toString(),
      'tensor([[[0., 1.],\n         [2., 3.]],\n\n        [[4., 5.],\n         [6., 7.]]])'],
    ['empty', () => zeros([0]).toString(), 'tensor([])'],
    ['float64 names its dtype', () => tensor([[1, 2], [3, 4]], { dtype: 'float64' }).toString(), 'tensor([[1., 2.],\n        [3., 4.]], dtype=float64)'],
    ['requiresGrad', () => tensor([1, 2], { requiresGrad: true }).toString(), 'tensor([1., 2.], requiresGrad=true)'],
    ['gradFn', () => tensor([1, 2], { requiresGrad: true }).mul(2).toString(), 'tensor([2., 4.], gradFn=<mul>)'],
    ['bools', () => tensor([true, false]).toString(), 'tensor([ true, false])'],
    ['a non-contiguous view prints its logical order', () => arange(4).reshape([2, 2]).T.toString(), 'tensor([[0, 2],\n        [1, 3]])'],
  ];
  for (const [name, f, expected] of cases) it(name, () => expect(f()).toBe(expected));

  it('large tensors are summarised with ...', () => {
    const s = arange(2000).toString();
    expect(s.startsWith('tensor([   0,    1,    2,')).toBe(true);
    expect(s).toContain('...');
    expect(s.endsWith('1997, 1998, 1999])')).toBe(true);
    expect(s.length).toBeLessThan(100);
  });

  it('String() and template literals use it', () => {
    expect(`${tensor([1, 2])}`).toBe('tensor([1., 2.])');
  });
});
