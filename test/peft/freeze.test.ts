/**
 * Freezing: name globs (brace alternatives and ranges), requiresGrad_, countParameters and the
 * peft-style print, optimizers that only see (and keep state for) trainable parameters, and the
 * backward pass that records nothing for a frozen subgraph (graph nodes counted, frozen .grad null).
 */
import { describe, expect, it } from 'vitest';

import { F, manualSeed, nn, optim, peft, randint, tensor } from '../../src/index.js';
import { decayGroups } from '../../src/train/step.js';

const cfg = () => new nn.BertConfig({ vocabSize: 40, hiddenSize: 16, numHiddenLayers: 3, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 3 });
function bert(): nn.BertForTokenClassification {
  manualSeed(0);
  return new nn.BertForTokenClassification(cfg());
}
function lossOf(m: nn.BertForTokenClassification) {
  manualSeed(1);
  const ids = randint(1, 40, [2, 6], { dtype: 'int32' });
  const labels = randint(0, 3, [2, 6], { dtype: 'int32' });
  const { logits } = m.forward({ inputIds: ids });
  return F.crossEntropy(logits.reshape([-1, 3]), labels.reshape([-1]));
}

describe('globToRegExp', () => {
  it('*, ?, {a,b}, {m..n}', () => {
    const re = peft.globToRegExp('bert.encoder.layer.{0..2}.*');
    expect(re.test('bert.encoder.layer.2.output.dense.weight')).toBe(true);
    expect(re.test('bert.encoder.layer.3.output.dense.weight')).toBe(false);
    expect(re.test('bert.encoder.layer.10.output.dense.weight')).toBe(false);
    expect(peft.globToRegExp('*.{query,value}.weight').test('a.b.query.weight')).toBe(true);
    expect(peft.globToRegExp('*.{query,value}.weight').test('a.b.key.weight')).toBe(false);
    expect(peft.globToRegExp('layer.?.x').test('layer.7.x')).toBe(true);
    expect(peft.globToRegExp('a.b').test('aXb')).toBe(false); // dots are literal
  });
  it('bad patterns name the problem', () => {
    expect(() => peft.globToRegExp('a.{0..')).toThrow(/unclosed '\{'/);
    expect(() => peft.globToRegExp('a.{5..2}')).toThrow(/empty range \{5\.\.2\}/);
    expect(() => peft.globToRegExp('a}')).toThrow(/unmatched '\}'/);
    expect(() => peft.globToRegExp('')).toThrow(/non-empty pattern/);
  });
});

describe('freeze / unfreeze / countParameters', () => {
  it('freezes by parameter or module name, and counts', () => {
    const m = bert();
    const total = m.numParameters();
    expect(peft.countParameters(m)).toEqual({ trainable: total, total, percent: 100 });
    const frozen = peft.freeze(m, ['bert.embeddings.*', 'bert.encoder.layer.{0..1}']);
    expect(frozen.every((n) => n.startsWith('bert.embeddings.') || /^bert\.encoder\.layer\.[01]\./.test(n))).toBe(true);
    const embeddings = [...m.bert.embeddings.namedParameters()].length;
    const layer = [...m.bert.encoder.layer.at(0).namedParameters()].length;
    expect(frozen.length).toBe(embeddings + 2 * layer);
    const trainable = m.bert.encoder.layer.at(2).numParameters() + (m.bert.pooler?.numParameters() ?? 0) + m.classifier.numParameters();
    const c = peft.countParameters(m);
    expect(c).toEqual({ trainable, total, percent: (100 * trainable) / total });
    expect(peft.formatTrainableParameters(m)).toBe(`trainable params: ${trainable.toLocaleString('en-US')} || all params: ${total.toLocaleString('en-US')} || trainable%: ${((100 * trainable) / total).toFixed(4)}`);
    peft.unfreeze(m, 'bert.encoder.layer.1.*');
    expect(m.bert.encoder.layer.at(1).parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(m.bert.encoder.layer.at(0).parameters().every((p) => !p.requiresGrad)).toBe(true);
  });

  it('a pattern that matches nothing is an error naming it', () => {
    expect(() => peft.freeze(bert(), ['bert.embeddings.*', 'bert.encoder.layers.*'])).toThrow(/freeze: pattern 'bert\.encoder\.layers\.\*' matches no parameter of BertForTokenClassification/);
    expect(() => peft.unfreeze(bert(), [])).toThrow(/non-empty glob/);
  });

  it('module.requiresGrad_(false) freezes a subtree; a peft-style line is printed', () => {
    const m = bert();
    m.bert.requiresGrad_(false);
    const lines: string[] = [];
    peft.printTrainableParameters(m, (l) => lines.push(l));
    expect(lines).toEqual([`trainable params: ${m.classifier.numParameters()} || all params: ${m.numParameters().toLocaleString('en-US')} || trainable%: ${((100 * m.classifier.numParameters()) / m.numParameters()).toFixed(4)}`]);
  });
});

describe('optimizers and backward with frozen parameters', () => {
  it('AdamW over decayGroups / trainableParameters keeps state only for trainable ones; frozen ones do not move', () => {
    const m = bert();
    peft.freeze(m, ['bert.embeddings', 'bert.encoder.layer.{0..1}']);
    const groups = decayGroups(m, 0.01);
    const inGroups = groups.flatMap((g) => g.params);
    expect(new Set(inGroups)).toEqual(new Set(peft.trainableParameters(m)));
    const opt = new optim.AdamW(groups, { lr: 1e-2 });
    const frozenBefore = m.bert.embeddings.word_embeddings.weight.toArray();
    const topBefore = m.bert.encoder.layer.at(2).output.dense.weight.toArray();
    for (let i = 0; i < 2; i++) {
      const loss = lossOf(m);
      opt.zeroGrad();
      loss.backward();
      opt.step();
    }
    expect(opt.state.size).toBe(peft.trainableParameters(m).length);
    for (const p of m.parameters()) if (!p.requiresGrad) expect(p.grad).toBeNull();
    expect(m.bert.embeddings.word_embeddings.weight.toArray()).toEqual(frozenBefore);
    expect(m.bert.encoder.layer.at(2).output.dense.weight.toArray()).not.toEqual(topBefore);
  });

  it('a frozen encoder records no graph nodes: only the head and the loss remain', () => {
    const full = lossOf(bert());
    const m = bert();
    m.bert.requiresGrad_(false);
    const frozen = lossOf(m);
    const nFull = peft.countGraphNodes(full), nFrozen = peft.countGraphNodes(frozen);
    expect(nFull).toBeGreaterThan(100);
    expect(nFrozen).toBeLessThan(10); // dropout/linear of the head, reshape, cross-entropy
    frozen.backward();
    expect(m.classifier.weight.grad).not.toBeNull();
    for (const p of m.bert.parameters()) expect(p.grad).toBeNull();
    // same loss value: freezing changes what is recorded, not what is computed
    expect(frozen.item()).toBe(full.item());
  });

  it('LoRA: the frozen W₀ of a LoRA layer gets no gradient, A and B do', () => {
    const m = bert();
    peft.applyLora(m, { r: 2, modulesToSave: ['classifier'] });
    const loss = lossOf(m);
    loss.backward();
    const q = m.bert.encoder.layer.at(0).attention.self.query as unknown as peft.LoraLinear;
    expect(q).toBeInstanceOf(peft.LoraLinear);
    expect(q.weight.grad).toBeNull();
    expect(q.lora_B.weight.grad).not.toBeNull();
    void tensor;
  });
});
