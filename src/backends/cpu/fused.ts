/**
 * Fused CPU kernels: one pass over contiguous rows instead of a chain of elementwise kernels.
 * Each has a composite twin built from differentiable ops (nn/functional.ts), and a property
 * test asserts that both agree in value and gradient (test/nn/fused.test.ts).
 *
 * Softmax and logSoftmax over rows (see softmaxForward / softmaxBackward below).
 *
 * Layer normalisation over rows of length n (Ba et al. 2016), statistics in float64:
 *   μ = Σx/n,  σ² = Σ(x − μ)²/n (two-pass),  r = 1/√(σ² + ε),  x̂ = (x − μ)·r,  y = x̂·w + b
 * and its backward, with ĝ = g·w:
 *   ∂L/∂x = r·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)),  ∂L/∂w = Σ_rows g·x̂,  ∂L/∂b = Σ_rows g
 */
import type { DType, TypedArray } from '../../core/dtype.js';
import { cpuPool } from './pool.js';
import { layerNormBackwardWasm, layerNormForwardWasm, softmaxBackwardWasm, softmaxForwardWasm } from './elementwise.js';

/** Inputs at least this long (float32, with weight) run the wasm SIMD kernels on both threads. */
const WASM_MIN = 16384;

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
  // large float32 inputs with weight and bias: the same formulas in wasm SIMD on both threads
  if (x.length >= WASM_MIN && x instanceof Float32Array && w instanceof Float32Array && b instanceof Float32Array &&
    layerNormForwardWasm(x, n, w, b, eps, y as Float32Array, mean, rstd)) return { y, mean, rstd };
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    // sums as (Σ over even i) + (Σ over odd i), the wasm kernel's two lanes: the same bits from
    // both, whichever the input's size picks (a text alone and in a batch get the same answer)
    let s0 = 0, s1 = 0;
    for (let i = 0; i < n; i++) {
      if ((i & 1) === 0) s0 += x[o + i]!;
      else s1 += x[o + i]!;
    }
    const mu = (s0 + s1) / n;
    let v0 = 0, v1 = 0;
    for (let i = 0; i < n; i++) {
      const d = x[o + i]! - mu;
      if ((i & 1) === 0) v0 += d * d;
      else v1 += d * d;
    }
    const rs = 1 / Math.sqrt((v0 + v1) / n + eps);
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
  const cast = (a: Float64Array | null) => {
    if (!a) return null;
    const out = cpuPool.alloc(dtype, a.length, false);
    out.set(a);
    return out;
  };
  if (dx && x.length >= WASM_MIN && x instanceof Float32Array && g instanceof Float32Array && w instanceof Float32Array &&
    layerNormBackwardWasm(g, x, mean, rstd, w, n, dx as Float32Array, dw64, db64)) return { dx, dw: cast(dw64), db: cast(db64) };
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
  return { dx, dw: cast(dw64), db: cast(db64) };
}

let rowScratch = new Float64Array(256);
function scratchRow(n: number): Float64Array {
  if (rowScratch.length < n) rowScratch = new Float64Array(n);
  return rowScratch;
}

/**
 * Softmax over contiguous rows of length n, one row at a time (max, Σ exp, scale), with the
 * logits, exponentials and sum held in float64 and each output rounded once:
 *   zᵢ = scale·xᵢ (+ maskᵢ)   (attention: scale = 1/√d_k, mask additive; else 1 and none)
 *   softmax:    yᵢ = e^(zᵢ−m) / Σⱼ e^(zⱼ−m)
 *   logSoftmax: yᵢ = (zᵢ − m) − ln Σⱼ e^(zⱼ−m)
 * with m = maxⱼ zⱼ (NaN propagates; a row of −∞ gives NaN, as the composite and PyTorch do).
 * The mask row of row r starts at mask.rowOffsets[r] (broadcast rows share offsets).
 * `exp` is the kernel's exponential: Math.exp for float64, math32's exp32 for float32.
 */
