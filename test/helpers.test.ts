/**
 * The shared test helpers must fail when they should (a comparison that cannot fail would
 * make every test built on it vacuous) and say where.
 */
import { describe, expect, it } from 'vitest';

import { tensor } from '../src/index.js';
import { errorOf, expectClose, expectEqual, fixtureTensor, loadFixture } from './helpers.js';

describe('expectClose', () => {
  it('passes within tolerance, fails beyond it naming the worst element', () => {
    expectClose(tensor([1, 2], { dtype: 'float64' }), [1, 2 + 1e-13], { rtol: 1e-12 });
    const msg = errorOf(() => expectClose(tensor([[1, 2], [3, 4]], { dtype: 'float64' }), [[1, 2], [3.001, 4.1]], { rtol: 1e-6, atol: 0, what: 'demo' }));
    expect(msg).toMatch(/^demo: 2 of 4 elements differ beyond atol 0 \+ rtol 0\.000001·\|expected\|; worst at \[1,1\] \(flat 3\): actual 4, expected 4\.1/);
  });

  it('checks shapes, NaN and infinities', () => {
    expect(errorOf(() => expectClose(tensor([1, 2]), [[1, 2]]))).toMatch(/shape mismatch: actual \[2\], expected \[1,2\]/);
    expect(errorOf(() => expectClose([1, 2], [1]))).toMatch(/size mismatch/);
    expectClose([NaN, Infinity], [NaN, Infinity]);
    expect(() => expectClose([NaN], [NaN], { equalNaN: false })).toThrow(/1 of 1/);
    expect(() => expectClose([Infinity], [-Infinity], { rtol: 1 })).toThrow(/1 of 1/);
    expect(() => expectClose([1e300], [Infinity], { rtol: 1 })).toThrow(/1 of 1/);
    expect(() => expectEqual([1, 2], [1, 2 + 2 ** -51])).toThrow(/worst at \[1\]/);
  });
});

describe('fixtures', () => {
  it('decode to float64 / int32 / bool tensors, non-finite strings included', () => {
    const f = fixtureTensor({ shape: [2, 2], dtype: 'float64', data: [1.5, 'NaN', 'Infinity', '-Infinity'] });
    expect(f.dtype).toBe('float64');
    expect(f.toArray()).toEqual([[1.5, NaN], [Infinity, -Infinity]]);
    expect(fixtureTensor({ shape: [2], dtype: 'int64', data: [-100, 3] }).dtype).toBe('int32');
    expect(fixtureTensor({ shape: [2], dtype: 'bool', data: [0, 1] }).toArray()).toEqual([false, true]);
    expect(() => fixtureTensor({ shape: [3], dtype: 'float64', data: [1] })).toThrow(/holds 3 elements but data has 1/);
    expect(() => fixtureTensor({ shape: [1], dtype: 'int64', data: [2 ** 40] })).toThrow(/does not fit int32/);
    const x = fixtureTensor({ shape: [1], dtype: 'float64', data: [2] }, { requiresGrad: true });
    expect(x.requiresGrad).toBe(true);
  });

  it('loadFixture reads JSON under test/fixtures', () => {
    const meta = loadFixture<{ meta: { dtype: string } }>('golden/functional.json').meta;
    expect(meta.dtype).toBe('float64');
  });
});
