/**
 * Fused kernels equal their composite twins in value and gradient:
 * nn.functional.layerNorm (fused CPU kernel, hand-written backward) vs the same function built
 * from differentiable ops (`composite: true`); softmax / logSoftmax over the last dim (fused
 * row kernels) vs the same over a transposed dim (the composite path).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { scaledMaskedSoftmax } from '../../src/autograd/ops.js';
import { F, fromTypedArray, Generator, logSoftmax, softmax, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';

function run(shape: number[], k: number, affine: boolean, eps: number, dtype: 'float32' | 'float64', seed: number, composite: boolean) {
  const gen = new Generator(seed);
  const mk = (s: number[], scale = 1, shift = 0) => fromTypedArray(Float64Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => shift + scale * gen.normal()), s, { dtype }).requiresGrad_();
  const ns = shape.slice(shape.length - k);
  const x = mk(shape, 2, seed % 3 === 0 ? 100 : 0); // some rows with a large mean
  const w = affine ? mk(ns) : null;
  const b = affine ? mk(ns) : null;
  const y = F.layerNorm(x, ns, { weight: w, bias: b, eps, composite });
  const gy = fromTypedArray(Float64Array.from({ length: y.numel() }, () => gen.normal()), [...y.shape], { dtype });
  y.mul(gy).sum().backward();
  const grads = [x, w, b].filter((t): t is Tensor => t !== null).map((t) => t.grad!);
  return { y, grads };
}

describe('fused layerNorm == composite layerNorm', () => {
  it('values and gradients (float64 to 1e-9; float32 to float32 rounding)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 3 }), fc.integer({ min: 1, max: 2 }), fc.boolean(),
        fc.constantFrom(1e-12, 1e-5), fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), fc.nat(1000),
        (shape, k, affine, eps, dtype, seed) => {
          const kk = Math.min(k, shape.length);
          // rows of 2 are degenerate: x̂ = ±1 whatever x, so ∂y/∂x ≡ 0 and only rounding noise
          // (amplified by 1/σ) remains — float32 noise of the two paths is then incomparable
          fc.pre(shape.slice(shape.length - kk).reduce((a, b) => a * b, 1) >= 3);
          const f = run(shape, kk, affine, eps, dtype, seed, false);
          const c = run(shape, kk, affine, eps, dtype, seed, true);
          // float32: the composite rounds every intermediate to float32 (the fused kernel keeps
          // float64 statistics), so allow float32 rounding scaled by the largest magnitude
          const tolFor = (t: Tensor) => {
            const m = Math.max(1, ...Array.from(t.toTypedArray(), Math.abs));
            return dtype === 'float64' ? { rtol: 1e-9, atol: 1e-9 * m } : { rtol: 2e-3, atol: 5e-3 * m };
          };
          expectClose(f.y, c.y, { ...tolFor(c.y), what: 'forward' });
          f.grads.forEach((g, i) => expectClose(g, c.grads[i]!, { ...tolFor(c.grads[i]!), what: `gradient of input ${i}` }));
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 60) },
    );
  });
});

describe('fused softmax / logSoftmax == composite', () => {
  it('values and gradients, incl. ±∞ and large entries (float64 to 1e-12; float32 to a few ulp)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 9 }), fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
        fc.boolean(), fc.nat(1000),
        (rows, n, dtype, isLog, seed) => {
          const gen = new Generator(seed);
          const vals = Float64Array.from({ length: rows * n }, () => (seed % 4 === 0 ? 300 : 3) * gen.normal());
          if (seed % 5 === 0) vals[0] = -Infinity; // a masked-out position, as attention masks make
          const gvals = Float64Array.from({ length: rows * n }, () => gen.normal());
          const fn = isLog ? logSoftmax : softmax;
          const runOne = (fused: boolean) => {
            const x = fromTypedArray(vals, [rows, n], { dtype }).requiresGrad_();
            // the composite runs when the dim is not the last one: softmax over dim 0 of xᵀ
            const y = fused ? fn(x, -1) : fn(x.transpose(0, 1), 0).transpose(0, 1);
            y.mul(fromTypedArray(gvals, [rows, n], { dtype })).sum().backward();
            return { y, g: x.grad! };
          };
          const f = runOne(true), c = runOne(false);
          const tol = dtype === 'float64' ? { rtol: 1e-12, atol: 1e-12 } : { rtol: 1e-5, atol: 1e-6 };
          const scale = (t: Tensor) => Math.max(1, ...Array.from(t.toTypedArray(), (v) => (Number.isFinite(v) ? Math.abs(v) : 0)));
          expectClose(f.y, c.y, { rtol: tol.rtol, atol: tol.atol * scale(c.y), what: 'forward' });
          expectClose(f.g, c.g, { rtol: tol.rtol, atol: tol.atol * scale(c.g) * (dtype === 'float32' ? 10 : 1), what: 'gradient' });
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 80) },
    );
  });
});

describe('fused scaledMaskedSoftmax == x·scale + mask, then softmax', () => {
  it('values and gradients with broadcast additive masks (HF extended mask, −10000 and −∞)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 7 }),
        fc.constantFrom<'float32' | 'float64'>('float32', 'float64'), fc.constantFrom('none', 'ext', 'full'), fc.nat(1000),
        (B, H, T, dtype, maskKind, seed) => {
          const gen = new Generator(seed);
          const scale = 1 / Math.sqrt(1 + (seed % 64));
          const xv = Float64Array.from({ length: B * H * T * T }, () => 4 * gen.normal());
          const gv = Float64Array.from({ length: B * H * T * T }, () => gen.normal());
          const maskShape = maskKind === 'ext' ? [B, 1, 1, T] : [B, H, T, T];
          const mv = Float64Array.from({ length: maskShape.reduce((a, b) => a * b, 1) }, (_, i) => (i % 3 === 2 ? (seed % 2 ? -10000 : -Infinity) : 0));
          if (maskKind !== 'none') fc.pre(Array.from(mv.subarray(0, T)).some((v) => v === 0)); // a row that is not all masked
          const mask = maskKind === 'none' ? null : fromTypedArray(mv, maskShape, { dtype });
          const runOne = (fused: boolean) => {
            const x = fromTypedArray(xv, [B, H, T, T], { dtype }).requiresGrad_();
            let y: Tensor;
            if (fused) y = scaledMaskedSoftmax(x, scale, mask);
            else {
              let z = x.mul(scale);
              if (mask) z = z.add(mask);
              y = z.transpose(-1, -2).softmax(-2).transpose(-1, -2); // the composite path
            }
            y.mul(fromTypedArray(gv, [B, H, T, T], { dtype })).sum().backward();
            return { y, g: x.grad! };
          };
          const f = runOne(true), c = runOne(false);
          const tol = dtype === 'float64' ? 1e-12 : 2e-6;
          expectClose(f.y, c.y, { rtol: tol, atol: tol, what: 'forward' });
          expectClose(f.g, c.g, { rtol: tol * 10, atol: tol * 10, what: 'gradient' });
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 80) },
    );
  });

  it('rejects a mask that does not broadcast to the scores', () => {
    const x = fromTypedArray(new Float64Array(8), [2, 4]);
    const m = fromTypedArray(new Float64Array(3), [3]);
    expect(() => scaledMaskedSoftmax(x, 1, m)).toThrow('scaledMaskedSoftmax');
  });
});

describe('fused crossEntropy == logSoftmax then nllLoss', () => {
  it('values and gradients (ignored rows, mean and sum, large logits; float64 to 1e-12, float32 to 1e-5)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom<'float32' | 'float64'>('float32', 'float64'),
        fc.constantFrom<'mean' | 'sum'>('mean', 'sum'), fc.nat(1000),
        (N, C, dtype, reduction, seed) => {
          const gen = new Generator(seed);
          const xv = Float64Array.from({ length: N * C }, () => (seed % 3 === 0 ? 200 : 3) * gen.normal());
          const tv = Int32Array.from({ length: N }, (_, i) => ((seed + i) % 5 === 0 ? -100 : (seed * 7 + i * 3) % C));
          fc.pre(reduction === 'sum' || tv.some((v) => v !== -100));
          const runOne = (fused: boolean) => {
            const x = fromTypedArray(xv, [N, C], { dtype }).requiresGrad_();
            const t = fromTypedArray(tv, [N]);
            const loss = fused ? F.crossEntropy(x, t, { reduction }) : F.nllLoss(x.logSoftmax(1), t, { reduction });
            loss.mul(1.7).backward();
            return { loss, g: x.grad! };
          };
          const f = runOne(true), c = runOne(false);
          const tol = dtype === 'float64' ? 1e-12 : 1e-5;
          expectClose(f.loss, c.loss, { rtol: tol, atol: tol, what: 'loss' });
          expectClose(f.g, c.g, { rtol: tol, atol: tol, what: 'gradient' });
          expect(f.loss.gradFn?.opName).toBe('crossEntropyFused');
        },
      ),
      { numRuns: Number(process.env.PROP_RUNS ?? 80) },
    );
  });

  it('a mean over only ignored rows is NaN, out-of-range targets are refused', () => {
    const x = fromTypedArray(new Float64Array(6), [2, 3]);
    expect(F.crossEntropy(x, fromTypedArray(Int32Array.from([-100, -100]), [2])).item()).toBeNaN();
    expect(() => F.crossEntropy(x, fromTypedArray(Int32Array.from([0, 3]), [2]))).toThrow('target 3 is out of bounds at position [1]: expected a class index in [0, 3) or ignoreIndex -100');
  });
});
