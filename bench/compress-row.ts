/**
 * One row of the compression table (bench/compress-table.ts), in its own process so that its peak
 * memory is its own: loads a model folder (float `model.safetensors` or the int8
 * `model-int8.safetensors` that `tensorgrad quantize` writes), scores it on the task's test split,
 * times its forward pass and writes a JSON report.
 *
 *   node --import tsx bench/compress-row.ts report.json ner|spam FOLDER
 *
 * Report: test F1 (NER: entity micro F1 on the shipped CoNLL sample's test split; spam: macro F1
 * on the 20 % test split train-classifier makes with seed 42 from 1000 SpamAssassin examples),
 * the weights file's size and gzip'd size, the best forward time (no autograd) at batch 1 × 64,
 * 32 × 64 and 8 × 128 tokens, and the process's max RSS. Threads: whatever TENSORGRAD_NUM_THREADS
 * says (the driver sets 1).
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fromTypedArray, noGrad, tidy } from '../src/index.js';
import { LabelMap, readConllSplits } from '../src/data/conll.js';
import { loadSpamAssassin, trainTestSplit } from '../src/data/index.js';
import { INT8_WEIGHTS, loadModelFolder } from '../src/pipelines/load.js';
import { encodeTexts, evaluateClassifier } from '../src/tasks/classify.js';
import { encodeNerSentences, evaluateNer } from '../src/tasks/ner.js';
import type { BertForSequenceClassification, BertForTokenClassification } from '../src/nn/bert.js';

const [reportPath, task, dir] = process.argv.slice(2);
if (!reportPath || (task !== 'ner' && task !== 'spam') || !dir) {
  console.error('usage: node --import tsx bench/compress-row.ts report.json ner|spam FOLDER');
  process.exit(2);
}
const loaded = loadModelFolder(dir);
if (loaded.kind !== 'encoder') throw new Error(`${dir}: expected a BERT classifier folder, got a ${loaded.kind}`);
const { tokenizer, labels } = loaded;
const MAX_LENGTH = 64; // what train-ner, train-classifier, distill and prune use by default

let f1: number;
if (task === 'ner') {
  const data = readConllSplits(join(import.meta.dirname, '..', 'data', 'ner'));
  const labelMap = LabelMap.fromLabels(labels);
  const test = encodeNerSentences(data.test, tokenizer, labelMap, { maxLength: MAX_LENGTH });
  f1 = evaluateNer(loaded.model as BertForTokenClassification, data.test, test, labelMap).entities.microAvg.f1;
} else {
  const data = loadSpamAssassin({ maxExamples: 1000, seed: 42 });
  const { test } = trainTestSplit(data, { testSize: 0.2, seed: 42, stratify: true });
  f1 = evaluateClassifier(loaded.model as BertForSequenceClassification, encodeTexts(test, tokenizer, labels, MAX_LENGTH), labels).macroF1;
}

const weights = existsSync(join(dir, 'model.safetensors')) ? join(dir, 'model.safetensors') : join(dir, INT8_WEIGHTS);
const model = loaded.model as BertForTokenClassification | BertForSequenceClassification;
const vocab = tokenizer.vocabSize;
/** (B, T) token ids spread over the vocabulary (past the special tokens); deterministic. */
const ids = (B: number, T: number) => fromTypedArray(Int32Array.from({ length: B * T }, (_, i) => 1000 + ((i * 7919) % (vocab - 1000))), [B, T], { dtype: 'int32' });
/** Best of `reps` forward passes after one warm-up, ms (the logits read back to host memory). */
function forwardMs(B: number, T: number, reps: number): number {
  const x = ids(B, T);
  // tidy: each pass's activations go back to the allocator at once (as the pipelines do)
  const pass = () => tidy(() => noGrad(() => void model.forward({ inputIds: x }).logits.toTypedArray()));
  pass();
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    pass();
    best = Math.min(best, performance.now() - t0);
  }
  return best;
}
model.eval();
const report = {
  task, dir, f1,
  bytes: statSync(weights).size, gzipBytes: gzipSync(readFileSync(weights)).length,
  ms1x64: forwardMs(1, 64, 20), ms32x64: forwardMs(32, 64, 7), ms8x128: forwardMs(8, 128, 7),
  maxRssMiB: process.resourceUsage().maxRSS / 1024,
};
writeFileSync(reportPath, JSON.stringify(report));
