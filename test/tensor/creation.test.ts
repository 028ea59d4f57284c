/**
 * Creation functions (src/tensor/creation.ts) and the seeded random generator (random.ts).
 */
import { describe, expect, it } from 'vitest';

import {
  arange, dropout, eye, Generator, fromTypedArray, full, fullLike, getRngState, linspace, manualSeed, ones, onesLike, rand, randint,
  randn, setRngState, tensor, zeros, zerosLike,
} from '../../src/index.js';
import { errorOf, expectClose } from '../helpers.js';

describe('tensor()', () => {
  it('from nested arrays: shape, float32 default, row-major data', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(t.shape).toEqual([2, 3]);
    expect(t.dtype).toBe('float32');
    expect(t.device).toBe('cpu');
    expect(Array.from(t.toTypedArray())).toEqual([1, 2, 3, 4, 5, 6]);
    expect(t.isContiguous()).toBe(true);
    expect(t.requiresGrad).toBe(false);
  });

  it('from a number: a 0-d tensor', () => {
    const t = tensor(2.5);
    expect(t.shape).toEqual([]);
    expect(t.ndim).toBe(0);
    expect(t.numel()).toBe(1);
    expect(t.item()).toBe(2.5);
  });

  it('from 3-D nested arrays', () => {
    const t = tensor([[[1, 2]], [[3, 4]], [[5, 6]]]);
    expect(t.shape).toEqual([3, 1, 2]);
    expect(t.toArray()).toEqual([[[1, 2]], [[3, 4]], [[5, 6]]]);
  });

  it('from booleans: a bool tensor; toArray gives booleans back', () => {
    const t = tensor([[true, false], [false, true]]);
    expect(t.dtype).toBe('bool');
    expect(t.toArray()).toEqual([[true, false], [false, true]]);
    expect(tensor(true).item()).toBe(1);
  });

  it('from typed arrays: the dtype follows the array, the data is copied', () => {
    const src = new Float64Array([1.5, -2]);
    const t = tensor(src);
    expect(t.dtype).toBe('float64');
    src[0] = 99;
    expect(t.toArray()).toEqual([1.5, -2]);
    expect(tensor(new Int32Array([1, 2])).dtype).toBe('int32');
    expect(tensor(new Uint8Array([1, 0])).dtype).toBe('bool');
    expect(tensor(new Float32Array([0.1])).toArray()).toEqual([Math.fround(0.1)]);
  });

  it('an explicit dtype converts the values', () => {
    expect(tensor([1, 2], { dtype: 'float64' }).dtype).toBe('float64');
    expect(tensor([1, 0, 3], { dtype: 'bool' }).toArray()).toEqual([true, false, true]);
    expect(tensor([true, false], { dtype: 'float32' }).toArray()).toEqual([1, 0]);
    expect(tensor([0.1], { dtype: 'float32' }).toArray()).toEqual([Math.fround(0.1)]);
    expect(tensor([0.1], { dtype: 'float64' }).toArray()).toEqual([0.1]);
  });

  it('requiresGrad option', () => {
    expect(tensor([1], { requiresGrad: true }).requiresGrad).toBe(true);
  });

  it('ragged arrays are rejected, naming the position', () => {
    expect(errorOf(() => tensor([[1, 2], [3]]))).toBe('tensor: ragged nested array: expected a list of length 2 at [1] (like its siblings), got length 1');
    expect(errorOf(() => tensor([[1, 2], 3] as never))).toBe('tensor: ragged nested array: expected a list of length 2 at [1], got a scalar');
    expect(errorOf(() => tensor([1, [2]] as never))).toBe(
      'tensor: ragged nested array: element [1] is an array but elements at that depth elsewhere are scalars',
    );
    expect(errorOf(() => tensor([[[1], [2]], [[3], [4, 5]]]))).toMatch(/at \[1\]\[1\]/);
  });

  it('non-numeric elements and non-integers for int32 are rejected', () => {
    expect(errorOf(() => tensor([1, 'a'] as never))).toMatch(/expected numbers or booleans, got string at \[1\]/);
    expect(errorOf(() => tensor([1, null] as never))).toMatch(/got null at \[1\]/);
    expect(errorOf(() => tensor([1, 2.5], { dtype: 'int32' }))).toBe('tensor: dtype int32 needs integer values, got 2.5 at flat index 1');
  });

  it('bad options are rejected', () => {
    expect(errorOf(() => tensor([1], { dtype: 'int64' as never }))).toMatch(/unknown dtype 'int64'/);
    expect(errorOf(() => tensor(new Int16Array([1]) as never))).toMatch(/unsupported typed array Int16Array/);
    expect(errorOf(() => tensor([1], { device: 'tpu' }))).toMatch(/unknown device 'tpu'/);
  });

  it('empty arrays give a 0-element tensor', () => {
    expect(tensor([]).shape).toEqual([0]);
    expect(tensor([[], []]).shape).toEqual([2, 0]);
    expect(tensor([]).numel()).toBe(0);
  });
});

