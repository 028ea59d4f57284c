/**
 * `tensorgrad distill` and tasks/distill.ts on tiny teachers: the DistilBERT layer choice, the
 * student's initial weights are the chosen teacher layers, the loop's first loss is
 * F.distillationLoss of the student and teacher logits, the output is an HF folder that loads
 * and predicts, the report lists teacher / student / from-scratch, bad options exit 2.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

import { distillCommand } from '../../src/cli/commands/distill.js';
import { pruneCommand } from '../../src/cli/commands/prune.js';
import { UsageError } from '../../src/cli/args.js';
import { readConllSplits } from '../../src/data/conll.js';
import { loadSafetensors } from '../../src/data/safetensors.js';
import { loadModelFolder } from '../../src/pipelines/load.js';
import { distill, studentStateFromTeacher, teacherLayerIndices } from '../../src/tasks/distill.js';
import { trainNer } from '../../src/tasks/ner.js';
import { trainClassifier } from '../../src/tasks/classify.js';
import { buildCompactVocab } from '../../src/tasks/mlm.js';
import { tensor } from '../../src/index.js';

const NER_SAMPLE = join(import.meta.dirname, '..', '..', 'data', 'ner');

let logs: string[] = [];
beforeEach(() => { logs = []; vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => { logs.push(a.join(' ')); }); });
afterEach(() => vi.restoreAllMocks());

describe('DistilBERT layer choice', () => {
  it('takes every other layer, as DistilBERT (12 → 6: 0, 2, 4, 7, 9, 11)', () => {
    expect(teacherLayerIndices(12, 6)).toEqual([0, 2, 4, 7, 9, 11]);
    expect(teacherLayerIndices(4, 2)).toEqual([0, 3]);
    expect(teacherLayerIndices(2, 1)).toEqual([0]);
    expect(teacherLayerIndices(3, 3)).toEqual([0, 1, 2]);
    expect(() => teacherLayerIndices(2, 3)).toThrow(/between 1 and 2 layers/);
  });
  it('renames the chosen layers and drops the rest', () => {
    const t = tensor([1]);
    const sd = studentStateFromTeacher({ 'bert.encoder.layer.0.x': t, 'bert.encoder.layer.1.x': t, 'bert.encoder.layer.3.x': t, 'classifier.weight': t }, [0, 3]);
    expect(Object.keys(sd).sort()).toEqual(['bert.encoder.layer.0.x', 'bert.encoder.layer.1.x', 'classifier.weight']);
  });
});

describe('tensorgrad distill (tiny NER teacher)', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-distill-'));
  const data = join(root, 'data');
  const teacherDir = join(root, 'teacher');
  beforeAll(() => {
    // a small CoNLL folder cut from the shipped sample, and a 3-layer teacher fine-tuned on it
    const s = readConllSplits(NER_SAMPLE);
    mkdirSync(data, { recursive: true });
    const write = (f: string, ss: typeof s.train) => writeFileSync(join(data, f), ss.map((x) => x.tokens.map((t, i) => `${t} _ _ ${x.tags[i]}`).join('\n')).join('\n\n') + '\n');
    write('train.txt', s.train.slice(0, 80)); write('dev.txt', s.dev.slice(0, 24)); write('test.txt', s.test.slice(0, 24));
    const sp = readConllSplits(data);
    const { tokenizer } = buildCompactVocab([...sp.train, ...sp.dev, ...sp.test].map((x) => x.tokens.join(' ')));
    trainNer({ ...sp, tokenizer, hiddenSize: 32, numLayers: 3, numHeads: 2, epochs: 3, lr: 1e-2, batchSize: 8, maxLength: 32, outDir: teacherDir, progress: null, log: () => {} });
  }, 120_000);

  it('distils into a 2-layer student initialised from teacher layers 0 and 2; writes an HF folder; reports all three', async () => {
    const out = join(root, 'student');
    const code = await distillCommand.run(['--teacher', teacherDir, '--data', data, '--layers', '2', '--epochs', '2', '--max-length', '32', '--batch-size', '8', '--scratch', '--out', out], 'tensorgrad');
    expect(code).toBe(0);
    const text = logs.join('\n');
    expect(text).toMatch(/student initialised from teacher layers 0,2/);
    expect(text).toMatch(/^teacher\s+3\s+32\s+[\d.]+M\s+\d\.\d{4}/m);
    expect(text).toMatch(/^student \(distilled\)\s+2\s+32/m);
    expect(text).toMatch(/^student \(from scratch\)\s+2\s+32/m);
    expect(text).toMatch(/keeps ([\d.]+|n\/a) % of the teacher's entity F1/);
    for (const f of ['config.json', 'model.safetensors', 'vocab.txt', 'metrics.json']) expect(existsSync(join(out, f)), f).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.num_hidden_layers).toBe(2);
    expect(cfg.architectures).toEqual(['BertForTokenClassification']);
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    for (const k of ['teacher', 'student', 'scratch']) {
      expect(m.scores[k].f1).toBeGreaterThanOrEqual(0);
      expect(m.scores[k].f1).toBeLessThanOrEqual(1);
    }
    expect(m.scores.student.parameters).toBeLessThan(m.scores.teacher.parameters);
    expect(m.hyperparameters.alpha).toBe(0.5);
    // the student folder loads as a pipeline model with the teacher's labels
    const loaded = loadModelFolder(out);
    expect(loaded.task).toBe('token-classification');
    expect(loaded.kind === 'encoder' && loaded.labels).toEqual(loadModelFolder(teacherDir).kind === 'encoder' ? (loadModelFolder(teacherDir) as { labels: string[] }).labels : null);
    // the student's embeddings moved from the teacher's (it trained), and had the same shape
    const ts = loadSafetensors(join(teacherDir, 'model.safetensors'));
    const ss = loadSafetensors(join(out, 'model.safetensors'));
    expect(ss['bert.embeddings.word_embeddings.weight']!.shape).toEqual(ts['bert.embeddings.word_embeddings.weight']!.shape);
    expect(ss['bert.encoder.layer.2.attention.self.query.weight']).toBeUndefined();
  }, 180_000);

  it('a student that is the teacher (all its layers, no dropout) has a soft loss of exactly 0 and the teacher\'s F1', () => {
    const sp = readConllSplits(data);
    // α = 1: the loss is α·T²·KL(teacher ‖ student) alone; the student copies all 3 layers and runs
    // without dropout, so its logits are the teacher's bit for bit and every KL is 0; lr 0 keeps it so
    const res = distill({ teacher: teacherDir, ner: sp, numLayers: 3, dropout: 0, lr: 0, epochs: 1, batchSize: 8, maxLength: 32, temperature: 3, alpha: 1, progress: null, log: () => {} });
    expect(res.teacherLayers).toEqual([0, 1, 2]);
    expect(res.steps.length).toBe(10);
    for (const s of res.steps) expect(s.loss).toBe(0);
    expect(res.scores.student.f1).toBe(res.scores.teacher.f1);
    // α = 0.5: half the cross-entropy, > 0
    const half = distill({ teacher: teacherDir, ner: sp, numLayers: 3, dropout: 0, lr: 0, epochs: 1, batchSize: 8, maxLength: 32, temperature: 3, alpha: 0.5, progress: null, log: () => {} });
    expect(half.steps[0]!.loss).toBeGreaterThan(0);
  }, 120_000);

  it('a narrower student starts from random weights; teacher init with other widths, bad alpha: exit 2', async () => {
    const sp = readConllSplits(data);
    const res = distill({ teacher: teacherDir, ner: { train: sp.train.slice(0, 16), dev: sp.dev, test: sp.test }, numLayers: 1, hiddenSize: 16, epochs: 1, batchSize: 8, maxLength: 32, progress: null, log: () => {} });
    expect(res.init).toBe('random');
    expect(res.studentConfig.hiddenSize).toBe(16);
    expect(res.studentConfig.intermediateSize).toBe(64);
    await expect(distillCommand.run(['--teacher', teacherDir, '--data', data, '--hidden', '16', '--init', 'teacher', '--out', join(root, 'x')], 'tensorgrad'))
      .rejects.toThrow(UsageError);
    await expect(distillCommand.run(['--teacher', teacherDir, '--data', data, '--alpha', '1.5', '--out', join(root, 'y')], 'tensorgrad'))
      .rejects.toThrow(/--alpha must be in \[0, 1\], got 1.5/);
    await expect(distillCommand.run(['--teacher', join(root, 'nope')], 'tensorgrad')).rejects.toThrow(/--teacher: .* does not exist/);
  }, 120_000);
  it('prune --epochs: gradual pruning while fine-tuning ends at exactly the target sparsity, written as an HF folder', async () => {
    const out = join(root, 'pruned');
    expect(await pruneCommand.run(['--model', teacherDir, '--data', data, '--sparsity', '0.6', '--epochs', '2', '--prune-events', '4', '--max-length', '32', '--batch-size', '8', '--output', out], 'tensorgrad')).toBe(0);
    const text = logs.join('\n');
    expect(text).toMatch(/^total\s+\d+ \/\s+\d+\s+60\.0 %$/m);
    expect(text).toMatch(/test entity F1: \d\.\d{4} dense → \d\.\d{4} at 60\.0 % sparsity/);
    const sd = loadSafetensors(join(out, 'model.safetensors'));
    const names = Object.keys(sd).filter((k) => /(query|key|value|dense|classifier)\.weight$/.test(k));
    const n = names.reduce((a, k) => a + sd[k]!.numel(), 0);
    const z = names.reduce((a, k) => a + Array.from(sd[k]!.toTypedArray()).filter((v) => v === 0).length, 0);
    expect(z).toBe(Math.floor(0.6 * n));
    const m = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8'));
    expect(m.hyperparameters.pruning.events).toBe(4);
    expect(m.sparsity.total.sparsity).toBeCloseTo(Math.floor(0.6 * n) / n, 12);
    expect(loadModelFolder(out).task).toBe('token-classification');
  }, 120_000);
});

describe('distill (tiny sequence-classification teacher)', () => {
  it('distils a classifier; labels the teacher does not know are refused', () => {
    const texts = Array.from({ length: 48 }, (_, i) => ({ text: i % 2 ? `free money now win ${i}` : `see you at lunch ${i}`, label: i % 2 ? 'spam' : 'ham' }));
    const dir = join(mkdtempSync(join(tmpdir(), 'tg-distill-cls-')), 'teacher');
    trainClassifier({ data: texts, hiddenSize: 16, numLayers: 2, numHeads: 2, epochs: 2, batchSize: 8, lr: 1e-2, outDir: dir, progress: null, log: () => {} });
    const res = distill({ teacher: dir, texts: { data: texts }, numLayers: 1, epochs: 2, batchSize: 8, lr: 1e-2, temperature: 2, alpha: 0.7, progress: null, log: () => {} });
    expect(res.task).toBe('text-classification');
    expect(res.teacherLayers).toEqual([0]);
    expect(res.scores.student.accuracy).toBeGreaterThan(0.5);
    expect(() => distill({ teacher: dir, texts: { data: [...texts, { text: 'x', label: 'other' }] }, progress: null, log: () => {} })).toThrow(/label\(s\) other, which the teacher does not know/);
  }, 120_000);
});
