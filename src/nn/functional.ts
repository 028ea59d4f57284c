/**
 * nn.functional: composite layers and losses built from differentiable primitives, so their
 * gradients come from autograd (tier 3 of docs/ARCHITECTURE.md).
 *
 * Semantics follow torch.nn.functional (PyTorch 1.13+), including `ignoreIndex = -100`,
 * label smoothing and class weights in crossEntropy, and the boolean "keep" mask of
 * scaledDotProductAttention.
 */
import * as ops from '../autograd/ops.js';
import { flashAttention, flashAttentionRefusal } from '../autograd/ops/attention.js';
import { isFloatingDType } from '../core/dtype.js';
import { fmtShape, shapesEqual, broadcastShapes } from '../core/shape.js';
import { Tensor } from '../tensor/tensor.js';

export { softmax, logSoftmax, gelu, dropout, relu, tanh, sigmoid, embedding } from '../autograd/ops.js';
export type { GeluOptions } from '../autograd/ops.js';
// the toolkit ops PyTorch keeps in torch.nn.functional (F.softplus, F.pad, F.one_hot, F.conv1d, …)
export { softplus, silu, mish, pad, oneHot, conv1d, maxPool1d, avgPool1d } from '../autograd/ops/index.js';

/** How a loss reduces over positions: the mean, the sum, or none (per-position losses). */
export type Reduction = 'mean' | 'sum' | 'none';

function checkReduction(op: string, r: string): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none', got '${r}'`);
  return r;
}

function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === 'none' ? loss : reduction === 'sum' ? loss.sum() : loss.mean();
}

/**
 * num / den for a weighted mean over the non-ignored targets: NaN when den = 0 (every target
 * ignored — PyTorch's value) but with a zero gradient there, not 0·∞ = NaN. PyTorch's
 * nll_loss backward gives 0 in that case; a NaN gradient would turn every parameter into NaN
 * at the next optimizer step.
 */
function meanOverTargets(num: Tensor, den: Tensor): Tensor {
  const none = den.eq(0);
  const safe = ops.where(none, 1, den); // the gradient flows through num/1 = 0·… = 0
  const nan = ops.where(none, NaN, 0).to(num.dtype); // a constant: no gradient
  return num.div(safe).add(nan);
}

/**
 * y = x·Wᵀ + b.
 *
 * Shape: x (*, in), weight (out, in), bias (out) → (*, out).
 *
 * With a bias of shape (out) and one float dtype throughout, runs as addmm(b, x, Wᵀ): the bias
 * add is fused into the matrix product where the backend can (the CPU does), like torch.
  * @example
  * ```ts
  * const x = randn([2, 3, 4]);
  * const y = F.linear(x, randn([5, 4]), zeros([5])); // (2, 3, 5)
  * ```
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) throw new Error(`linear: weight must be 2-D (out, in), got shape ${fmtShape(weight.shape)}`);
  const inF = weight.shape[1]!;
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== inF) {
    throw new Error(`linear: input of shape ${fmtShape(x.shape)} does not end in in_features = ${inF} (weight ${fmtShape(weight.shape)})`);
  }
  const lead = x.shape.slice(0, -1);
  const x2 = x.ndim === 2 ? x : x.reshape([-1, inF]); // (N, in), N = ∏ leading dims
  const wT = weight.transpose(0, 1); // (in, out); a stride-swapped view, no copy
  const fusable = bias && bias.ndim === 1 && bias.shape[0] === weight.shape[0] && isFloatingDType(x.dtype) &&
    bias.dtype === x.dtype && weight.dtype === x.dtype && bias.device === x.device && weight.device === x.device;
  let y: Tensor;
  if (fusable) y = ops.addmm(bias, x2, wT); // (N, out) = b + x2·Wᵀ
  else {
    y = x2.matmul(wT); // (N, out)
    if (bias) y = y.add(bias); // other dtypes / bias shapes: broadcast add, with promotion
  }
  return x.ndim === 2 ? y : y.reshape([...lead, weight.shape[0]!]); // (*, out)
}

/**
 * Layer normalisation (Ba, Kiros & Hinton 2016), over the last `normalizedShape.length` dims:
 *   y = (x − E[x]) / √(Var[x] + ε) · γ + β,   Var biased (divides by n)
 *
 * Shape: x (*, ...normalizedShape); weight, bias: normalizedShape.
 *
 * Runs the backend's fused kernel when it has one (the CPU does), else this composite of
 * differentiable ops; `composite: true` forces the composite (the tests compare both).
  * @example
  * ```ts
  * const x = randn([2, 5, 8]);
  * const y = F.layerNorm(x, 8, { weight: ones([8]), bias: zeros([8]), eps: 1e-12 }); // (2, 5, 8)
  * y.mean(-1).abs().max().item();          // ≈ 0: every row is centred
  * ```
 */
