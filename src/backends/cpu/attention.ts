/**
 * Fused scaled dot-product attention on the CPU: softmax(Q·Kᵀ·scale + M)·V per batch-head in one
 * kernel, with the *online softmax* of Milakov & Gimelshein ("Online normalizer calculation for
 * softmax", 2018) and the tiling of FlashAttention (Dao et al., "FlashAttention: Fast and
 * Memory-Efficient Exact Attention with IO-Awareness", NeurIPS 2022; the backward of
 * FlashAttention-2, Dao 2023, Alg. 2). The L×S score matrix is never materialised: a query block
 * of BR rows meets the keys BC at a time, so the extra memory is O(BR·BC) per call and O(1) per
 * row (its running max, sum and log-sum-exp) — O(S) per row instead of O(S²) per head.
 *
 * Forward, for each query row i (scale s, mask m, causal keep j ≤ offset + i):
 *
 *   for each key block J:   x_ij = s·(q_i·k_j) + m_ij        (−∞ where masked)
 *     mᵢ' = max(mᵢ, max_j x_ij),  c = e^(mᵢ − mᵢ'),  p_ij = e^(x_ij − mᵢ')
 *     ℓᵢ ← c·ℓᵢ + Σ_j p_ij,   oᵢ ← c·oᵢ + Σ_j p_ij·v_j,   mᵢ ← mᵢ'
 *   oᵢ ← oᵢ/ℓᵢ,   lseᵢ = mᵢ + ln ℓᵢ  (saved for the backward)
 *
 * A row whose every key is masked (mᵢ = −∞ at the end) gets oᵢ = 0 and lseᵢ = −∞: the zero
 * output and zero gradients of PyTorch ≥ 2.5's safe softmax, as the composite SDPA (nn/functional.ts).
 *
 * Backward (recomputing P from the saved lse instead of storing it), Dᵢ = Σ_e dOᵢₑ·Oᵢₑ:
 *
 *   p_ij = e^(x_ij − lseᵢ)   (0 in a dead row)
 *   dV_J += Pᵀ·dO_I,   dP = dO_I·V_Jᵀ,   dS_ij = s·p_ij·(dP_ij − Dᵢ)
 *   dQ_I += dS·K_J,    dK_J += dSᵀ·Q_I
 *
 * The block products run on `gemm` (matmul.ts: the wasm SIMD kernel, with its threads for large
 * blocks); the softmax bookkeeping per row in JS with float64 statistics. Every element is
 * computed in a fixed order, so results are deterministic and do not depend on the thread count.
 */
import type { TypedArray } from '../../core/dtype.js';
import { gemm } from './matmul.js';

type FloatArray = Float32Array | Float64Array;

/** Query rows per block. */
export const ATTN_BR = 64;
/** Keys per block. */
export const ATTN_BC = 128;

/** A strided (rows × cols) matrix per batch-head: item b at data[offsets[b] + r·rs + c·cs]. */
export interface BatchedMatrix {
  data: TypedArray;
  offsets: readonly number[];
  rs: number;
  cs: number;
}

/** What both passes need besides the operands. */
export interface AttentionShape {
  /** batch-heads */
  bh: number;
  /** query rows */
  L: number;
  /** keys */
  S: number;
  /** q/k width */
  E: number;
  /** v width */
  Ev: number;
  scale: number;
  /** An additive mask, viewed as (bh, L, S) (stride-0 broadcast allowed), or null. */
  mask: BatchedMatrix | null;
  /** Causal: query i may see key j only when j ≤ causalOffset + i. */
  causal: boolean;
  causalOffset: number;
}

function alloc(like: TypedArray, n: number): FloatArray {
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}

/** Keys [j0, j1) of a query block [i0, i1) that some row may see (causal trims the end). */
function keyEnd(sh: AttentionShape, i1: number): number {
  return sh.causal ? Math.min(sh.S, Math.max(0, sh.causalOffset + i1)) : sh.S;
}

