/**
 * The float32-accurate exp and erf of the CPU's float32 kernels (src/backends/cpu/math32.ts)
 * against the float64 functions (Math.exp; fdlibm erf, itself tested against libm in
 * test/tensor/erf.test.ts), compared after rounding both to float32 as the kernels store them.
 */
import { describe, expect, it } from 'vitest';

import { erf } from '../../src/backends/erf.js';
import { erf32, exp32 } from '../../src/backends/cpu/math32.js';
import { exp, fromTypedArray, gelu } from '../../src/index.js';

const f32 = (x: number) => Math.fround(x);
/** The spacing of float32 numbers at |x| (the smallest subnormal below 2⁻¹²⁶). */
const ulp32 = (x: number) => (Math.abs(x) < 2 ** -126 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(f32(x)))) - 23));

describe('exp32', () => {
  it('is within 1 float32 ulp of the correctly rounded eˣ on a dense grid of [−104, 89]', () => {
    let worst = 0, at = 0;
    for (let i = -1_040_000; i <= 890_000; i += 7) {
      const x = i / 10_000;
      const ref = f32(Math.exp(x));
      if (ref === 0 || ref === Infinity) continue;
      const d = Math.abs(f32(exp32(x)) - ref) / ulp32(ref);
      if (d > worst) { worst = d; at = x; }
    }
    expect(worst, `worst at x = ${at}`).toBeLessThanOrEqual(1);
  });

  it('handles the edges: ±∞, NaN, overflow, underflow, 0', () => {
    expect(exp32(0)).toBe(1);
    expect(exp32(-Infinity)).toBe(0);
    expect(exp32(Infinity)).toBe(Infinity);
    expect(exp32(NaN)).toBeNaN();
    expect(f32(exp32(89))).toBe(Infinity);
    expect(exp32(-200)).toBe(0);
    expect(f32(exp32(-100))).toBe(f32(Math.exp(-100))); // a subnormal float32
  });
});

describe('erf32', () => {
  it('is within 2⁻²³ of erf on a dense grid of [−8, 8], odd, and exactly ±1 in the tails', () => {
    let worst = 0, at = 0;
    for (let i = -800_000; i <= 800_000; i += 3) {
      const x = i / 100_000;
      const d = Math.abs(f32(erf32(x)) - f32(erf(x)));
      if (d > worst) { worst = d; at = x; }
      expect(erf32(-x)).toBe(-erf32(x));
    }
    expect(worst, `worst at x = ${at}`).toBeLessThanOrEqual(2 ** -23);
    expect(erf32(Infinity)).toBe(1);
    expect(erf32(-Infinity)).toBe(-1);
    expect(erf32(NaN)).toBeNaN();
    expect(Object.is(erf32(-0), -0)).toBe(true);
  });
});

describe('float32 kernels use them, float64 kernels do not', () => {
  const xs = Array.from({ length: 2001 }, (_, i) => (i - 1000) / 100);
  // gelu(x) = ½x(1 + erf(x/√2)) inherits erf32's absolute error 2⁻²³ as |x|·2⁻²⁴ (in the far
  // negative tail 1 + erf cancels — as in PyTorch's float32 CPU kernel)
  it('exp and gelu in float32 agree with the float64 results rounded, to float32 accuracy', () => {
    const x32 = fromTypedArray(Float32Array.from(xs), [xs.length]);
    const x64 = fromTypedArray(Float64Array.from(xs.map(f32)), [xs.length]);
    for (const [name, fn] of [['exp', exp], ['gelu', gelu]] as const) {
      const a = fn(x32).toTypedArray(), b = fn(x64).toTypedArray();
      for (let i = 0; i < xs.length; i++) {
        const ref = f32(b[i]!);
        expect(Math.abs(a[i]! - ref), `${name}(${xs[i]})`).toBeLessThanOrEqual(2 * ulp32(ref) + (name === 'gelu' ? Math.abs(xs[i]!) * 2 ** -24 : 0));
      }
    }
  });
  it('float64 kernels keep the float64 libm (exp bit-equal to Math.exp)', () => {
    const x = fromTypedArray(Float64Array.from(xs), [xs.length]);
    const e = exp(x).toTypedArray();
    for (let i = 0; i < xs.length; i++) expect(e[i]).toBe(Math.exp(xs[i]!));
  });
});
