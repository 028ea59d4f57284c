/**
 * tidy() disposes every tensor created inside except what it returns; keep() exempts one;
 * dispose() makes a tensor unusable with a clear error.
 */
import { describe, expect, it } from 'vitest';

import { keep, tensor, tidy, type Tensor } from '../../src/index.js';

describe('tidy', () => {
  it('disposes intermediates but keeps the result', () => {
    let a: Tensor | null = null;
    let b: Tensor | null = null;
    const r = tidy(() => {
      a = tensor([1, 2]);
      b = a.mul(3);
      return b.add(1);
    });
    expect(a!.isDisposed).toBe(true);
    expect(b!.isDisposed).toBe(true);
    expect(r.isDisposed).toBe(false);
    expect(r.toArray()).toEqual([4, 7]);
  });

  it('keeps tensors returned in arrays and objects, and views of kept storage', () => {
    let tmp: Tensor | null = null;
    const out = tidy(() => {
      tmp = tensor([1]).add(1);
      const x = tensor([1, 2, 3]);
      return { list: [x.mul(2)], view: x.slice(0, 1) };
    });
    expect(tmp!.isDisposed).toBe(true);
    expect(out.list[0]!.toArray()).toEqual([2, 4, 6]);
    expect(out.view.toArray()).toEqual([2, 3]); // its storage (x's) is kept
  });

  it('leaves tensors created outside alone', () => {
    const outside = tensor([5]);
    tidy(() => outside.mul(2));
    expect(outside.isDisposed).toBe(false);
  });

  it('keep() exempts a tensor; nested tidy hands the kept result to the outer scope', () => {
    let kept: Tensor | null = null;
    let inner: Tensor | null = null;
    const r = tidy(() => {
      kept = keep(tensor([9]));
      inner = tidy(() => tensor([1]).add(1));
      expect(inner.isDisposed).toBe(false);
      return tensor([0]);
    });
    expect(kept!.isDisposed).toBe(false);
    expect(inner!.isDisposed).toBe(true); // returned by the inner scope, not by the outer one
    expect(r.isDisposed).toBe(false);
  });

  it('disposes even when the function throws', () => {
    let t: Tensor | null = null;
    expect(() => tidy(() => { t = tensor([1]); throw new Error('x'); })).toThrow('x');
    expect(t!.isDisposed).toBe(true);
    // tensors created afterwards are unaffected
    const later = tensor([1]);
    tidy(() => tensor([2]));
    expect(later.isDisposed).toBe(false);
  });

  it('a disposed tensor errors clearly on use and prints as disposed', () => {
    const t = tensor([1, 2]);
    t.dispose();
    expect(t.isDisposed).toBe(true);
    expect(() => t.toArray()).toThrow(/^toTypedArray: the tensor \(shape \[2\], float32\) was disposed/);
    expect(() => t.add(1)).toThrow(/disposed/);
    expect(t.toString()).toBe('tensor(<disposed>)');
    t.dispose(); // twice is harmless
  });
});