/**
 * x_ij = scale·t_ij + m_ij (−∞ where causal hides key j) for the br×bc tile t (row stride bc) of
 * query rows i0… and keys j0…, in place.
 */
function scoreTile(sh: AttentionShape, b: number, t: FloatArray, br: number, bc: number, i0: number, j0: number): void {
  const { scale, mask } = sh;
  for (let r = 0; r < br; r++) {
    const row = r * bc;
    const mo = mask ? mask.offsets[b]! + (i0 + r) * mask.rs + j0 * mask.cs : 0;
    const last = sh.causal ? sh.causalOffset + i0 + r - j0 : bc; // keys c > last are hidden
    for (let c = 0; c < bc; c++) {
      let x = t[row + c]! * scale;
      if (mask) x += mask.data[mo + c * mask.cs]!;
      t[row + c] = c > last ? -Infinity : x;
    }
  }
}

/**
 * Forward: out (bh, L, Ev) contiguous and lse (bh·L, float64; −∞ for fully masked rows).
 * `exp` is the dtype's exponential (math32.ts's exp32 for float32).
 */
export function attentionForward(
  sh: AttentionShape, q: BatchedMatrix, k: BatchedMatrix, v: BatchedMatrix, exp: (x: number) => number,
): { out: FloatArray; lse: Float64Array } {
  const { bh, L, E, Ev } = sh;
  const out = alloc(q.data, bh * L * Ev);
  const lse = new Float64Array(bh * L);
  const t = alloc(q.data, ATTN_BR * ATTN_BC);
  const mRow = new Float64Array(ATTN_BR), lRow = new Float64Array(ATTN_BR);
  for (let b = 0; b < bh; b++) {
    for (let i0 = 0; i0 < L; i0 += ATTN_BR) {
      const br = Math.min(ATTN_BR, L - i0);
      const oOff = (b * L + i0) * Ev;
      mRow.fill(-Infinity);
      lRow.fill(0);
      out.fill(0, oOff, oOff + br * Ev);
      const jEnd = keyEnd(sh, i0 + br);
      for (let j0 = 0; j0 < jEnd; j0 += ATTN_BC) {
        const bc = Math.min(ATTN_BC, jEnd - j0);
        // t = Q_I·K_Jᵀ (br × bc): Kᵀ through its strides
        gemm(br, bc, E, q.data, q.offsets[b]! + i0 * q.rs, q.rs, q.cs, k.data, k.offsets[b]! + j0 * k.rs, k.cs, k.rs, t, 0);
        scoreTile(sh, b, t, br, bc, i0, j0);
        for (let r = 0; r < br; r++) {
          const row = r * bc;
          let mx = mRow[r]!;
          for (let c = 0; c < bc; c++) if (t[row + c]! > mx) mx = t[row + c]!;
          if (mx === -Infinity) {
            for (let c = 0; c < bc; c++) t[row + c] = 0; // nothing seen yet in this row
            continue;
          }
          let sum = 0;
          for (let c = 0; c < bc; c++) sum += t[row + c] = exp(t[row + c]! - mx);
          const old = mRow[r]!;
          if (old !== mx && lRow[r]! !== 0) {
            // rescale what this row has so far: c = e^(m − m')
            const corr = exp(old - mx);
            lRow[r] = lRow[r]! * corr;
            for (let e = 0, o = oOff + r * Ev; e < Ev; e++) out[o + e] = out[o + e]! * corr;
          }
          lRow[r] = lRow[r]! + sum;
          mRow[r] = mx;
        }
        // O_I += P·V_J
        gemm(br, Ev, bc, t, 0, bc, 1, v.data, v.offsets[b]! + j0 * v.rs, v.rs, v.cs, out, oOff, 'auto', true);
      }
      for (let r = 0; r < br; r++) {
        const l = lRow[r]!, o = oOff + r * Ev;
        if (l === 0 || mRow[r] === -Infinity) {
          out.fill(0, o, o + Ev); // a fully masked row: zero output
          lse[b * L + i0 + r] = -Infinity;
          continue;
        }
        const inv = 1 / l;
        for (let e = 0; e < Ev; e++) out[o + e] = out[o + e]! * inv;
        lse[b * L + i0 + r] = mRow[r]! + Math.log(l);
      }
    }
  }
  return { out, lse };
}

