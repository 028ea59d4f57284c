import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, tensor } from '../../src/index.js';
import { loadSafetensors, saveSafetensors, safetensorsBytes, SafetensorsError } from '../../src/data/safetensors.js';

const tiny = () => new nn.BertConfig({ vocabSize: 30, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 12, numLabels: 3 });

describe('safetensors ⇄ tensors', () => {
  it('round-trips every dtype through a file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-'));
    const t = {
      a: tensor([[1.5, -2], [3, 4]]),
      b: tensor([1, 2, 3], { dtype: 'int32' }),
      c: tensor([true, false]),
      d: tensor([0.1], { dtype: 'float64' }),
      e: tensor(7), // scalar
    };
    saveSafetensors(t, join(dir, 'x.safetensors'));
    const back = loadSafetensors(join(dir, 'x.safetensors'));
    for (const [k, v] of Object.entries(t)) {
      expect(back[k]!.dtype).toBe(v.dtype);
      expect(back[k]!.shape).toEqual(v.shape);
      expect(back[k]!.toArray()).toEqual(v.toArray());
    }
  });

  it('a non-contiguous view is written in logical order', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]]).transpose(0, 1);
    const back = loadSafetensors(safetensorsBytes({ x }));
    expect(back.x!.toArray()).toEqual([[1, 4], [2, 5], [3, 6]]);
  });

  it('a BERT checkpoint saved and loaded reproduces the model exactly', () => {
    manualSeed(3);
    const a = new nn.BertForTokenClassification(tiny());
    const bytes = safetensorsBytes(a.stateDict());
    manualSeed(4);
    const b = new nn.BertForTokenClassification(tiny());
    b.loadPretrained(loadSafetensors(bytes));
    const ids = tensor([[2, 5, 7, 9, 3]], { dtype: 'int32' });
    a.eval(); b.eval();
    expect(b.forward({ inputIds: ids }).logits.toArray()).toEqual(a.forward({ inputIds: ids }).logits.toArray());
  });

  it('maps legacy LayerNorm gamma/beta names and tolerates position_ids', () => {
    manualSeed(5);
    const a = new nn.BertModel(tiny());
    const sd = Object.fromEntries(Object.entries(a.stateDict()).map(([k, v]) => [k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), v]));
    sd['embeddings.position_ids'] = tensor([[0, 1, 2]], { dtype: 'int32' });
    const b = new nn.BertModel(tiny());
    b.loadPretrained(loadSafetensors(safetensorsBytes(sd)));
    for (const [k, p] of b.namedParameters()) expect(p.toArray(), k).toEqual(a.stateDict()[k]!.toArray());
  });

  it('reports a corrupt file with SafetensorsError', () => {
    expect(() => loadSafetensors(new Uint8Array([1, 2, 3]))).toThrow(SafetensorsError);
  });
});

describe('model.loadStateDict(loadSafetensors(path)) with a HF-named checkpoint', () => {
  it('maps legacy gamma/beta, ignores position_ids, fills a tied decoder stored once', () => {
    manualSeed(6);
    const a = new nn.BertForMaskedLM(tiny());
    const sd: Record<string, ReturnType<typeof tensor>> = {};
    for (const [k, v] of Object.entries(a.stateDict())) {
      if (k === 'cls.predictions.decoder.weight' || k === 'cls.predictions.decoder.bias') continue; // safetensors keeps one copy
      sd[k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')] = v;
    }
    sd['bert.embeddings.position_ids'] = tensor([[0, 1, 2]], { dtype: 'int32' });
    const dir = mkdtempSync(join(tmpdir(), 'tg-st-'));
    saveSafetensors(sd, join(dir, 'model.safetensors'));
    manualSeed(7);
    const b = new nn.BertForMaskedLM(tiny());
    b.loadStateDict(loadSafetensors(join(dir, 'model.safetensors')));
    for (const [k, v] of Object.entries(a.stateDict())) expect(b.stateDict()[k]!.toArray(), k).toEqual(v.toArray());
    // strictness is kept for real problems
    const bad = { ...sd, 'bert.encoder.layer.0.output.dense.weight': tensor([[1]]) };
    expect(() => new nn.BertForMaskedLM(tiny()).loadStateDict(bad)).toThrow(/Size mismatch: bert\.encoder\.layer\.0\.output\.dense\.weight/);
  });
});
