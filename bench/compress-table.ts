/**
 * The compression table of issue #16 on the NER task: a teacher fine-tuned from a pretrained
 * checkpoint vs its distilled 2-layer student vs int8 (both) vs pruned 50 % / 80 % with gradual
 * pruning + fine-tuning — checkpoint MB (and gzip'd), test entity F1, forward ms at batch 1 and at
 * batch 8 × 128 tokens, one thread. Same data (the shipped CoNLL sample) and seed for all.
 *
 *   npx tsx bench/compress-table.ts <pretrained folder, e.g. assets/bert-pretrained> [epochs=4]
 *
 * Writes bench/compress-table.md (the table the README quotes) and prints it.
 */
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { compress, fromTypedArray, noGrad, setGemmThreads } from '../src/index.js';
import { LabelMap, readConllSplits } from '../src/data/conll.js';
import { loadModelFolder } from '../src/pipelines/load.js';
import { distill } from '../src/tasks/distill.js';
import { encodeNerSentences, evaluateNer, trainNer } from '../src/tasks/ner.js';
import { loadInit } from '../src/tasks/classify.js';
import type { BertForTokenClassification } from '../src/nn/bert.js';

const init = process.argv[2];
if (!init || !existsSync(join(init, 'model.safetensors'))) {
  console.error('usage: npx tsx bench/compress-table.ts <pretrained BERT folder with config.json, model.safetensors, vocab.txt> [epochs]');
  process.exit(2);
}
const epochs = Number(process.argv[3] ?? 4);
setGemmThreads(1);
const tmp = mkdtempSync(join(tmpdir(), 'tg-compress-table-'));
const data = readConllSplits(join(import.meta.dirname, '..', 'data', 'ner'));
const tokenizer = loadInit(init).tokenizer;
if (!tokenizer) throw new Error(`${init} has no vocab.txt`);
const quiet = { progress: null, log: (m: string) => process.stderr.write(m + '\n') };
const common = { ner: data, lr: 3e-4, batchSize: 16, maxLength: 128, seed: 42, ...quiet };

const teacherDir = join(tmp, 'teacher');
trainNer({ ...data, tokenizer, init, epochs, lr: 3e-4, batchSize: 16, maxLength: 128, seed: 42, outDir: teacherDir, ...quiet });
const studentDir = join(tmp, 'student');
const layers = loadInit(teacherDir).config.num_hidden_layers!;
distill({ teacher: teacherDir, ...common, numLayers: Math.max(1, Math.floor(layers / 2)), temperature: 2, alpha: 0.5, epochs, outDir: studentDir });
const pruned: Record<number, string> = {};
for (const s of [0.5, 0.8]) {
  pruned[s] = join(tmp, `pruned-${s}`);
  distill({ teacher: teacherDir, ...common, numLayers: layers, alpha: 0, pruning: { finalSparsity: s }, epochs: Math.max(2, epochs / 2), outDir: pruned[s] });
}

const labelMap = LabelMap.fromLabels((loadModelFolder(teacherDir) as { labels: string[] }).labels);
const test = encodeNerSentences(data.test, tokenizer, labelMap, { maxLength: 128 });
const batch = (B: number, T: number) => fromTypedArray(Int32Array.from({ length: B * T }, (_, i) => 1000 + ((i * 7919) % 20000) % (tokenizer.vocabSize - 1000)), [B, T], { dtype: 'int32' });
const time = (m: BertForTokenClassification, ids: ReturnType<typeof batch>, reps: number) => {
  noGrad(() => m.forward({ inputIds: ids }));
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    noGrad(() => m.forward({ inputIds: ids }).logits.toTypedArray());
    best = Math.min(best, performance.now() - t0);
  }
  return best;
};
const rows: string[] = [];
const row = (name: string, dir: string, int8: boolean) => {
  const m = loadModelFolder(dir).model as BertForTokenClassification;
  let file = join(dir, 'model.safetensors');
  if (int8) {
    compress.quantize(m);
    file = join(tmp, `${name.replace(/\W+/g, '-')}.safetensors`);
    compress.saveQuantized(m, file);
  }
  const f1 = evaluateNer(m, data.test, test, labelMap).entities.microAvg.f1;
  const mb = statSync(file).size / 1e6, gz = gzipSync(readFileSync(file)).length / 1e6;
  const t1 = time(m, batch(1, 64), 10), t8 = time(m, batch(8, 128), 3);
  rows.push(`| ${name} | ${mb.toFixed(1)} | ${gz.toFixed(1)} | ${f1.toFixed(4)} | ${t1.toFixed(1)} | ${t8.toFixed(0)} |`);
  console.error(rows[rows.length - 1]);
};
row('teacher (float32)', teacherDir, false);
row('teacher int8', teacherDir, true);
row(`distilled student (${Math.max(1, Math.floor(layers / 2))} layers)`, studentDir, false);
row('distilled student int8', studentDir, true);
row('pruned 50 % + fine-tune', pruned[0.5]!, false);
row('pruned 80 % + fine-tune', pruned[0.8]!, false);
const md = [
  `NER on the shipped CoNLL sample (${data.train.length}/${data.test.length} train/test sentences), teacher fine-tuned from ${init} for ${epochs} epochs; ` +
    `forward: one thread, best of 10 (batch 1 × 64) / 3 (batch 8 × 128); Node ${process.version}; ${new Date().toISOString().slice(0, 10)}.`,
  '',
  '| model | MB | gzip MB | test entity F1 | ms, 1 × 64 | ms, 8 × 128 |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows,
].join('\n') + '\n';
writeFileSync(join(import.meta.dirname, 'compress-table.md'), md);
console.log(md);
