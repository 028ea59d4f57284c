/**
 * Causal attention for inference, one query row at a time, with ONE reduction order — the kernel
 * shared by GPT's key/value-cached forward (contiguous K/V, `GPT.generate`) and the serving
 * engine's PagedAttention (Kwon et al. 2023, "Efficient Memory Management for Large Language
 * Model Serving with PagedAttention", K/V read through a block table; src/serve/llm/kv-cache.ts).
 *
 * For one query q (head width hs) at absolute position p and its keys/values k_j, v_j, j = 0…p:
 *
 *   s_j = (Σ_d q_d·k_jd)·scale          scale = 1/√hs, the dot in float64, d ascending
 *   m   = max_j s_j
 *   e_j = exp(s_j − m),  Z = Σ_j e_j    (j ascending, float64)
 *   o_d = (Σ_j e_j·v_jd) / Z            (j ascending, float64), rounded once to the output type
 *
 * Every number depends only on q and the keys/values at positions ≤ p, in a fixed order: not on
 * how many other queries share the call, whether they are a prompt (prefill) or one new token
 * (decode), or where the K/V live in memory. So prefill and decode give bit-identical outputs
 * for the same positions — what recompute-after-preemption and continuous batching need to leave
 * every sampled token unchanged (issue #18, exactness).
 */

/** A float output/input vector type the kernel reads and writes. */
export type FloatArray = Float32Array | Float64Array;

/**
 * Attention output of one query row over `n` keys (positions 0…n−1): the key/value vector of
 * position j starts at `offsets[j] + add` in `kData` / `vData` (the same layout for K and V).
 * Writes hs values to `out[outOff…]`. `scratch` holds at least n float64s.
 *
 * Shape: q[qOff … qOff+hs), K/V rows of hs → out[outOff … outOff+hs).
 * @example
 * // one head of width 2, two cached positions laid out contiguously
 * const k = new Float32Array([1, 0, 0, 1]), v = new Float32Array([1, 2, 3, 4]);
 * const out = new Float32Array(2);
 * attendRow(new Float32Array([1, 1]), 0, 2, 2, k, v, new Int32Array([0, 2]), 0, out, 0, new Float64Array(2)); // out = [2, 3]
 */
export function attendRow(
  q: FloatArray, qOff: number, hs: number, n: number,
  kData: FloatArray, vData: FloatArray, offsets: Int32Array, add: number,
  out: FloatArray, outOff: number, scratch: Float64Array,
): void {
  if (!(n >= 1) || n > offsets.length || n > scratch.length) {
    throw new Error(`attendRow: n must be in [1, ${Math.min(offsets.length, scratch.length)}] (the offsets/scratch length), got ${n}`);
  }
  const scale = 1 / Math.sqrt(hs);
  let m = -Infinity;
  for (let j = 0; j < n; j++) {
    const base = offsets[j]! + add;
    let dot = 0;
    for (let d = 0; d < hs; d++) dot += q[qOff + d]! * kData[base + d]!;
    const s = dot * scale;
    scratch[j] = s;
    if (s > m) m = s;
  }
  let z = 0;
  for (let j = 0; j < n; j++) z += scratch[j] = Math.exp(scratch[j]! - m);
  for (let d = 0; d < hs; d++) {
    let acc = 0;
    for (let j = 0; j < n; j++) acc += scratch[j]! * vData[offsets[j]! + add + d]!;
    out[outOff + d] = acc / z;
  }
}

/**
 * Causal multi-head attention over contiguous K/V, every query row through `attendRow`.
 * Query t of T sits at absolute position past + t and sees keys 0…past+t.
 *
 * Shape: q (B, nh, T, hs), k and v (B, nh, past+T, hs), all contiguous row-major arrays
 *   → (B, T, nh·hs): the heads already side by side (what c_proj reads).
 * @example
 * const y = causalAttentionContiguous(q, k, v, 1, 2, 3, 4, 0, new Float32Array(1 * 3 * 8));
 */
export function causalAttentionContiguous(
  q: FloatArray, k: FloatArray, v: FloatArray,
  B: number, nh: number, T: number, hs: number, past: number, out: FloatArray,
): FloatArray {
  const S = past + T;
  if (q.length !== B * nh * T * hs) throw new Error(`causalAttentionContiguous: q must hold B·nh·T·hs = ${B * nh * T * hs} values, got ${q.length}`);
  if (k.length !== B * nh * S * hs || v.length !== k.length) {
    throw new Error(`causalAttentionContiguous: k and v must hold B·nh·(past+T)·hs = ${B * nh * S * hs} values, got ${k.length} and ${v.length}`);
  }
  if (out.length !== B * T * nh * hs) throw new Error(`causalAttentionContiguous: out must hold B·T·nh·hs = ${B * T * nh * hs} values, got ${out.length}`);
  const offsets = new Int32Array(S);
  for (let j = 0; j < S; j++) offsets[j] = j * hs; // key j of one (b, h) plane
  const scratch = new Float64Array(S);
  const C = nh * hs;
  for (let b = 0; b < B; b++) {
    for (let h = 0; h < nh; h++) {
      const plane = (b * nh + h) * S * hs; // start of k[b, h] / v[b, h]
      for (let t = 0; t < T; t++) {
        attendRow(q, ((b * nh + h) * T + t) * hs, hs, past + t + 1, k, v, offsets, plane, out, (b * T + t) * C + h * hs, scratch);
      }
    }
  }
  return out;
}
