/**
 * Fused CPU kernels: one pass over contiguous rows instead of a chain of elementwise kernels.
 * Each has a composite twin built from differentiable ops (nn/functional.ts), and a property
 * test asserts that both agree in value and gradient (test/nn/fused.test.ts).
 *
 * Layer normalisation over rows of length n (Ba et al. 2016), statistics in float64:
 *   μ = Σx/n,  σ² = Σ(x − μ)²/n (two-pass),  r = 1/√(σ² + ε),  x̂ = (x − μ)·r,  y = x̂·w + b
 * and its backward, with ĝ = g·w:
 *   ∂L/∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ∂L/∂w = Σ_rows g·x̂,  ∂L/∂b = Σ_rows g
 */
import type { DType, TypedArray } from '../../tensor/dtype.js';
import { cpuPool } from './pool.js';

export interface LayerNormForward {
  y: TypedArray;
  /** per row, float64 */
  mean: Float64Array;
  rstd: Float64Array;
}

export function layerNormForward(x: TypedArray, n: number, w: TypedArray | null, b: TypedArray | null, eps: number, dtype: DType): LayerNormForward {
  const rows = n === 0 ? 0 : x.length / n;
  const y = cpuPool.alloc(dtype, x.length, false);
  const mean = new Float64Array(rows);
  const rstd = new Float64Array(rows);
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let s = 0;
    for (let i = 0; i < n; i++) s += x[o + i]!;
    const mu = s / n;
    let v = 0;
    for (let i = 0; i < n; i++) {
      const d = x[o + i]! - mu;
      v += d * d;
    }
    const rs = 1 / Math.sqrt(v / n + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let i = 0; i < n; i++) {
      let t = (x[o + i]! - mu) * rs;
      if (w) t *= w[i]!;
      if (b) t += b[i]!;
      y[o + i] = t;
    }
  }
  return { y, mean, rstd };
}

export function layerNormBackward(
  g: TypedArray, x: TypedArray, mean: Float64Array, rstd: Float64Array, w: TypedArray | null, n: number, dtype: DType,
  needs: { x: boolean; w: boolean; b: boolean },
): { dx: TypedArray | null; dw: TypedArray | null; db: TypedArray | null } {
  const rows = mean.length;
  const dx = needs.x ? cpuPool.alloc(dtype, x.length, false) : null;
  const dw64 = needs.w ? new Float64Array(n) : null;
  const db64 = needs.b ? new Float64Array(n) : null;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const mu = mean[r]!, rs = rstd[r]!;
    let sg = 0, sgx = 0;
    for (let i = 0; i < n; i++) {
      const xh = (x[o + i]! - mu) * rs;
      const gi = g[o + i]!;
      const gw = w ? gi * w[i]! : gi;
      sg += gw;
      sgx += gw * xh;
      if (dw64) dw64[i]! += gi * xh;
      if (db64) db64[i]! += gi;
    }
    if (dx) {
      const mg = sg / n, mgx = sgx / n;
      for (let i = 0; i < n; i++) {
        const xh = (x[o + i]! - mu) * rs;
        const gw = w ? g[o + i]! * w[i]! : g[o + i]!;
        dx[o + i] = rs * (gw - mg - xh * mgx);
      }
    }
  }
  const cast = (a: Float64Array | null) => {
    if (!a) return null;
    const out = cpuPool.alloc(dtype, a.length, false);
    out.set(a);
    return out;
  };
  return { dx, dw: cast(dw64), db: cast(db64) };
}
