/**
 * The seeds' fine-tuning recipe end to end against PyTorch: a tiny BertForTokenClassification,
 * cross-entropy with ignoreIndex −100, and 3 steps of torch.optim.AdamW(lr 1e-2, wd 0.01) on
 * one batch — the losses before each step and every parameter afterwards
 * (test/fixtures/golden/bert.json, case bert_for_token_classification).
 */
import { describe, expect, it } from 'vitest';
import { nn, optim, type Tensor } from '../../src/index.js';
import { expectClose, fixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface AdamWCase {
  name: string;
  config: nn.HFBertConfig;
  inputs: Record<string, FixtureTensor>;
  state_dict: Record<string, FixtureTensor>;
  adamw: {
    hyper: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
    steps: number;
    losses: number[];
    final_loss: number;
    state_dict_after: Record<string, FixtureTensor>;
  };
}

describe('BertForTokenClassification + AdamW vs PyTorch', () => {
  const c = loadFixture<{ cases: AdamWCase[] }>('golden/bert.json').cases.find((x) => x.name === 'bert_for_token_classification')!;

  it('losses of 3 AdamW steps and every parameter afterwards', () => {
    const model = new nn.BertForTokenClassification(nn.BertConfig.fromJSON(c.config), { dtype: 'float64' });
    const sd: Record<string, Tensor> = {};
    for (const [k, v] of Object.entries(c.state_dict)) sd[k] = fixtureTensor(v, { name: k });
    model.loadPretrained(sd);
    const h = c.adamw.hyper;
    const opt = new optim.AdamW(model.parameters(), { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weight_decay });
    const ids = (k: string) => fixtureTensor(c.inputs[k]!, { dtype: 'int32' });
    const batch = { inputIds: ids('input_ids'), attentionMask: ids('attention_mask'), tokenTypeIds: ids('token_type_ids'), labels: ids('labels') };
    const losses: number[] = [];
    for (let s = 0; s < c.adamw.steps; s++) {
      const out = model.forward(batch);
      losses.push(out.loss!.item());
      opt.zeroGrad();
      out.loss!.backward();
      opt.step();
    }
    losses.forEach((l, i) => expect(Math.abs(l - c.adamw.losses[i]!) / Math.abs(c.adamw.losses[i]!), `loss before step ${i}`).toBeLessThan(1e-11));
    const finalLoss = model.forward(batch).loss!.item();
    expect(Math.abs(finalLoss - c.adamw.final_loss)).toBeLessThan(1e-10);
    const params = Object.fromEntries(model.namedParameters());
    for (const [k, want] of Object.entries(c.adamw.state_dict_after)) {
      if (!(k in params)) continue; // the fixture's pooler (unused by token classification)
      expectClose(params[k]!, fixtureTensor(want), { rtol: 1e-9, atol: 1e-12, what: `${k} after 3 AdamW steps` });
    }
  });
});
