/**
 * The BERT family (src/nn/bert.ts) beyond the golden tests: config.json round trips, the
 * task heads and their losses, the tied MLM decoder, loadPretrained's name handling (legacy
 * gamma/beta, the `bert.` prefix, a missing tied decoder weight, a fresh classifier), label
 * errors, and a tiny BERT that learns a toy token-classification task with plain SGD.
 */
import { describe, expect, it } from 'vitest';

import { F, manualSeed, nn, noGrad, randn, setMaxAllocationBytes, tensor, Tensor } from '../../src/index.js';
import { errorOf, expectClose, expectEqual } from '../helpers.js';

const ids = (rows: number[][] | number[]): Tensor => tensor(rows, { dtype: 'int32' });

/** A realistic bert-base-cased NER config.json (as on the HuggingFace hub). */
const NER_CONFIG: nn.HFBertConfig = {
  _name_or_path: 'bert-base-cased',
  architectures: ['BertForTokenClassification'],
  attention_probs_dropout_prob: 0.1,
  classifier_dropout: null,
  gradient_checkpointing: false,
  hidden_act: 'gelu',
  hidden_dropout_prob: 0.1,
  hidden_size: 768,
  id2label: { 0: 'O', 1: 'B-MISC', 2: 'I-MISC', 3: 'B-PER', 4: 'I-PER', 5: 'B-ORG', 6: 'I-ORG', 7: 'B-LOC', 8: 'I-LOC' },
  initializer_range: 0.02,
  intermediate_size: 3072,
  label2id: { 'B-LOC': 7, 'B-MISC': 1, 'B-ORG': 5, 'B-PER': 3, 'I-LOC': 8, 'I-MISC': 2, 'I-ORG': 6, 'I-PER': 4, O: 0 },
  layer_norm_eps: 1e-12,
  max_position_embeddings: 512,
  model_type: 'bert',
  num_attention_heads: 12,
  num_hidden_layers: 12,
  pad_token_id: 0,
  position_embedding_type: 'absolute',
  transformers_version: '4.30.2',
  type_vocab_size: 2,
  use_cache: true,
  vocab_size: 28996,
};

function tinyConfig(over: Partial<nn.BertConfig> = {}): nn.BertConfig {
  return new nn.BertConfig({
    vocabSize: 30, hiddenSize: 8, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 16, maxPositionEmbeddings: 16,
    hiddenDropoutProb: 0, attentionProbsDropoutProb: 0, ...over,
  });
}

describe('BertConfig', () => {
  it('fromJSON reads a real config.json (id2label gives numLabels) and toJSON writes it back', () => {
    // JSON keys of id2label are strings on disk
    const onDisk = JSON.parse(JSON.stringify(NER_CONFIG)) as nn.HFBertConfig;
    const c = nn.BertConfig.fromJSON(onDisk);
    expect([c.vocabSize, c.hiddenSize, c.numHiddenLayers, c.numAttentionHeads, c.intermediateSize]).toEqual([28996, 768, 12, 12, 3072]);
    expect([c.hiddenAct, c.layerNormEps, c.maxPositionEmbeddings, c.typeVocabSize, c.padTokenId]).toEqual(['gelu', 1e-12, 512, 2, 0]);
    expect(c.numLabels).toBe(9);
    expect(c.id2label![3]).toBe('B-PER');
    expect(c.classifierDropout).toBeNull();
    expect(c.headDim).toBe(64);
    const back = JSON.parse(JSON.stringify(c.toJSON())) as nn.HFBertConfig;
    for (const k of [
      'vocab_size', 'hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'hidden_act', 'hidden_dropout_prob',
      'attention_probs_dropout_prob', 'max_position_embeddings', 'type_vocab_size', 'initializer_range', 'layer_norm_eps', 'pad_token_id',
      'classifier_dropout', 'id2label', 'label2id', 'model_type',
    ]) {
      expect(back[k], k).toEqual(onDisk[k]);
    }
    expect(back.num_labels).toBe(9);
    // and the round trip config → JSON → config is the identity
    expect(nn.BertConfig.fromJSON(back)).toEqual(c);
  });

  it('numLabels is given explicitly or defaults to 2; invalid values are errors naming the field', () => {
    expect(nn.BertConfig.fromJSON({ num_labels: 5 }).numLabels).toBe(5);
    expect(new nn.BertConfig().numLabels).toBe(2);
    expect(errorOf(() => nn.BertConfig.fromJSON({ hidden_act: 'swish' }))).toMatch(/hiddenAct 'swish' is not supported/);
    expect(errorOf(() => nn.BertConfig.fromJSON({ num_hidden_layers: 0 }))).toMatch(/numHiddenLayers \(num_hidden_layers\) must be a positive integer, got number 0/);
    expect(errorOf(() => nn.BertConfig.fromJSON({ hidden_dropout_prob: 2 }))).toMatch(/hiddenDropoutProb must be in \[0, 1\], got 2/);
  });
});

