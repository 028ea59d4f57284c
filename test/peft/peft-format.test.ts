/**
 * HuggingFace peft interoperability, against fixtures made by Python peft 0.21
 * (test/fixtures/peft/generate.py) and the reverse direction (make-ts-adapter.ts, checked in
 * Python by verify_ts.py):
 *   - a LoRA Linear's forward and gradients equal peft's (float64);
 *   - adapters saved by peft load here onto the same base and give peft's logits, adapted and merged;
 *   - savePeftAdapter writes exactly peft's keys and config fields (a file round trip);
 *   - the committed adapter trained here (ts-lora/) still loads and gives its recorded logits.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

import { fromTypedArray, nn, noGrad, peft, tensor, type Tensor } from '../../src/index.js';
import { loadSafetensors } from '../../src/data/index.js';

const D = join(__dirname, '..', 'fixtures', 'peft');
const E = JSON.parse(readFileSync(join(D, 'expected.json'), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'tg-peft-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

type N3 = number[][][];
function base(): nn.BertForTokenClassification {
  const m = new nn.BertForTokenClassification(nn.BertConfig.fromJSON(JSON.parse(readFileSync(join(D, 'base', 'config.json'), 'utf8'))));
  m.loadPretrained(loadSafetensors(join(D, 'base', 'model.safetensors')));
  return m.eval();
}
const inputs = () => ({ inputIds: tensor(E.input_ids, { dtype: 'int32' }), attentionMask: tensor(E.attention_mask, { dtype: 'int32' }) });
const logitsOf = (m: nn.BertForTokenClassification): N3 => noGrad(() => m.forward(inputs()).logits.toArray()) as N3;
function expectLogits(got: N3, want: N3, atol = 2e-5): void {
  const g = got.flat(2), w = want.flat(2);
  expect(g.length).toBe(w.length);
  const worst = Math.max(...g.map((v, i) => Math.abs(v - w[i]!) / (1 + Math.abs(w[i]!))));
  expect(worst).toBeLessThan(atol);
}
const f64 = (v: unknown): Tensor => {
  const arr = v as number[] | number[][] | number[][][];
  return tensor(arr as number[][], { dtype: 'float64' });
};

describe('LoRA Linear vs peft (golden, float64)', () => {
  it('forward and the gradients of x, W₀, b, A, B equal peft.tuners.lora.Linear', () => {
    const g = E.lora_linear;
    const lora = peft.LoraLinear.wrap(new nn.Linear(5, 4, { dtype: 'float64' }), { r: g.r, loraAlpha: g.lora_alpha });
    expect(lora.scaling).toBe(2);
    noGrad(() => {
      lora.weight.copy_(f64(g.weight));
      lora.bias!.copy_(f64(g.bias));
      lora.lora_A.weight.copy_(f64(g.lora_A));
      lora.lora_B.weight.copy_(f64(g.lora_B));
    });
    lora.requiresGrad_(true);
    const x = f64(g.x);
    x.requiresGrad = true;
    const y = lora.forward(x);
    const close = (t: Tensor, want: unknown) => {
      const a = (t.toArray() as unknown as number[]).flat(3) as number[];
      const b = (want as number[]).flat(3) as number[];
      expect(a.length).toBe(b.length);
      a.forEach((v, i) => expect(Math.abs(v - b[i]!)).toBeLessThan(1e-12 * (1 + Math.abs(b[i]!))));
    };
    close(y, g.y);
    y.mul(f64(g.upstream)).sum().backward();
    close(x.grad!, g.grad_x);
    close(lora.weight.grad!, g.grad_weight);
    close(lora.bias!.grad!, g.grad_bias);
    close(lora.lora_A.weight.grad!, g.grad_lora_A);
    close(lora.lora_B.weight.grad!, g.grad_lora_B);
  });
});

describe('adapters saved by Python peft load here', () => {
  it('the base model gives the same logits as transformers', () => {
    expectLogits(logitsOf(base()), E.base_logits);
  });

  for (const name of ['py-lora', 'py-lora-bias']) {
    it(`${name}: adapted and merged logits equal peft's`, () => {
      const m = base();
      const cfg = peft.loadPeftAdapter(m, join(D, name));
      expect(cfg.peft_type).toBe('LORA');
      m.eval();
      expectLogits(logitsOf(m), E[`${name}_logits`]);
      expect(logitsOf(base())).not.toEqual(logitsOf(m)); // the adapter does something
      peft.mergeLora(m);
      expectLogits(logitsOf(m), E[`${name}_merged_logits`]);
      peft.mergeAndUnload(m);
      expect(Object.keys(m.stateDict()).sort()).toEqual(Object.keys(base().stateDict()).sort());
      expectLogits(logitsOf(m), E[`${name}_merged_logits`]);
    });
  }

  it('py-lora: the trainable parameters match peft (563 = 4 LoRA pairs of 2·4·16 + the 16·3 + 3 head)', () => {
    const m = base();
    peft.loadPeftAdapter(m, join(D, 'py-lora'));
    // peft prints "trainable params: 563 || all params: 6,598 …": it also counts its frozen copy of the head (51)
    expect(peft.formatTrainableParameters(m)).toBe('trainable params: 563 || all params: 6,547 || trainable%: 8.5994');
  });
});

describe('savePeftAdapter writes peft\'s format', () => {
  for (const name of ['py-lora', 'py-lora-bias']) {
    it(`${name}: load → save gives peft's keys, tensors and config fields`, () => {
      const m = base();
      peft.loadPeftAdapter(m, join(D, name));
      const out = join(tmp, name);
      peft.savePeftAdapter(m, out, { baseModelNameOrPath: 'base' });
      const theirs = loadSafetensors(join(D, name, 'adapter_model.safetensors'));
      const ours = loadSafetensors(join(out, 'adapter_model.safetensors'));
      expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
      for (const k of Object.keys(theirs)) expect(ours[k]!.toArray()).toEqual(theirs[k]!.toArray());
      const c1 = JSON.parse(readFileSync(join(D, name, 'adapter_config.json'), 'utf8'));
      const c2 = JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8'));
      // every field peft wrote is written, with the same value (peft_version aside)
      for (const k of Object.keys(c1)) if (k !== 'peft_version') expect([k, c2[k]]).toEqual([k, c1[k]]);
    });
  }
});

describe('the adapter trained by tensorgrad (ts-lora/, verified in Python by verify_ts.py)', () => {
  it('loads onto the base and gives the logits recorded when it was trained', () => {
    const m = base();
    peft.loadPeftAdapter(m, join(D, 'ts-lora'));
    m.eval();
    expectLogits(logitsOf(m), JSON.parse(readFileSync(join(D, 'ts-expected.json'), 'utf8')).logits, 1e-6);
    expect(peft.adapterBasePath(join(D, 'ts-lora'))).toBe('base');
  });
});

describe('GPT-2 (HF Conv1D layout, fan_in_fan_out) both ways', () => {
  function gptBase(): nn.GPT {
    const g = new nn.GPT(nn.GPTConfig.fromJSON(JSON.parse(readFileSync(join(D, 'gpt-base', 'config.json'), 'utf8'))));
    g.loadPretrained(loadSafetensors(join(D, 'gpt-base', 'model.safetensors')));
    return g.eval();
  }
  const gptLogits = (g: nn.GPT): N3 => noGrad(() => g.forward(tensor(E.gpt_input_ids, { dtype: 'int32' })).logits.toArray()) as N3;

  it("py-gpt-lora (peft, c_attn + c_proj): adapted and merged logits equal peft's; saving gives peft's keys and fan_in_fan_out", () => {
    const g = gptBase();
    expectLogits(gptLogits(g), E.gpt_base_logits);
    peft.loadPeftAdapter(g, join(D, 'py-gpt-lora'));
    g.eval();
    expectLogits(gptLogits(g), E['py-gpt-lora_logits']);
    const out = join(tmp, 'gpt-rt');
    peft.savePeftAdapter(g, out, { baseModelNameOrPath: 'gpt-base' });
    const theirs = loadSafetensors(join(D, 'py-gpt-lora', 'adapter_model.safetensors'));
    const ours = loadSafetensors(join(out, 'adapter_model.safetensors'));
    expect(Object.keys(ours).sort()).toEqual(Object.keys(theirs).sort());
    expect(JSON.parse(readFileSync(join(out, 'adapter_config.json'), 'utf8')).fan_in_fan_out).toBe(true);
    peft.mergeLora(g);
    expectLogits(gptLogits(g), E['py-gpt-lora_merged_logits']);
  });

  it('ts-gpt-lora (trained here, verified in peft by verify_ts.py) gives its recorded logits', () => {
    const g = gptBase();
    peft.loadPeftAdapter(g, join(D, 'ts-gpt-lora'));
    g.eval();
    expectLogits(gptLogits(g), JSON.parse(readFileSync(join(D, 'ts-expected.json'), 'utf8')).gptLogits, 1e-6);
  });

  it('fan_in_fan_out on a BERT adapter is refused', () => {
    const dir = join(tmp, 'fifo');
    peft.savePeftAdapter((() => { const m = base(); peft.applyLora(m, { r: 2 }); return m; })(), dir);
    const cfgPath = join(dir, 'adapter_config.json');
    const cfg = JSON.parse(readFileSync(cfgPath, 'utf8'));
    writeFileSync(cfgPath, JSON.stringify({ ...cfg, fan_in_fan_out: true }));
    expect(() => peft.loadPeftAdapter(base(), dir)).toThrow(/fan_in_fan_out = true, which tensorgrad does not support/);
  });
});

describe('loading errors name the problem', () => {
  it('a missing folder, a foreign peft_type, a tensor for another base', () => {
    expect(() => peft.loadPeftAdapter(base(), join(tmp, 'nope'))).toThrow(/adapter_config\.json does not exist/);
    const m = base();
    const big = new nn.BertForTokenClassification(new nn.BertConfig({ vocabSize: 60, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 32, numLabels: 3 }));
    expect(() => peft.loadPeftAdapter(big, join(D, 'py-lora'))).toThrow(/has shape \[4, 16\] but .* has shape \[4, 32\]/);
    void m;
    void fromTypedArray;
  });
});
