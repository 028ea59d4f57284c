/**
 * The PEFT methods on real models: LoRA on BERT (peft's default targets), on GPT and on a user's
 * Sequential; bias modes; dropout on the LoRA input only; training moves only what should move;
 * merged == adapted; BitFit; bottleneck adapters (BERT and GPT); save/load round trips of all
 * three formats; clear errors for bad configurations.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { F, manualSeed, nn, noGrad, optim, peft, randint, randn, type Tensor } from '../../src/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'tg-peft-m-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const bertConfig = () => new nn.BertConfig({ vocabSize: 40, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 3 });
function bert(seed = 0): nn.BertForTokenClassification {
  manualSeed(seed);
  return new nn.BertForTokenClassification(bertConfig());
}
function gpt(seed = 0): nn.GPT {
  manualSeed(seed);
  return new nn.GPT(new nn.GPTConfig({ vocabSize: 20, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16 }));
}
const batch = () => {
  manualSeed(11);
  return { inputIds: randint(1, 40, [2, 6], { dtype: 'int32' }), labels: randint(0, 3, [2, 6], { dtype: 'int32' }) };
};
const logits = (m: nn.BertForTokenClassification): number[] => Array.from(noGrad(() => m.eval().forward({ inputIds: batch().inputIds }).logits).toTypedArray());
const maxDiff = (a: number[], b: number[]) => Math.max(...a.map((v, i) => Math.abs(v - b[i]!)));
const names = (m: nn.Module) => [...m.namedParameters()].filter(([, p]) => p.requiresGrad).map(([n]) => n);

function train(m: nn.BertForTokenClassification, steps = 3): number[] {
  const opt = new optim.AdamW(peft.trainableParameters(m), { lr: 1e-2 });
  const { inputIds, labels } = batch();
  const losses: number[] = [];
  m.train();
  for (let i = 0; i < steps; i++) {
    const loss = F.crossEntropy(m.forward({ inputIds }).logits.reshape([-1, 3]), labels.reshape([-1]));
    opt.zeroGrad();
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  return losses;
}

describe('LoRA', () => {
  it("BERT: peft's default targets (query, value); only A, B (+ head) train; the start equals the base", () => {
    const m = bert();
    const before = logits(m);
    const r = peft.applyLora(m, { r: 4, loraAlpha: 8, modulesToSave: ['classifier'] });
    expect(r.targets).toEqual(['bert.encoder.layer.0.attention.self.query', 'bert.encoder.layer.0.attention.self.value', 'bert.encoder.layer.1.attention.self.query', 'bert.encoder.layer.1.attention.self.value']);
    expect(names(m).filter((n) => !n.startsWith('classifier.')).every((n) => /\.lora_[AB]\.weight$/.test(n))).toBe(true);
    expect(names(m)).toContain('classifier.weight');
    expect(logits(m)).toEqual(before); // B = 0
    expect(peft.countParameters(m).trainable).toBe(4 * (4 * 16 + 16 * 4) + 16 * 3 + 3);
  });

  it('training moves A, B and the head only; merged == adapted; unmerge restores', () => {
    const m = bert();
    const w0 = m.bert.encoder.layer.at(0).attention.self.query.weight.toArray();
    const key0 = m.bert.encoder.layer.at(0).attention.self.key.weight.toArray();
    peft.applyLora(m, { r: 4, loraAlpha: 8, loraDropout: 0.1, modulesToSave: ['classifier'] });
    const losses = train(m, 5);
    expect(losses[4]!).toBeLessThan(losses[0]!);
    const q = m.bert.encoder.layer.at(0).attention.self.query as unknown as peft.LoraLinear;
    expect(q.weight.toArray()).toEqual(w0);
    expect(m.bert.encoder.layer.at(0).attention.self.key.weight.toArray()).toEqual(key0);
    const adapted = logits(m);
    peft.mergeLora(m);
    expect(q.merged).toBe(true);
    expect(maxDiff(logits(m), adapted)).toBeLessThan(1e-5);
    peft.unmergeLora(m);
    const w1 = q.weight.toArray() as number[][];
    expect(maxDiff(w1.flat(), (w0 as number[][]).flat())).toBeLessThan(1e-6);
    expect(() => q.unmerge()).toThrow(/not merged/);
    q.merge();
    expect(() => q.merge()).toThrow(/already merged/);
  });

  it('dropout acts on the LoRA input only: with B = 0 the training-mode output is the base output', () => {
    manualSeed(2);
    const base = new nn.Linear(8, 4);
    const x = randn([3, 8]);
    const y0 = noGrad(() => base.forward(x)).toArray();
    const l = peft.LoraLinear.wrap(base, { r: 2, loraDropout: 0.5 });
    l.train();
    expect(noGrad(() => l.forward(x)).toArray()).toEqual(y0);
    noGrad(() => l.lora_B.weight.fill_(1));
    // s·B·A·drop(x) differs between train (dropout) and eval
    const yt = noGrad(() => l.forward(x)).toArray() as number[][];
    const ye = noGrad(() => l.eval().forward(x)).toArray() as number[][];
    expect(maxDiff(yt.flat(), ye.flat())).toBeGreaterThan(1e-4);
  });

  it("bias modes: 'all' trains every bias, 'lora_only' the LoRA layers' biases", () => {
    const a = bert();
    peft.applyLora(a, { r: 2, bias: 'all' });
    expect(names(a).filter((n) => n.endsWith('.bias')).length).toBe([...a.namedParameters()].filter(([n]) => n.endsWith('.bias')).length);
    const b = bert();
    peft.applyLora(b, { r: 2, bias: 'lora_only' });
    expect(names(b).filter((n) => n.endsWith('.bias')).sort()).toEqual([0, 1].flatMap((i) => [`bert.encoder.layer.${i}.attention.self.query.bias`, `bert.encoder.layer.${i}.attention.self.value.bias`]).sort());
  });

  it("GPT (c_attn by default, or any Linear by name) and a user's Sequential", () => {
    const g = gpt();
    const idx = randint(0, 20, [1, 5], { dtype: 'int32' });
    const before = Array.from(noGrad(() => g.eval().forward(idx).logits).toTypedArray());
    const r = peft.applyLora(g, { r: 2 });
    expect(r.targets).toEqual(['transformer.h.0.attn.c_attn', 'transformer.h.1.attn.c_attn']);
    expect(Array.from(noGrad(() => g.forward(idx).logits).toTypedArray())).toEqual(before);
    const g2 = gpt();
    expect(peft.applyLora(g2, { r: 2, targetModules: ['c_attn', 'c_proj', 'c_fc'] }).targets.length).toBe(8);
    expect(() => peft.applyLora(gpt(), { r: 2, targetModules: ['lm_head'] })).toThrow(/tied weights/);
    const seq = new nn.Sequential(new nn.Linear(4, 8), new nn.ReLU(), new nn.Linear(8, 2));
    expect(peft.applyLora(seq, { r: 1, targetModules: '0|2' }).targets).toEqual(['0', '2']);
    expect(seq.forward(randn([3, 4])).shape).toEqual([3, 2]);
  });

  it('bad configurations are errors naming the option', () => {
    expect(() => peft.applyLora(bert(), { r: 0 })).toThrow(/LoraConfig: r must be a positive integer, got 0/);
    expect(() => peft.applyLora(bert(), { loraDropout: 1 })).toThrow(/loraDropout must be a probability/);
    expect(() => peft.applyLora(bert(), { targetModules: ['qkv'] })).toThrow(/targetModules \["qkv"\] matches no module of BertForTokenClassification \(its Linear layers are named 'query', 'key', 'value', 'dense', 'classifier'\)/);
    expect(() => peft.applyLora(bert(), { targetModules: ['LayerNorm'] })).toThrow(/not Linear layers: .*LayerNorm \(LayerNorm\)/);
    expect(() => peft.applyLora(bert(), { bias: 'some' as 'all' })).toThrow(/bias must be 'none', 'all' or 'lora_only'/);
    const m = bert();
    peft.applyLora(m, { r: 2 });
    expect(() => peft.applyLora(m, { r: 2 })).toThrow(/already carries a lora adapter/);
    expect(() => peft.mergeLora(bert())).toThrow(/has no LoRA layers/);
  });
});

describe('BitFit and bottleneck adapters', () => {
  it('BitFit trains only the biases (+ the head)', () => {
    const m = bert();
    const trained = peft.applyBitFit(m, { modulesToSave: ['classifier'] });
    expect(trained).toEqual(names(m));
    expect(trained.filter((n) => !n.endsWith('.bias'))).toEqual(['classifier.weight']);
    const w = m.bert.encoder.layer.at(0).intermediate.dense.weight.toArray();
    const b = m.bert.encoder.layer.at(0).intermediate.dense.bias!.toArray();
    train(m, 2);
    expect(m.bert.encoder.layer.at(0).intermediate.dense.weight.toArray()).toEqual(w);
    expect(m.bert.encoder.layer.at(0).intermediate.dense.bias!.toArray()).not.toEqual(b);
  });

  it('adapters after the attention output and the FFN of every BERT layer; near-identity; they train', () => {
    const m = bert();
    const before = logits(m);
    const { targets } = peft.applyAdapters(m, { adapterSize: 4, modulesToSave: ['classifier'] });
    expect(targets).toEqual(['bert.encoder.layer.0.attention.output.dense', 'bert.encoder.layer.0.output.dense', 'bert.encoder.layer.1.attention.output.dense', 'bert.encoder.layer.1.output.dense']);
    expect(maxDiff(logits(m), before)).toBeLessThan(0.05);
    const t = names(m);
    expect(t.every((n) => n.includes('.adapter.') || n.includes('LayerNorm') || n.startsWith('classifier.'))).toBe(true);
    expect(peft.countParameters(m).trainable).toBe(4 * (16 * 4 + 4 + 4 * 16 + 16) + 5 * 2 * 16 + 16 * 3 + 3);
    const losses = train(m, 5);
    expect(losses[4]!).toBeLessThan(losses[0]!);
  });

  it('adapters on GPT follow attn.c_proj and mlp.c_proj', () => {
    const g = gpt();
    expect(peft.applyAdapters(g, { adapterSize: 2 }).targets).toEqual(['transformer.h.0.attn.c_proj', 'transformer.h.0.mlp.c_proj', 'transformer.h.1.attn.c_proj', 'transformer.h.1.mlp.c_proj']);
    expect(() => peft.applyAdapters(bert(), { adapterSize: 0 })).toThrow(/adapterSize must be a positive integer, got 0/);
  });
});

describe('save / load round trips (LoRA: peft format; BitFit, adapters: tensorgrad format)', () => {
  const cases: [string, (m: nn.BertForTokenClassification) => void, RegExp][] = [
    ['lora', (m) => peft.applyLora(m, { r: 2, loraAlpha: 4, modulesToSave: ['classifier'], taskType: 'TOKEN_CLS' }), /\.lora_[AB]\.weight$|classifier/],
    ['bitfit', (m) => peft.applyBitFit(m, { modulesToSave: ['classifier'] }), /\.bias$|classifier/],
    ['adapter', (m) => peft.applyAdapters(m, { adapterSize: 3, modulesToSave: ['classifier'] }), /\.adapter\.|LayerNorm|classifier/],
  ];
  for (const [method, apply, keyRe] of cases) {
    it(`${method}: the folder holds only the trained tensors; base + adapter gives the trained logits`, () => {
      const m = bert();
      apply(m);
      train(m, 2);
      const want = logits(m);
      const dir = join(tmp, method);
      peft.savePeftAdapter(m, dir, { baseModelNameOrPath: '../base' });
      const cfg = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf8'));
      expect(cfg.peft_type).toBe({ lora: 'LORA', bitfit: 'BITFIT', adapter: 'BOTTLENECK_ADAPTER' }[method]);
      expect(cfg.base_model_name_or_path).toBe('../base');
      const keys = Object.keys(peft.adapterStateDict(m));
      expect(keys.every((k) => k.startsWith('base_model.model.') && keyRe.test(k))).toBe(true);
      const fresh = bert(); // the same base weights (seed 0)
      peft.loadPeftAdapter(fresh, dir);
      expect(logits(fresh)).toEqual(want);
    });
  }

  it('mergeAndUnload gives the base architecture with merged weights', () => {
    const m = bert();
    peft.applyLora(m, { r: 2, modulesToSave: ['classifier'] });
    train(m, 2);
    const want = logits(m);
    peft.mergeAndUnload(m);
    expect(Object.keys(m.stateDict()).sort()).toEqual(Object.keys(bert().stateDict()).sort());
    expect(maxDiff(logits(m), want)).toBeLessThan(1e-5);
    expect(peft.peftState(m)).toBeNull();
    void (null as unknown as Tensor);
  });
});