describe('BertForSequenceClassification', () => {
  const inputIds = ids([[2, 5, 6, 3, 0], [2, 7, 3, 0, 0], [2, 9, 10, 11, 3]]);
  const attentionMask = ids([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [1, 1, 1, 1, 1]]);

  it('single-label: cross-entropy of the pooled logits against int32 labels', () => {
    manualSeed(0);
    const m = new nn.BertForSequenceClassification(tinyConfig({ numLabels: 3 }), { dtype: 'float64' });
    const labels = ids([2, 0, 1]);
    const out = m.forward({ inputIds, attentionMask, labels });
    expect(out.logits.shape).toEqual([3, 3]);
    expectClose(out.loss!, F.crossEntropy(out.logits, labels), { rtol: 1e-14, what: 'CE' });
    // the logits come from the pooler output: classifier(tanh(dense(h[:, 0])))
    const pooled = m.bert.forward({ inputIds, attentionMask }).poolerOutput!;
    expectClose(out.logits, m.classifier.forward(pooled), { rtol: 1e-13, atol: 1e-15, what: 'logits from the pooler' });
  });

  it('regression with numLabels 1: MSE against float labels', () => {
    manualSeed(1);
    const m = new nn.BertForSequenceClassification(tinyConfig({ numLabels: 1 }), { dtype: 'float64' });
    const labels = tensor([0.5, -1, 2], { dtype: 'float64' });
    const out = m.forward({ inputIds, attentionMask, labels });
    expect(out.logits.shape).toEqual([3, 1]);
    const d = out.logits.reshape([3]).sub(labels);
    expectClose(out.loss!, d.mul(d).mean(), { rtol: 1e-14, what: 'MSE' });
  });

  it('multi-label: binary cross-entropy with logits against float (B, L) targets', () => {
    manualSeed(2);
    const m = new nn.BertForSequenceClassification(tinyConfig({ numLabels: 4 }), { dtype: 'float64' });
    const labels = tensor([[1, 0, 1, 0], [0, 0, 0, 1], [1, 1, 0, 0]], { dtype: 'float64' });
    const out = m.forward({ inputIds, attentionMask, labels });
    const p = out.logits.sigmoid();
    const bce = labels.mul(p.log()).add(labels.neg().add(1).mul(p.neg().add(1).log())).neg().mean();
    expectClose(out.loss!, bce, { rtol: 1e-12, what: 'BCE' });
    // an explicit problemType overrides the inference from the label dtype
    const m2 = new nn.BertForSequenceClassification(tinyConfig({ numLabels: 4, problemType: 'regression' }), { dtype: 'float64' });
    const o2 = m2.forward({ inputIds, attentionMask, labels });
    expectClose(o2.loss!, F.mseLoss(o2.logits.reshape([-1]), labels.reshape([-1])), { rtol: 1e-14, what: 'problemType regression' });
  });

  it('rejects single-label labels of the wrong shape or out of range', () => {
    const m = new nn.BertForSequenceClassification(tinyConfig({ numLabels: 3 }));
    expect(errorOf(() => m.forward({ inputIds, labels: ids([0, 1]) }))).toMatch(/labels must be an int32 tensor of shape \[3\], got int32 \[2\]/);
    expect(errorOf(() => m.forward({ inputIds, labels: ids([0, 3, 1]) }))).toMatch(/label 3 at position \[1\] is out of range: expected a class index in \[0, 3\)/);
  });
});

