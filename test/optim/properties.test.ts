/**
 * Property tests (fast-check) of the optimizers in float64:
 * - AdamW with weightDecay 0 is Adam with weightDecay 0, bit for bit (the decoupled decay
 *   multiplies by 1 − lr·0 = 1 exactly);
 * - Adam / AdamW / SGD agree bit for bit with the plain-number references of reference.ts on
 *   random parameters, gradients and hyperparameters;
 * - clipGradNorm never leaves a total norm above maxNorm (up to the 1e-6 and rounding), and
 *   never changes gradients whose norm is below it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { referenceAdam, referenceSGD } from './reference.js';

const value = fc.double({ min: -10, max: 10, noNaN: true, noDefaultInfinity: true });
/** A parameter vector and a few steps of gradients of the same length. */
const problem = fc.integer({ min: 1, max: 6 }).chain((n) =>
  fc.record({
    p0: fc.array(value, { minLength: n, maxLength: n }),
    grads: fc.array(fc.array(value, { minLength: n, maxLength: n }), { minLength: 1, maxLength: 5 }),
  }),
);
const unit = fc.double({ min: 0, max: 0.999, noNaN: true });
const adamHyper = fc.record({
  lr: fc.double({ min: 0, max: 1, noNaN: true }),
  betas: fc.tuple(unit, unit),
  eps: fc.double({ min: 0, max: 1e-3, noNaN: true }),
  amsgrad: fc.boolean(),
  maximize: fc.boolean(),
});

const f64 = (xs: number[]): Tensor => tensor(xs, { dtype: 'float64', requiresGrad: true });

function run(opt: optim.Optimizer, p: Tensor, grads: number[][]): number[][] {
  return grads.map((g) => {
    p.grad = tensor(g, { dtype: 'float64' });
    opt.step();
    return Array.from(p.toTypedArray());
  });
}

describe('optimizer properties (float64)', () => {
  it('AdamW(weightDecay 0) ≡ Adam(weightDecay 0), bit for bit', () => {
    fc.assert(
      fc.property(problem, adamHyper, ({ p0, grads }, h) => {
        const a = f64(p0);
        const b = f64(p0);
        const adam = new optim.Adam([a], { ...h, weightDecay: 0 });
        const adamw = new optim.AdamW([b], { ...h, weightDecay: 0 });
        expect(run(adamw, b, grads)).toEqual(run(adam, a, grads));
      }),
      { numRuns: 100 },
    );
  });

  it('Adam and AdamW match the plain-number reference, bit for bit', () => {
    fc.assert(
      fc.property(problem, adamHyper, fc.double({ min: 0, max: 0.5, noNaN: true }), fc.boolean(), ({ p0, grads }, h, weightDecay, decoupled) => {
        const p = f64(p0);
        const opt = decoupled ? new optim.AdamW([p], { ...h, weightDecay }) : new optim.Adam([p], { ...h, weightDecay });
        expect(run(opt, p, grads)).toEqual(referenceAdam(p0, grads, { ...h, weightDecay, decoupled }).params);
      }),
      { numRuns: 100 },
    );
  });

  it('SGD matches the plain-number reference, bit for bit', () => {
    const sgdHyper = fc
      .record({
        lr: fc.double({ min: 0, max: 1, noNaN: true }),
        momentum: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.99, noNaN: true })),
        dampening: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
        weightDecay: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 0.5, noNaN: true })),
        nesterov: fc.boolean(),
        maximize: fc.boolean(),
      })
      .filter((h) => !h.nesterov || (h.momentum > 0 && h.dampening === 0));
    fc.assert(
      fc.property(problem, sgdHyper, ({ p0, grads }, h) => {
        const p = f64(p0);
        expect(run(new optim.SGD([p], h), p, grads)).toEqual(referenceSGD(p0, grads, h));
      }),
      { numRuns: 100 },
    );
  });

  it('clipGradNorm: the clipped norm is at most maxNorm; unclipped gradients are unchanged', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(value, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 4 }),
        fc.double({ min: 1e-3, max: 20, noNaN: true }),
        fc.constantFrom(1, 2, 3, Infinity),
        (gs, maxNorm, normType) => {
          const ps = gs.map((g) => {
            const p = f64(g.map(() => 0));
            p.grad = tensor(g, { dtype: 'float64' });
            return p;
          });
          const total = optim.clipGradNorm(ps, maxNorm, normType);
          const after = optim.clipGradNorm(ps, Infinity, normType); // measures without clipping
          if (total + optim.CLIP_NORM_EPS <= maxNorm) {
            ps.forEach((p, i) => expect(Array.from(p.grad!.toTypedArray())).toEqual(gs[i]));
          } else {
            expect(after).toBeLessThanOrEqual(maxNorm * (1 + 1e-12));
          }
        },
      ),
      { numRuns: 100 },
    );
  });
});
