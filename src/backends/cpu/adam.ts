/**
 * The CPU backend's fused Adam/AdamW update (the optional contract kernel `adamStep`): one pass
 * over the typed arrays instead of ~12 tensor ops that each allocate a parameter-sized temporary.
 * It performs exactly the same operations in the same order as the composite path in
 * optim/adam.ts, rounding every intermediate to the parameter's dtype (Math.fround for float32)
 * and the scalars too, as the tensor ops do, so both paths give bit-identical results
 * (test/optim/fused.test.ts). Large float32 parameters run the same float32 operations in wasm
 * SIMD (elementwise.ts), again bit for bit.
 *
 *   θ ← θ·(1 − γλ)                         (AdamW only; factor = 1 otherwise)
 *   m ← β₁m + (1 − β₁)g
 *   v ← β₂v + ((1 − β₂)g)·g
 *   θ ← θ + (−γ/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)
 */
import type { AdamScalars } from '../contract.js';
import { adamStepWasm } from './elementwise.js';

/** Parameters at least this long take the wasm SIMD loop (bit-identical; below it the copies do not pay). */
const WASM_MIN = 4096;

type F = Float32Array | Float64Array;

/** The update in place on θ (p), m, v from g, each at its offset, n elements of one float dtype. */
export function adamStep(
  p: F, po: number, gr: F, go: number, m: F, mo: number, v: F, vo: number, n: number, float32: boolean, s: AdamScalars,
): void {
  // Two copies of one loop: float32 rounds every intermediate (Math.fround), float64 needs none.
  if (float32) {
    const f = Math.fround;
    const decay = f(s.decay), b1 = f(s.beta1), c1 = f(1 - s.beta1), b2 = f(s.beta2), c2 = f(1 - s.beta2);
    const negStep = f(-s.stepSize), bc2 = f(s.bc2Sqrt), eps = f(s.eps);
    // large parameters: the same float32 operations four lanes at a time in wasm SIMD
    if (n >= WASM_MIN && adamStepWasm(p as Float32Array, po, gr as Float32Array, go, m as Float32Array, mo, v as Float32Array, vo, n, { decay, b1, c1, b2, c2, negStep, bc2, eps })) return;
    for (let i = 0; i < n; i++) {
      const gi = gr[go + i]!;
      const pi = f(p[po + i]! * decay);
      const mi = f(f(m[mo + i]! * b1) + f(gi * c1));
      const vi = f(f(v[vo + i]! * b2) + f(f(gi * c2) * gi));
      m[mo + i] = mi;
      v[vo + i] = vi;
      p[po + i] = f(pi + f(f(mi * negStep) / f(f(f(Math.sqrt(vi)) / bc2) + eps)));
    }
  } else {
    const { decay, beta1: b1, beta2: b2, bc2Sqrt: bc2, eps } = s;
    const c1 = 1 - b1, c2 = 1 - b2, negStep = -s.stepSize;
    for (let i = 0; i < n; i++) {
      const gi = gr[go + i]!;
      const pi = p[po + i]! * decay;
      const mi = m[mo + i]! * b1 + gi * c1;
      const vi = v[vo + i]! * b2 + gi * c2 * gi;
      m[mo + i] = mi;
      v[vo + i] = vi;
      p[po + i] = pi + (mi * negStep) / (Math.sqrt(vi) / bc2 + eps);
    }
  }
}
