/** The fused CPU Adam/AdamW kernel equals the composite tensor-op path bit for bit. */
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, fromTypedArray, type Tensor } from '../../src/index.js';
import { Adam, AdamW, setFusedOptimizers } from '../../src/optim/index.js';

function run(fused: boolean, dtype: 'float32' | 'float64', seed: number, opts: { adamw: boolean; weightDecay: number; lr: number }, sizes = [7, 3]): number[][] {
  setFusedOptimizers(fused);
  const gen = new Generator(seed);
  const mk = (n: number) => fromTypedArray(Float64Array.from({ length: n }, () => gen.normal()), [n], { dtype });
  const params = sizes.map(mk);
  for (const p of params) p.requiresGrad = true;
  const opt = opts.adamw ? new AdamW(params, { lr: opts.lr, weightDecay: opts.weightDecay }) : new Adam(params, { lr: opts.lr, weightDecay: opts.weightDecay });
  for (let s = 0; s < 4; s++) {
    params.forEach((p: Tensor) => (p.grad = mk(p.numel())));
    opt.step();
  }
  return params.map((p) => Array.from(p.toTypedArray()));
}

describe('fused Adam/AdamW kernel', () => {
  afterEach(() => setFusedOptimizers(true));
  it('equals the composite path exactly (float32 and float64, Adam and AdamW)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e6 }), fc.boolean(), fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), fc.double({ min: 0, max: 0.2, noNaN: true }), (seed, adamw, dtype, wd) => {
        const o = { adamw, weightDecay: wd, lr: 1e-2 };
        expect(run(true, dtype, seed, o)).toEqual(run(false, dtype, seed, o));
      }),
      { numRuns: 40 },
    );
  });

  it('large float32 parameters (the wasm SIMD loop, odd lengths) equal the composite path exactly', () => {
    for (const [seed, adamw, wd] of [[1, true, 0.01], [2, false, 0], [3, true, 0.2]] as const) {
      const o = { adamw, weightDecay: wd, lr: 1e-2 };
      expect(run(true, 'float32', seed, o, [5003, 4096])).toEqual(run(false, 'float32', seed, o, [5003, 4096]));
    }
  });
});
