/**
 * The building blocks behind examples 03–05 (src/tasks/mlm.ts, classify.ts, gpt-char.ts):
 * BERT's 80/10/10 masking, the gathered MLM loss against BertForMaskedLM's own, the compact
 * vocabulary's tokenization, chunking, the character vocabulary, the char-GPT save/load round
 * trip and loading an MLM checkpoint into a sequence classifier.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Generator, manualSeed, nn, noGrad, tensor } from '../../src/index.js';
import { BertTokenizer } from '../../src/data/tokenizer/index.js';
import { buildCompactVocab, chunkText, maskTokens, mlmLoss, splitSentences } from '../../src/tasks/mlm.js';
import { loadEncoderWeights } from '../../src/tasks/classify.js';
import { CharGPT, CharGPTError, CharVocab, trainCharGPT } from '../../src/tasks/gpt-char.js';

const TMP = mkdtempSync(join(tmpdir(), 'tensorgrad-tasks-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

const TEXT = 'Call me Ishmael. Some years ago, never mind how long precisely, I thought I would sail about a little.\n\n' +
  'It is a way I have of driving off the spleen! Whenever I find myself growing grim about the mouth, I go to sea. "Aye," said he.';

describe('maskTokens (BERT §3.1)', () => {
  const specialIds = new Set([0, 1, 2, 3, 4]);
  const seq = [2, ...Array.from({ length: 200 }, (_, i) => 5 + (i % 50)), 3]; // [CLS] … [SEP]

  it('chooses round(15%) of the non-special tokens; 80% [MASK], 10% random, 10% unchanged; never a special token', () => {
    const rng = new Generator(1);
    let chosen = 0, masked = 0, random = 0, same = 0;
    for (let r = 0; r < 200; r++) {
      const { inputIds, labels } = maskTokens(seq, { maskTokenId: 4, specialIds, vocabSize: 100, rng });
      expect(labels[0]).toBe(-100);
      expect(labels[labels.length - 1]).toBe(-100);
      expect(labels.filter((l) => l !== -100)).toHaveLength(30); // round(0.15 · 200)
      labels.forEach((l, i) => {
        if (l === -100) return expect(inputIds[i]).toBe(seq[i]);
        expect(l).toBe(seq[i]);
        chosen++;
        if (inputIds[i] === 4) masked++;
        else if (inputIds[i] === seq[i]) same++;
        else {
          random++;
          expect(specialIds.has(inputIds[i]!)).toBe(false);
        }
      });
    }
    // 6000 draws: binomial standard deviations are ≈ 0.5% (80%) and 0.4% (10%)
    expect(masked / chosen).toBeCloseTo(0.8, 1);
    expect(Math.abs(random / chosen - 0.1)).toBeLessThan(0.02);
    expect(Math.abs(same / chosen - 0.1)).toBeLessThan(0.02); // a random draw equal to the original counts here (≈ 0.1%)
  });

  it('is reproducible from the seed', () => {
    const a = maskTokens(seq, { maskTokenId: 4, specialIds, vocabSize: 100, rng: new Generator(7) });
    const b = maskTokens(seq, { maskTokenId: 4, specialIds, vocabSize: 100, rng: new Generator(7) });
    expect(a).toEqual(b);
  });
});

describe('mlmLoss', () => {
  it('equals BertForMaskedLM.forward loss (gathering the masked positions first changes nothing)', () => {
    manualSeed(3);
    const config = new nn.BertConfig({ vocabSize: 40, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16 });
    const model = new nn.BertForMaskedLM(config, { dtype: 'float64' }).eval();
    const inputIds = tensor([[2, 10, 4, 12, 4, 3, 0], [2, 4, 20, 21, 22, 23, 3]], { dtype: 'int32' });
    const attentionMask = tensor([[1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]], { dtype: 'int32' });
    const labels = tensor([[-100, -100, 11, -100, 13, -100, -100], [-100, 30, -100, -100, 22, -100, -100]], { dtype: 'int32' });
    noGrad(() => {
      const ref = model.forward({ inputIds, attentionMask, labels }).loss!.item();
      const r = mlmLoss(model, { inputIds, attentionMask, labels });
      expect(r.loss.item()).toBeCloseTo(ref, 12);
      expect(r.count).toBe(4);
    });
  });
});

describe('compact vocabulary and chunking', () => {
  const base = BertTokenizer.bertBaseUncased();
  const { tokens, tokenizer } = buildCompactVocab(TEXT);

  it('puts the specials first ([PAD] = 0) and keeps far fewer tokens than bert-base-uncased', () => {
    expect(tokens.slice(0, 5)).toEqual(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(tokenizer.padTokenId).toBe(0);
    expect(tokenizer.vocabSize).toBeLessThan(1000);
  });

  it('tokenizes the corpus exactly as bert-base-uncased, and unseen words into pieces, not [UNK]', () => {
    for (const s of splitSentences(TEXT)) expect(tokenizer.tokenize(s)).toEqual(base.tokenize(s));
    const t = tokenizer.tokenize('Unsubscribe here');
    expect(t).not.toContain('[UNK]');
    expect(t.join('').replace(/#/g, '')).toBe('unsubscribehere');
  });

  it('chunkText packs whole sentences into [CLS] … [SEP] chunks of at most maxLength tokens', () => {
    const chunks = chunkText(TEXT, tokenizer, 16);
    const inner = chunks.flatMap((c) => {
      expect(c.length).toBeLessThanOrEqual(16);
      expect(c[0]).toBe(tokenizer.clsTokenId);
      expect(c[c.length - 1]).toBe(tokenizer.sepTokenId);
      return c.slice(1, -1);
    });
    expect(inner).toEqual(splitSentences(TEXT).flatMap((s) => tokenizer.encode(s, { addSpecialTokens: false }).inputIds));
  });
});

describe('character-level GPT', () => {
  it('CharVocab: sorted characters, a round trip, and a clear error for unknown characters', () => {
    const v = CharVocab.fromText('hello world');
    expect(v.chars).toEqual([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(v.decode(v.encode('low red'))).toBe('low red');
    expect(() => v.encode('hex')).toThrow(CharGPTError);
    expect(() => v.encode('hex')).toThrow(/"x" \(U\+0078\)/);
  });

  it('trains, saves and loads back a model that samples the same text', () => {
    const text = 'abcabcabd '.repeat(40);
    const dir = join(TMP, 'gpt');
    const res = trainCharGPT({ text, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 16, maxSteps: 30, batchSize: 8, lr: 1e-2, outDir: dir, progress: null, log: () => {} });
    expect(res.evals[res.evals.length - 1]!.valLoss).toBeLessThan(res.evals[0]!.valLoss - 0.5);
    const loaded = CharGPT.load(dir);
    expect(loaded.vocab.chars).toEqual(res.model.vocab.chars);
    const opts = { maxNewTokens: 20, temperature: 0.9, seed: 5 };
    expect(loaded.sample('ab', opts)).toBe(res.model.sample('ab', opts));
    expect(loaded.sample('ab', opts)).toMatch(/^ab[abcd ]{20}$/);
  });
});

describe('loadEncoderWeights (MLM checkpoint → sequence classifier)', () => {
  it('loads the encoder, ignores the MLM head, keeps a fresh pooler and classifier', () => {
    manualSeed(11);
    const config = new nn.BertConfig({ vocabSize: 30, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 8 });
    const mlm = new nn.BertForMaskedLM(config, { dtype: 'float64' }).eval();
    const clf = new nn.BertForSequenceClassification(config, { dtype: 'float64' }).eval();
    const fresh = loadEncoderWeights(clf, mlm.stateDict());
    expect(fresh.sort()).toEqual(['bert.pooler.dense.bias', 'bert.pooler.dense.weight', 'classifier.bias', 'classifier.weight']);
    const inputIds = tensor([[2, 7, 9, 3]], { dtype: 'int32' });
    noGrad(() => {
      expect(clf.forward({ inputIds }).hiddenStates!.allclose(mlm.forward({ inputIds }).hiddenStates!, 0, 0)).toBe(true);
    });
  });
});
