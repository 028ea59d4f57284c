/**
 * Lesson 11 — compressing a fine-tuned BERT: distillation, int8 quantization, pruning.
 *
 *   distillation (Hinton, Vinyals & Dean 2015):
 *       L = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1 − α)·CE(z_s, y)
 *     the teacher's softened distribution carries "dark knowledge" (which wrong tags are nearly
 *     right); ∂KL/∂z_s = (p_s − p_t)/T shrinks like 1/T², so T² keeps the soft term's gradient on
 *     the scale of the hard one's whatever T is. The student starts from every other teacher layer
 *     (DistilBERT, Sanh et al. 2019).
 *   int8 dynamic quantization (Jacob et al. 2018): W_q = round(W/s_w) per output channel,
 *     x_q = round(x/s_x) per row at run time, y = s_x·s_w·Σ x_q·W_q (exact int32 sums) + b.
 *   gradual magnitude pruning (Zhu & Gupta 2017): while fine-tuning, the sparsity rises as
 *     s_t = s_f + (s_i − s_f)(1 − (t − t₀)/(nΔt))³ and the masks are re-applied after every step.
 *
 * One screen: a 4-layer NER teacher on the shipped CoNLL sample, its 2-layer distilled student,
 * int8 versions of both, and the teacher pruned to 50 % while fine-tuning — size, entity F1 and
 * forward time (batch 32) of each. Tiny sizes: the numbers show the trade-off, not BERT-base's.
 *
 * Run: npx tsx examples/11-compress.ts
 */
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compress, noGrad, fromTypedArray } from '../src/index.js';
import { readConllSplits } from '../src/data/conll.js';
import { buildCompactVocab } from '../src/tasks/mlm.js';
import { trainNer, evaluateNer, encodeNerSentences } from '../src/tasks/ner.js';
import { distill } from '../src/tasks/distill.js';
import { loadModelFolder } from '../src/pipelines/load.js';
import { LabelMap } from '../src/data/conll.js';
import type { BertForTokenClassification } from '../src/nn/bert.js';

const TINY = Boolean(process.env.TINY);
const tmp = mkdtempSync(join(tmpdir(), 'tg-compress-'));
const splits = readConllSplits(join(import.meta.dirname, '..', 'data', 'ner'));
const data = TINY ? { train: splits.train.slice(0, 80), dev: splits.dev.slice(0, 30), test: splits.test.slice(0, 30) } : splits;
const { tokenizer } = buildCompactVocab([...splits.train, ...splits.dev, ...splits.test].map((s) => s.tokens.join(' ')));
const quiet = { progress: null, log: () => {} };
const epochs = TINY ? 2 : 12;

// 1. the teacher
const teacherDir = join(tmp, 'teacher');
trainNer({ ...data, tokenizer, hiddenSize: 64, numLayers: 4, numHeads: 2, epochs, lr: 5e-3, batchSize: 16, maxLength: 48, outDir: teacherDir, ...quiet });

// 2. distil into 2 layers (teacher layers 0 and 3), T = 2, α = 0.5
const studentDir = join(tmp, 'student');
const d = distill({ teacher: teacherDir, ner: data, numLayers: 2, temperature: 2, alpha: 0.5, epochs, lr: 5e-3, batchSize: 16, maxLength: 48, outDir: studentDir, ...quiet });

// 3. prune the teacher to 50 % while fine-tuning (cubic schedule, CE only)
const prunedDir = join(tmp, 'pruned');
const p = distill({ teacher: teacherDir, ner: data, numLayers: 4, alpha: 0, pruning: { finalSparsity: 0.5 }, epochs: Math.max(2, epochs / 2), lr: 2e-3, batchSize: 16, maxLength: 48, outDir: prunedDir, ...quiet });

// 4. int8 versions, scored and timed on the same test set
const labelMap = LabelMap.fromLabels((loadModelFolder(teacherDir) as { labels: string[] }).labels);
const test = encodeNerSentences(data.test, tokenizer, labelMap, { maxLength: 48 });
const f1 = (m: BertForTokenClassification) => evaluateNer(m, data.test, test, labelMap).entities.microAvg.f1;
const ids = fromTypedArray(Int32Array.from({ length: 32 * 48 }, (_, i) => 1 + (i * 7919) % (tokenizer.vocabSize - 1)), [32, 48], { dtype: 'int32' });
const ms = (m: BertForTokenClassification) => {
  noGrad(() => m.forward({ inputIds: ids }));
  let best = Infinity;
  for (let r = 0; r < (TINY ? 1 : 5); r++) {
    const t0 = performance.now();
    noGrad(() => m.forward({ inputIds: ids }).logits.toTypedArray());
    best = Math.min(best, performance.now() - t0);
  }
  return best;
};
const fileMB = (path: string) => statSync(path).size / 1e6;
const gzMB = (path: string) => gzipSync(readFileSync(path)).length / 1e6;
const rows: [string, number, number, number, number][] = [];
const add = (name: string, dir: string, int8: boolean) => {
  const m = loadModelFolder(dir).model as BertForTokenClassification;
  let file = join(dir, 'model.safetensors');
  if (int8) {
    compress.quantize(m);
    file = join(tmp, `${name.replace(/\W+/g, '-')}.safetensors`);
    compress.saveQuantized(m, file);
  }
  rows.push([name, fileMB(file), gzMB(file), f1(m), ms(m)]);
};
add('teacher 4×64 float32', teacherDir, false);
add('teacher int8', teacherDir, true);
add('student 2×64 (distilled)', studentDir, false);
add('student int8', studentDir, true);
add(`teacher pruned ${(100 * p.sparsity!.total).toFixed(0)} % + fine-tune`, prunedDir, false);

console.log(`\nNER on the CoNLL sample (${data.train.length}/${data.test.length} train/test sentences); forward = batch 32 × 48 tokens\n`);
console.log(`${'model'.padEnd(32)} ${'MB'.padStart(6)} ${'gzip MB'.padStart(8)} ${'entity F1'.padStart(10)} ${'forward ms'.padStart(11)}`);
for (const [n, mb, gz, f, t] of rows) console.log(`${n.padEnd(32)} ${mb.toFixed(3).padStart(6)} ${gz.toFixed(3).padStart(8)} ${f.toFixed(4).padStart(10)} ${t.toFixed(1).padStart(11)}`);
console.log(`\ndistillation: student keeps ${d.scores.teacher.f1 > 0 ? (100 * d.scores.student.f1 / d.scores.teacher.f1).toFixed(1) : 'n/a'} % of the teacher's F1 with ` +
  `${(100 * d.scores.student.parameters / d.scores.teacher.parameters).toFixed(0)} % of its parameters`);
console.log('int8: Linear weights 4× smaller; pruning: same dense file, smaller gzip (no sparse kernel, so no speed-up)');
console.log('✓ compressed');