export function softmaxForward(
  x: TypedArray, n: number, log: boolean, dtype: DType, exp: (v: number) => number,
  scale = 1, mask: { data: TypedArray; rowOffsets: Int32Array | number[]; stride: number } | null = null,
): TypedArray {
  const y = cpuPool.alloc(dtype, x.length, false);
  // large float32 softmax (not log): the same formulas in wasm SIMD on both threads
  if (!log && x.length >= WASM_MIN && x instanceof Float32Array && (mask === null || (mask.data instanceof Float32Array && mask.stride === 1)) &&
    softmaxForwardWasm(x, n, scale, mask as { data: Float32Array; rowOffsets: number[] } | null, y as Float32Array)) return y;
  const rows = n === 0 ? 0 : x.length / n;
  const e = scratchRow(n);
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    // the row's logits zᵢ = scale·xᵢ (+ maskᵢ), kept in float64
    if (mask === null) for (let i = 0; i < n; i++) e[i] = scale * x[o + i]!;
    else {
      const md = mask.data, mo = mask.rowOffsets[r]!, ms = mask.stride;
      for (let i = 0; i < n; i++) e[i] = scale * x[o + i]! + md[mo + i * ms]!;
    }
    let m = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = e[i]!;
      if (v > m || v !== v) m = v;
    }
    let s = 0;
    if (log) {
      for (let i = 0; i < n; i++) s += exp(e[i]! - m);
      const ls = Math.log(s);
      for (let i = 0; i < n; i++) y[o + i] = e[i]! - m - ls;
    } else {
      // Σe as (Σ over even i) + (Σ over odd i): the wasm kernel's two lanes, so that both kernels
      // give the same bits and a row's result does not depend on which one its batch's size picks
      let s0 = 0, s1 = 0;
      for (let i = 0; i < n; i++) {
        const t = exp(e[i]! - m);
        e[i] = t;
        if ((i & 1) === 0) s0 += t;
        else s1 += t;
      }
      s = s0 + s1;
      for (let i = 0; i < n; i++) y[o + i] = e[i]! / s;
    }
  }
  return y;
}

/**
 * The backward of softmaxForward for upstream g, from the saved output y (rows of length n):
 *   softmax:    ∂L/∂xᵢ = scale·yᵢ·(gᵢ − Σⱼ gⱼyⱼ)
 *   logSoftmax: ∂L/∂xᵢ = scale·(gᵢ − e^(yᵢ)·Σⱼ gⱼ)
 */
export function softmaxBackward(g: TypedArray, y: TypedArray, n: number, log: boolean, dtype: DType, exp: (v: number) => number, scale = 1): TypedArray {
  const dx = cpuPool.alloc(dtype, y.length, false);
  if (!log && y.length >= WASM_MIN && y instanceof Float32Array && g instanceof Float32Array && softmaxBackwardWasm(g, y, n, scale, dx as Float32Array)) return dx;
  const rows = n === 0 ? 0 : y.length / n;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let s = 0;
    if (log) {
      for (let i = 0; i < n; i++) s += g[o + i]!;
      for (let i = 0; i < n; i++) dx[o + i] = scale * (g[o + i]! - exp(y[o + i]!) * s);
    } else {
      for (let i = 0; i < n; i++) s += g[o + i]! * y[o + i]!;
      for (let i = 0; i < n; i++) dx[o + i] = scale * y[o + i]! * (g[o + i]! - s);
    }
  }
  return dx;
}

/**
 * Softmax cross-entropy over contiguous rows of length n (logits) with class-index targets
 * (int32, one per row; rows whose target is ignoreIndex contribute nothing), in one pass per row:
 *   ℓ_r = log Σⱼ e^(xⱼ−m) + m − x_{t_r}       (m = maxⱼ xⱼ)
 * returning the softmax probabilities p (kept for the backward), Σ_r ℓ_r over the valid rows
 * (float64) and their count. Backward, for upstream scale s (g, or g/count for a mean):
 *   ∂L/∂x_rj = s·(p_rj − [j = t_r]) on valid rows, 0 on ignored ones.
 */
export function crossEntropyForward(
  x: TypedArray, n: number, target: ArrayLike<number>, ignoreIndex: number, dtype: DType, exp: (v: number) => number,
): { probs: TypedArray; total: number; count: number } {
  const probs = cpuPool.alloc(dtype, x.length, false);
  const rows = n === 0 ? 0 : x.length / n;
  const e = scratchRow(n);
  let total = 0, count = 0;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    let m = -Infinity;
    for (let i = 0; i < n; i++) {
      const v = x[o + i]!;
      if (v > m || v !== v) m = v;
    }
    let s = 0;
    for (let i = 0; i < n; i++) s += e[i] = exp(x[o + i]! - m);
    for (let i = 0; i < n; i++) probs[o + i] = e[i]! / s;
    const t = target[r]!;
    if (t === ignoreIndex) continue;
    total += Math.log(s) + m - x[o + t]!;
    count++;
  }
  return { probs, total, count };
}

export function crossEntropyBackward(probs: TypedArray, n: number, target: ArrayLike<number>, ignoreIndex: number, scale: number, dtype: DType): TypedArray {
  const dx = cpuPool.alloc(dtype, probs.length, false);
  const rows = n === 0 ? 0 : probs.length / n;
  for (let r = 0, o = 0; r < rows; r++, o += n) {
    const t = target[r]!;
    if (t === ignoreIndex) {
      dx.fill(0, o, o + n);
      continue;
    }
    for (let i = 0; i < n; i++) dx[o + i] = scale * probs[o + i]!;
    dx[o + t] = scale * (probs[o + t]! - 1);
  }
  return dx;
}
