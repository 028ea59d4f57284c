import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  pipeline, loadModelFolder, PipelineError, InputError, InputTooLongError, pickNextToken, type GroupedEntity, type TokenEntity,
} from '../../src/pipelines/index.js';
import { tokensToString } from '../../src/pipelines/encoder.js';
import { Generator } from '../../src/tensor/random.js';
import { GPT, GPTConfig } from '../../src/nn/gpt.js';
import { noGrad } from '../../src/autograd/engine.js';
import { manualSeed } from '../../src/tensor/random.js';
import { tensor } from '../../src/tensor/creation.js';
import { makeTinyFolders } from './tiny.js';
import { readConllSplits } from '../../src/data/conll.js';
import { trainNer } from '../../src/tasks/ner.js';
import { trainClassifier } from '../../src/tasks/classify.js';
import { buildCompactVocab } from '../../src/tasks/mlm.js';
import { BertConfig, BertForTokenClassification } from '../../src/nn/bert.js';
import { saveSafetensors } from '../../src/data/safetensors.js';

let d: ReturnType<typeof makeTinyFolders>;
beforeAll(() => {
  d = makeTinyFolders();
});

const SENTS = [
  'Captain Ahab sailed from Nantucket to New York on Wednesday.',
  'call me ishmael',
  'the white whale',
  'Starbuck and Queequeg went to the harbor in Boston, said the captain of the Pequod!',
  'a',
];

