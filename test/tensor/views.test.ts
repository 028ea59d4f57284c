/**
 * Movement ops are views (same storage, new shape/strides/offset); contiguous() and clone()
 * copy; reshape copies only when the layout does not allow a view; view() never copies.
 */
import { describe, expect, it } from 'vitest';

import { arange, noGrad, tensor, Tensor } from '../../src/index.js';
import { errorOf } from '../helpers.js';

/** [[0,1,2,3],[4,5,6,7],[8,9,10,11]] as float32. */
const grid = (): Tensor => arange(12).float().reshape([3, 4]);

describe('views share storage', () => {
  const cases: [string, (x: Tensor) => Tensor, number[], number[][] | number[] | number[][][]][] = [
    ['reshape of a contiguous tensor', (x) => x.reshape([2, 6]), [2, 6], [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]],
    ['view', (x) => x.view([6, 2]), [6, 2], [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9], [10, 11]]],
    ['permute', (x) => x.permute([1, 0]), [4, 3], [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]],
    ['transpose', (x) => x.transpose(0, 1), [4, 3], [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]],
    ['T', (x) => x.T, [4, 3], [[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]],
    ['expand', (x) => x.slice(0, 0, 1).expand([2, 4]), [2, 4], [[0, 1, 2, 3], [0, 1, 2, 3]]],
    ['slice with a step', (x) => x.slice(1, 1, null, 2), [3, 2], [[1, 3], [5, 7], [9, 11]]],
    ['slice with negative indices', (x) => x.slice(0, -2), [2, 4], [[4, 5, 6, 7], [8, 9, 10, 11]]],
    ['narrow', (x) => x.narrow(1, 1, 2), [3, 2], [[1, 2], [5, 6], [9, 10]]],
    ['select', (x) => x.select(1, -1), [3], [3, 7, 11]],
    ['unsqueeze', (x) => x.unsqueeze(1), [3, 1, 4], [[[0, 1, 2, 3]], [[4, 5, 6, 7]], [[8, 9, 10, 11]]]],
    ['squeeze', (x) => x.unsqueeze(0).squeeze(0), [3, 4], [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]],
    ['flatten', (x) => x.flatten(), [12], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
  ];
  for (const [name, f, shape, values] of cases) {
    it(name, () => {
      const x = grid();
      const v = f(x);
      expect(v.shape).toEqual(shape);
      expect(v.toArray()).toEqual(values);
      expect(v.storage).toBe(x.storage);
      // a write through the base shows in the view
      x.add_(100);
      const flat = (v.toArray() as unknown as number[]).flat(3) as number[];
      const before = (values as unknown as number[]).flat(3) as number[];
      expect(flat).toEqual(before.map((e) => e + 100));
    });
  }

  it('a write through a view shows in the base', () => {
    const x = grid();
    x.slice(1, 0, null, 3).fill_(-1); // columns 0 and 3
    expect(x.toArray()).toEqual([[-1, 1, 2, -1], [-1, 5, 6, -1], [-1, 9, 10, -1]]);
    x.select(0, 1).copy_(tensor([7, 7, 7, 7]));
    expect(x.select(0, 1).toArray()).toEqual([7, 7, 7, 7]);
  });

  it('expand uses stride 0 (-1 keeps a dim, new dims lead)', () => {
    const x = tensor([[1], [2]]);
    const e = x.expand([3, -1, 4]);
    expect(e.shape).toEqual([3, 2, 4]);
    expect(e.strides).toEqual([0, 1, 0]);
    expect(e.toArray()).toEqual([[[1, 1, 1, 1], [2, 2, 2, 2]], [[1, 1, 1, 1], [2, 2, 2, 2]], [[1, 1, 1, 1], [2, 2, 2, 2]]]);
  });

  it('split and chunk return views', () => {
    const x = grid();
    const parts = x.split(3, 1);
    expect(parts.map((p) => p.shape)).toEqual([[3, 3], [3, 1]]);
    expect(parts.every((p) => p.storage === x.storage)).toBe(true);
    expect(x.split([1, 2], 0).map((p) => p.toArray())).toEqual([[[0, 1, 2, 3]], [[4, 5, 6, 7], [8, 9, 10, 11]]]);
    expect(x.chunk(3, 1).map((p) => p.shape)).toEqual([[3, 2], [3, 2]]);
    expect(arange(5).chunk(2).map((p) => p.toArray())).toEqual([[0, 1, 2], [3, 4]]);
  });
});

describe('copies', () => {
  it('contiguous() returns the tensor itself when already contiguous', () => {
    const x = grid();
    expect(x.contiguous()).toBe(x);
  });

  it('contiguous() of a non-contiguous view copies into row-major order', () => {
    const x = grid();
    const t = x.T;
    expect(t.isContiguous()).toBe(false);
    const c = t.contiguous();
    expect(c.isContiguous()).toBe(true);
    expect(c.storage).not.toBe(x.storage);
    expect(c.strides).toEqual([3, 1]);
    expect(Array.from(c.toTypedArray())).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
    x.add_(1);
    expect(c.toArray()).toEqual([[0, 4, 8], [1, 5, 9], [2, 6, 10], [3, 7, 11]]); // unaffected
  });

  it('clone() always copies', () => {
    const x = grid();
    const c = x.clone();
    expect(c.storage).not.toBe(x.storage);
    expect(c.toArray()).toEqual(x.toArray());
  });

  it('reshape of a non-contiguous tensor copies and gives the row-major values', () => {
    const x = grid();
    const r = x.T.reshape([2, 6]);
    expect(r.storage).not.toBe(x.storage);
    expect(r.toArray()).toEqual([[0, 4, 8, 1, 5, 9], [2, 6, 10, 3, 7, 11]]);
    const s = x.slice(1, 0, null, 2).reshape([-1]);
    expect(s.toArray()).toEqual([0, 2, 4, 6, 8, 10]);
  });

  it('reshape of a non-contiguous tensor keeps a view when the strides allow it', () => {
    const x = arange(24).reshape([2, 3, 4]);
    const p = x.permute([1, 0, 2]); // (3, 2, 4): the last dim is still contiguous
    const r = p.reshape([3, 2, 2, 2]);
    expect(r.storage).toBe(x.storage);
    expect(r.contiguous().toArray()).toEqual(p.contiguous().reshape([3, 2, 2, 2]).toArray());
  });

  it('view() on an incompatible layout errors and points to reshape()', () => {
    const x = grid();
    expect(errorOf(() => x.T.view([12]))).toBe(
      "view: size [12] is not compatible with the input's strides (shape [4,3], strides [1,4]); use reshape(), which copies",
    );
    expect(() => x.slice(1, 0, 3).view([9])).toThrow(/not compatible/); // rows of 3 with row stride 4
    // a stepped slice whose elements are evenly spaced is viewable: offsets 0, 2, …, 10
    const stepped = x.slice(1, 0, null, 2).view([6]);
    expect(stepped.strides).toEqual([2]);
    expect(stepped.toArray()).toEqual([0, 2, 4, 6, 8, 10]);
    // compatible non-contiguous layouts are fine: split a dim of a transposed tensor
    expect(x.T.view([2, 2, 3]).shape).toEqual([2, 2, 3]);
  });

  it('view() and reshape() of a 0-d tensor', () => {
    const s = tensor(5);
    expect(s.view([1, 1]).toArray()).toEqual([[5]]);
    expect(s.reshape([1]).storage).toBe(s.storage);
    expect(tensor([5]).view([]).item()).toBe(5);
  });

  it('reshape infers one -1 dim', () => {
    expect(grid().reshape([-1, 6]).shape).toEqual([2, 6]);
    expect(grid().reshape(2, -1).shape).toEqual([2, 6]);
  });

  it('in-place ops through noGrad on views of a grad-requiring leaf write to the leaf', () => {
    const x = tensor([1, 2, 3, 4], { requiresGrad: true });
    noGrad(() => x.slice(0, 0, 2).mul_(10));
    expect(x.toArray()).toEqual([10, 20, 3, 4]);
  });
});
