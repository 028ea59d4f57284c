/**
 * Structured attention-head pruning (Michel, Levy & Neubig 2019, "Are Sixteen Heads Really Better
 * than One?"): score every head, remove the least important ones physically (BertModel.pruneHeads:
 * rows of W_Q, W_K, W_V and columns of W_O go, as HF's `prune_heads`), so the model gets smaller
 * and faster — unlike unstructured sparsity.
 *
 * Importance by gradient (Michel et al. eq. 2): with a gate ξ_h on each head's output,
 *   I_h = E_x |∂L(x)/∂ξ_h|    at ξ = 1.
 * No gate is needed: head h reaches the layer only through its columns of W_O (y = Σ_h W_O[:, h]·ctx_h + b),
 * so ∂L/∂ξ_h = Σ_{o, i∈h} W_O[o, i]·∂L/∂W_O[o, i] — the gradient of W_O that backward computes anyway.
 * Each batch's |·| is summed (as their code does per batch), then, by default, each layer's
 * scores are divided by their L2 norm (their code's normalisation, which makes layers comparable).
 *
 * Importance by norm: ‖(W_Q[h rows], W_K[h rows], W_V[h rows], W_O[:, h cols])‖₂ — data-free.
 */
import { BertModel } from '../nn/bert.js';
import type { Module } from '../nn/module.js';
import type { Tensor } from '../tensor/tensor.js';

/** One head's score; `head` is its original index in the layer. */
export interface HeadScore {
  /** Encoder layer index. */
  layer: number;
  /** The head's original index in its layer (0 … numAttentionHeads − 1). */
  head: number;
  /** Its score: larger = more important. */
  importance: number;
}

function bertOf(model: Module): BertModel {
  if (model instanceof BertModel) return model;
  const b = (model as { bert?: unknown }).bert;
  if (b instanceof BertModel) return b;
  throw new Error(`head pruning: ${model.constructor.name} is not a BERT model (a BertModel or a model with a .bert BertModel)`);
}

/** Original indices of the heads a layer still has, in order. */
function currentHeads(bert: BertModel, l: number): number[] {
  const att = bert.encoder.layer.at(l).attention;
  return Array.from({ length: bert.config.numAttentionHeads }, (_, i) => i).filter((i) => !att.prunedHeads.has(i));
}

function normalizeLayers(scores: HeadScore[]): HeadScore[] {
  const byLayer = new Map<number, number>();
  for (const s of scores) byLayer.set(s.layer, (byLayer.get(s.layer) ?? 0) + s.importance ** 2);
  return scores.map((s) => ({ ...s, importance: s.importance / (Math.sqrt(byLayer.get(s.layer)!) || 1) }));
}

/**
 * Michel et al.'s head importance I_h = Σ_batches |∂L/∂ξ_h| (see the file header), computed from
 * ∂L/∂W_O. `loss(batch)` runs the model (train or eval mode, as the caller set it) and returns a
 * scalar; gradients are zeroed before and after. Returns one score per remaining head.
 * @example
 * const scores = compress.headImportance(model, batches, (b) => model.forward(b).loss!);
 * compress.pruneHeadsByImportance(model, scores, { fraction: 0.25 });
 */
export function headImportance<B>(model: Module, batches: Iterable<B>, loss: (batch: B) => Tensor, opts: { normalize?: boolean } = {}): HeadScore[] {
  const bert = bertOf(model);
  const L = bert.config.numHiddenLayers, hs = bert.config.headDim;
  const heads = Array.from({ length: L }, (_, l) => currentHeads(bert, l));
  const acc = heads.map((h) => new Float64Array(h.length));
  let n = 0;
  model.zeroGrad();
  for (const b of batches) {
    const l = loss(b);
    if (l.numel() !== 1) throw new Error(`headImportance: loss(batch) must return a scalar, got shape [${l.shape.join(', ')}]`);
    l.backward();
    for (let layer = 0; layer < L; layer++) {
      const dense = bert.encoder.layer.at(layer).attention.output.dense;
      const W = dense.weight.detach().contiguous().toTypedArray(); // (H, A)
      if (!dense.weight.grad) throw new Error(`headImportance: layer ${layer}'s attention output has no gradient (is it frozen, or does the loss not depend on it?)`);
      const G = dense.weight.grad.contiguous().toTypedArray(); // (H, A)
      const A = dense.inFeatures, H = dense.outFeatures;
      for (let c = 0; c < heads[layer]!.length; c++) {
        let s = 0;
        for (let o = 0; o < H; o++) for (let i = c * hs; i < (c + 1) * hs; i++) s += W[o * A + i]! * G[o * A + i]!;
        acc[layer]![c]! += Math.abs(s);
      }
    }
    model.zeroGrad();
    n++;
  }
  if (n === 0) throw new Error('headImportance: batches is empty');
  const scores = heads.flatMap((h, layer) => h.map((head, c) => ({ layer, head, importance: acc[layer]![c]! })));
  return opts.normalize === false ? scores : normalizeLayers(scores);
}

