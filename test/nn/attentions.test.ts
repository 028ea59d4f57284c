/**
 * outputAttentions on the BERT and GPT models: one probability tensor per layer, rows summing to 1
 * over the keys, exactly 0 on masked keys (padding for BERT, the future for GPT), the same logits
 * as without it, and equal to softmax(QKᵀ/√d + M) recomputed by hand for the first layer.
 */
import { describe, expect, it } from 'vitest';

import { manualSeed, nn, noGrad, tensor, type Tensor } from '../../src/index.js';
import { expectClose } from '../helpers.js';

function rowSumsAndMasked(p: Tensor, masked: (b: number, i: number, j: number) => boolean): { maxErr: number; maskedMax: number } {
  const [B, H, T, S] = p.shape as [number, number, number, number];
  const v = p.toTypedArray();
  let maxErr = 0, maskedMax = 0;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < T; i++) {
    let s = 0;
    for (let j = 0; j < S; j++) {
      const x = v[((b * H + h) * T + i) * S + j]!;
      s += x;
      if (masked(b, i, j)) maskedMax = Math.max(maskedMax, Math.abs(x));
    }
    maxErr = Math.max(maxErr, Math.abs(s - 1));
  }
  return { maxErr, maskedMax };
}

describe('outputAttentions', () => {
  it('BERT: per-layer probabilities (B, nh, T, T), rows sum to 1, padded keys 0, logits unchanged', () => {
    manualSeed(3);
    const cfg = new nn.BertConfig({ vocabSize: 30, hiddenSize: 16, numHiddenLayers: 3, numAttentionHeads: 4, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 3 });
    const m = new nn.BertForSequenceClassification(cfg);
    m.eval();
    const inputIds = tensor([[2, 5, 7, 9, 3], [2, 6, 3, 0, 0]], { dtype: 'int32' });
    const attentionMask = tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], { dtype: 'int32' });
    noGrad(() => {
      const plain = m.forward({ inputIds, attentionMask });
      expect(plain.attentions).toBeUndefined();
      const out = m.forward({ inputIds, attentionMask, outputAttentions: true });
      expect(out.attentions).toHaveLength(3);
      expectClose(out.logits, plain.logits, { rtol: 1e-5, atol: 1e-6, what: 'logits with and without outputAttentions' });
      for (const p of out.attentions!) {
        expect(p.shape).toEqual([2, 4, 5, 5]);
        const { maxErr, maskedMax } = rowSumsAndMasked(p, (b, _i, j) => b === 1 && j >= 3);
        expect(maxErr).toBeLessThan(1e-6);
        expect(maskedMax).toBe(0);
      }
      // layer 0 by hand: softmax(QKᵀ/√d + M) from the embeddings
      const h0 = m.bert.embeddings.forward(inputIds);
      const self = m.bert.encoder.layer.at(0).attention.self;
      const heads = (x: Tensor) => x.reshape([2, 5, 4, 4]).permute(0, 2, 1, 3);
      const scores = heads(self.query.forward(h0)).matmul(heads(self.key.forward(h0)).transpose(-1, -2)).mul(0.5);
      const mask = attentionMask.float().neg().add(1).mul(-1e9).reshape([2, 1, 1, 5]);
      expectClose(out.attentions![0]!, scores.add(mask).softmax(-1), { rtol: 1e-5, atol: 1e-6, what: 'layer 0 probabilities' });
    });
    // the token-classification and masked-LM heads pass them through too
    const tok = new nn.BertForTokenClassification(cfg);
    expect(noGrad(() => tok.forward({ inputIds, outputAttentions: true })).attentions).toHaveLength(3);
  });
  it('GPT: causal probabilities, future keys 0, also with a KV cache', () => {
    manualSeed(4);
    const gpt = new nn.GPT(new nn.GPTConfig({ vocabSize: 11, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 8, dropout: 0 }));
    gpt.eval();
    const idx = tensor([[1, 2, 3, 4], [5, 6, 7, 8]], { dtype: 'int32' });
    noGrad(() => {
      const out = gpt.forward(idx, null, { outputAttentions: true });
      expect(out.attentions).toHaveLength(2);
      expectClose(out.logits, gpt.forward(idx).logits, { rtol: 1e-5, atol: 1e-6, what: 'logits with and without outputAttentions' });
      for (const p of out.attentions!) {
        expect(p.shape).toEqual([2, 2, 4, 4]);
        const { maxErr, maskedMax } = rowSumsAndMasked(p, (_b, i, j) => j > i);
        expect(maxErr).toBeLessThan(1e-6);
        expect(maskedMax).toBe(0);
      }
      const cache = gpt.newCache();
      gpt.forward(idx.slice(1, 0, 3), null, { kvCache: cache });
      const step = gpt.forward(idx.slice(1, 3, 4), null, { kvCache: cache, outputAttentions: true });
      expect(step.attentions![0]!.shape).toEqual([2, 2, 1, 4]);
      expectClose(step.attentions![1]!, out.attentions![1]!.slice(2, 3, 4), { rtol: 1e-5, atol: 1e-6, what: 'cached step = last row' });
    });
  });
});
