/**
 * Fused scaled dot-product attention (Vaswani et al. 2017, Eq. 1) as one op:
 *
 *   y = softmax(Q·Kᵀ·scale + M)·V        Q (…, L, E), K (…, S, E), V (…, S, Ev) → (…, L, Ev)
 *
 * computed with the online softmax of Milakov & Gimelshein (2018) in FlashAttention's tiles
 * (Dao et al. 2022; the backend kernel is backends/cpu/attention.ts): the (L, S) probabilities
 * are never stored — O(S) memory per query row instead of O(S²) per head — and the backward
 * recomputes them from the saved per-row log-sum-exp. Gradients, with P = softmax(X) and
 * D = rowsum(dY ⊙ Y) (FlashAttention-2, Alg. 2):
 *
 *   ∂L/∂V = Pᵀ·G,   dS = scale·P ⊙ (G·Vᵀ − D),   ∂L/∂Q = dS·K,   ∂L/∂K = dSᵀ·Q
 *
 * Masks: an additive float mask broadcastable to (…, L, S) (HF BERT's extended mask), a boolean
 * keep-mask (true = may attend, as torch's SDPA), and/or `isCausal` (key j visible to query i when
 * j ≤ i + causalOffset; GPT with a key/value cache of P positions uses causalOffset = P). The mask
 * gets no gradient. A query row whose every key is masked gives a zero output row and zero
 * gradients (PyTorch ≥ 2.5's safe softmax), exactly as the composite F.scaledDotProductAttention.
 *
 * Backends without the fused kernel (the GPU) are refused with an error; nn/functional.ts's
 * scaledDotProductAttention chooses between this op and the composite (`fusedAttentionApplies`).
 */
import type { AttentionOpts, Storage, View } from '../../backends/contract.js';
import { isFloatingDType } from '../../core/dtype.js';
import { broadcastShapes, fmtShape } from '../../core/shape.js';
import { Tensor } from '../../tensor/tensor.js';
import { defineOp } from '../define.js';
import { broadcastView, cast, checkAlive, checkFloat, contiguous, where } from '../ops.js';

/** Options of `flashAttention` (the names of torch's scaled_dot_product_attention). */
export interface FlashAttentionOptions {
  /** Additive float mask, or boolean keep-mask, broadcastable to (…, L, S). */
  attnMask?: Tensor | null;
  /** Hide keys j > i + causalOffset from query i. */
  isCausal?: boolean;
  /** Absolute position of query 0 minus that of key 0 (default 0: square causal attention). */
  causalOffset?: number;
  /** Default 1/√E. */
  scale?: number;
}

/** The kernel's options and, after the forward, its per-row log-sum-exp. */
type Attrs = AttentionOpts & { lse: Storage | null };
type KernelOpts = { mask: View | null };

const flashAttentionOp = defineOp({
  name: 'flashAttention',
  doc: 'softmax(Q·Kᵀ·scale + M)·V in one fused kernel (online softmax, O(S) memory per row)',
  gradient: 'P = softmax(QKᵀ·s + M), D = rowsum(G ⊙ Y);  ∂L/∂V = PᵀG,  dS = s·P ⊙ (GVᵀ − D),  ∂L/∂Q = dS·K,  ∂L/∂K = dSᵀ·Q',
  forward: (ctx: { attrs: Attrs }, q: Tensor, k: Tensor, v: Tensor, attrs: Omit<AttentionOpts, 'mask'>, kernel: KernelOpts): Tensor => {
    const opts: AttentionOpts = { ...attrs, mask: kernel.mask };
    const r = q.storage.backend.attentionForward!(q, k, v, opts);
    ctx.attrs = { ...opts, lse: r.lse };
    return Tensor.fromStorage(r.out, [...q.shape.slice(0, -1), v.shape[v.ndim - 1]!]);
  },
  backward: (c, g): Tensor[] => {
    const [q, k, v] = c.inputs as [Tensor, Tensor, Tensor];
    const { lse, ...opts } = c.attrs;
    const r = q.storage.backend.attentionBackward!(contiguous(g), q, k, v, c.output, lse!, opts); // g: the kernel reads it row-major
    return [Tensor.fromStorage(r.dq, q.shape), Tensor.fromStorage(r.dk, k.shape), Tensor.fromStorage(r.dv, v.shape)];
  },
});