describe('BertForMaskedLM', () => {
  it('decoder.weight is word_embeddings.weight (same Parameter and storage); the decoder bias is cls.predictions.bias', () => {
    manualSeed(3);
    const m = new nn.BertForMaskedLM(tinyConfig());
    const emb = m.bert.embeddings.word_embeddings.weight;
    const dec = m.cls.predictions.decoder.weight;
    expect(dec).toBe(emb);
    expect(dec.storage).toBe(emb.storage);
    expect(m.cls.predictions.decoder.bias).toBe(m.cls.predictions.bias);
    expect([...m.namedParameters()].filter(([, p]) => p === emb)).toHaveLength(1);
    // the padding row of the embedding is zero, also as a decoder row
    expectEqual(dec.select(0, 0), new Float32Array(8), 'padding row');
  });

  it('the loss is the mean cross-entropy over the positions whose label is not −100', () => {
    manualSeed(4);
    const m = new nn.BertForMaskedLM(tinyConfig(), { dtype: 'float64' });
    const inputIds = ids([[2, 4, 5, 6, 3], [2, 7, 4, 3, 0]]);
    const labels = ids([[-100, 9, -100, -100, -100], [-100, -100, 12, -100, -100]]);
    const out = m.forward({ inputIds, labels });
    expect(out.logits.shape).toEqual([2, 5, 30]);
    const lp = out.logits.logSoftmax(-1);
    const want = lp.select(0, 0).select(0, 1).select(0, 9).add(lp.select(0, 1).select(0, 2).select(0, 12)).div(-2);
    expectClose(out.loss!, want, { rtol: 1e-14, what: 'MLM loss' });
    // positions labelled −100 do not influence the loss: their logits get zero gradient
    const logits = out.logits.detach().requiresGrad_();
    F.crossEntropy(logits.reshape([-1, 30]), labels.reshape([-1])).backward();
    const g = logits.grad!;
    expect(g.select(0, 0).select(0, 0).abs().sum().item()).toBe(0);
    expect(g.select(0, 0).select(0, 1).abs().sum().item()).toBeGreaterThan(0);
  });

  it('loadPretrained fills a missing cls.predictions.decoder.weight from the word embeddings and maps LayerNorm.gamma/beta', () => {
    manualSeed(5);
    const src = new nn.BertForMaskedLM(tinyConfig(), { dtype: 'float64' });
    noGrad(() => src.cls.predictions.bias.copy_(randn([30], { dtype: 'float64' }))); // not the zero init
    const sd: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(src.stateDict())) {
      if (k === 'cls.predictions.decoder.weight' || k === 'cls.predictions.decoder.bias') continue; // safetensors stores a tied tensor once
      sd[k.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta')] = t.clone();
    }
    expect(Object.keys(sd).some((k) => k.endsWith('LayerNorm.gamma'))).toBe(true);
    manualSeed(6);
    const dst = new nn.BertForMaskedLM(tinyConfig(), { dtype: 'float64' });
    const res = dst.loadPretrained(sd);
    expect(res.missingKeys).toEqual([]);
    const inputIds = ids([[2, 4, 5, 3]]);
    expectEqual(dst.forward({ inputIds }).logits, src.forward({ inputIds }).logits, 'logits after loading');
    expect(dst.cls.predictions.decoder.weight).toBe(dst.bert.embeddings.word_embeddings.weight);
  });
});

