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