/**
 * Why `flashAttention` cannot take these arguments, or null when it can: q, k, v of one float
 * dtype on a backend with the fused kernels, the same leading dims, a mask that needs no gradient.
  * @example
  * ```ts
  * const q = randn([1, 2, 8, 16]);
  * flashAttentionRefusal(q, q, q);         // null on the CPU: the fused kernel can take them
  * flashAttentionRefusal(q, q, randn([1, 2, 8, 16], { dtype: 'float64' })); // a reason string: mixed dtypes
  * ```
 */
export function flashAttentionRefusal(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null = null): string | null {
  const be = q.storage.backend;
  if (be.attentionForward === undefined || be.attentionBackward === undefined) return `the '${q.device}' backend has no fused attention kernel`;
  if (!isFloatingDType(q.dtype) || k.dtype !== q.dtype || v.dtype !== q.dtype) return `q, k, v must share one float dtype, got ${q.dtype}, ${k.dtype}, ${v.dtype}`;
  if (k.device !== q.device || v.device !== q.device || (mask && mask.device !== q.device)) return 'q, k, v and the mask must be on one device';
  if (q.ndim < 2 || k.ndim !== q.ndim || v.ndim !== q.ndim) return `q, k, v need the same rank ≥ 2, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`;
  const lead = q.shape.slice(0, -2);
  if (lead.some((d, i) => d !== k.shape[i] || d !== v.shape[i])) return `q, k, v need the same leading dims, got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`;
  if (k.shape[k.ndim - 1] !== q.shape[q.ndim - 1]) return `q and k must share the last dim, got ${fmtShape(q.shape)} and ${fmtShape(k.shape)}`;
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) return `k and v must have the same sequence length, got ${fmtShape(k.shape)} and ${fmtShape(v.shape)}`;
  if (mask) {
    if (mask.requiresGrad) return 'the mask requires grad (the fused kernel gives it none)';
    if (mask.dtype !== 'bool' && !isFloatingDType(mask.dtype)) return `attnMask must be bool (keep-mask) or floating (additive), got ${mask.dtype}`;
  }
  return null;
}

/**
 * softmax(Q·Kᵀ·scale + M)·V in one fused kernel (see the file header); the same values and
 * gradients as `F.scaledDotProductAttention` (without dropout) up to rounding.
 *
 * Shape: q (…, L, E), k (…, S, E), v (…, S, Ev) with the same leading dims, attnMask
 * broadcastable to (…, L, S) → (…, L, Ev).
 * @example
 * const q = randn([2, 4, 16, 8]), k = randn([2, 4, 16, 8]), v = randn([2, 4, 16, 8]);
 * const y = flashAttention(q, k, v, { isCausal: true }); // [2, 4, 16, 8]
 */
export function flashAttention(q: Tensor, k: Tensor, v: Tensor, opts: FlashAttentionOptions = {}): Tensor {
  checkAlive('flashAttention', [q, k, v, ...(opts.attnMask ? [opts.attnMask] : [])]);
  checkFloat('flashAttention', q, 'q');
  const m = opts.attnMask ?? null;
  const why = flashAttentionRefusal(q, k, v, m);
  if (why !== null) throw new Error(`flashAttention: ${why}`);
  const E = q.shape[q.ndim - 1]!, L = q.shape[q.ndim - 2]!, S = k.shape[k.ndim - 2]!;
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  if (typeof scale !== 'number' || !Number.isFinite(scale)) throw new Error(`flashAttention: scale must be a finite number, got ${String(scale)}`);
  const causalOffset = opts.causalOffset ?? 0;
  if (!Number.isInteger(causalOffset)) throw new Error(`flashAttention: causalOffset must be an integer, got ${String(causalOffset)}`);
  let maskView: View | null = null;
  if (m) {
    const scores = [...q.shape.slice(0, -2), L, S];
    let out: number[];
    try {
      out = broadcastShapes('flashAttention', m.shape, scores);
    } catch {
      out = [];
    }
    if (out.length !== scores.length || out.some((d, i) => d !== scores[i])) {
      throw new Error(`flashAttention: attnMask of shape ${fmtShape(m.shape)} does not broadcast to the scores' shape ${fmtShape(scores)} (…, L, S)`);
    }
    // a keep-mask becomes additive 0 / −∞ (the mask's own size, not the scores')
    const additive = m.dtype === 'bool' ? where(m, 0, -Infinity) : m;
    maskView = broadcastView(additive.dtype === q.dtype ? additive : cast(additive, q.dtype), scores);
  }
  return flashAttentionOp(q, k, v, { scale, causal: opts.isCausal ?? false, causalOffset }, { mask: maskView });
}