describe('loadPretrained into BertForTokenClassification', () => {
  it('a bare BertModel checkpoint (no bert. prefix, with a pooler) loads into bert.*; the classifier keeps its fresh init', () => {
    manualSeed(7);
    const bare = new nn.BertModel(tinyConfig(), { dtype: 'float64' }); // keys: embeddings.…, encoder.…, pooler.…
    const sd = bare.stateDict();
    expect(Object.keys(sd).some((k) => k.startsWith('pooler.'))).toBe(true);
    expect(Object.keys(sd).some((k) => k.startsWith('bert.'))).toBe(false);
    manualSeed(8);
    const m = new nn.BertForTokenClassification(tinyConfig({ numLabels: 5 }), { dtype: 'float64' });
    const classifierBefore = m.classifier.weight.clone();
    const res = m.loadPretrained(sd);
    expect(res.missingKeys).toEqual(['classifier.weight', 'classifier.bias']);
    expectEqual(m.classifier.weight, classifierBefore, 'classifier untouched');
    expectEqual(m.bert.embeddings.word_embeddings.weight, bare.embeddings.word_embeddings.weight, 'word embeddings loaded');
    const inp = { inputIds: ids([[2, 5, 9, 3]]), attentionMask: ids([[1, 1, 1, 1]]) };
    expectEqual(m.forward(inp).hiddenStates!, bare.forward(inp).lastHiddenState, 'encoder output');
    // the classifier's fresh init is HF's: N(0, 0.02), bias 0
    expectEqual(m.classifier.bias!, new Float64Array(5), 'classifier bias');
    expect(m.classifier.weight.abs().max().item()).toBeLessThan(0.1);
  });

  it('an encoder key missing from the checkpoint, or an extra one, is an error naming it', () => {
    const bare = new nn.BertModel(tinyConfig());
    const sd = bare.stateDict();
    delete sd['encoder.layer.1.output.dense.bias'];
    sd['encoder.layer.1.extra'] = tensor([1]);
    const m = new nn.BertForTokenClassification(tinyConfig());
    const msg = errorOf(() => m.loadPretrained(sd));
    expect(msg).toMatch(/missing keys "bert\.encoder\.layer\.1\.output\.dense\.bias"/);
    expect(msg).toMatch(/unexpected keys "bert\.encoder\.layer\.1\.extra"/);
  });
});

describe('label errors', () => {
  it('crossEntropy names the out-of-range target value and its position', () => {
    const logits = randn([2, 3, 4]); // (N, C, d)
    expect(errorOf(() => F.crossEntropy(logits, ids([[0, 1, 2, 1], [2, 5, 0, -100]]))))
      .toMatch(/target 5 is out of bounds at position \[1,1\]: expected a class index in \[0, 3\) or ignoreIndex -100/);
    expect(errorOf(() => F.crossEntropy(randn([2, 3]), ids([0, -1])))).toMatch(/target -1 is out of bounds at position \[1\]/);
  });

  it('BertForTokenClassification names a bad label with its (b, t) position, and rejects labels of another shape', () => {
    const m = new nn.BertForTokenClassification(tinyConfig({ numLabels: 3 }));
    const inputIds = ids([[2, 5, 6, 3], [2, 7, 8, 3]]);
    expect(errorOf(() => m.forward({ inputIds, labels: ids([[-100, 0, 1, -100], [-100, 2, 7, -100]]) })))
      .toMatch(/BertForTokenClassification: label 7 at position \[1,2\] is out of range: expected a class index in \[0, 3\) or -100/);
    // a transposed (T, B) label tensor has the same number of elements but must not be accepted
    expect(errorOf(() => m.forward({ inputIds, labels: ids([[0, 0], [1, 1], [2, 2], [0, 0]]) })))
      .toMatch(/labels must be an int32 tensor of shape \[2,4\], got int32 \[4,2\]/);
    expect(errorOf(() => new nn.BertForMaskedLM(tinyConfig()).forward({ inputIds, labels: ids([[-100, 30, -100, -100], [-100, -100, -100, -100]]) })))
      .toMatch(/BertForMaskedLM: label 30 at position \[0,1\] is out of range/);
  });
});

