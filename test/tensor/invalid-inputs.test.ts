/**
 * Clear errors instead of silent garbage (issue #11 items 17 and 20): non-numeric operands and
 * fill values (PyTorch: TypeError), sparse arrays, int32 overflow on creation (PyTorch:
 * "value cannot be converted to type int32 without overflow"), non-tensors in cat/stack, and
 * the use of a tensor freed by tidy (naming the op and pointing at tidy/keep).
 */
import { describe, expect, it } from 'vitest';

import { arange, cat, F, fromTypedArray, full, fullLike, nn, randint, stack, tensor, tidy, where, zeros, type Tensor } from '../../src/index.js';

describe('non-numeric operands and fill values throw a TypeError naming the op (item 17)', () => {
  const x = tensor([1, 2]);
  const bad: [unknown, RegExp][] = [
    ['a', /string 'a'/], [undefined, /undefined/], [{}, /an object/], [[1, 2], /an array/], [null, /null/],
  ];
  for (const [v, what] of bad) {
    it(`x.add(${JSON.stringify(v) ?? 'undefined'}) (was NaN or 0)`, () => {
      expect(() => x.add(v as number)).toThrow(TypeError);
      expect(() => x.add(v as number)).toThrow(what);
      expect(() => x.mul(v as number)).toThrow(/^mul: expected a tensor, a number or a boolean as the second operand/);
    });
  }
  it('comparisons, where, maskedFill, clamp, pow and the in-place ops check too', () => {
    expect(() => x.gt('1' as unknown as number)).toThrow(/gt: .*string '1'/);
    expect(() => where(tensor([true, false]), x, 'z' as unknown as number)).toThrow(/where: .*other/);
    expect(() => x.maskedFill(tensor([true, false]), 'z' as unknown as number)).toThrow(/maskedFill: .*value/);
    expect(() => x.clamp('0' as unknown as number)).toThrow(/clamp: .*min/);
    expect(() => x.pow({} as unknown as number)).toThrow(/pow: .*an object/);
    expect(() => x.clone().fill_('x' as unknown as number)).toThrow(/fill_: .*string 'x'/);
    expect(() => x.clone().add_(undefined as unknown as number)).toThrow(TypeError);
  });
  it('full / fullLike with a non-numeric value (was NaN)', () => {
    expect(() => full([2], 'x' as unknown as number)).toThrow(/full: expected a number or a boolean as the fill value, got string 'x'/);
    expect(() => fullLike(x, null as unknown as number)).toThrow(TypeError);
    expect(full([2], true).dtype).toBe('bool');
  });
});

describe('creation refuses what it would store wrongly (item 17)', () => {
  it('a sparse nested array (was: values shifted across rows)', () => {
    // eslint-disable-next-line no-sparse-arrays
    const sparse = [[1, , 3], [4, 5, 6]] as unknown as number[][];
    expect(() => tensor(sparse)).toThrow(/hole \(a sparse array\) at \[0\]\[1\]/);
  });
  it('int32 values outside [−2³¹, 2³¹ − 1] (was: 2³¹ → −2³¹, 2⁴⁰ → 0)', () => {
    expect(() => tensor([2 ** 31], { dtype: 'int32' })).toThrow(/value 2147483648 at flat index 0 cannot be converted to int32 without overflow/);
    expect(() => tensor([1, 2 ** 40], { dtype: 'int32' })).toThrow(RangeError);
    expect(tensor([2 ** 31 - 1, -(2 ** 31)], { dtype: 'int32' }).toArray()).toEqual([2147483647, -2147483648]);
    expect(() => tensor(Float64Array.of(1, 2 ** 40), { dtype: 'int32' })).toThrow(/at index 1/);
    expect(() => fromTypedArray(Float32Array.of(-3e9), [1], { dtype: 'int32' })).toThrow(RangeError);
    expect(() => full([2], 2 ** 31, { dtype: 'int32' })).toThrow(/full: value 2147483648/);
    expect(() => arange(2 ** 31 - 2, 2 ** 31 + 1)).toThrow(/arange: value 2147483648 \(the last value\)/);
    expect(() => randint(0, 2 ** 32, [2])).toThrow(/randint/);
    expect(() => tensor([1], { dtype: 'int32' }).add(2 ** 40)).toThrow(/add: value 1099511627776 cannot be converted to int32/);
  });
});

describe('odd inputs name what is wrong (item 20)', () => {
  it("cat([x, 'a']) says which entry is not a tensor (was: same device, got 'cpu' and 'undefined')", () => {
    const x = tensor([1, 2]);
    expect(() => cat([x, 'a' as unknown as Tensor])).toThrow(/cat: expected a tensor at position 1 of the list, got string 'a'/);
    expect(() => stack([x, 3 as unknown as Tensor])).toThrow(/stack: expected a tensor at position 1/);
  });
  it('crossEntropy with C = 0 says so (was "max: cannot reduce")', () => {
    expect(() => F.crossEntropy(zeros([2, 0]), tensor([0, 0], { dtype: 'int32' }))).toThrow(/crossEntropy: the input of shape \[2,0\] has 0 classes/);
  });
  it('a tensor freed by tidy names the op and points at tidy/keep (was "use of a disposed tensor")', () => {
    const leaked = tidy(() => {
      const inner = tensor([1, 2, 3]);
      inner.mul(2); // not returned: inner is freed with it
      return inner.sum();
    });
    expect(leaked.item()).toBe(6);
    let escaped: Tensor | null = null;
    tidy(() => { escaped = tensor([1, 2]).add(1); });
    expect(() => escaped!.mul(3)).toThrow(/^mul: argument 0 \(shape \[2\], float32\) was disposed — its storage was freed by tidy\(\).*keep\(\)/);
    expect(() => escaped!.sum()).toThrow(/^sum: /);
    expect(() => escaped!.toArray()).toThrow(/^toTypedArray: the tensor .* was disposed/);
    expect(() => escaped!.exp()).toThrow(/^exp: .*was disposed/);
    // a module built inside tidy: its parameters are freed when tidy returns
    let layer: nn.Linear | null = null;
    tidy(() => { layer = new nn.Linear(2, 2); });
    expect(() => layer!.forward(tensor([[1, 2]]))).toThrow(/was disposed .*tidy\(\)/);
  });
});
