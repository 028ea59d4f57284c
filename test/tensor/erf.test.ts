/**
 * erf (src/backends/erf.ts, fdlibm's s_erf.c) against CPython's math.erf (the C library's
 * erf), to 1e-15 relative. The points cover every branch: |x| < 2⁻²⁸, < 0.84375, < 1.25,
 * < 1/0.35, < 6 and ≥ 6, and negative arguments. References made with /usr/bin/python3:
 *   for x in XS: print(repr(x), repr(math.erf(x)))
 */
import { describe, expect, it } from 'vitest';

import { erf as erfScalar } from '../../src/backends/erf.js';
import { erf, fromTypedArray, gelu, tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';

const REFERENCE: [number, number][] = [
  [0.0, 0.0],
  [1e-300, 1.1283791670955126e-300],
  [3e-9, 3.3851375012865378e-9],
  [1e-5, 1.1283791670579e-5],
  [0.1, 0.1124629160182849],
  [0.25, 0.2763263901682369],
  [0.5, 0.5204998778130465],
  [0.8, 0.7421009647076605],
  [0.84375, 0.7672256612323416],
  [0.9, 0.7969082124228322],
  [1.0, 0.8427007929497149],
  [1.1, 0.8802050695740817],
  [1.25, 0.9229001282564582],
  [1.5, 0.9661051464753108],
  [2.0, 0.9953222650189527],
  [2.5, 0.999593047982555],
  [2.857142857142857, 0.9999466876886117],
  [3.0, 0.9999779095030014],
  [3.5, 0.9999992569016276],
  [4.0, 0.9999999845827421],
  [5.0, 0.9999999999984626],
  [5.9, 0.9999999999999999],
  [6.0, 1.0],
  [10.0, 1.0],
  [-0.5, -0.5204998778130465],
  [-1.0, -0.8427007929497149],
  [-2.0, -0.9953222650189527],
  [-3.7, -0.9999998328489421],
];

describe('erf', () => {
  it('the scalar function matches math.erf to 1e-15 relative', () => {
    for (const [x, y] of REFERENCE) {
      const got = erfScalar(x);
      expect(Math.abs(got - y), `erf(${x}) = ${got}, expected ${y}`).toBeLessThanOrEqual(1e-15 * Math.abs(y));
    }
  });

  it('special values: ±0, ±Infinity, NaN, odd symmetry', () => {
    expect(Object.is(erfScalar(-0), -0)).toBe(true);
    expect(erfScalar(Infinity)).toBe(1);
    expect(erfScalar(-Infinity)).toBe(-1);
    expect(erfScalar(NaN)).toBeNaN();
    for (const [x] of REFERENCE) expect(erfScalar(-x)).toBe(-erfScalar(x));
  });

  it('the float64 tensor op gives the same values (also on a strided view)', () => {
    const xs = Float64Array.from(REFERENCE, ([x]) => x);
    const ys = Float64Array.from(REFERENCE, ([, y]) => y);
    expectClose(erf(fromTypedArray(xs, [xs.length])), ys, { rtol: 1e-15, atol: 0, what: 'erf tensor' });
    const strided = fromTypedArray(Float64Array.from([...xs, ...xs]), [2, xs.length]).T.select(1, 1);
    expectClose(erf(strided), ys, { rtol: 1e-15, atol: 0, what: 'erf strided' });
  });

  it('the exact GELU uses it: gelu(x) = x·(1 + erf(x/√2))/2', () => {
    const x = tensor([-3, -1, 0, 0.5, 2], { dtype: 'float64' });
    const expected = (x.toArray() as number[]).map((v) => 0.5 * v * (1 + erfScalar(v / Math.SQRT2)));
    expectClose(gelu(x), expected, { rtol: 1e-15, atol: 1e-300 });
    // GELU(1) = Φ(1) = 0.8413447460685429 (python: 0.5*(1+math.erf(1/math.sqrt(2))))
    expectClose(gelu(tensor([1], { dtype: 'float64' })), [0.8413447460685429], { rtol: 1e-15 });
  });
});