describe('input errors', () => {
  it('BertModel names bad inputIds, mask shapes, token types and over-long sequences', () => {
    const m = new nn.BertModel(tinyConfig());
    expect(errorOf(() => m.forward({ inputIds: tensor([[1, 2]]) }))).toMatch(/inputIds must be an int32 tensor of shape \(B, T\), got float32 \[1,2\]/);
    expect(errorOf(() => m.forward({ inputIds: ids([[1, 2]]), attentionMask: ids([[1, 1, 1]]) }))).toMatch(/attentionMask must have the shape of inputIds \[1,2\], got \[1,3\]/);
    expect(errorOf(() => m.forward({ inputIds: ids([[1, 2]]), tokenTypeIds: ids([[0, 2]]) }))).toMatch(/tokenTypeIds contain 2 but typeVocabSize is 2/);
    expect(errorOf(() => m.forward({ inputIds: ids([Array.from({ length: 17 }, () => 1)]) }))).toMatch(/sequence length 17 exceeds maxPositionEmbeddings 16/);
  });

  it('the losses name mismatched target shapes', () => {
    expect(errorOf(() => F.crossEntropy(randn([2, 3, 4]), ids([[0, 1, 2], [0, 1, 2]])))).toMatch(/expected target of shape \[2,4\] for input of shape \[2,3,4\] \(N, C, d…\), got \[2,3\]/);
    expect(errorOf(() => F.crossEntropy(randn([2, 3]), randn([2, 4])))).toMatch(/probability targets must have the input's shape \[2,3\], got \[2,4\]/);
    expect(errorOf(() => F.binaryCrossEntropyWithLogits(randn([2, 3]), randn([3, 2])))).toMatch(/target size \[3,2\] must be the same as input size \[2,3\]/);
    expect(errorOf(() => F.mseLoss(randn([2]), randn([3])))).toMatch(/target size \[3\] must be the same as input size \[2\]/);
  });
});

describe('training a tiny BERT', () => {
  /** Toy NER: the label of a token is its id mod 3; [CLS]=2, [SEP]=3 and padding (0) are −100. */
  const rows = [[2, 5, 7, 9, 11, 3], [2, 6, 8, 10, 3, 0], [2, 12, 13, 14, 15, 3], [2, 16, 17, 3, 0, 0]];
  const inputIds = ids(rows);
  const attentionMask = ids(rows.map((r) => r.map((t) => (t === 0 ? 0 : 1))));
  const labels = ids(rows.map((r) => r.map((t) => (t === 0 || t === 2 || t === 3 ? -100 : t % 3))));

  function train(steps: number, lr: number): number[] {
    manualSeed(0);
    const m = new nn.BertForTokenClassification(
      new nn.BertConfig({ vocabSize: 20, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16, numLabels: 3 }),
    );
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      m.zeroGrad();
      const { loss } = m.forward({ inputIds, attentionMask, labels });
      losses.push(loss!.item());
      loss!.backward();
      noGrad(() => {
        for (const p of m.parameters()) if (p.grad) p.sub_(p.grad.mul(lr)); // plain SGD: p ← p − lr·∇p
      });
    }
    return losses;
  }

  it('30 plain-SGD steps on a toy token-classification batch bring the loss below half its start (seeded, deterministic)', () => {
    const losses = train(30, 0.1);
    expect(Math.abs(losses[0]! - Math.log(3))).toBeLessThan(0.3); // ≈ ln 3 at init
    expect(losses.at(-1)!, `losses ${losses.map((l) => l.toFixed(3)).join(' ')}`).toBeLessThan(0.5 * losses[0]!);
    // the same seed gives the same trajectory (dropout masks included)
    expect(train(3, 0.1)).toEqual(losses.slice(0, 3));
  });
});

