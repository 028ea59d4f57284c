/**
 * Tests of clipGradNorm / clipGradValue beyond the golden cases: the ∞-norm, other p-norms,
 * parameters without gradients, non-finite norms and argument checks. Expected values are
 * worked out by hand in the comments.
 */
import { describe, expect, it } from 'vitest';
import { tensor, type Tensor } from '../../src/index.js';
import * as optim from '../../src/optim/index.js';
import { errorOf, expectClose, expectEqual } from '../helpers.js';

/** A float64 parameter with its .grad set to `grad`. */
function withGrad(grad: number[] | null): Tensor {
  const p = tensor(grad ? grad.map(() => 0) : [0], { dtype: 'float64', requiresGrad: true });
  p.grad = grad ? tensor(grad, { dtype: 'float64' }) : null;
  return p;
}
const gradOf = (p: Tensor): number[] => Array.from(p.grad!.toTypedArray());

describe('clipGradNorm', () => {
  it('norm 2 over all gradients together', () => {
    // ‖(3, 4, 12)‖₂ = 13 → scale by 1/(13 + 1e-6)
    const a = withGrad([3, 4]);
    const b = withGrad([12]);
    const total = optim.clipGradNorm([a, b], 1);
    expect(total).toBe(13);
    const coef = 1 / (13 + 1e-6);
    expect(gradOf(a)).toEqual([3 * coef, 4 * coef]);
    expect(gradOf(b)).toEqual([12 * coef]);
  });

  it('Infinity: the largest |g| of all, and scaling when it is above maxNorm', () => {
    // max |g| = 5 (in the second tensor) → coef = 2/(5 + 1e-6)
    const a = withGrad([1, -3]);
    const b = withGrad([-5, 4]);
    expect(optim.clipGradNorm([a, b], 2, Infinity)).toBe(5);
    const coef = 2 / (5 + 1e-6);
    expect(gradOf(a)).toEqual([1 * coef, -3 * coef]);
    expect(gradOf(b)).toEqual([-5 * coef, 4 * coef]);
    expectClose(Math.max(...gradOf(a).map(Math.abs), ...gradOf(b).map(Math.abs)), 2, { rtol: 1e-6 });
  });

  it('Infinity below maxNorm leaves the gradients untouched', () => {
    const a = withGrad([1, -3]);
    const before = a.grad!;
    expect(optim.clipGradNorm([a], 3.5, Infinity)).toBe(3);
    expect(a.grad).toBe(before);
    expect(gradOf(a)).toEqual([1, -3]);
  });

  it('norm 1 and norm 3', () => {
    // ‖(1, −2, 3)‖₁ = 6
    expect(optim.clipGradNorm([withGrad([1, -2]), withGrad([3])], 100, 1)).toBe(6);
    // ‖(1, −2, 3)‖₃ = (1 + 8 + 27)^(1/3) = 36^(1/3)
    const a = withGrad([1, -2]);
    const b = withGrad([3]);
    const total = optim.clipGradNorm([a, b], 1, 3);
    expectClose(total, Math.cbrt(36), { rtol: 1e-14 });
    const coef = 1 / (total + 1e-6);
    expectClose(gradOf(a), [coef, -2 * coef], { rtol: 1e-15 });
  });

  it('ignores parameters without a gradient, returns 0 when none has one, accepts a single tensor', () => {
    const a = withGrad([3, 4]);
    const none = withGrad(null);
    expect(optim.clipGradNorm([none, a, none], 10)).toBe(5);
    expect(none.grad).toBeNull();
    expect(optim.clipGradNorm([withGrad(null)], 1)).toBe(0);
    expect(optim.clipGradNorm(withGrad([6, 8]), 100)).toBe(10);
  });

  it('leaves gradients exactly as they were when the norm is below maxNorm (the golden no-clip case, exactly)', () => {
    const a = withGrad([0.1, 0.2, -0.3]);
    const copy = a.grad!.clone();
    optim.clipGradNorm([a], 1);
    expectEqual(a.grad!, copy);
  });

  it('non-finite norms: scaled as PyTorch does, or an error with errorIfNonfinite', () => {
    const nan = withGrad([NaN, 1]);
    expect(optim.clipGradNorm([nan], 1)).toBeNaN();
    expect(gradOf(nan).every(Number.isNaN)).toBe(true); // min(NaN, 1) = NaN scales everything
    const inf = withGrad([Infinity, 1]);
    expect(optim.clipGradNorm([inf], 1)).toBe(Infinity);
    expect(gradOf(inf)).toEqual([NaN, 0]); // coef = 1/∞ = 0; ∞·0 = NaN
    const inf2 = withGrad([Infinity, 1]);
    expect(errorOf(() => optim.clipGradNorm([inf2], 1, 2, { errorIfNonfinite: true }))).toMatch(
      /^clipGradNorm: the total norm of order 2 for gradients from 1 parameters is Infinity, so the gradients cannot be clipped/,
    );
    expect(gradOf(inf2)).toEqual([Infinity, 1]); // untouched
    expect(optim.clipGradNorm([withGrad([3, 4])], 1, 2, { errorIfNonfinite: true })).toBe(5);
  });

  it('validates its arguments', () => {
    const a = withGrad([1]);
    expect(errorOf(() => optim.clipGradNorm([a], -1))).toBe('clipGradNorm: invalid maxNorm: expected a number ≥ 0 (or Infinity), got -1');
    expect(errorOf(() => optim.clipGradNorm([a], NaN))).toBe('clipGradNorm: invalid maxNorm: expected a number ≥ 0 (or Infinity), got NaN');
    expect(errorOf(() => optim.clipGradNorm([a], 1, 0))).toBe('clipGradNorm: invalid normType: expected a number > 0 (or Infinity), got 0');
    expect(errorOf(() => optim.clipGradNorm([a], 1, -Infinity))).toBe('clipGradNorm: invalid normType: expected a number > 0 (or Infinity), got -Infinity');
    expect(errorOf(() => optim.clipGradNorm([a], 1, 'inf' as never))).toBe('clipGradNorm: invalid normType: expected a number > 0 (or Infinity), got "inf"');
    expect(errorOf(() => optim.clipGradNorm(5 as never, 1))).toBe('clipGradNorm: invalid params: expected a Tensor or an iterable of Tensors, got 5');
    expect(errorOf(() => optim.clipGradNorm([a, 'w'] as never, 1))).toBe('clipGradNorm: invalid params[1]: expected a Tensor, got "w"');
    expect(errorOf(() => optim.clipGradNorm([a], 1, 2, { errorIfNonFinite: true } as never))).toMatch(/^clipGradNorm: unknown option 'errorIfNonFinite'/);
  });
});

describe('clipGradValue', () => {
  it('clamps every element into [−clipValue, clipValue] and skips null grads', () => {
    const a = withGrad([0.5, -2, 3]);
    const none = withGrad(null);
    optim.clipGradValue([a, none], 1);
    expect(gradOf(a)).toEqual([0.5, -1, 1]);
    expect(none.grad).toBeNull();
  });

  it('validates clipValue', () => {
    expect(errorOf(() => optim.clipGradValue([withGrad([1])], -0.5))).toBe('clipGradValue: invalid clipValue: expected a number ≥ 0 (or Infinity), got -0.5');
  });
});