export function layerNorm(
  x: Tensor,
  normalizedShape: number | readonly number[],
  opts: { weight?: Tensor | null; bias?: Tensor | null; eps?: number; composite?: boolean } = {},
): Tensor {
  const ns = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const k = ns.length;
  if (k === 0 || x.ndim < k || !shapesEqual(x.shape.slice(x.ndim - k), ns)) {
    throw new Error(`layerNorm: input of shape ${fmtShape(x.shape)} does not end in normalizedShape ${fmtShape(ns)}`);
  }
  const eps = opts.eps ?? 1e-5;
  if (!(eps >= 0)) throw new Error(`layerNorm: eps must be ≥ 0, got ${eps}`);
  for (const [name, p] of [['weight', opts.weight], ['bias', opts.bias]] as const) {
    if (p && !shapesEqual(p.shape, ns)) throw new Error(`layerNorm: ${name} must have shape ${fmtShape(ns)}, got ${fmtShape(p.shape)}`);
  }
  if (!(opts.composite ?? false)) {
    // the fused kernel (one pass per row, hand-written backward) where the backend has one
    const n = ns.reduce((a, b) => a * b, 1);
    const flat = (p: Tensor | null | undefined) => (p ? p.reshape([n]) : null);
    const fused = ops.layerNormFused(x, n, flat(opts.weight), flat(opts.bias), eps);
    if (fused) return fused;
  }
  const dims = Array.from({ length: k }, (_, i) => x.ndim - k + i);
  const mu = x.mean(dims, true);
  const xc = x.sub(mu);
  const variance = xc.mul(xc).mean(dims, true); // two-pass: stable for rows with a large mean
  let y = xc.mul(variance.add(eps).rsqrt());
  if (opts.weight) y = y.mul(opts.weight);
  if (opts.bias) y = y.add(opts.bias);
  return y;
}

/**
 * Scaled dot-product attention (Vaswani et al. 2017, Eq. 1):
 *   Attention(Q, K, V) = softmax(QKᵀ·scale + M)·V,   scale = 1/√d_k by default
 *
 * `attnMask` is either additive (float, added to the scores — HF BERT's extended mask) or a
 * boolean keep-mask (true = may attend, as torch's SDPA). `isCausal` masks future positions.
 *
 * Fully masked rows (a query whose every key is masked out: a bool mask row of all false, an
 * additive row of all −∞, causal + left padding) give a zero output row and zero, finite
 * gradients — PyTorch ≥ 2.5's rule (the `_safe_softmax` of its math backend), not the NaN of
 * softmax over all −∞. A large finite negative mask (HF BERT's finfo.min) is not "masked": such a
 * row stays the uniform softmax HF computes.
 *
 * Without active dropout, where `useFusedAttention` says so, this runs the fused kernel
 * (autograd/ops/attention.ts `flashAttention`: online softmax, O(S) memory per query row, the
 * same values and gradients up to rounding); otherwise the composite below.
 *
 * Shape: q (*, L, E), k (*, S, E), v (*, S, Ev), attnMask broadcastable to (*, L, S) → (*, L, Ev).
  * @example
  * ```ts
  * const q = randn([2, 4, 8, 16]), k = randn([2, 4, 8, 16]), v = randn([2, 4, 8, 16]); // (B, heads, T, headDim)
  * const y = F.scaledDotProductAttention(q, k, v, { isCausal: true }); // (2, 4, 8, 16)
  * ```
 */
export function scaledDotProductAttention(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { attnMask?: Tensor | null; isCausal?: boolean; dropoutP?: number; scale?: number; training?: boolean } = {},
): Tensor {
  const dropoutActive = !!opts.dropoutP && (opts.training ?? true);
  if (!dropoutActive && useFusedAttention(q, k, v, opts.attnMask ?? null)) {
    return flashAttention(q, k, v, { attnMask: opts.attnMask ?? null, isCausal: opts.isCausal ?? false, ...(opts.scale !== undefined ? { scale: opts.scale } : {}) });
  }
  return attentionWithWeights(q, k, v, opts).output;
}

