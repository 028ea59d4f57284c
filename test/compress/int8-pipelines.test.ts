/**
 * int8 folders (tensorgrad quantize → model-int8.safetensors) load through loadModelFolder, so
 * every pipeline, `predict` and `serve` run them: the layers are QuantizedLinear, the outputs agree
 * with the float folder's, the int8 forward equals loadQuantized's bit for bit.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { quantizeCommand } from '../../src/cli/commands/quantize.js';
import { predictCommand } from '../../src/cli/commands/predict.js';
import { compress, fromTypedArray, noGrad } from '../../src/index.js';
import { loadModelFolder, pipeline, PipelineError, type TokenEntity } from '../../src/pipelines/index.js';
import type { BertForTokenClassification } from '../../src/nn/bert.js';
import { makeTinyFolders } from '../pipelines/tiny.js';

let logs: string[] = [];
beforeEach(() => { logs = []; vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { logs.push(a.join(' ')); }); });
afterEach(() => vi.restoreAllMocks());

describe('pipelines on int8 folders', () => {
  const d = makeTinyFolders(mkdtempSync(join(tmpdir(), 'tg-int8-pipe-')));
  const q = { ner: join(d.root, 'ner-int8'), classifier: join(d.root, 'cls-int8'), mlm: join(d.root, 'mlm-int8') };
  beforeAll(async () => {
    vi.spyOn(console, 'log').mockImplementation(() => {});
    for (const k of ['ner', 'classifier', 'mlm'] as const) expect(await quantizeCommand.run(['--model', d[k], '--output', q[k]], 'tensorgrad')).toBe(0);
  });

  it('loadModelFolder builds the model with QuantizedLinear layers, bit-identical to loadQuantized', () => {
    const l = loadModelFolder(q.ner);
    expect(l.task).toBe('token-classification');
    const layers = compress.quantizedLayers(l.model);
    expect(layers.length).toBe(2 * 6 + 1); // per layer: query, key, value, attention output, intermediate, output; + classifier
    const ref = compress.loadQuantized(loadModelFolder(d.ner).model, join(q.ner, 'model-int8.safetensors')) as BertForTokenClassification;
    const ids = fromTypedArray(Int32Array.from([2, 9, 17, 11, 16, 3]), [1, 6]);
    const a = noGrad(() => (l.model as BertForTokenClassification).forward({ inputIds: ids }).logits).toTypedArray();
    const b = noGrad(() => ref.eval().forward({ inputIds: ids }).logits).toTypedArray();
    expect(Array.from(a)).toEqual(Array.from(b));
  });

  it('token-classification, text-classification and fill-mask pipelines agree with the float folders', () => {
    const s = 'call me ishmael, captain ahab sailed from nantucket to boston.';
    const f = pipeline('token-classification', d.ner)(s, { aggregationStrategy: 'none', ignoreLabels: [] }) as TokenEntity[];
    const i = pipeline('token-classification', q.ner)(s, { aggregationStrategy: 'none', ignoreLabels: [] }) as TokenEntity[];
    expect(i.map((e) => e.word)).toEqual(f.map((e) => e.word));
    const same = i.filter((e, k) => e.entity === f[k]!.entity).length;
    expect(same / f.length).toBeGreaterThanOrEqual(0.8);
    for (let k = 0; k < f.length; k++) if (i[k]!.entity === f[k]!.entity) expect(Math.abs(i[k]!.score - f[k]!.score)).toBeLessThan(0.1);
    const cf = pipeline('text-classification', d.classifier)('free money now', { topK: null }) as { label: string; score: number }[];
    const ci = pipeline('text-classification', q.classifier)('free money now', { topK: null }) as { label: string; score: number }[];
    for (const c of cf) expect(Math.abs(ci.find((x) => x.label === c.label)!.score - c.score)).toBeLessThan(0.05);
    const mf = pipeline('fill-mask', d.mlm)('the white [MASK].', { topK: 3 });
    const mi = pipeline('fill-mask', q.mlm)('the white [MASK].', { topK: 3 });
    expect(mi.length).toBe(mf.length);
  });

  it('predict runs an int8 folder', async () => {
    const out: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => { out.push(String(c)); return true; });
    expect(await predictCommand.run([q.classifier, 'free money now'], 'tensorgrad')).toBe(0);
    const text = out.join('') + logs.join('\n');
    expect(text).toMatch(/"label":"(ham|spam)"/);
  });

  it('a torn int8 file is a PipelineError naming it', () => {
    const bad = mkdtempSync(join(tmpdir(), 'tg-int8-bad-'));
    writeFileSync(join(bad, 'config.json'), JSON.stringify({ model_type: 'bert', architectures: ['BertForTokenClassification'], vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 }));
    writeFileSync(join(bad, 'model-int8.safetensors'), 'not a safetensors file');
    expect(() => loadModelFolder(bad)).toThrow(PipelineError);
    expect(() => loadModelFolder(bad)).toThrow(/model-int8\.safetensors/);
  });
});
