/**
 * Attention-head pruning (Michel et al. 2019; HF prune_heads): a pruned layer computes exactly
 * what the full one does with the removed heads' W_O columns zeroed; pruned_heads round-trips
 * through config.json; the gradient importance equals |∂L/∂ξ_h| by central differences of a
 * head gate (float64); the global ranking keeps a head per layer.
 */
import { describe, expect, it } from 'vitest';

import { compress, manualSeed, noGrad, fromTypedArray } from '../../src/index.js';
import { BertConfig, BertForSequenceClassification, BertModel } from '../../src/nn/bert.js';

const cfg = () => new BertConfig({ vocabSize: 30, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 32, maxPositionEmbeddings: 16, hiddenDropoutProb: 0, attentionProbsDropoutProb: 0 });
const ids = fromTypedArray(Int32Array.from([2, 5, 7, 9, 11, 3, 2, 8, 6, 4, 12, 3]), [2, 6], { dtype: 'int32' });
const mask = fromTypedArray(Int32Array.from([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0]), [2, 6], { dtype: 'int32' });

describe('BertModel.pruneHeads', () => {
  it('equals the full model with the pruned heads\' W_O columns zeroed; shapes shrink; config.pruned_heads round-trips', () => {
    manualSeed(1);
    const full = new BertModel(cfg());
    const pruned = new BertModel(cfg());
    pruned.loadStateDict(full.stateDict());
    pruned.pruneHeads({ 0: [1, 3], 1: [2] });
    noGrad(() => {
      for (const [l, hs] of [[0, [1, 3]], [1, [2]]] as const) {
        const w = full.encoder.layer.at(l).attention.output.dense.weight;
        const m = new Float32Array(16 * 16).fill(1);
        for (const h of hs) for (let o = 0; o < 16; o++) for (let i = h * 4; i < h * 4 + 4; i++) m[o * 16 + i] = 0;
        w.mul_(fromTypedArray(m, [16, 16]));
      }
    });
    const a = noGrad(() => full.forward({ inputIds: ids, attentionMask: mask }).lastHiddenState).toTypedArray();
    const b = noGrad(() => pruned.forward({ inputIds: ids, attentionMask: mask }).lastHiddenState).toTypedArray();
    let err = 0;
    for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(a[i]! - b[i]!));
    expect(err).toBeLessThan(1e-5);
    expect(pruned.encoder.layer.at(0).attention.self.query.weight.shape).toEqual([8, 16]);
    expect(pruned.encoder.layer.at(0).attention.output.dense.weight.shape).toEqual([16, 8]);
    expect(pruned.encoder.layer.at(1).attention.self.numHeads).toBe(3);
    expect(pruned.config.toJSON().pruned_heads).toEqual({ 0: [1, 3], 1: [2] });
    // a model built from the saved config has the pruned shapes and loads the pruned weights
    const again = new BertModel(BertConfig.fromJSON(JSON.parse(JSON.stringify(pruned.config.toJSON()))));
    again.loadStateDict(pruned.stateDict());
    expect(Array.from(noGrad(() => again.forward({ inputIds: ids, attentionMask: mask }).lastHiddenState).toTypedArray())).toEqual(Array.from(b));
    // pruning more of a pruned layer uses original indices
    pruned.pruneHeads({ 0: [0] });
    expect(pruned.config.prunedHeads![0]).toEqual([0, 1, 3]);
    expect(() => pruned.pruneHeads({ 0: [2] })).toThrow(/would leave no head/);
    expect(() => pruned.pruneHeads({ 5: [0] })).toThrow(/layer 5 is not in \[0, 2\)/);
  });
});

describe('head importance', () => {
  it('the W_O-gradient importance equals |∂L/∂ξ_h| by central differences of a head gate (float64)', () => {
    manualSeed(2);
    const model = new BertForSequenceClassification(new BertConfig({ ...cfg(), numLabels: 3 }), { dtype: 'float64' });
    model.eval();
    const labels = fromTypedArray(Int32Array.from([0, 2]), [2], { dtype: 'int32' });
    const loss = () => model.forward({ inputIds: ids, attentionMask: mask, labels }).loss!;
    const scores = compress.headImportance(model, [0], loss, { normalize: false });
    expect(scores.length).toBe(8);
    for (const s of scores) {
      // gate ξ on head h: scale its W_O columns by ξ = 1 ± ε
      const w = model.bert.encoder.layer.at(s.layer).attention.output.dense.weight;
      const orig = Float64Array.from(w.toTypedArray());
      const at = (xi: number) => {
        const v = Float64Array.from(orig);
        for (let o = 0; o < 16; o++) for (let i = s.head * 4; i < s.head * 4 + 4; i++) v[o * 16 + i] = orig[o * 16 + i]! * xi;
        noGrad(() => w.copy_(fromTypedArray(v, [16, 16], { dtype: 'float64' })));
        return noGrad(() => loss().item());
      };
      const eps = 1e-5;
      const fd = Math.abs((at(1 + eps) - at(1 - eps)) / (2 * eps));
      noGrad(() => w.copy_(fromTypedArray(orig, [16, 16], { dtype: 'float64' })));
      expect(Math.abs(s.importance - fd)).toBeLessThan(1e-7 + 1e-5 * fd);
    }
    // normalised: each layer's scores have L2 norm 1
    const n = compress.headImportance(model, [0, 1], loss);
    for (const l of [0, 1]) expect(Math.hypot(...n.filter((s) => s.layer === l).map((s) => s.importance))).toBeCloseTo(1, 12);
  });

  it('pruneHeadsByImportance removes the globally lowest heads, keeping one per layer; by-norm scores need no data', () => {
    manualSeed(3);
    const model = new BertModel(cfg());
    const scores = [0, 1].flatMap((layer) => [0, 1, 2, 3].map((head) => ({ layer, head, importance: layer === 0 ? head / 100 : 1 + head })));
    const plan = compress.pruneHeadsByImportance(model, scores, { count: 4 });
    expect(plan).toEqual({ 0: [0, 1, 2] , 1: [0] });
    expect(model.encoder.layer.at(0).attention.self.numHeads).toBe(1);
    const byNorm = compress.headImportanceByNorm(model);
    expect(byNorm.map((s) => `${s.layer}.${s.head}`)).toEqual(['0.3', '1.1', '1.2', '1.3']);
    for (const s of byNorm) expect(s.importance).toBeGreaterThan(0);
    expect(() => compress.pruneHeadsByImportance(model, byNorm, { fraction: 1.5 })).toThrow(/fraction must be in \[0, 1\)/);
  });
});