/**
 * Attention calls whose (…, L, S) scores have at least this many elements take the fused kernel
 * (`useFusedAttention`): there the O(S²) score and probability tensors (kept per layer for the
 * backward) cost real memory — 16 MiB each in float32 — while below it the composite is faster
 * on the CPU (its softmax runs in wasm SIMD on all threads; the fused kernel's online-softmax
 * bookkeeping is plain JS on the calling thread; measured in docs/ARCHITECTURE.md).
 */
export const FUSED_ATTENTION_MIN_SCORES = 1 << 22;

/**
 * Whether scaledDotProductAttention (and BERT's self-attention) run the fused kernel for these
 * operands: the backend has it, the shapes fit (flashAttentionRefusal), and either the scores
 * have at least FUSED_ATTENTION_MIN_SCORES elements or TENSORGRAD_FUSED_ATTENTION=1 forces it
 * (=0 turns it off). Callers check dropout themselves (the fused kernel has none).
  * @example
  * ```ts
  * const q = randn([1, 2, 16, 8]);
  * F.useFusedAttention(q, q, q, null);     // false: 1·2·16·16 scores are far below FUSED_ATTENTION_MIN_SCORES
  * ```
 */
export function useFusedAttention(q: Tensor, k: Tensor, v: Tensor, mask: Tensor | null): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.['TENSORGRAD_FUSED_ATTENTION'];
  if (env === '0') return false;
  if (flashAttentionRefusal(q, k, v, mask) !== null) return false;
  if (env === '1') return true;
  const scores = q.shape.slice(0, -1).reduce((a, b) => a * b, 1) * k.shape[k.ndim - 2]!;
  return scores >= FUSED_ATTENTION_MIN_SCORES;
}

/**
 * scaledDotProductAttention that also returns the attention probabilities (*, L, S).
 * @example
 * ```ts
 * const q = randn([1, 2, 5, 8]);
 * const { output, weights } = F.attentionWithWeights(q, q, q, { isCausal: true });
 * output.shape;                           // [1, 2, 5, 8]
 * weights.shape;                          // [1, 2, 5, 5]; each row sums to 1, zero above the diagonal
 * ```
 */
