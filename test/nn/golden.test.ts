/**
 * Golden tests of the composite layers against PyTorch float64 reference values
 * (test/fixtures/golden/{layernorm,losses,attention,bert}.json, made by gen_golden.py).
 */
import { describe, expect, it } from 'vitest';
import { nn, F, Tensor } from '../../src/index.js';
import { expectClose, fixtureTensor, loadFixture, type FixtureTensor } from '../helpers.js';

interface Case {
  name: string;
  op: string;
  params: Record<string, unknown>;
  inputs: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  gy: Record<string, FixtureTensor>;
  grads: Record<string, FixtureTensor>;
}

/** Builds inputs (float ones requiring grad when the case has a grad for them), runs fn, backprops Σ y·gy. */
function runCase(c: Case, fn: (x: Record<string, Tensor>) => Record<string, Tensor>, tol = { rtol: 1e-9, atol: 1e-12 }): void {
  const x: Record<string, Tensor> = {};
  for (const [k, v] of Object.entries(c.inputs)) x[k] = fixtureTensor(v, { name: k, requiresGrad: k in (c.grads ?? {}) });
  const y = fn(x);
  let total: Tensor | null = null;
  for (const [k, want] of Object.entries(c.outputs)) {
    if (!(k in y)) continue;
    expectClose(y[k]!, fixtureTensor(want), { ...tol, what: `${c.name} output ${k}` });
  }
  for (const [k, gy] of Object.entries(c.gy ?? {})) {
    const term = y[k]!.mul(fixtureTensor(gy)).sum();
    total = total ? total.add(term) : term;
  }
  if (!total) return;
  total.backward();
  for (const [k, want] of Object.entries(c.grads)) {
    expect(x[k]!.grad, `${c.name}: no gradient for ${k}`).not.toBeNull();
    expectClose(x[k]!.grad!, fixtureTensor(want), { ...tol, what: `${c.name} grad ${k}` });
  }
}

describe('layerNorm vs PyTorch', () => {
  const { cases } = loadFixture<{ cases: Case[] }>('golden/layernorm.json');
  for (const c of cases) {
    it(c.name, () => {
      runCase(c, (x) => ({
        y: F.layerNorm(x.x!, c.params.normalized_shape as number[], { weight: x.weight, bias: x.bias, eps: c.params.eps as number }),
      }), { rtol: 1e-8, atol: 1e-9 });
    });
  }
});

describe('losses vs PyTorch', () => {
  const { cases } = loadFixture<{ cases: Case[] }>('golden/losses.json');
  for (const c of cases) {
    it(c.name, () => {
      const p = c.params as { reduction: F.Reduction; ignore_index?: number; label_smoothing?: number; log_target?: boolean };
      runCase(c, (x) => {
        switch (c.op) {
          case 'cross_entropy':
            return { y: F.crossEntropy(x.input!, x.target!, { weight: x.weight, ignoreIndex: p.ignore_index, labelSmoothing: p.label_smoothing, reduction: p.reduction }) };
          case 'nll_loss':
            return { y: F.nllLoss(x.input!, x.target!, { weight: x.weight, ignoreIndex: p.ignore_index, reduction: p.reduction }) };
          case 'binary_cross_entropy_with_logits':
            return { y: F.binaryCrossEntropyWithLogits(x.input!, x.target!, { weight: x.weight, posWeight: x.pos_weight, reduction: p.reduction }) };
          case 'mse_loss':
            return { y: F.mseLoss(x.input!, x.target!, { reduction: p.reduction }) };
          case 'kl_div':
            return { y: F.klDiv(x.input!, x.target!, { reduction: p.reduction as F.Reduction, logTarget: p.log_target }) };
          default:
            throw new Error(`unknown op ${c.op}`);
        }
      });
    });
  }
});

describe('scaled dot-product attention vs PyTorch', () => {
  const { cases } = loadFixture<{ cases: Case[] }>('golden/attention.json');
  for (const c of cases) {
    it(c.name, () => {
      const kind = c.params.mask_kind as string;
      runCase(c, (x) => {
        const mask = x.mask ?? x.keep_mask ?? null;
        const { output, weights } = F.attentionWithWeights(x.q!, x.k!, x.v!, {
          attnMask: mask, isCausal: kind.includes('causal'), scale: c.params.scale as number,
        });
        return { y: output, probs: weights };
      });
    });
  }
});