describe('token-classification', () => {
  it('batched results are identical to one at a time (padding does not change a text\'s logits)', () => {
    const ner = pipeline('token-classification', d.ner);
    const items = SENTS.map((s) => ner.pipeline.preprocess(s));
    const together = ner.pipeline.forward(items);
    items.forEach((it, i) => expect(Array.from(ner.pipeline.forward([it])[0]!)).toEqual(Array.from(together[i]!)));
    for (const strategy of ['none', 'simple', 'first', 'max', 'average'] as const) {
      expect(ner(SENTS, { aggregationStrategy: strategy, batchSize: 32 })).toEqual(SENTS.map((s) => ner(s, { aggregationStrategy: strategy, batchSize: 1 })));
    }
  });

  it("offsets point into the text; 'none' gives one entry per token, grouped strategies cover whole words", () => {
    const ner = pipeline('token-classification', d.ner, { ignoreLabels: [] });
    const s = SENTS[0]!;
    const none = ner(s, { aggregationStrategy: 'none' }) as TokenEntity[];
    const enc = ner.pipeline.preprocess(s);
    expect(none.length).toBe(enc.inputIds.length - 2); // every token but [CLS]/[SEP]
    for (const e of none) expect(s.slice(e.start, e.end).toLowerCase()).toBe(e.word.replace(/^##/, ''));
    for (const strategy of ['first', 'max', 'average'] as const) {
      const words = ner(s, { aggregationStrategy: strategy }) as GroupedEntity[];
      for (const w of words) {
        expect(w.start === 0 || /[\s.,!]/.test(s[w.start - 1]!) || /[.,!]/.test(s[w.start]!)).toBe(true); // starts at a word boundary
        expect(s.slice(w.start, w.end).toLowerCase().replace(/\s+/g, ' ')).toBe(w.word.replace(/ ([.,!])/g, '$1'));
      }
      expect(words.some((w) => w.word === 'nantucket')).toBe(true); // nan ##tuck ##et → one word
    }
  });

  it('ignoreLabels drops entities; scores are probabilities', () => {
    const ner = pipeline('token-classification', d.ner);
    const all = ner(SENTS[0]!, { aggregationStrategy: 'none', ignoreLabels: [] }) as TokenEntity[];
    const noO = ner(SENTS[0]!, { aggregationStrategy: 'none' }) as TokenEntity[];
    expect(noO).toEqual(all.filter((e) => e.entity !== 'O'));
    for (const e of all) expect(e.score).toBeGreaterThan(1 / 7 - 1e-9), expect(e.score).toBeLessThanOrEqual(1);
  });

  it('over-long input: InputTooLongError, or truncation when asked; bad parameters name the key', () => {
    const ner = pipeline('token-classification', d.ner);
    const long = 'the whale '.repeat(30);
    expect(() => ner(long)).toThrow(InputTooLongError);
    expect(() => ner(long)).toThrow(/at most 24/);
    const cut = ner(long, { truncation: true, aggregationStrategy: 'none', ignoreLabels: [] }) as TokenEntity[];
    expect(cut.length).toBe(22);
    expect(() => ner('x', { aggregationStrategy: 'best' as never })).toThrow(/aggregationStrategy must be one of none, simple, first, max, average/);
    expect(() => ner('x', { topK: 3 } as never)).toThrow(InputError);
    expect(() => ner('')).toThrow(/inputs is empty/);
    expect(() => ner(['ok', 5 as never])).toThrow(/inputs\[1\] must be a string/);
  });
});

describe('text-classification and fill-mask', () => {
  it('classification: top-k sorted, softmax sums to 1, batch == single', () => {
    const clf = pipeline('text-classification', d.classifier);
    const all = clf('win free money now!', { topK: null });
    expect(all.map((l) => l.label).sort()).toEqual(['ham', 'spam']);
    expect(all[0]!.score).toBeGreaterThanOrEqual(all[1]!.score);
    expect(all[0]!.score + all[1]!.score).toBeCloseTo(1, 12);
    expect(clf('win free money now!')).toEqual(all.slice(0, 1));
    expect(clf(['see you at lunch', 'win free money now!'], { topK: null })).toEqual([clf('see you at lunch', { topK: null }), all]);
    const sig = clf('it', { functionToApply: 'sigmoid', topK: null });
    expect(sig[0]!.score + sig[1]!.score).not.toBeCloseTo(1, 3);
  });

  it('fill-mask: top-k per mask, the sequence with the mask replaced; no mask is an error', () => {
    const fill = pipeline('fill-mask', d.mlm);
    const one = fill('call me [MASK].', { topK: 4 }) as { score: number; token_str: string; sequence: string }[];
    expect(one).toHaveLength(4);
    for (let i = 1; i < 4; i++) expect(one[i - 1]!.score).toBeGreaterThanOrEqual(one[i]!.score);
    for (const c of one) expect(c.sequence).toBe(`call me ${c.token_str}.`);
    const two = fill('[MASK] me [MASK].', { topK: 2 }) as unknown[][];
    expect(two).toHaveLength(2);
    expect(two[0]).toHaveLength(2);
    expect(() => fill('no mask here')).toThrow(/has no \[MASK\] token/);
  });
});

describe('loading folders', () => {
  it('falls back to the bundled bert-base-uncased vocab when vocab.txt is missing and vocab_size is 30522; else a clear error', () => {
    const root = mkdtempSync(join(tmpdir(), 'tg-vocab-'));
    mkdirSync(join(root, 'no-vocab'));
    for (const f of ['config.json', 'model.safetensors']) copyFileSync(join(d.ner, f), join(root, 'no-vocab', f));
    expect(() => loadModelFolder(join(root, 'no-vocab'))).toThrow(/vocab\.txt is missing and config\.json's vocab_size is 66, not the 30522/);
    // a 30522-token model without vocab.txt loads with the bundled vocabulary
    mkdirSync(join(root, 'base'));
    manualSeed(1);
    const cfg = { ...JSON.parse(readFileSync(join(d.ner, 'config.json'), 'utf8')), vocab_size: 30522 };
    writeFileSync(join(root, 'base', 'config.json'), JSON.stringify(cfg));
    saveSafetensors(new BertForTokenClassification(BertConfig.fromJSON(cfg)).stateDict(), join(root, 'base', 'model.safetensors'));
    const m = loadModelFolder(join(root, 'base'));
    expect(m.kind === 'encoder' && m.vocabSource).toBe('bundled bert-base-uncased');
    const toks = m.kind === 'encoder' ? m.tokenizer.tokenize('Ishmael went to sea') : [];
    expect(pipeline('ner', join(root, 'base'))('Ishmael went to sea', { aggregationStrategy: 'none', ignoreLabels: [] }).map((e) => e.word)).toEqual(toks);
  });

  it('loads what train-ner and train-classifier write (vocab.txt + tokenizer_config.json) — the task, labels and vocabulary from the folder', () => {
    const s = readConllSplits('data/ner');
    const sents = [...s.train.slice(0, 16), ...s.dev.slice(0, 4), ...s.test.slice(0, 4)];
    const tokenizer = buildCompactVocab(sents.map((x) => x.tokens.join(' '))).tokenizer;
    const root = mkdtempSync(join(tmpdir(), 'tg-trained-'));
    const quiet = { progress: null, log: () => {} };
    trainNer({ train: s.train.slice(0, 16), dev: s.dev.slice(0, 4), test: s.test.slice(0, 4), tokenizer, hiddenSize: 16, numLayers: 1, numHeads: 2, epochs: 1, batchSize: 8, outDir: join(root, 'ner'), ...quiet });
    const m = loadModelFolder(join(root, 'ner'));
    expect(m.task).toBe('token-classification');
    expect(m.kind === 'encoder' && m.vocabSource).toBe('folder');
    const text = s.test.map((x) => x.tokens.join(' ')).find((t) => t.split(' ').length < 20)!;
    const ents = pipeline('ner', join(root, 'ner'))(text, { aggregationStrategy: 'none', ignoreLabels: [] }) as TokenEntity[];
    expect(ents.map((e) => e.word)).toEqual(tokenizer.tokenize(text));
    const data = Array.from({ length: 16 }, (_, i) => ({ text: i % 2 ? `win money now offer ${i}` : `meeting notes for the project ${i}`, label: i % 2 ? 'spam' : 'ham' }));
    trainClassifier({ data, hiddenSize: 16, numLayers: 1, numHeads: 2, epochs: 1, batchSize: 8, outDir: join(root, 'clf'), ...quiet });
    const labels = pipeline('text-classification', join(root, 'clf'))('win money now', { topK: null }).map((l) => l.label).sort();
    expect(labels).toEqual(['ham', 'spam']);
  });

  it('detects the task from architectures or weight names, and refuses a folder without the head', () => {
    expect(loadModelFolder(d.ner).task).toBe('token-classification');
    expect(loadModelFolder(d.classifier).task).toBe('text-classification');
    expect(loadModelFolder(d.mlm).task).toBe('fill-mask');
    expect(loadModelFolder(d.gpt).task).toBe('text-generation');
    expect(() => pipeline('text-classification', d.mlm)).toThrow(/has no 'classifier.weight'/);
    expect(() => pipeline('summarization' as never, d.mlm)).toThrow(PipelineError);
    expect(() => loadModelFolder(join(d.root, 'nope'))).toThrow(/does not exist/);
  });

  it('the adapter hook sees the model before eval', () => {
    let seen = '';
    loadModelFolder(d.ner, { adapter: (m) => { seen = m.task; } });
    expect(seen).toBe('token-classification');
  });
});

describe('text-generation', () => {
  it('greedy is deterministic; a seed reproduces a sample; stop strings cut; maxNewTokens bounds', () => {
    const gen = pipeline('text-generation', d.gpt);
    const g1 = gen('call me', { maxNewTokens: 12 })[0]!.generated_text;
    expect(g1).toBe(gen('call me', { maxNewTokens: 12 })[0]!.generated_text);
    expect(g1.length).toBe('call me'.length + 12);
    const s = (seed: number) => gen('call me', { maxNewTokens: 25, doSample: true, temperature: 1.5, seed })[0]!.generated_text;
    expect(s(1)).toBe(s(1));
    expect(new Set([s(1), s(2), s(3)]).size).toBeGreaterThan(1);
    const cont = gen('call me', { maxNewTokens: 25, doSample: true, temperature: 1.5, seed: 1, returnFullText: false })[0]!.generated_text;
    const stopAt = cont[5]!;
    const stopped = gen('call me', { maxNewTokens: 25, doSample: true, temperature: 1.5, seed: 1, stop: [stopAt], returnFullText: false })[0]!.generated_text;
    expect(stopped).toBe(cont.slice(0, cont.indexOf(stopAt)));
    expect(gen('call', { maxNewTokens: 0 })[0]!.generated_text).toBe('call');
    expect(gen.pipeline.lastStats.newTokens).toBe(0);
    expect(() => gen('call me Q')).toThrow(/"Q" is not in the model's vocabulary/);
    expect(() => gen('x', { topP: 0 })).toThrow(/topP must be a number in \(0, 1\]/);
  });

  it('greedy generation equals GPT.generate with temperature 0 (KV cache and the window past blockSize)', () => {
    const gen = pipeline('text-generation', d.gpt);
    const { model, vocab } = gen.loaded;
    const ids = vocab.encode('call me');
    const ref = model.generate(tensor([ids], { dtype: 'int32' }), { maxNewTokens: 20, temperature: 0 }); // 7 + 20 > blockSize 16
    expect(gen('call me', { maxNewTokens: 20 })[0]!.generated_text).toBe(vocab.decode(Array.from(ref.toTypedArray())));
  });

  it('logits processors: repetition penalty, top-k, top-p', () => {
    const rng = new Generator(0);
    const base = { doSample: true, temperature: 1, topK: null, topP: 1, repetitionPenalty: 1 };
    // repetition penalty θ=4 turns the seen best token (z=2 → 0.5) below an unseen one (z=1); greedy shows it
    expect(pickNextToken(Float64Array.from([2, 1, -1]), [], { ...base, doSample: false }, rng)).toBe(0);
    expect(pickNextToken(Float64Array.from([2, 1, -1]), [0], { ...base, doSample: false, repetitionPenalty: 4 }, rng)).toBe(1);
    // top-k 1 and top-p tiny are greedy
    for (let i = 0; i < 20; i++) expect(pickNextToken(Float64Array.from([0.1, 3, 0.2, 2.9]), [], { ...base, topK: 1 }, rng)).toBe(1);
    for (let i = 0; i < 20; i++) expect(pickNextToken(Float64Array.from([0.1, 3, 0.2, 2.9]), [], { ...base, topP: 0.01 }, rng)).toBe(1);
    // top-p 0.6 over p ≈ [0.5, 0.3, 0.2]: keeps the first two (0.5 < 0.6 ≤ 0.8)
    const z = [Math.log(0.5), Math.log(0.3), Math.log(0.2)];
    const seen = new Set<number>();
    for (let i = 0; i < 200; i++) seen.add(pickNextToken(Float64Array.from(z), [], { ...base, topP: 0.6 }, rng));
    expect([...seen].sort()).toEqual([0, 1]);
  });
});

describe('GPT in and out of HF layout', () => {
  it('GPTConfig.fromJSON/toJSON round trip; unsupported GPT-2 settings name the key', () => {
    const c = new GPTConfig({ vocabSize: 65, blockSize: 32, nLayer: 2, nHead: 4, nEmbd: 32, dropout: 0.1 });
    const j = c.toJSON();
    expect(j).toMatchObject({ model_type: 'gpt2', n_positions: 32, n_embd: 32, n_layer: 2, n_head: 4, vocab_size: 65, activation_function: 'gelu_new' });
    expect(GPTConfig.fromJSON(j)).toEqual(c);
    expect(GPTConfig.fromJSON({ vocab_size: 65, block_size: 32, n_layer: 2, n_head: 4, n_embd: 32, dropout: 0, bias: false }).bias).toBe(false);
    expect(() => GPTConfig.fromJSON({ ...j, activation_function: 'relu' })).toThrow(/"activation_function" 'relu'/);
    expect(() => GPTConfig.fromJSON({ ...j, n_inner: 100 })).toThrow(/"n_inner" 100/);
    expect(() => GPTConfig.fromJSON({ ...j, n_embd: '32' })).toThrow(/"n_embd" must be a number/);
  });

  it('hfStateDict stores the four Conv1D weights (the square attn.c_proj too) transposed; loadPretrained inverts it', () => {
    manualSeed(3);
    const cfg = new GPTConfig({ vocabSize: 11, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8 });
    const a = new GPT(cfg);
    const sd = a.hfStateDict();
    expect(sd['lm_head.weight']).toBeUndefined();
    expect(sd['transformer.h.0.attn.c_attn.weight']!.shape).toEqual([8, 24]);
    expect(sd['transformer.h.0.mlp.c_fc.weight']!.shape).toEqual([8, 32]);
    const w = [...a.transformer.h][0]!.attn.c_proj.weight; // square (8, 8): only the values show the transpose
    expect(Array.from(sd['transformer.h.0.attn.c_proj.weight']!.toTypedArray())).toEqual(Array.from(w.transpose(0, 1).contiguous().toTypedArray()));
    const b = new GPT(cfg);
    b.loadPretrained(sd);
    const idx = tensor([[1, 2, 3, 4]], { dtype: 'int32' });
    expect(Array.from(noGrad(() => b.forward(idx).logits).toTypedArray())).toEqual(Array.from(noGrad(() => a.forward(idx).logits).toTypedArray()));
  });
});

describe('tokensToString (HF WordPiece decoder)', () => {
  it('joins ## pieces, keeps a leading ##, cleans up punctuation spaces', () => {
    expect(tokensToString(['nan', '##tuck', '##et'])).toBe('nantucket');
    expect(tokensToString(['##tuck'])).toBe('##tuck');
    expect(tokensToString(['new', 'york', '.'])).toBe('new york.');
    expect(tokensToString(['don', "'", 't'])).toBe("don't"); // clean_up_tokenization: " ' " → "'"
  });
});