export function attentionWithWeights(
  q: Tensor,
  k: Tensor,
  v: Tensor,
  opts: { attnMask?: Tensor | null; isCausal?: boolean; dropoutP?: number; scale?: number; training?: boolean } = {},
): { output: Tensor; weights: Tensor } {
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) {
    throw new Error(`scaledDotProductAttention: q, k, v need at least 2 dims (*, L, E), got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  }
  const E = q.shape[q.ndim - 1]!;
  if (k.shape[k.ndim - 1] !== E) throw new Error(`scaledDotProductAttention: q and k must share the last dim, got ${fmtShape(q.shape)} and ${fmtShape(k.shape)}`);
  if (k.shape[k.ndim - 2] !== v.shape[v.ndim - 2]) throw new Error(`scaledDotProductAttention: k and v must have the same sequence length, got ${fmtShape(k.shape)} and ${fmtShape(v.shape)}`);
  const L = q.shape[q.ndim - 2]!;
  const S = k.shape[k.ndim - 2]!;
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  const m = opts.attnMask;
  if (m && m.dtype !== 'bool' && !isFloatingDType(m.dtype)) {
    throw new Error(`scaledDotProductAttention: attnMask must be bool (keep-mask) or floating (additive), got ${m.dtype}`);
  }
  const dropout = (w: Tensor) => (opts.dropoutP && (opts.training ?? true) ? ops.dropout(w, opts.dropoutP, true) : w);
  if (!opts.isCausal && (!m || (isFloatingDType(m.dtype) && m.dtype === q.dtype))) {
    if (m) checkMaskShape(m, [...q.shape.slice(0, -1), S]);
    // rows whose additive mask is −∞ everywhere: softmax over them is 0/0; they get a mask of 0
    // (a finite, uniform softmax) and their probabilities are then zeroed (PyTorch ≥ 2.5)
    // (*, L|1, 1) bool, or null when none; a mask already seen without such rows (BERT passes one
    // extended mask to every layer) is not scanned again until it is written in place
    let dead: Tensor | null = null;
    if (m && NO_DEAD_ROWS.get(m) !== m._version) {
      dead = deadRows(ops.eq(m, -Infinity));
      if (!dead) NO_DEAD_ROWS.set(m, m._version);
    }
    const mm = m && dead ? ops.where(dead, 0, m) : m;
    // softmax(QKᵀ·scale + M) in one fused pass where the backend has it
    let weights = ops.scaledMaskedSoftmax(q.matmul(k.transpose(-2, -1)), scale, mm ?? null); // (*, L, S)
    if (dead) weights = ops.where(dead, 0, weights);
    weights = dropout(weights);
    return { output: weights.matmul(v), weights };
  }
  let scores = q.matmul(k.transpose(-2, -1)).mul(scale); // (*, L, S)
  let keep: Tensor | null = null; // bool, broadcastable to (*, L, S): true = may attend
  if (opts.isCausal) keep = ops.ge(ops.unsqueeze(arangeOn(L, q), 1), ops.unsqueeze(arangeOn(S, q), 0)); // (L, S): j ≤ i
  if (m) {
    checkMaskShape(m, scores.shape);
    if (m.dtype === 'bool') keep = keep ? ops.logicalAnd(keep, m) : m;
    else scores = scores.add(m.dtype === scores.dtype ? m : m.to(scores.dtype));
  }
  // fully masked rows: by the keep-mask, or by an additive −∞ row (together with the keep-mask)
  let dead: Tensor | null = null;
  if (keep) {
    const infMask = m && m.dtype !== 'bool' ? ops.logicalOr(ops.eq(m, -Infinity), ops.logicalNot(keep)) : ops.logicalNot(keep);
    dead = deadRows(infMask);
    const drop = dead ? ops.logicalAnd(ops.logicalNot(keep), ops.logicalNot(dead)) : ops.logicalNot(keep);
    scores = scores.maskedFill(drop, -Infinity);
    if (dead && m && m.dtype !== 'bool') scores = ops.where(dead, 0, scores); // an additive −∞ in a dead row
  }
  let weights = scores.softmax(-1);
  if (dead) weights = ops.where(dead, 0, weights);
  weights = dropout(weights);
  return { output: weights.matmul(v), weights };
}

/** Additive masks known to have no row of all −∞, with their version (autograd/version.ts) at the time. */
const NO_DEAD_ROWS = new WeakMap<Tensor, number>();

/**
 * The rows of a mask (true = masked out) that mask every key: (*, L|1, 1) bool, or null when
 * no row does (then nothing needs the safe-softmax treatment).
 */
function deadRows(maskedOut: Tensor): Tensor | null {
  const S = maskedOut.shape[maskedOut.ndim - 1]!;
  if (maskedOut.ndim === 0 || S === 0) return null;
  const dead = ops.sum(maskedOut, -1, true).eq(S); // all S keys masked
  return dead.sum().item() > 0 ? dead : null;
}

function checkMaskShape(m: Tensor, scoresShape: readonly number[]): void {
  let out: number[];
  try {
    out = broadcastShapes('attention', m.shape, scoresShape);
  } catch {
    out = [];
  }
  if (out.length !== scoresShape.length || out.some((d, i) => d !== scoresShape[i])) {
    throw new Error(`scaledDotProductAttention: attnMask of shape ${fmtShape(m.shape)} does not broadcast to the scores' shape ${fmtShape(scoresShape)} (*, L, S)`);
  }
}

function arangeOn(n: number, like: Tensor): Tensor {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return Tensor.fromStorage(like.storage.backend.fromArray(idx, 'int32'), [n]);
}

/** Moves the class dim (1) of (N, C, d₁, …) last and flattens: (N·d₁·…, C). */
function classLast(x: Tensor): Tensor {
  if (x.ndim <= 2) return x;
  const C = x.shape[1]!;
  const perm = [0, ...Array.from({ length: x.ndim - 2 }, (_, i) => i + 2), 1];
  return x.permute(perm).reshape([-1, C]); // (N·d…, C)
}

/** Validates class targets: each is in [0, C) or equals ignoreIndex. */
function checkTargets(op: string, target: Tensor, C: number, ignoreIndex: number): void {
  const t = target.toTypedArray();
  for (let i = 0; i < t.length; i++) {
    const v = t[i]!;
    if (v !== ignoreIndex && (v < 0 || v >= C)) {
      const pos: number[] = [];
      let r = i;
      for (let d = target.ndim - 1; d >= 0; d--) {
        pos.unshift(r % target.shape[d]!);
        r = Math.floor(r / target.shape[d]!);
      }
      throw new Error(`${op}: target ${v} is out of bounds at position [${pos.join(',')}]: expected a class index in [0, ${C}) or ignoreIndex ${ignoreIndex}`);
    }
  }
}

/** Options of {@link nllLoss} (torch's): class weights, the ignored target value (default −100) and the reduction. */
export interface NllLossOptions {
  /** Per-class weights (C); a target of class y contributes w_y, and the mean divides by the sum of the weights used. Default: all 1. */
  weight?: Tensor | null;
  /** Target value that contributes nothing (neither to the sum nor to the mean's denominator). Default −100. */
  ignoreIndex?: number;
  /** 'mean' (default, weighted mean over non-ignored targets), 'sum', or 'none' (per-target losses in the target's shape). */
  reduction?: Reduction;
}