describe('filled tensors', () => {
  it('zeros / ones / full', () => {
    const z = zeros([2, 3]);
    expect(z.shape).toEqual([2, 3]);
    expect(z.dtype).toBe('float32');
    expect(Array.from(z.toTypedArray())).toEqual([0, 0, 0, 0, 0, 0]);
    expect(ones([2], { dtype: 'int32' }).toArray()).toEqual([1, 1]);
    expect(full([2, 2], 7.5).toArray()).toEqual([[7.5, 7.5], [7.5, 7.5]]);
    expect(full([1], true).dtype).toBe('bool');
    expect(full([2], 3, { dtype: 'int32' }).toArray()).toEqual([3, 3]);
    expect(zeros([]).shape).toEqual([]);
    expect(zeros([0, 3]).numel()).toBe(0);
  });

  it('zerosLike / onesLike / fullLike keep shape and dtype', () => {
    const x = tensor([[1, 2, 3]], { dtype: 'float64' });
    const z = zerosLike(x);
    expect(z.shape).toEqual([1, 3]);
    expect(z.dtype).toBe('float64');
    expect(z.toArray()).toEqual([[0, 0, 0]]);
    expect(onesLike(tensor([1, 2], { dtype: 'int32' })).toArray()).toEqual([1, 1]);
    expect(onesLike(x, { dtype: 'int32' }).dtype).toBe('int32');
    expect(fullLike(x, 2).toArray()).toEqual([[2, 2, 2]]);
  });

  it('bad shapes are rejected', () => {
    expect(errorOf(() => zeros([2, -1]))).toBe('zeros: shape must contain non-negative integers, got [2,-1]');
    expect(errorOf(() => ones([1.5]))).toMatch(/non-negative integers/);
  });
});

