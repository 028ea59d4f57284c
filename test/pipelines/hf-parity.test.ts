/**
 * tensorgrad's pipelines vs HuggingFace transformers' own pipelines on the same folders
 * (written by tensorgrad's save code; transformers loads them as they are). Expected values:
 * test/fixtures/pipelines/expected.json, from make_expected.py (see make-folders.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { pipeline } from '../../src/pipelines/index.js';
import { CharGPT } from '../../src/tasks/gpt-char.js';
import { noGrad } from '../../src/autograd/engine.js';
import { tensor } from '../../src/tensor/creation.js';

const FIX = join(__dirname, '..', 'fixtures', 'pipelines');
const expected = JSON.parse(readFileSync(join(FIX, 'expected.json'), 'utf8'));

type Ent = { score: number; [k: string]: unknown };
/** Same entities (every field equal) with scores within 1e-5 (float32 vs float64 softmax). */
function expectEntities(got: Ent[], want: Ent[]): void {
  expect(got.map(({ score: _s, ...rest }) => rest)).toEqual(want.map(({ score: _s, ...rest }) => rest));
  got.forEach((g, i) => expect(g.score).toBeCloseTo(want[i]!.score, 5));
}

describe('token-classification matches transformers', () => {
  const ner = pipeline('token-classification', join(FIX, 'ner'));
  for (const strategy of ['none', 'simple', 'first', 'max', 'average'] as const) {
    it(`aggregation_strategy ${strategy}`, () => {
      const sentences: string[] = expected.ner.sentences;
      const got = ner(sentences, { aggregationStrategy: strategy }) as unknown as Ent[][];
      sentences.forEach((_, i) => expectEntities(got[i]!, expected.ner[strategy][i]));
      expect(got.flat().length).toBeGreaterThan(10);
    });
  }
});

describe('text-classification matches transformers', () => {
  const clf = pipeline('text-classification', join(FIX, 'classifier'));
  it('top_k=None (all labels, best first) and top_k=2', () => {
    const texts: string[] = expected.classifier.texts;
    texts.forEach((t, i) => {
      expectEntities(clf(t, { topK: null }) as unknown as Ent[], expected.classifier.all[i]);
      expectEntities(clf(t, { topK: 2 }) as unknown as Ent[], expected.classifier.top2[i]);
    });
  });
});

describe('a train-gpt folder in GPT2LMHeadModel', () => {
  const gpt = CharGPT.load(join(FIX, 'gpt'));
  const gen = pipeline('text-generation', join(FIX, 'gpt'));
  it('next-token logits equal transformers (Conv1D weights, the square attn.c_proj included, in GPT-2 layout)', () => {
    (expected.gpt.prompts as string[]).forEach((p, i) => {
      const ids = tensor([gpt.vocab.encode(p)], { dtype: 'int32' });
      const logits = noGrad(() => gpt.model.forward(ids).logits); // (1, T, V)
      const last = Array.from(logits.select(1, p.length - 1).toTypedArray());
      const want: number[] = expected.gpt.last_logits[i];
      last.forEach((v, j) => expect(v).toBeCloseTo(want[j]!, 4));
    });
  });
  it('greedy generation equals transformers generate(do_sample=False)', () => {
    (expected.gpt.prompts as string[]).forEach((p, i) => {
      const want: string = expected.gpt.greedy[i];
      expect(gen(p, { maxNewTokens: want.length - p.length })[0]!.generated_text).toBe(want);
    });
  });
});