/** Shared input checks for nllLoss / crossEntropy with class-index targets; returns (M, C) and (M). */
function flattenClassInputs(op: string, input: Tensor, target: Tensor): { x: Tensor; t: Tensor; outShape: number[] } {
  if (target.dtype !== 'int32') throw new Error(`${op}: class-index targets must be int32, got ${target.dtype} (for class probabilities pass a float target with the input's shape)`);
  if (input.ndim === 1) {
    if (target.ndim !== 0) throw new Error(`${op}: for an unbatched input of shape ${fmtShape(input.shape)} the target must be 0-D, got ${fmtShape(target.shape)}`);
    return { x: input.unsqueeze(0), t: target.reshape([1]), outShape: [] };
  }
  const expected = [input.shape[0]!, ...input.shape.slice(2)];
  if (!shapesEqual(target.shape, expected)) {
    throw new Error(`${op}: expected target of shape ${fmtShape(expected)} for input of shape ${fmtShape(input.shape)} (N, C, d…), got ${fmtShape(target.shape)}`);
  }
  return { x: classLast(input), t: target.reshape([-1]), outShape: expected };
}

/**
 * Negative log-likelihood of class targets given log-probabilities:
 *   ℓᵢ = −w_{yᵢ}·x[i, yᵢ]  (0 where yᵢ = ignoreIndex);  mean = Σℓᵢ / Σ w_{yᵢ} over non-ignored i.
 *
 * Shape: input (N, C) or (N, C, d…) or (C); target (N) / (N, d…) / () int32.
  * @example
  * ```ts
  * const logp = F.logSoftmax(randn([3, 5]), -1);                // (N, C) log-probabilities
  * const loss = F.nllLoss(logp, tensor([1, 0, 4], { dtype: 'int32' })); // scalar, = crossEntropy on the logits
  * ```
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const reduction = checkReduction('nllLoss', opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const { x, t, outShape } = flattenClassInputs('nllLoss', input, target);
  const C = x.shape[1]!;
  checkTargets('nllLoss', target, C, ignoreIndex);
  if (opts.weight && !shapesEqual(opts.weight.shape, [C])) throw new Error(`nllLoss: weight must have shape [${C}] (one per class), got ${fmtShape(opts.weight.shape)}`);
  const valid = t.ne(ignoreIndex); // (M)
  const safeT = ops.where(valid, t, 0); // ignored positions read class 0, then get zero weight
  const picked = x.gather(1, safeT.unsqueeze(1)).squeeze(1); // (M): x[i, yᵢ]
  let w = valid.to(x.dtype);
  if (opts.weight) w = w.mul(opts.weight.indexSelect(0, safeT));
  const loss = picked.mul(w).neg(); // (M)
  if (reduction === 'none') return loss.reshape(outShape);
  if (reduction === 'sum') return loss.sum();
  return meanOverTargets(loss.sum(), w.sum()); // NaN when every target is ignored, as PyTorch, with zero gradients
}

/** Options of {@link crossEntropy} (torch's): those of nllLoss plus label smoothing ε. */
export interface CrossEntropyOptions extends NllLossOptions {
  /** ε of label smoothing (Szegedy et al. 2016): targets become (1−ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

/**
 * Cross-entropy between logits and targets: ℓ = −Σ_c y_c·log softmax(x)_c.
 *
 * Targets are class indices (int32, with `ignoreIndex`), or class probabilities (a float tensor
 * with the input's shape). With label smoothing ε and class indices, PyTorch's definition:
 *   ℓ = (1 − ε)·nll + ε/C · Σ_c −w_c·log p_c
 * where the smoothing term is also normalised by Σ w_{yᵢ} under weighted mean reduction.
 *
 * Shape: input (N, C) or (N, C, d…) or (C); target (N) / (N, d…) / () or like input.
 * @example
 * const loss = crossEntropy(logits, labels, { ignoreIndex: -100 });
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const reduction = checkReduction('crossEntropy', opts.reduction ?? 'mean');
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new Error(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (!isFloatingDType(input.dtype)) throw new Error(`crossEntropy: input must be floating-point logits, got ${input.dtype}`);
  const classDim = input.ndim === 1 ? 0 : 1;
  const C = input.shape[classDim]!;
  if (C === 0) throw new Error(`crossEntropy: the input of shape ${fmtShape(input.shape)} has 0 classes (dim ${classDim}); need at least one class`);
  const w = opts.weight ?? null;
  if (w && !shapesEqual(w.shape, [C])) throw new Error(`crossEntropy: weight must have shape [${C}] (one per class), got ${fmtShape(w.shape)}`);
  const wb = w ? w.reshape([C, ...Array(Math.max(0, input.ndim - classDim - 1)).fill(1)]) : null; // broadcast over (C, d…)

  if (isFloatingDType(target.dtype)) {
    const logp = input.logSoftmax(classDim);
    // class probabilities: ℓ = −Σ_c w_c·y'_c·log p_c with y' = (1−ε)y + ε/C
    if (!shapesEqual(target.shape, input.shape)) {
      throw new Error(`crossEntropy: probability targets must have the input's shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
    }
    let y = eps > 0 ? target.mul(1 - eps).add(eps / C) : target;
    if (wb) y = y.mul(wb);
    const loss = logp.mul(y).sum(classDim).neg();
    if (reduction === 'mean') return loss.sum().div(input.ndim === 1 ? 1 : loss.numel());
    return reduce(loss, reduction);
  }

  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (eps === 0 && !w && reduction !== 'none' && input.ndim === 2 && target.ndim === 1 && target.dtype === 'int32' && target.shape[0] === input.shape[0]) {
    // the common case (token / sentence classification): softmax, log and pick in one pass
    checkTargets('nllLoss', target, C, ignoreIndex);
    const fused = ops.crossEntropyFused(input, target, ignoreIndex, reduction);
    if (fused) return fused;
  }
  const logp = input.logSoftmax(classDim);
  const nll = nllLoss(logp, target, { weight: w, ignoreIndex, reduction });
  if (eps === 0) return nll;
  // smoothing term: −Σ_c w_c·log p_c per position, 0 at ignored positions
  const smooth = (wb ? logp.mul(wb) : logp).sum(classDim).neg().mul(target.ne(ignoreIndex).to(logp.dtype));
  let smoothRed: Tensor;
  if (reduction === 'none') smoothRed = smooth;
  else if (reduction === 'sum') smoothRed = smooth.sum();
  else if (w) {
    const valid = target.ne(ignoreIndex);
    const tw = w.indexSelect(0, ops.where(valid, target, 0).reshape([-1])).mul(valid.reshape([-1]).to(w.dtype));
    smoothRed = meanOverTargets(smooth.sum(), tw.sum());
  } else smoothRed = meanOverTargets(smooth.sum(), target.ne(ignoreIndex).sum().to(logp.dtype));
  return nll.mul(1 - eps).add(smoothRed.mul(eps / C));
}

/**
 * Binary cross-entropy on logits, in the stable form
 *   ℓ = w·[(1 − y)·x + (1 + (p − 1)·y)·(log(1 + e^(−|x|)) + max(−x, 0))]
 * where p is `posWeight` (weights positives; broadcast over the last dim) and w is `weight`,
 * with the closed-form gradient ∂ℓ/∂x = w·((1 + (p − 1)·y)·σ(x) − p·y) — σ(x) − y without
 * weights — so that x = 0 (a zero-initialised head) gets the right first step.
 * @example
 * const loss = binaryCrossEntropyWithLogits(logits, targets, { posWeight: tensor([3]) });
 */
export function binaryCrossEntropyWithLogits(
  input: Tensor,
  target: Tensor,
  opts: { weight?: Tensor | null; posWeight?: Tensor | null; reduction?: Reduction } = {},
): Tensor {
  const reduction = checkReduction('binaryCrossEntropyWithLogits', opts.reduction ?? 'mean');
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`binaryCrossEntropyWithLogits: target size ${fmtShape(target.shape)} must be the same as input size ${fmtShape(input.shape)}`);
  }
  for (const [name, t] of [['weight', opts.weight], ['posWeight', opts.posWeight]] as const) {
    if (t && !shapesEqual(broadcastShapes(`binaryCrossEntropyWithLogits (${name})`, t.shape, input.shape), input.shape)) {
      throw new Error(`binaryCrossEntropyWithLogits: ${name} of shape ${fmtShape(t.shape)} does not broadcast to the input's shape ${fmtShape(input.shape)}`);
    }
  }
  const loss = ops.binaryCrossEntropyWithLogits(input, target, opts.weight ?? null, opts.posWeight ?? null);
  return reduce(loss, reduction);
}