describe('loadPretrained / loadStateDict with strict: false (issue #11 item 11)', () => {
  it('BertModel from an MLM checkpoint (no pooler): strict (default) names the pooler and the fix; strict: false loads, keeps a fresh pooler, reports and warns', () => {
    manualSeed(21);
    const mlm = new nn.BertForMaskedLM(tinyConfig(), { dtype: 'float64' });
    const sd = mlm.stateDict(); // bert.embeddings…, bert.encoder…, cls.predictions…; no pooler
    expect(Object.keys(sd).some((k) => k.includes('pooler'))).toBe(false);
    manualSeed(22);
    const bert = new nn.BertModel(tinyConfig(), { dtype: 'float64' });
    const poolerBefore = bert.pooler!.dense.weight.clone();
    const msg = errorOf(() => bert.loadPretrained(sd));
    expect(msg).toMatch(/BertModel\.loadPretrained: missing keys "pooler\.dense\.weight", "pooler\.dense\.bias"/);
    expect(msg).toMatch(/pass \{ strict: false \}/);

    const warnings: string[] = [];
    const onWarning = (w: Error & { code?: string }) => {
      if (w.code === 'TENSORGRAD_PARTIAL_LOAD') warnings.push(w.message);
    };
    process.on('warning', onWarning);
    let res: { missingKeys: string[]; unexpectedKeys: string[] };
    try {
      res = bert.loadPretrained(sd, { strict: false });
      // process 'warning' events are delivered on the next tick
    } finally {
      setTimeout(() => process.off('warning', onWarning), 0);
    }
    expect(res.missingKeys).toEqual(['pooler.dense.weight', 'pooler.dense.bias']);
    expect(res.unexpectedKeys.every((k) => k.startsWith('cls.'))).toBe(true);
    expect(res.unexpectedKeys.length).toBeGreaterThan(0);
    expectEqual(bert.pooler!.dense.weight, poolerBefore, 'pooler keeps its fresh init');
    expectEqual(bert.embeddings.word_embeddings.weight, mlm.bert.embeddings.word_embeddings.weight, 'embeddings loaded');
    const inp = { inputIds: ids([[2, 5, 9, 3]]), attentionMask: ids([[1, 1, 1, 1]]) };
    expectEqual(bert.forward(inp).lastHiddenState, mlm.bert.forward(inp).lastHiddenState, 'encoder output identical');
    return new Promise<void>((resolve) =>
      setTimeout(() => {
        expect(warnings.length).toBe(1);
        expect(warnings[0]).toMatch(/keep their fresh initialisation: pooler\.dense\.weight, pooler\.dense\.bias/);
        resolve();
      }, 5),
    );
  });

  it('strict: false also skips unexpected keys and keeps missing encoder weights; shapes must still match', () => {
    const bare = new nn.BertModel(tinyConfig());
    const sd = bare.stateDict();
    delete sd['encoder.layer.1.output.dense.bias'];
    sd['encoder.layer.1.extra'] = tensor([1]);
    const m = new nn.BertForTokenClassification(tinyConfig());
    const res = m.loadPretrained(sd, { strict: false });
    expect(res.missingKeys).toContain('bert.encoder.layer.1.output.dense.bias');
    expect(res.unexpectedKeys).toEqual(['bert.encoder.layer.1.extra']);
    sd['encoder.layer.0.output.dense.bias'] = tensor([1, 2]);
    expect(errorOf(() => m.loadPretrained(sd, { strict: false }))).toMatch(/Size mismatch: bert\.encoder\.layer\.0\.output\.dense\.bias/);
    expect(errorOf(() => m.loadPretrained(sd, { strict: 'no' as unknown as boolean }))).toMatch(/opts\.strict must be a boolean/);
  });
});

