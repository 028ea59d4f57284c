/**
 * Base + adapter through the inference loader (pipelines/load.ts, used by predict, serve and the
 * pipelines): a PEFT run folder — config.json, vocab.txt, the adapter and base/ — loads as one
 * model and computes what the trained model computed. And the CLI's --peft option block: errors
 * name the flag.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { F, manualSeed, nn, noGrad, optim, peft, randint } from '../../src/index.js';
import { loadModelFolder } from '../../src/pipelines/load.js';
import { parseArgs, UsageError } from '../../src/cli/args.js';
import { peftFromOptions, peftOptions } from '../../src/cli/options.js';

const tmp = mkdtempSync(join(tmpdir(), 'tg-peft-l-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const VOCAB = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', ...'abcdefghijklmnopqrstuvwxyz'.split('')];

describe('loadModelFolder on a PEFT run folder', () => {
  for (const method of ['lora', 'adapter', 'bitfit'] as const) {
    it(`${method}: base (from the pointer) + adapter = the trained model`, () => {
      manualSeed(0);
      const config = new nn.BertConfig({ vocabSize: VOCAB.length, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 3, id2label: { 0: 'O', 1: 'B-X', 2: 'I-X' } });
      const model = new nn.BertForTokenClassification(config);
      const initial = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
      peft.applyPeft(model, { method }, { head: ['classifier'], taskType: 'TOKEN_CLS' });
      const opt = new optim.AdamW(peft.trainableParameters(model), { lr: 1e-2 });
      const ids = randint(5, VOCAB.length, [2, 5], { dtype: 'int32' });
      const labels = randint(0, 3, [2, 5], { dtype: 'int32' });
      for (let i = 0; i < 2; i++) {
        const loss = F.crossEntropy(model.forward({ inputIds: ids }).logits.reshape([-1, 3]), labels.reshape([-1]));
        opt.zeroGrad();
        loss.backward();
        opt.step();
      }
      const want = Array.from(noGrad(() => model.eval().forward({ inputIds: ids }).logits).toTypedArray());
      const out = join(tmp, method);
      const configJson = { ...config.toJSON(), architectures: ['BertForTokenClassification'] };
      peft.savePeftRun(model, out, { baseDir: null, baseStateDict: initial, configJson });
      writeFileSync(join(out, 'config.json'), JSON.stringify(configJson));
      writeFileSync(join(out, 'vocab.txt'), VOCAB.join('\n') + '\n');
      const loaded = loadModelFolder(out);
      expect(loaded.task).toBe('token-classification');
      const got = Array.from(noGrad(() => (loaded.model as nn.BertForTokenClassification).forward({ inputIds: ids }).logits).toTypedArray());
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-6);
    });
  }

  it('a broken pointer is a clear error', () => {
    const out = join(tmp, 'lora');
    writeFileSync(join(out, 'adapter_config.json'), JSON.stringify({ peft_type: 'LORA', base_model_name_or_path: 'nowhere', r: 2, lora_alpha: 4, target_modules: ['query'] }));
    expect(() => loadModelFolder(out)).toThrow(/points at base 'nowhere', but no model\.safetensors is there/);
  });
});

describe('CLI --peft options', () => {
  const spec = { name: 'x', summary: '', options: peftOptions };
  const parse = (argv: string[]) => peftFromOptions(parseArgs(spec, argv));
  it('parse into PeftOptions (brace globs keep their commas)', () => {
    expect(parse([])).toBeUndefined();
    expect(parse(['--peft', 'lora', '--lora-r', '4', '--lora-targets', 'query,key,value', '--merge'])).toEqual({ method: 'lora', loraR: 4, loraTargets: ['query', 'key', 'value'], merge: true });
    expect(parse(['--freeze', 'bert.embeddings.*,bert.encoder.layer.{0,1}.*'])).toEqual({ method: 'none', freeze: ['bert.embeddings.*', 'bert.encoder.layer.{0,1}.*'] });
  });
  it('bad combinations are UsageErrors naming the option', () => {
    expect(() => parse(['--peft', 'lora', '--lora-r', '0'])).toThrow(UsageError);
    expect(() => parse(['--peft', 'lora', '--lora-r', '0'])).toThrow(/loraR \(--lora-r\) must be a positive integer, got 0/);
    expect(() => parse(['--lora-r', '4'])).toThrow(/loraR \(--lora-r\) applies only to method 'lora' \(the method is 'none'\)/);
    expect(() => parse(['--peft', 'adapter', '--merge'])).toThrow(/merge \(--merge\) applies to 'lora' and 'bitfit'/);
    expect(() => parse(['--peft', 'prefix'])).toThrow(/--peft must be one of none, bitfit, lora, adapter/);
  });
  it('a LoRA target that matches no module names --lora-targets', () => {
    const m = new nn.BertForTokenClassification(new nn.BertConfig({ vocabSize: 10, hiddenSize: 8, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 8, maxPositionEmbeddings: 8, numLabels: 2 }));
    expect(() => peft.applyPeft(m, parse(['--peft', 'lora', '--lora-targets', 'qkv'])!, { head: ['classifier'], taskType: null }))
      .toThrow(/loraTargets \(--lora-targets\): applyLora: targetModules \["qkv"\] matches no module/);
    expect(() => peft.applyPeft(new nn.BertForTokenClassification(m.config), parse(['--freeze', 'bert.nope.*'])!, { head: [], taskType: null }))
      .toThrow(/freeze \(--freeze\): freeze: pattern 'bert\.nope\.\*' matches no parameter/);
  });
});
