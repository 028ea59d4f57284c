/**
 * Lesson 06 — named-entity recognition by fine-tuning BERT (Devlin et al. 2019, §4.3): the
 * code path of `npm run demo` / `tensorgrad train-ner`, on a smaller model.
 *
 * Each word gets a tag (B-PER, I-PER, B-LOC, …, O). WordPiece splits words into sub-words; the
 * first sub-word of a word carries its tag and the others get −100, which the loss ignores.
 * A linear layer on top of every hidden vector h_t gives the tag scores z_t = W·h_t + b, and
 * training minimises the mean cross-entropy over the labelled sub-words:
 *
 *     ℓ = −(1/|L|) · Σ_{t ∈ L} log softmax(z_t)_{y_t},    L = { t : y_t ≠ −100 }
 *
 * with AdamW (θ ← θ − η∇ℓ − ηλθ; no decay on biases and LayerNorm weights), linear warmup and
 * decay of η, and gradient clipping at ‖∇‖ ≤ 1. Each epoch is scored on the dev split by
 * entity-level F1 (an entity counts only if its type and both ends are right):
 *
 *     P = correct / predicted,   R = correct / gold,   F1 = 2PR / (P + R)
 *
 * and the best epoch is restored before the test report. The data is the shipped 450-sentence
 * CoNLL-2003-format sample (data/ner), so a small model from scratch reaches a modest F1 only.
 *
 * Run: npx tsx examples/06-ner-finetune.ts          (TINY=1: a few seconds, for the smoke tests)
 */
import { fileURLToPath } from 'node:url';
import { trainNer } from '../src/index.js';
import { BertTokenizer, readConllSplits } from '../src/data/index.js';

const TINY = Boolean(process.env.TINY);
const splits = readConllSplits(fileURLToPath(new URL('../data/ner', import.meta.url)));
const take = <T>(xs: T[], n: number) => (TINY ? xs.slice(0, n) : xs);

const res = trainNer({
  train: take(splits.train, 48),
  dev: take(splits.dev, 16),
  test: take(splits.test, 16),
  tokenizer: BertTokenizer.bertBaseUncased(),
  hiddenSize: TINY ? 32 : 64,
  numLayers: 2,
  numHeads: 2,
  maxLength: 64,
  epochs: TINY ? 2 : 6,
  batchSize: TINY ? 16 : 8,
  lr: 2e-3,
  dropout: 0, // a short run learns faster without it
  patience: 3,
  seed: 42,
  outDir: process.env.OUT ?? (TINY ? 'out/ner-tiny' : 'out/ner-example'),
  progress: null,
  log: (m) => console.log(m),
});

const h = res.history;
console.log(`loss first=${h[0]!.trainLoss.toFixed(4)} last=${h[h.length - 1]!.trainLoss.toFixed(4)} (train, per epoch)`);
console.log(`\nTest set, best dev epoch ${res.bestEpoch} — entity level (seqeval):\n`);
console.log(res.test.entities.toString());
console.log(`\nentity F1 (micro) = ${res.test.entities.microAvg.f1.toFixed(4)}   finished in ${res.seconds.toFixed(1)} s`);

// The first test sentence, tagged by the annotators and by the model (words outside entities unmarked).
const s = splits.test[0]!;
const show = (tags: string[]) => s.tokens.map((w, i) => (tags[i] === 'O' ? w : `${w}/${tags[i]}`)).join(' ');
console.log(`\ngold: ${show(s.tags)}\npred: ${show(res.test.predictions[0]!)}`);