describe('state-dict and config arguments (issue #11 items 18 and 20)', () => {
  it('loadStateDict(null) / loadPretrained(null) say what a state dict is', () => {
    const m = new nn.BertModel(tinyConfig());
    for (const bad of [null, undefined, 'model.safetensors', 3, [tensor([1])]]) {
      expect(errorOf(() => m.loadStateDict(bad as never))).toMatch(/BertModel\.loadStateDict: the state dict must be an object \(or a Map\) of name → Tensor/);
      expect(errorOf(() => m.loadPretrained(bad as never))).toMatch(/BertModel\.loadPretrained: the state dict must be an object/);
      expect(errorOf(() => new nn.Linear(2, 2).loadStateDict(bad as never))).toMatch(/Linear\.loadStateDict: the state dict must be an object/);
    }
    expect(errorOf(() => m.loadStateDict(null as never))).toMatch(/got null$/);
    // a null-prototype state dict (as loadSafetensors returns) is fine; a 'constructor' key is unexpected, not inherited
    const lin = new nn.Linear(2, 1);
    const sd = Object.assign(Object.create(null) as Record<string, Tensor>, lin.stateDict());
    expect(lin.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
    expect(errorOf(() => lin.loadStateDict({ ...lin.stateDict(), constructor: tensor([1]) } as never))).toMatch(/Unexpected key\(s\) in state_dict: "constructor"/);
  });

  it("BertConfig rejects id2label 'abc' and a num_labels that disagrees with id2label", () => {
    expect(errorOf(() => nn.BertConfig.fromJSON({ id2label: 'abc' as never }))).toMatch(/id2label must be an object of class index → label name .*got the string "abc"/);
    expect(errorOf(() => new nn.BertConfig({ id2label: 'abc' as never }))).toMatch(/id2label must be an object/);
    expect(errorOf(() => nn.BertConfig.fromJSON({ num_labels: 3, id2label: { 0: 'O', 1: 'B-PER' } }))).toMatch(
      /numLabels \(num_labels\) = 3 disagrees with id2label, which names 2 label\(s\)/,
    );
    expect(errorOf(() => new nn.BertConfig({ numLabels: 5, id2label: { 0: 'a' } }))).toMatch(/numLabels \(num_labels\) = 5 disagrees with id2label/);
    expect(errorOf(() => nn.BertConfig.fromJSON({ id2label: { 0: 'O', 2: 'B-PER' } as never }))).toMatch(/id2label keys must be the class indices 0 … 1, got the key "2"/);
    expect(errorOf(() => nn.BertConfig.fromJSON({ id2label: { 0: 'O', 1: 7 } as never }))).toMatch(/id2label\[1\] must be a label name \(a string\), got number 7/);
    expect(nn.BertConfig.fromJSON({ num_labels: 2, id2label: { 0: 'O', 1: 'B-PER' } }).numLabels).toBe(2);
    expect(errorOf(() => nn.BertConfig.fromJSON(null as never))).toMatch(/expected a config\.json object, got null/);
  });

  it('BertConfig validates every size up front: field, value, estimated bytes and the limit (no allocation)', () => {
    const big = (hf: nn.HFBertConfig) => errorOf(() => nn.BertConfig.fromJSON(hf));
    const layers = big({ num_hidden_layers: 1e9 });
    expect(layers).toMatch(/numHiddenLayers \(num_hidden_layers\) = 1000000000 gives about [\d.]+ [TPE]B \([\d.e+]+ bytes\) of float32 parameters, over the limit of/);
    expect(layers).toMatch(/BertConfig\.maxParameterBytes/);
    expect(big({ vocab_size: 1e12 })).toMatch(/vocabSize \(vocab_size\) = 1000000000000 gives about/);
    expect(big({ hidden_size: 1e6, num_attention_heads: 1 })).toMatch(/hiddenSize \(hidden_size\) = 1000000 gives about/);
    expect(big({ intermediate_size: 1e11 })).toMatch(/intermediateSize \(intermediate_size\) = 100000000000 gives about/);
    expect(big({ max_position_embeddings: 1e12 })).toMatch(/maxPositionEmbeddings \(max_position_embeddings\) = 1000000000000 gives about/);
    expect(big({ hidden_size: 100, num_attention_heads: 3 })).toMatch(/hiddenSize \(hidden_size\) = 100 is not a multiple of numAttentionHeads \(num_attention_heads\) = 3/);
    expect(big({ vocab_size: 1.5 })).toMatch(/vocabSize \(vocab_size\) must be a positive integer, got number 1\.5/);
    expect(big({ vocab_size: '30522' as never })).toMatch(/vocabSize \(vocab_size\) must be a positive integer, got the string "30522"/);
    // the limit is settable; bert-base (110 M parameters, 440 MB) passes the default
    expect(nn.BertConfig.estimateParameters(new nn.BertConfig())).toBeGreaterThan(109e6);
    nn.BertConfig.maxParameterBytes = 1e6;
    try {
      expect(errorOf(() => new nn.BertConfig())).toMatch(/over the limit of 1\.0 MB \(1000000 bytes/);
      expect(new nn.BertConfig({ vocabSize: 100, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16 }).hiddenSize).toBe(16);
    } finally {
      nn.BertConfig.maxParameterBytes = undefined;
    }
    expect(errorOf(() => (nn.BertConfig.maxParameterBytes = -1))).toMatch(/maxParameterBytes must be a positive finite number/);
    // by default the config follows the tensor layer's allocation limit (setMaxAllocationBytes)
    setMaxAllocationBytes(2e6);
    try {
      expect(nn.BertConfig.maxParameterBytes).toBe(2e6);
      expect(errorOf(() => nn.BertConfig.fromJSON({}))).toMatch(/over the limit of 2\.0 MB \(2000000 bytes, BertConfig\.maxParameterBytes; by default the allocation limit of setMaxAllocationBytes/);
    } finally {
      setMaxAllocationBytes(null);
    }
  });
});
