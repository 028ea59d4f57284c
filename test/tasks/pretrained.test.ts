/**
 * The shipped pretrained checkpoint (issue #14): a complete HF folder, float16, within the size
 * budget, its vocabulary a documented renumbering of bert-base-uncased, and it passes the cloze
 * bar its model card states (≥ 7 of the 10 sentences of data/cloze/cloze.json).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pretrainedPath, PRETRAINED_NAME, clozeTest, type ClozeItem } from '../../src/tasks/index.js';
import { parseSafetensors } from '../../src/data/safetensors-format.js';
import { loadSafetensors } from '../../src/data/safetensors.js';
import { BertTokenizer } from '../../src/data/tokenizer/index.js';
import { BertConfig, BertForMaskedLM, BertForTokenClassification } from '../../src/nn/bert.js';

const dir = pretrainedPath();
const read = (f: string) => readFileSync(join(dir, f), 'utf8');

describe(`the shipped checkpoint assets/${PRETRAINED_NAME}`, () => {
  it('is a complete HF folder: config, float16 weights, tokenizer files, vocab map, model card', () => {
    const config = JSON.parse(read('config.json')) as Record<string, unknown>;
    expect(config.architectures).toEqual(['BertForMaskedLM']);
    expect(config.torch_dtype).toBe('float16');
    const bytes = readFileSync(join(dir, 'model.safetensors'));
    expect(bytes.length).toBeLessThanOrEqual(15 * 1024 * 1024);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true))))) as Record<string, { dtype: string }>;
    const dtypes = new Set(Object.entries(header).filter(([k]) => k !== '__metadata__').map(([, v]) => v.dtype));
    expect([...dtypes]).toEqual(['F16']);
    expect(Object.keys(parseSafetensors(bytes).tensors)).toContain('bert.embeddings.word_embeddings.weight');
    const vocab = read('vocab.txt').trimEnd().split('\n');
    expect(vocab.length).toBe(config.vocab_size);
    expect(vocab.length).toBeLessThanOrEqual(8000);
    expect(JSON.parse(read('tokenizer_config.json')).do_lower_case).toBe(true);
    const map = JSON.parse(read('vocab_map.json')) as { base: string; base_ids: number[] };
    expect(map.base).toBe('bert-base-uncased');
    expect(BertTokenizer.bertBaseUncased().convertIdsToTokens(map.base_ids)).toEqual(vocab);
    const card = read('README.md');
    expect(card).toMatch(/npm run pretrain:release/);
    expect(card).toMatch(/tensorgrad pretrain-mlm --text out\/corpus\/corpus\.txt/);
    expect(card).toMatch(/perplexity/);
    expect(statSync(join(dir, 'eval.svg')).size).toBeGreaterThan(0);
  });

  it('fills [MASK] sensibly: an accepted answer in the top 5 for ≥ 7 of the 10 cloze sentences (as its card says)', () => {
    const model = new BertForMaskedLM(BertConfig.fromJSON(JSON.parse(read('config.json'))));
    model.loadPretrained(loadSafetensors(join(dir, 'model.safetensors')));
    const tok = BertTokenizer.fromVocabFile(join(dir, 'vocab.txt'), { doLowerCase: true });
    const items = (JSON.parse(readFileSync('data/cloze/cloze.json', 'utf8')) as { sentences: ClozeItem[] }).sentences;
    const r = clozeTest(model, tok, items);
    const hits = r.filter((c) => c.hit).length;
    expect(hits).toBeGreaterThanOrEqual(7);
    const recorded = JSON.parse(read('pretraining.json')) as { cloze: { hits: number } };
    expect(hits).toBe(recorded.cloze.hits);
    expect(read('README.md')).toContain(`**${hits} / 10**`);
  });

  it('loads into a token classifier with every encoder weight (only the head is new)', () => {
    const config = JSON.parse(read('config.json')) as Record<string, unknown>;
    const m = new BertForTokenClassification(BertConfig.fromJSON({ ...config, num_labels: 9 }));
    const sd = loadSafetensors(join(dir, 'model.safetensors'));
    const { missingKeys } = m.loadPretrained(sd, { strict: false });
    expect(missingKeys.filter((k) => !k.startsWith('classifier.'))).toEqual([]);
  });
});
