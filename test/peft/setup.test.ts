/**
 * The workflow glue (src/peft/setup.ts): options checked by name, applyPeft's summary, the run
 * folder (adapter + pointer to the base, or base/ written when there was none; merged/), and
 * loadWithAdapter reproducing the trained model from base + adapter.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { F, manualSeed, nn, noGrad, optim, peft, randint } from '../../src/index.js';
import { loadSafetensors, saveSafetensors } from '../../src/data/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'tg-peft-s-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const config = () => new nn.BertConfig({ vocabSize: 40, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 3 });
const ids = () => { manualSeed(5); return randint(1, 40, [2, 6], { dtype: 'int32' }); };
const logits = (m: nn.BertForTokenClassification) => Array.from(noGrad(() => m.eval().forward({ inputIds: ids() }).logits).toTypedArray());
function trainSome(m: nn.BertForTokenClassification): void {
  const opt = new optim.AdamW(peft.trainableParameters(m), { lr: 1e-2 });
  manualSeed(6);
  const labels = randint(0, 3, [2, 6], { dtype: 'int32' });
  m.train();
  for (let i = 0; i < 2; i++) {
    const loss = F.crossEntropy(m.forward({ inputIds: ids() }).logits.reshape([-1, 3]), labels.reshape([-1]));
    opt.zeroGrad();
    loss.backward();
    opt.step();
  }
}

describe('checkPeftOptions', () => {
  it('names the field', () => {
    expect(() => peft.checkPeftOptions({ method: 'lora', loraR: 0 })).toThrow(/loraR \(--lora-r\) must be a positive integer, got 0/);
    expect(() => peft.checkPeftOptions({ method: 'bitfit', loraR: 4 })).toThrow(/loraR \(--lora-r\) applies only to method 'lora'/);
    expect(() => peft.checkPeftOptions({ method: 'adapter', merge: true })).toThrow(/merge \(--merge\) applies to 'lora' and 'bitfit'/);
    expect(() => peft.checkPeftOptions({ method: 'prefix' as 'lora' })).toThrow(/method \(--peft\) must be one of none, bitfit, lora, adapter/);
    expect(() => peft.checkPeftOptions({ method: 'adapter', adapterSize: 1.5 })).toThrow(/adapterSize \(--adapter-size\) must be a positive integer/);
  });
});

describe('applyPeft → savePeftRun → loadWithAdapter', () => {
  it("top layers only: method 'none' with freeze patterns", () => {
    manualSeed(0);
    const m = new nn.BertForTokenClassification(config());
    const s = peft.applyPeft(m, { method: 'none', freeze: ['bert.embeddings.*', 'bert.encoder.layer.{0..0}.*'] }, { head: ['classifier'], taskType: 'TOKEN_CLS' });
    expect(s.trainable).toBe(m.bert.encoder.layer.at(1).numParameters() + m.classifier.numParameters());
    expect(s.line).toMatch(/^trainable params: [\d,]+ \|\| all params: [\d,]+ \|\| trainable%: [\d.]+$/);
    expect(peft.savesAdapter(m)).toBe(false);
    expect(() => peft.applyPeft(new nn.BertForTokenClassification(config()), { method: 'none', freeze: ['*'] }, { head: [], taskType: null })).toThrow(/nothing left to train/);
  });

  for (const method of ['lora', 'bitfit', 'adapter'] as const) {
    it(`${method}: with no pretrained base the run writes base/ and points at it; base + adapter = the trained model`, () => {
      manualSeed(0);
      const m = new nn.BertForTokenClassification(config());
      const initial = Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, v.clone()]));
      peft.applyPeft(m, { method, ...(method === 'lora' ? { loraR: 2 } : {}), ...(method === 'adapter' ? { adapterSize: 4 } : {}) }, { head: ['classifier'], taskType: 'TOKEN_CLS' });
      trainSome(m);
      const want = logits(m);
      const out = join(tmp, `run-${method}`);
      const files = peft.savePeftRun(m, out, { baseDir: null, baseStateDict: initial, configJson: config().toJSON(), merge: method !== 'adapter' });
      expect(files.some((f) => f.endsWith('adapter_model.safetensors'))).toBe(true);
      expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe('base');
      expect(existsSync(join(out, 'base', 'model.safetensors'))).toBe(true);
      const fresh = new nn.BertForTokenClassification(config());
      expect(peft.loadWithAdapter(fresh, out)).toBe(join(out, 'base'));
      const got = logits(fresh);
      expect(Math.max(...got.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-6);
      if (method !== 'adapter') {
        // merged/: the full model in the base architecture
        const merged = new nn.BertForTokenClassification(config());
        merged.loadPretrained(loadSafetensors(join(out, 'merged', 'model.safetensors')));
        const mg = logits(merged);
        expect(Math.max(...mg.map((v, i) => Math.abs(v - want[i]!)))).toBeLessThan(1e-5);
      }
    });
  }

  it('with a pretrained base folder the pointer is its absolute path; a missing base is a clear error', () => {
    manualSeed(0);
    const pre = new nn.BertForTokenClassification(config());
    const baseDir = join(tmp, 'pretrained');
    saveSafetensors(pre.stateDict(), join(tmp, 'pretrained.safetensors'));
    mkdirSync(baseDir, { recursive: true });
    renameSync(join(tmp, 'pretrained.safetensors'), join(baseDir, 'model.safetensors'));
    peft.applyPeft(pre, { method: 'lora', loraR: 2 }, { head: ['classifier'], taskType: 'TOKEN_CLS' });
    const out = join(tmp, 'run-ptr');
    peft.savePeftRun(pre, out, { baseDir, baseStateDict: null, configJson: config().toJSON() });
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')).base_model_name_or_path).toBe(baseDir);
    rmSync(baseDir, { recursive: true });
    expect(() => peft.loadWithAdapter(new nn.BertForTokenClassification(config()), out)).toThrow(/points at base '.*pretrained', but no model\.safetensors is there/);
  });
});