interface BertCase {
  name: string;
  config: nn.HFBertConfig;
  inputs: Record<string, FixtureTensor>;
  state_dict: Record<string, FixtureTensor>;
  outputs: Record<string, FixtureTensor>;
  gy?: Record<string, FixtureTensor>;
  grads?: Record<string, FixtureTensor>;
  param_grads: Record<string, FixtureTensor>;
  params_without_grad?: string[];
}

function stateDictOf(sd: Record<string, FixtureTensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, v]) => [k, fixtureTensor(v, { name: k })]));
}

describe('BERT vs a HuggingFace-layout PyTorch reference', () => {
  const { cases } = loadFixture<{ cases: BertCase[] }>('golden/bert.json');
  const tokenCase = cases.find((c) => c.name === 'bert_for_token_classification')!;
  const layerCase = cases.find((c) => c.name === 'bert_layer')!;

  it('one BertLayer: output, input gradient and every parameter gradient', () => {
    const config = nn.BertConfig.fromJSON(layerCase.config);
    const layer = new nn.BertLayer(config, { dtype: 'float64' });
    layer.loadStateDict(stateDictOf(layerCase.state_dict));
    const h = fixtureTensor(layerCase.inputs.hidden_states!, { requiresGrad: true });
    const ext = nn.extendedAttentionMask(fixtureTensor(layerCase.inputs.attention_mask!), 'float64');
    const y = layer.forward(h, ext);
    expectClose(y, fixtureTensor(layerCase.outputs.y!), { rtol: 1e-9, atol: 1e-11, what: 'BertLayer output' });
    y.mul(fixtureTensor(layerCase.gy!.y!)).sum().backward();
    expectClose(h.grad!, fixtureTensor(layerCase.grads!.hidden_states!), { rtol: 1e-8, atol: 1e-11, what: 'BertLayer grad hidden_states' });
    const params = Object.fromEntries(layer.namedParameters());
    for (const [k, g] of Object.entries(layerCase.param_grads)) {
      expectClose(params[k]!.grad!, fixtureTensor(g), { rtol: 1e-8, atol: 1e-11, what: `BertLayer grad ${k}` });
    }
  });

  it('BertForTokenClassification: parameter names, logits, loss and every parameter gradient', () => {
    const config = nn.BertConfig.fromJSON(tokenCase.config);
    const model = new nn.BertForTokenClassification(config, { dtype: 'float64' });
    const expectedNames = Object.keys(tokenCase.state_dict).filter((k) => !k.startsWith('bert.pooler.'));
    expect([...model.namedParameters()].map(([k]) => k)).toEqual(expectedNames);
    model.loadPretrained(stateDictOf(tokenCase.state_dict));
    const ids = (k: string) => fixtureTensor(tokenCase.inputs[k]!, { dtype: 'int32' });
    const out = model.forward({
      inputIds: ids('input_ids'), attentionMask: ids('attention_mask'), tokenTypeIds: ids('token_type_ids'), labels: ids('labels'),
    });
    expectClose(out.hiddenStates!, fixtureTensor(tokenCase.outputs.last_hidden_state!), { rtol: 1e-9, atol: 1e-11, what: 'last_hidden_state' });
    expectClose(out.logits, fixtureTensor(tokenCase.outputs.logits!), { rtol: 1e-9, atol: 1e-11, what: 'logits' });
    expectClose(out.loss!, fixtureTensor(tokenCase.outputs.loss!), { rtol: 1e-12, atol: 0, what: 'loss' });
    out.loss!.backward();
    for (const [k, p] of model.namedParameters()) {
      // key.bias gradients are exactly 0 in exact arithmetic (softmax is shift-invariant): compare absolutely
      expectClose(p.grad!, fixtureTensor(tokenCase.param_grads[k]!), { rtol: 1e-7, atol: 1e-13, what: `grad ${k}` });
    }
  });

  it('BertModel with pooler matches pooler_output', () => {
    const config = nn.BertConfig.fromJSON(tokenCase.config);
    const model = new nn.BertModel(config, { dtype: 'float64' });
    model.loadPretrained(stateDictOf(tokenCase.state_dict));
    const ids = (k: string) => fixtureTensor(tokenCase.inputs[k]!, { dtype: 'int32' });
    const out = model.forward({ inputIds: ids('input_ids'), attentionMask: ids('attention_mask'), tokenTypeIds: ids('token_type_ids') });
    expectClose(out.poolerOutput!, fixtureTensor(tokenCase.outputs.pooler_output!), { rtol: 1e-9, atol: 1e-11, what: 'pooler_output' });
  });
});