/**
 * Mean squared error ℓ = (x − y)².
 * @example
 * ```ts
 * F.mseLoss(tensor([1, 2, 3]), tensor([1, 2, 5])).item(); // 1.3333 ((0 + 0 + 4) / 3)
 * F.mseLoss(tensor([1, 2, 3]), tensor([1, 2, 5]), { reduction: 'sum' }).item(); // 4
 * ```
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const reduction = checkReduction('mseLoss', opts.reduction ?? 'mean');
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`mseLoss: target size ${fmtShape(target.shape)} must be the same as input size ${fmtShape(input.shape)}`);
  }
  const d = input.sub(target);
  return reduce(d.mul(d), reduction);
}

/**
 * Kullback–Leibler divergence with `input` as log-probabilities (as torch.nn.functional.kl_div):
 *   ℓ = y·(log y − x)   (0 where y = 0),   or with logTarget: ℓ = eʸ·(y − x).
 * 'batchmean' divides the sum by the batch size (the mathematically correct KL); 'mean'
 * divides by the number of elements. Used for distillation (Hinton et al. 2015).
  * @example
  * ```ts
  * const student = F.logSoftmax(randn([4, 10]), -1);  // log-probabilities
  * const teacher = F.softmax(randn([4, 10]), -1);     // probabilities
  * const kl = F.klDiv(student, teacher, { reduction: 'batchmean' }); // scalar ≥ 0
  * ```
 */