/**
 * Data-free importance: the L2 norm of each head's Q, K, V rows and W_O columns.
 * @example
 * ```ts
 * const bert = new nn.BertModel(new nn.BertConfig({ vocabSize: 50, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 32 }));
 * const scores = compress.headImportanceByNorm(bert); // 8 entries { layer, head, importance }
 * compress.pruneHeadsByImportance(bert, scores, { fraction: 0.25 }); // the 2 weakest heads, e.g. { 0: [3], 1: [1] }
 * ```
 */
export function headImportanceByNorm(model: Module): HeadScore[] {
  const bert = bertOf(model);
  const hs = bert.config.headDim;
  const out: HeadScore[] = [];
  for (let layer = 0; layer < bert.config.numHiddenLayers; layer++) {
    const att = bert.encoder.layer.at(layer).attention;
    const rows = [att.self.query, att.self.key, att.self.value].map((l) => ({ w: l.weight.detach().contiguous().toTypedArray(), cols: l.inFeatures }));
    const O = att.output.dense;
    const wo = O.weight.detach().contiguous().toTypedArray();
    currentHeads(bert, layer).forEach((head, c) => {
      let s = 0;
      for (const r of rows) for (let i = c * hs * r.cols; i < (c + 1) * hs * r.cols; i++) s += r.w[i]! ** 2;
      for (let o = 0; o < O.outFeatures; o++) for (let i = c * hs; i < (c + 1) * hs; i++) s += wo[o * O.inFeatures + i]! ** 2;
      out.push({ layer, head, importance: Math.sqrt(s) });
    });
  }
  return out;
}

/**
 * Prunes the least important heads over the whole model (Michel et al. §4: global ranking),
 * `count` of them or `fraction` of those left, always keeping one head per layer; ties by
 * (layer, head). Returns what was pruned, `{ layer: [heads] }` (also in config.prunedHeads).
  * @example
  * ```ts
  * const scores = compress.headImportance(model, batches); // Michel et al.'s gradient-based scores
  * const pruned = compress.pruneHeadsByImportance(model, scores, { count: 24 }); // { layer: [heads] }
  * model.config.prunedHeads;             // the same map, saved in config.json
  * ```
 */
export function pruneHeadsByImportance(model: Module, scores: readonly HeadScore[], opts: { count?: number; fraction?: number }): Record<number, number[]> {
  const bert = bertOf(model);
  const total = scores.length;
  const count = opts.count ?? (opts.fraction !== undefined ? Math.floor(opts.fraction * total) : NaN);
  if (opts.fraction !== undefined && !(opts.fraction >= 0 && opts.fraction < 1)) throw new Error(`pruneHeadsByImportance: fraction must be in [0, 1), got ${opts.fraction}`);
  if (!(Number.isInteger(count) && count >= 0)) throw new Error(`pruneHeadsByImportance: give count (an integer ≥ 0) or fraction, got ${JSON.stringify(opts)}`);
  const left = new Map<number, number>();
  for (const s of scores) left.set(s.layer, (left.get(s.layer) ?? 0) + 1);
  const order = [...scores].sort((a, b) => a.importance - b.importance || a.layer - b.layer || a.head - b.head);
  const plan: Record<number, number[]> = {};
  let k = 0;
  for (const s of order) {
    if (k === count) break;
    if (left.get(s.layer)! <= 1) continue; // keep one head per layer
    (plan[s.layer] ??= []).push(s.head);
    left.set(s.layer, left.get(s.layer)! - 1);
    k++;
  }
  bert.pruneHeads(plan);
  return plan;
}
