/**
 * The `quantize` and `prune` commands on a tiny NER folder (test/pipelines/tiny.ts), run in
 * process: the output folders, the int8 file loads back into a model that agrees with the float
 * one, the prune report's counts.
 */
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

import { quantizeCommand } from '../../src/cli/commands/quantize.js';
import { pruneCommand } from '../../src/cli/commands/prune.js';
import { compress, noGrad, fromTypedArray } from '../../src/index.js';
import { loadSafetensors } from '../../src/data/safetensors.js';
import { loadModelFolder } from '../../src/pipelines/load.js';
import type { BertForTokenClassification } from '../../src/nn/bert.js';
import { makeTinyFolders } from '../pipelines/tiny.js';

let logs: string[] = [];
beforeEach(() => { logs = []; vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { logs.push(a.join(' ')); }); });
afterEach(() => vi.restoreAllMocks());

describe('compress CLI', () => {
  const { ner } = makeTinyFolders(mkdtempSync(join(tmpdir(), 'tg-compress-')));

  it('quantize writes model-int8.safetensors that loads back and agrees with the float model', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tg-q-')), 'int8');
    expect(await quantizeCommand.run(['--model', ner, '--output', out], 'tensorgrad')).toBe(0);
    expect(existsSync(join(out, 'model-int8.safetensors'))).toBe(true);
    expect(existsSync(join(out, 'config.json'))).toBe(true);
    expect(logs.join('\n')).toMatch(/quantized \d+ Linear layers to int8/);
    expect(logs.join('\n')).toMatch(/× smaller/);
    const float = loadModelFolder(ner).model as BertForTokenClassification;
    const q = compress.loadQuantized(loadModelFolder(ner).model, join(out, 'model-int8.safetensors')) as BertForTokenClassification;
    const ids = fromTypedArray(Int32Array.from([2, 5, 7, 9, 3]), [1, 5]);
    const a = noGrad(() => float.forward({ inputIds: ids }).logits).toTypedArray();
    const b = noGrad(() => q.forward({ inputIds: ids }).logits).toTypedArray();
    let err = 0, mag = 0;
    for (let i = 0; i < a.length; i++) { err = Math.max(err, Math.abs(a[i]! - b[i]!)); mag = Math.max(mag, Math.abs(a[i]!)); }
    expect(err / mag).toBeLessThan(0.05);
  });

  it('prune writes the pruned model and reports the per-layer sparsity', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'tg-p-')), 'pruned');
    expect(await pruneCommand.run(['--model', ner, '--output', out, '--sparsity', '0.8', '--scope', 'layer'], 'tensorgrad')).toBe(0);
    const text = logs.join('\n');
    expect(text).toMatch(/classifier\.weight\s+\d+ \/\s+\d+\s+\d+\.\d %/);
    expect(text).toMatch(/gzip'd/);
    const w = loadSafetensors(join(out, 'model.safetensors'))['bert.encoder.layer.0.attention.self.query.weight']!;
    const zeros = Array.from(w.toTypedArray()).filter((v) => v === 0).length;
    expect(zeros).toBe(Math.floor(0.8 * w.numel()));
    await expect(pruneCommand.run(['--model', ner, '--sparsity', '1.5'], 'tensorgrad')).rejects.toThrow(/--sparsity must be a number in \[0, 1\), got 1.5/);
  });
});