export function klDiv(input: Tensor, target: Tensor, opts: { reduction?: Reduction | 'batchmean'; logTarget?: boolean } = {}): Tensor {
  const reduction = opts.reduction ?? 'mean';
  if (!['mean', 'sum', 'none', 'batchmean'].includes(reduction)) throw new Error(`klDiv: reduction must be 'mean', 'batchmean', 'sum' or 'none', got '${reduction}'`);
  if (!shapesEqual(input.shape, target.shape)) throw new Error(`klDiv: target size ${fmtShape(target.shape)} must be the same as input size ${fmtShape(input.shape)}`);
  let loss: Tensor;
  if (opts.logTarget) loss = target.exp().mul(target.sub(input));
  else {
    const pos = target.gt(0);
    const safe = ops.where(pos, target, 1); // y·log y with 0·log 0 := 0
    loss = ops.where(pos, target.mul(safe.log()), 0).sub(target.mul(input));
  }
  if (reduction === 'batchmean') return loss.sum().div(input.ndim === 0 ? 1 : input.shape[0]!);
  return reduce(loss, reduction as Reduction);
}


/** Options of {@link distillationLoss}: the mixing weight α, the temperature T, the ignored label and the reduction. */
export interface DistillationLossOptions {
  /** T > 0: the softmax temperature of the soft-target term (Hinton et al. use 1–20; 2–4 is common). Default 2. */
  temperature?: number;
  /** α ∈ [0, 1]: the weight of the soft-target term; 1 − α weighs the hard-label cross-entropy. Default 0.5. */
  alpha?: number;
  /** Target value whose positions count in neither term (padding, non-first sub-words). Default −100. */
  ignoreIndex?: number;
  /** 'mean' (default): averaged over the non-ignored positions; 'sum'; 'none': per position, 0 where ignored. */
  reduction?: Reduction;
}

/**
 * Knowledge-distillation loss (Hinton, Vinyals & Dean 2015, "Distilling the Knowledge in a Neural
 * Network", §2), for sequence classification (one prediction per example) and token classification
 * (one per token, padding / sub-word positions ignored):
 *
 *   ℓᵢ = α·T²·KL(p_t ‖ p_s)ᵢ + (1 − α)·CE(z_s, y)ᵢ
 *   KL(p_t ‖ p_s)ᵢ = Σ_c p_t,c·(log p_t,c − log p_s,c),   p_t = softmax(z_t/T),  p_s = softmax(z_s/T)
 *   CE(z_s, y)ᵢ   = −log softmax(z_s)_{yᵢ}            (at temperature 1, as Hinton et al.)
 *
 * **Averaging.** With reduction 'mean' both terms are averaged over the same set: the positions
 * i whose target is not `ignoreIndex` (loss = Σᵢ valid ℓᵢ / #valid). For (N, C) logits without
 * ignored targets the KL term is therefore torch's `kl_div(log p_s, p_t, reduction='batchmean')`
 * (the true per-example KL), not the per-element 'mean' that divides by N·C as well. For token
 * classification the teacher's predictions at ignored positions (padding) are not distilled. With
 * every position ignored, 'mean' is NaN with zero gradients (as crossEntropy, PyTorch's rule).
 *
 * **Why T².** ∂KLᵢ/∂z_s = (p_s − p_t)/T. For T large compared with the logits,
 * p ≈ (1 + z/T − mean(z)/T)/C, so that gradient ≈ ((z_s − z̄_s) − (z_t − z̄_t))/(C·T²): the soft
 * term's gradients shrink as 1/T². Multiplying by T² keeps their magnitude the same whatever T is,
 * so changing the temperature does not silently re-weigh the soft against the hard term and α
 * keeps its meaning (the test checks the large-T limit T²·∂KL/∂z_s → the centred logit gap / C).
 *
 * The teacher gets no gradient (its logits are detached); teacher probabilities that are exactly 0
 * (logit −∞) contribute 0·log 0 := 0. A term whose weight is 0 (α = 0 or α = 1) is not computed, so
 * it cannot turn the loss into NaN.
 *
 * Shape: studentLogits, teacherLogits (*, C) with the class dim last (HF logits: (N, C) for
 * sequence classification, (B, L, C) for token classification); target (*) int32 class indices.
 * Returns a scalar, or (*) with reduction 'none'.
 * @example
 * const loss = F.distillationLoss(student(x), teacher(x), labels, { temperature: 4, alpha: 0.9 });
 * loss.backward(); // gradients reach the student only
 */
