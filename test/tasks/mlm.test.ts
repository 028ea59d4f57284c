import { describe, expect, it } from 'vitest';
import { buildCompactVocab, expandToBaseVocab, maskTokens, clozeTest, pretrainMlm, loadMobyDick } from '../../src/tasks/mlm.js';
import { Generator } from '../../src/tensor/random.js';
import { BertTokenizer } from '../../src/data/tokenizer/index.js';
import { BertConfig, BertForMaskedLM } from '../../src/nn/bert.js';

const base = BertTokenizer.bertBaseUncased();
const TEXT = 'The harpooneer was unbelievably embarrassed. Queequeg and Starbuck stood on the quarter-deck.\n\n' +
  'Unbelievably, the whale-ship sailed on; the harpooneers watched the unbelievable sea.';

describe('whole-word masking (maskTokens with isContinuation)', () => {
  const vocab = base.convertIdsToTokens(Array.from({ length: base.vocabSize }, (_, i) => i));
  const isContinuation = (id: number) => vocab[id]!.startsWith('##');
  const specialIds = new Set([0, 100, 101, 102, 103]);
  const ids = [base.clsTokenId, ...base.encode(TEXT, { addSpecialTokens: false }).inputIds, base.sepTokenId];

  it('chooses whole words: a predicted piece always comes with every other piece of its word', () => {
    for (let seed = 0; seed < 40; seed++) {
      const { labels } = maskTokens(ids, { maskTokenId: 103, specialIds, vocabSize: base.vocabSize, isContinuation, rng: new Generator(seed), mlmProbability: 0.3 });
      // words: [start, end) spans of a head piece and its ## pieces
      for (let i = 1; i < ids.length - 1;) {
        let j = i + 1;
        while (j < ids.length - 1 && isContinuation(ids[j]!)) j++;
        const chosen = labels.slice(i, j).map((l) => l !== -100);
        expect(chosen.every((c) => c === chosen[0])).toBe(true);
        i = j;
      }
      const n = labels.filter((l) => l !== -100).length;
      expect(n).toBeGreaterThan(0);
      expect(n).toBeLessThanOrEqual(Math.round(0.3 * (ids.length - 2)));
      labels.forEach((l, i) => { if (l !== -100) expect(l).toBe(ids[i]); });
    }
  });
  it('the text has multi-piece words (so the test above can fail)', () => {
    expect(ids.some((id) => isContinuation(id))).toBe(true);
  });
  it('without isContinuation the draws are those of token-level masking (unchanged behaviour)', () => {
    const a = maskTokens(ids, { maskTokenId: 103, specialIds, vocabSize: base.vocabSize, rng: new Generator(7) });
    // token-level: exactly max(1, round(0.15 n)) positions
    expect(a.labels.filter((l) => l !== -100).length).toBe(Math.max(1, Math.round(0.15 * (ids.length - 2))));
  });
});

describe('trimmed compact vocabulary', () => {
  it('keeps specials and single characters, then the most frequent pieces, within maxSize', () => {
    const full = buildCompactVocab(TEXT);
    const chars = full.tokens.length - new Set(base.encode(TEXT.replace(/\n/g, ' '), { addSpecialTokens: false }).inputIds).size;
    const cap = full.tokens.length - 5;
    const v = buildCompactVocab(TEXT, { maxSize: cap });
    expect(v.tokens.length).toBeLessThanOrEqual(cap);
    expect(v.trimmed).toBe(true);
    expect(v.tokens.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(v.tokens).toContain('the'); // most frequent survives
    expect(chars).toBeGreaterThan(100);
    // baseIds is the renumbering: the same strings in bert-base-uncased
    expect(base.convertIdsToTokens(v.baseIds)).toEqual(v.tokens);
    // no [UNK] on the corpus: dropped words split into kept pieces
    expect(v.tokenizer.encode(TEXT).inputIds).not.toContain(v.tokenizer.unkTokenId);
    expect(v.tokenizer.decode(v.tokenizer.encode('unbelievably embarrassed').inputIds, { skipSpecialTokens: true })).toBe('unbelievably embarrassed');
  });
  it('rejects a maxSize below the always-kept entries', () => {
    expect(() => buildCompactVocab(TEXT, { maxSize: 10 })).toThrow(/maxSize must be an integer ≥ \d+ .*got 10/);
  });
  it('expandToBaseVocab lays rows back at their bert-base-uncased ids', () => {
    const v = buildCompactVocab(TEXT);
    const d = 2;
    const rows = Float32Array.from({ length: v.baseIds.length * d }, (_, i) => i + 1);
    const full = expandToBaseVocab(rows, d, v.baseIds, base.vocabSize);
    v.baseIds.forEach((b, i) => expect([...full.subarray(b * d, b * d + d)]).toEqual([2 * i + 1, 2 * i + 2]));
    expect(full.reduce((a, x) => a + (x !== 0 ? 1 : 0), 0)).toBe(rows.length);
    expect(() => expandToBaseVocab(rows.subarray(1), d, v.baseIds, base.vocabSize)).toThrow(/rows has/);
  });
});

describe('clozeTest', () => {
  const model = new BertForMaskedLM(new BertConfig({ vocabSize: base.vocabSize, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 32 }));
  it('returns the top k tokens by probability and whether an answer is among them', () => {
    const [r] = clozeTest(model, base, [{ text: 'call me [MASK].', answers: ['ishmael'] }], 3);
    expect(r!.top).toHaveLength(3);
    expect(r!.top[0]!.p).toBeGreaterThanOrEqual(r!.top[1]!.p);
    expect(r!.hit).toBe(r!.top.some((t) => t.token === 'ishmael'));
    const [s] = clozeTest(model, base, [{ text: 'call me [MASK].', answers: [r!.top[2]!.token] }], 3);
    expect(s!.hit).toBe(true);
  });
  it('needs exactly one [MASK]', () => {
    expect(() => clozeTest(model, base, [{ text: 'no mask here', answers: [] }])).toThrow(/exactly one \[MASK\]/);
    expect(() => clozeTest(model, base, [{ text: '[MASK] and [MASK]', answers: [] }])).toThrow(/exactly one \[MASK\]/);
    expect(() => clozeTest(model, base, [{ text: 'a '.repeat(40) + '[MASK]', answers: [] }])).toThrow(/items\[0\]\.text is 43 tokens, more than the model's maxPositionEmbeddings 32/);
  });
});

describe('mlmProbability (the training masking rate)', () => {
  const text = loadMobyDick({ chapters: 1 });
  const run = (mlmProbability?: number) => pretrainMlm({
    text, hiddenSize: 16, numLayers: 1, numHeads: 2, maxLength: 32, maxSteps: 2, batchSize: 4, progress: null, log: () => {},
    ...(mlmProbability !== undefined ? { mlmProbability } : {}),
  });
  it('changes what training predicts but not the held-out evaluation, which always masks 15 %', () => {
    const [a, b] = [run(), run(0.4)];
    expect(b.evals[0]!.loss).toBe(a.evals[0]!.loss); // same initialisation and the same 15 % held-out masks
    expect(b.evals[0]!.accuracy).toBe(a.evals[0]!.accuracy);
    expect(b.history[0]!.loss).not.toBe(a.history[0]!.loss); // training saw other (more) masked tokens
  });
  it('rejects a rate outside (0, 1], naming it', () => {
    expect(() => run(0)).toThrow(/mlmProbability must be in \(0, 1\], got 0/);
    expect(() => run(1.5)).toThrow(/got 1\.5/);
  });
});