/**
 * Backward: dq (bh, L, E), dk (bh, S, E), dv (bh, S, Ev), contiguous, for upstream g (bh, L, Ev)
 * contiguous, from the forward's output and lse.
 */
export function attentionBackward(
  sh: AttentionShape, g: TypedArray, q: BatchedMatrix, k: BatchedMatrix, v: BatchedMatrix, out: TypedArray, lse: Float64Array, exp: (x: number) => number,
): { dq: FloatArray; dk: FloatArray; dv: FloatArray } {
  const { bh, L, S, E, Ev } = sh;
  const dq = alloc(q.data, bh * L * E), dk = alloc(q.data, bh * S * E), dv = alloc(q.data, bh * S * Ev);
  const p = alloc(q.data, ATTN_BR * ATTN_BC), dp = alloc(q.data, ATTN_BR * ATTN_BC);
  const D = new Float64Array(ATTN_BR);
  for (let b = 0; b < bh; b++) {
    for (let i0 = 0; i0 < L; i0 += ATTN_BR) {
      const br = Math.min(ATTN_BR, L - i0);
      const gOff = (b * L + i0) * Ev, qOff = q.offsets[b]! + i0 * q.rs, dqOff = (b * L + i0) * E;
      for (let r = 0; r < br; r++) {
        let s = 0;
        for (let e = 0, o = gOff + r * Ev; e < Ev; e++) s += g[o + e]! * out[o + e]!;
        D[r] = s;
      }
      const jEnd = keyEnd(sh, i0 + br);
      for (let j0 = 0; j0 < jEnd; j0 += ATTN_BC) {
        const bc = Math.min(ATTN_BC, jEnd - j0);
        const kOff = k.offsets[b]! + j0 * k.rs, vOff = v.offsets[b]! + j0 * v.rs;
        // P = e^(x − lse), recomputed
        gemm(br, bc, E, q.data, qOff, q.rs, q.cs, k.data, kOff, k.cs, k.rs, p, 0);
        scoreTile(sh, b, p, br, bc, i0, j0);
        for (let r = 0; r < br; r++) {
          const l = lse[b * L + i0 + r]!, row = r * bc;
          if (l === -Infinity) p.fill(0, row, row + bc);
          else for (let c = 0; c < bc; c++) p[row + c] = exp(p[row + c]! - l);
        }
        // dV_J += Pᵀ·dO_I (Pᵀ through its strides)
        gemm(bc, Ev, br, p, 0, 1, bc, g, gOff, Ev, 1, dv, (b * S + j0) * Ev, 'auto', true);
        // dP = dO_I·V_Jᵀ
        gemm(br, bc, Ev, g, gOff, Ev, 1, v.data, vOff, v.cs, v.rs, dp, 0);
        // dS = scale·P ⊙ (dP − D), into dp
        for (let r = 0; r < br; r++) {
          const row = r * bc, d = D[r]!;
          for (let c = 0; c < bc; c++) dp[row + c] = sh.scale * p[row + c]! * (dp[row + c]! - d);
        }
        // dQ_I += dS·K_J,  dK_J += dSᵀ·Q_I
        gemm(br, E, bc, dp, 0, bc, 1, k.data, kOff, k.rs, k.cs, dq, dqOff, 'auto', true);
        gemm(bc, E, br, dp, 0, 1, bc, q.data, qOff, q.rs, q.cs, dk, (b * S + j0) * E, 'auto', true);
      }
    }
  }
  return { dq, dk, dv };
}