describe('ranges', () => {
  it('arange: int32 for integer arguments, float32 otherwise, end exclusive', () => {
    expect(arange(5).toArray()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5).dtype).toBe('int32');
    expect(arange(2, 8, 3).toArray()).toEqual([2, 5]);
    expect(arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    const f = arange(0, 1, 0.25);
    expect(f.dtype).toBe('float32');
    expect(f.toArray()).toEqual([0, 0.25, 0.5, 0.75]);
    expect(arange(0, 1, 0.3).numel()).toBe(4); // ceil(1/0.3)
    expect(arange(3, 3).numel()).toBe(0);
    expect(arange(0, 3, 1, { dtype: 'float64' }).dtype).toBe('float64');
  });

  it('arange errors', () => {
    expect(errorOf(() => arange(0, 5, 0))).toBe('arange: step must be nonzero');
    expect(errorOf(() => arange(0, 5, -1))).toMatch(/inconsistent with step sign/);
    expect(errorOf(() => arange(0, Infinity))).toBe('arange: end must be finite, got Infinity');
  });

  it('linspace: inclusive of both ends, evenly spaced', () => {
    expect(linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(linspace(-1, 1, 1).toArray()).toEqual([-1]);
    expect(linspace(0, 1, 0).numel()).toBe(0);
    const l = linspace(0, 1, 7, { dtype: 'float64' }).toArray() as number[];
    expect(l[0]).toBe(0);
    expect(l[6]).toBe(1);
    expectClose(l, [0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 1], { rtol: 1e-15, atol: 0 });
    expect(errorOf(() => linspace(0, 1, -1))).toMatch(/steps must be a non-negative integer/);
  });

  it('eye', () => {
    expect(eye(3).toArray()).toEqual([[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
    expect(eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(eye(3, 2, { dtype: 'int32' }).toArray()).toEqual([[1, 0], [0, 1], [0, 0]]);
  });
});

describe('random tensors and manualSeed', () => {
  it('rand is in [0, 1), randint in [low, high), with the right shapes and dtypes', () => {
    manualSeed(1);
    const u = rand([1000]);
    expect(u.shape).toEqual([1000]);
    expect(u.dtype).toBe('float32');
    const uv = Array.from(u.toTypedArray());
    expect(Math.min(...uv)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...uv)).toBeLessThan(1);
    const r = randint(-2, 3, [2, 500]);
    expect(r.dtype).toBe('int32');
    const rv = Array.from(r.toTypedArray());
    expect(new Set(rv)).toEqual(new Set([-2, -1, 0, 1, 2]));
    expect(rand([2, 3], { dtype: 'float64' }).dtype).toBe('float64');
    expect(errorOf(() => randint(3, 3, [1]))).toBe('randint: expected integers low < high, got low 3, high 3');
    expect(errorOf(() => rand([2], { dtype: 'int32' }))).toBe('rand: dtype must be float32 or float64, got int32');
  });

  it('the same seed gives the same rand / randn / randint / dropout; another seed differs', () => {
    const draw = (seed: number) => {
      manualSeed(seed);
      return [
        Array.from(rand([5]).toTypedArray()),
        Array.from(randn([5], { dtype: 'float64' }).toTypedArray()),
        Array.from(randint(0, 1000, [5]).toTypedArray()),
        Array.from(dropout(zeros([20]).add(1), 0.5).toTypedArray()),
      ];
    };
    const a = draw(42);
    const b = draw(42);
    const c = draw(43);
    expect(b).toEqual(a);
    for (let i = 0; i < a.length; i++) expect(c[i], `stream ${i}`).not.toEqual(a[i]);
    // the dropout mask keeps some and zeroes some, scaling the kept by 1/(1−p)
    expect(new Set(a[3])).toEqual(new Set([0, 2]));
  });

  it('string seeds work; getRngState / setRngState resume the stream', () => {
    manualSeed('abc');
    const first = Array.from(randn([3]).toTypedArray());
    const state = getRngState();
    const next = Array.from(randn([4]).toTypedArray());
    setRngState(state);
    expect(Array.from(randn([4]).toTypedArray())).toEqual(next);
    manualSeed('abc');
    expect(Array.from(randn([3]).toTypedArray())).toEqual(first);
  });

  it('randn has mean ≈ 0 and std ≈ 1 over 10 000 samples', () => {
    manualSeed(7);
    const v = Array.from(randn([10_000], { dtype: 'float64' }).toTypedArray());
    const n = v.length;
    const mean = v.reduce((s, x) => s + x, 0) / n;
    const sd = Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / (n - 1));
    // standard errors: mean 1/√n = 0.01, std ≈ 1/√(2n) ≈ 0.007; allow 4σ
    expect(Math.abs(mean)).toBeLessThan(0.04);
    expect(Math.abs(sd - 1)).toBeLessThan(0.03);
    // and it is not uniform: about 68% within one sd
    const within = v.filter((x) => Math.abs(x) < 1).length / n;
    expect(within).toBeGreaterThan(0.66);
    expect(within).toBeLessThan(0.70);
  });

  it('rand has mean ≈ 1/2 and variance ≈ 1/12', () => {
    manualSeed(8);
    const v = Array.from(rand([10_000], { dtype: 'float64' }).toTypedArray());
    const mean = v.reduce((s, x) => s + x, 0) / v.length;
    const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.012);
    expect(Math.abs(variance - 1 / 12)).toBeLessThan(0.004);
  });
});

describe('fromTypedArray', () => {
  it('wraps with a shape (copying) and checks the size', () => {
    const a = new Float32Array([1, 2, 3, 4, 5, 6]);
    const t = fromTypedArray(a, [2, 3]);
    a[0] = 100;
    expect(t.toArray()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(errorOf(() => fromTypedArray(a, [4]))).toBe('fromTypedArray: shape [4] holds 4 elements but the array has 6');
  });
});

describe('Generator.bernoulliFill (dropout masks)', () => {
  it('keeps each entry with probability 1 − p (within 5σ), exactly for p = 0 and p = 1', () => {
    const g = new Generator(7);
    const n = 200_000;
    for (const p of [0.1, 0.5, 0.9]) {
      const m = new Float32Array(n);
      g.bernoulliFill(m, p, 3);
      let kept = 0;
      for (const v of m) { expect(v === 0 || v === 3).toBe(true); if (v === 3) kept++; }
      const sigma = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(kept - n * (1 - p)), `p = ${p}`).toBeLessThan(5 * sigma);
    }
    const all = new Float64Array(1000);
    g.bernoulliFill(all, 0, 2);
    expect(all.every((v) => v === 2)).toBe(true);
    g.bernoulliFill(all, 1, 2);
    expect(all.every((v) => v === 0)).toBe(true);
    expect(() => g.bernoulliFill(all, 1.5, 1)).toThrow('bernoulliFill: p must be in [0, 1], got 1.5');
  });

  it('neighbouring draws and consecutive masks are uncorrelated', () => {
    const g = new Generator(3);
    const n = 100_000;
    const a = new Float64Array(n), b = new Float64Array(n);
    g.bernoulliFill(a, 0.5, 1);
    g.bernoulliFill(b, 0.5, 1);
    const corr = (x: ArrayLike<number>, y: ArrayLike<number>, len: number) => {
      let sx = 0, sy = 0, sxy = 0, sxx = 0, syy = 0;
      for (let i = 0; i < len; i++) { sx += x[i]!; sy += y[i]!; sxy += x[i]! * y[i]!; sxx += x[i]! * x[i]!; syy += y[i]! * y[i]!; }
      return (sxy - (sx * sy) / len) / Math.sqrt((sxx - (sx * sx) / len) * (syy - (sy * sy) / len));
    };
    // |ρ| of independent ±1 sequences is ≈ 1/√n = 0.003; 0.02 is > 6σ
    expect(Math.abs(corr(a, b, n))).toBeLessThan(0.02);
    expect(Math.abs(corr(a, a.subarray(1), n - 1))).toBeLessThan(0.02);
    // the generator state moved by one draw per mask: the same seed replays both masks
    const h = new Generator(3);
    const a2 = new Float64Array(n), b2 = new Float64Array(n);
    h.bernoulliFill(a2, 0.5, 1);
    h.bernoulliFill(b2, 0.5, 1);
    expect(a2).toEqual(a);
    expect(b2).toEqual(b);
  });
});