export function distillationLoss(studentLogits: Tensor, teacherLogits: Tensor, target: Tensor, opts: DistillationLossOptions = {}): Tensor {
  const op = 'distillationLoss';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const T = opts.temperature ?? 2;
  const alpha = opts.alpha ?? 0.5;
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (!(T > 0 && Number.isFinite(T))) throw new Error(`${op}: temperature must be a finite number > 0, got ${T}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`${op}: alpha must be in [0, 1], got ${alpha}`);
  if (!isFloatingDType(studentLogits.dtype)) throw new Error(`${op}: studentLogits must be floating-point, got ${studentLogits.dtype}`);
  if (studentLogits.ndim < 1 || studentLogits.shape[studentLogits.ndim - 1] === 0) {
    throw new Error(`${op}: studentLogits must have shape (*, C) with C ≥ 1 classes last, got ${fmtShape(studentLogits.shape)}`);
  }
  if (!shapesEqual(teacherLogits.shape, studentLogits.shape)) {
    throw new Error(`${op}: teacherLogits must have the student's shape ${fmtShape(studentLogits.shape)} (*, C), got ${fmtShape(teacherLogits.shape)}`);
  }
  if (target.dtype !== 'int32') throw new Error(`${op}: target must be int32 class indices, got ${target.dtype}`);
  const lead = studentLogits.shape.slice(0, -1);
  if (!shapesEqual(target.shape, lead)) {
    throw new Error(`${op}: target must have shape ${fmtShape(lead)} (the logits' shape without the class dim), got ${fmtShape(target.shape)}`);
  }
  const C = studentLogits.shape[studentLogits.ndim - 1]!;
  checkTargets(op, target, C, ignoreIndex);
  const t = target.reshape([-1]); // (M), M = ∏ leading dims
  const valid = t.ne(ignoreIndex); // (M) bool
  const keep = valid.unsqueeze(1); // (M, 1)
  // ignored rows (padding) read logits 0, so NaN / ±∞ there reach neither the loss nor the gradient
  const zs = ops.where(keep, studentLogits.reshape([-1, C]), 0); // (M, C)
  const zt = ops.where(keep, teacherLogits.detach().to(studentLogits.dtype).reshape([-1, C]), 0); // (M, C), a constant
  let perPos: Tensor | null = null; // (M)
  if (alpha > 0) {
    const logPs = zs.div(T).logSoftmax(-1); // (M, C)
    const pt = zt.div(T).softmax(-1); // (M, C)
    const logPt = zt.div(T).logSoftmax(-1); // (M, C)
    const terms = ops.where(pt.gt(0), pt.mul(logPt.sub(logPs)), 0); // 0·log 0 := 0
    perPos = terms.sum(-1).mul(alpha * T * T); // (M)
  }
  if (alpha < 1) {
    const ce = crossEntropy(zs, ops.where(valid, t, 0), { reduction: 'none' }).mul(1 - alpha); // (M); ignored rows read class 0, dropped below
    perPos = perPos ? perPos.add(ce) : ce;
  }
  const loss = ops.where(valid, perPos!, 0); // (M): ignored positions are exactly 0, whatever their logits
  if (reduction === 'none') return loss.reshape(lead);
  if (reduction === 'sum') return loss.sum();
  return meanOverTargets(loss.sum(), valid.sum().to(loss.dtype));
}
