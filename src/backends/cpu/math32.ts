/**
 * Float32-accurate replacements for the two slow transcendental functions of the hot kernels.
 *
 * V8's Math.exp and our fdlibm erf (../erf.ts) are accurate to ~1 ulp of *float64*, which
 * costs 7–25 ns per element on a 2-core EPYC — GELU's forward and backward alone were 20 % of
 * a BERT training step. A float32 result needs only ~24 bits, so the CPU kernels whose output
 * (and inputs) are float32 call these instead (cpu/index.ts picks per dtype); float64 kernels
 * — gradient checks, golden tests — keep the float64 libm. This is what PyTorch's vectorised
 * float32 CPU kernels do too (SLEEF's 1-ulp `expf`/`erff`).
 *
 * Both are evaluated in float64 arithmetic and rounded once on store, and are tested against
 * the float64 functions over dense grids (test/backends/math32.test.ts): after rounding to
 * float32, exp32 is within 1 ulp of the correctly rounded eˣ and erf32 within 2⁻²³ of erf.
 */

/** 2^k for k = −160 … 130, so that exp32 scales by a table lookup instead of bit tricks. */
const POW2_MIN = -160;
const POW2 = new Float64Array(291);
for (let k = 0; k < POW2.length; k++) POW2[k] = Math.pow(2, k + POW2_MIN);

/**
 * eˣ to float32 accuracy: x = k·ln2 + r with k = round(x/ln2), |r| ≤ ln2/2, then
 * eˣ = 2ᵏ·eʳ with eʳ from its Taylor polynomial of degree 7 (truncation r⁸/8! ≤ 5.3e−9
 * relative, a tenth of a float32 ulp).
 */
export function exp32(x: number): number {
  if (!(x > -110)) return x !== x ? NaN : 0; // below the smallest float32 subnormal (−103.97)
  if (x > 89) return Infinity; // above ln(FLT_MAX) = 88.72
  // (literal constants and floor(t + ½) keep this inlinable and fast in V8; Math.round is slower)
  const k = Math.floor(x * 1.4426950408889634 + 0.5); // round(x/ln2)
  const r = x - k * 0.6931471805599453; // |r| ≤ ln2/2
  const p = 1 + r * (1 + r * (0.5 + r * (0.16666666666666666 + r * (0.041666666666666664 + r * (0.008333333333333333 +
    r * (0.001388888888888889 + r * 0.0001984126984126984))))));
  return p * POW2[(k | 0) - POW2_MIN]!;
}

/**
 * erf(x) to float32 accuracy, without branches or exp: the odd/even rational minimax
 * approximation erf(x) ≈ x·P(x²)/Q(x²) on [−4, 4] (erf(±4) rounds to ±1 in float32) used by
 * Eigen's `generic_fast_erf_float` and XLA's `ErfImpl32`.
 */
export function erf32(a: number): number {
  if (a !== a) return NaN;
  const x = a > 4 ? 4 : a < -4 ? -4 : a;
  const z = x * x;
  const p = x * (-1.60960333262415e-2 + z * (-2.95459980854025e-3 + z * (-7.34990630326855e-4 + z * (-5.69250639462346e-5 +
    z * (-2.10102402082508e-6 + z * (2.77068142495902e-8 + z * -2.72614225801306e-10))))));
  const q = -1.42647390514189e-2 + z * (-7.37332916720468e-3 + z * (-1.68282697438203e-3 + z * (-2.13374055278905e-4 + z * -1.45660718464996e-5)));
  const r = p / q;
  return r > 1 ? 1 : r < -1 ? -1 : r; // the approximation overshoots ±1 by 5e−8 near ±4
}
