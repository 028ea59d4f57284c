/**
 * A fused CPU kernel for the Adam/AdamW update: one pass over the typed arrays instead of ~12
 * tensor ops that each allocate a parameter-sized temporary. It performs exactly the same
 * operations in the same order as the composite path in adam.ts, rounding every intermediate
 * to the parameter's dtype (Math.fround for float32) and the scalars too, as the tensor ops do,
 * so both paths give bit-identical results (test/optim/fused.test.ts). Large float32 parameters
 * run the same float32 operations in wasm SIMD (cpu/elementwise.ts), again bit for bit.
 *
 *   θ ← θ·(1 − γλ)                         (AdamW only; factor = 1 otherwise)
 *   m ← β₁m + (1 − β₁)g
 *   v ← β₂v + ((1 − β₂)g)·g
 *   θ ← θ + (−γ/(1−β₁ᵗ))·m / (√v/√(1−β₂ᵗ) + ε)
 */
import { adamStepWasm } from '../backends/cpu/elementwise.js';
import { CpuStorage } from '../backends/cpu/index.js';

/** Parameters at least this long take the wasm SIMD loop (bit-identical; below it the copies do not pay). */
const WASM_MIN = 4096;
import type { Tensor } from '../tensor/tensor.js';
import { bumpVersion } from '../autograd/version.js';

let enabled = true;

/** Turns the fused path on or off (tests compare both paths). */
export function setFusedOptimizers(on: boolean): void {
  enabled = on;
}

function cpuArray(t: Tensor): Float32Array | Float64Array | null {
  if (!(t.storage instanceof CpuStorage) || !t.isContiguous()) return null;
  const d = t.storage.data;
  return d instanceof Float32Array || d instanceof Float64Array ? d : null;
}

/**
 * Runs the fused update when every tensor is a contiguous CPU float tensor of one dtype;
 * returns false (doing nothing) otherwise, so the caller takes the composite path.
 */
export function fusedAdamStep(
  param: Tensor, g: Tensor, expAvg: Tensor, expAvgSq: Tensor,
  s: { decay: number; beta1: number; beta2: number; stepSize: number; bc2Sqrt: number; eps: number },
): boolean {
  if (!enabled) return false;
  const p = cpuArray(param), gr = cpuArray(g), m = cpuArray(expAvg), v = cpuArray(expAvgSq);
  if (!p || !gr || !m || !v) return false;
  const dt = param.dtype;
  if (g.dtype !== dt || expAvg.dtype !== dt || expAvgSq.dtype !== dt) return false;
  const po = param.offset, go = g.offset, mo = expAvg.offset, vo = expAvgSq.offset;
  const n = param.numel();
  // Two copies of one loop: float32 rounds every intermediate (Math.fround), float64 needs none.
  if (dt === 'float32') {
    const f = Math.fround;
    const decay = f(s.decay), b1 = f(s.beta1), c1 = f(1 - s.beta1), b2 = f(s.beta2), c2 = f(1 - s.beta2);
    const negStep = f(-s.stepSize), bc2 = f(s.bc2Sqrt), eps = f(s.eps);
    // large parameters: the same float32 operations four lanes at a time in wasm SIMD
    if (n >= WASM_MIN && adamStepWasm(p as Float32Array, po, gr as Float32Array, go, m as Float32Array, mo, v as Float32Array, vo, n, { decay, b1, c1, b2, c2, negStep, bc2, eps })) {
      for (const t of [param, expAvg, expAvgSq]) bumpVersion(t.storage); // written in place (autograd/version.ts)
      return true;
    }
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
  for (const t of [param, expAvg, expAvgSq]) bumpVersion(t.storage); // written in place (autograd/version.ts)
  return true;
}
