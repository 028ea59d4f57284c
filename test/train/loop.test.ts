/**
 * The one training loop (src/train/loop.ts) and the four tasks on it: `resume` continues a run
 * killed mid-epoch from its last checkpoint and reproduces the uninterrupted run's losses bit for
 * bit (model, optimizer, scheduler, global RNG, the MLM masking generator, the epoch's data order);
 * gradient accumulation averages micro-batch gradients; early stopping restores the best weights;
 * every step is logged to train_log.jsonl.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tensor, manualSeed, nn, optim, F, type Tensor } from '../../src/index.js';
import { DataLoader } from '../../src/data/dataloader.js';
import { readConllSplits } from '../../src/data/conll.js';
import { trainLoop, TRAIN_LOG } from '../../src/train/loop.js';
import { OutputFolder, SimulatedCrash } from '../../src/train/output.js';
import type { ProgressBar } from '../../src/utils/progress.js';
import { trainNer, trainClassifier, pretrainMlm, trainCharGPT, loadMobyDick, buildCompactVocab } from '../../src/index.js';

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `tg-loop-${p}-`));
const quiet = { progress: null, log: () => {} };

/** A progress "bar" that kills the run (SimulatedCrash) once step `at` is done. */
function crashAfter(at: number): ProgressBar {
  let n = 0;
  return { update: () => { if (++n === at) throw new SimulatedCrash(`killed after step ${at}`); }, log: () => {} } as unknown as ProgressBar;
}

function losses(dir: string): number[] {
  return readFileSync(join(dir, TRAIN_LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((r) => r.type === 'step').map((r) => r.loss);
}

/** Runs `run` once uninterrupted, once killed after step `crashAt`, then resumed; the losses must be identical. */
function expectExactResume(run: (extra: Record<string, unknown>) => { steps: number[] }, crashAt: number, saveEvery: number) {
  const a = tmp('a');
  const full = run({ outDir: a, saveEvery, ...quiet }).steps;
  const b = tmp('b');
  expect(() => run({ outDir: b, saveEvery, ...quiet, progress: crashAfter(crashAt) })).toThrow(SimulatedCrash);
  expect(existsSync(join(b, 'checkpoint', 'manifest.json'))).toBe(true);
  const resumed = run({ outDir: b, saveEvery, resume: true, ...quiet }).steps;
  expect(resumed).toEqual(full); // bit for bit, every step
  expect(losses(b)).toEqual(full);
  expect(losses(a)).toEqual(full);
  expect(readFileSync(join(b, 'model.safetensors'))).toEqual(readFileSync(join(a, 'model.safetensors')));
}

describe('resume reproduces the uninterrupted run bit for bit (tiny configurations)', () => {
  it('trainNer, killed mid-epoch (checkpoint every 2 steps, 3 steps per epoch)', () => {
    const s = readConllSplits('data/ner');
    // a compact vocabulary of these sentences keeps the embedding (and the test) small
    const tokenizer = buildCompactVocab([...s.train.slice(0, 24), ...s.dev.slice(0, 8), ...s.test.slice(0, 8)].map((x) => x.tokens.join(' '))).tokenizer;
    expectExactResume((x) => {
      trainNer({ train: s.train.slice(0, 24), dev: s.dev.slice(0, 8), test: s.test.slice(0, 8), tokenizer, hiddenSize: 16, numLayers: 1, numHeads: 2, epochs: 2, batchSize: 8, lr: 5e-3, patience: 5, ...x });
      return { steps: JSON.parse(readFileSync(join(x.outDir as string, 'metrics.json'), 'utf8')).curves.steps.map((c: { loss: number }) => c.loss) };
    }, 5, 2);
  });

  it('trainClassifier with gradient accumulation (2 batches per step, the last group of an epoch shorter)', () => {
    const data = Array.from({ length: 24 }, (_, i) => ({ text: i % 2 ? `win money now offer ${i}` : `meeting notes for the project ${i}`, label: i % 2 ? 'spam' : 'ham' }));
    expectExactResume((x) => ({ steps: trainClassifier({ data, hiddenSize: 16, numLayers: 1, numHeads: 2, epochs: 2, batchSize: 8, gradientAccumulationSteps: 2, ...x }).steps.map((s) => s.loss) }), 3, 1);
  });

  it('pretrainMlm (the masking generator continues from the checkpoint)', () => {
    const text = loadMobyDick({ chapters: 1 });
    expectExactResume((x) => ({ steps: pretrainMlm({ text, hiddenSize: 16, numLayers: 1, numHeads: 2, maxLength: 32, batchSize: 4, maxSteps: 6, evalChunks: 4, ...x }).history.map((h) => h.loss) }), 5, 2);
  });

  it('trainCharGPT with dropout (batch windows and dropout masks from the restored global RNG)', () => {
    const text = 'It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness.\n'.repeat(4);
    expectExactResume((x) => ({ steps: trainCharGPT({ text, blockSize: 16, nLayer: 1, nHead: 2, nEmbd: 16, dropout: 0.1, batchSize: 4, maxSteps: 6, ...x }).history.map((h) => h.loss) }), 5, 3);
  });

  it('refuses to resume with different hyper-parameters, naming them', () => {
    const text = 'abcdefghij klmnopqrst uvwxyz '.repeat(8);
    const out = tmp('hp');
    const opts = { text, blockSize: 8, nLayer: 1, nHead: 2, nEmbd: 8, batchSize: 2, maxSteps: 3, saveEvery: 1, outDir: out, ...quiet };
    expect(() => trainCharGPT({ ...opts, progress: crashAfter(2) })).toThrow(SimulatedCrash);
    expect(() => trainCharGPT({ ...opts, lr: 0.1, resume: true })).toThrow(/options differ from the checkpoint's \(lr: checkpoint 0\.003, now 0\.1\)/);
  });
});

describe('trainLoop', () => {
  function linearSetup(accum: number, batchSize: number) {
    manualSeed(0);
    const model = new nn.Linear(3, 1, { dtype: 'float64' });
    const xs = Array.from({ length: 8 }, (_, i) => ({ x: [i / 8, Math.sin(i), 1 - i / 10], y: i % 3 }));
    const loader = new DataLoader(xs, { batchSize, collate: (it) => ({ x: tensor(it.map((e) => e.x), { dtype: 'float64' }), y: tensor(it.map((e) => [e.y]), { dtype: 'float64' }) }) });
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const res = trainLoop({ model, optimizer, data: loader, epochs: 1, gradientAccumulationSteps: accum, loss: (b) => ({ loss: F.mseLoss(model.forward(b.x), b.y), tokens: 1 }), ...quiet });
    return { res, w: Array.from(model.weight.toTypedArray()) };
  }

  it('gradient accumulation: k micro-batches of n give the step of one batch of k·n (mean of the means)', () => {
    const a = linearSetup(2, 2); // 2 steps, each of 2 micro-batches of 2 examples
    const b = linearSetup(1, 4); // 2 steps, each of one batch of 4
    expect(a.res.steps.length).toBe(2);
    expect(b.res.steps.length).toBe(2);
    a.w.forEach((v, i) => expect(v).toBeCloseTo(b.w[i]!, 12));
    a.res.steps.forEach((s, i) => expect(s.loss).toBeCloseTo(b.res.steps[i]!.loss, 12));
  });

  it('early stopping keeps and restores the best weights; logs every step and evaluation', () => {
    manualSeed(1);
    const model = new nn.Linear(2, 1);
    const loader = new DataLoader(Array.from({ length: 4 }, (_, i) => i), { batchSize: 2, collate: (it) => tensor(it.map((i) => [i, 1])) });
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.05 });
    const scripted = [0.5, 0.9, 0.7, 0.6, 0.95];
    const snapshots: Tensor[] = [];
    const out = OutputFolder.open(tmp('es'));
    const res = trainLoop({
      model, optimizer, data: loader, epochs: 5, output: out, ...quiet,
      loss: (x) => ({ loss: model.forward(x).pow(2).mean(), tokens: 2 }),
      evaluate: ({ epoch }) => {
        snapshots.push(model.weight.clone());
        return { score: scripted[epoch - 1]! };
      },
      earlyStopping: { metric: 'score', mode: 'max', patience: 2 },
    });
    out.release();
    expect(res.stoppedEarly).toBe(true);
    expect(res.evals.map((e) => e.metrics.score)).toEqual([0.5, 0.9, 0.7, 0.6]);
    expect(res.best!.epoch).toBe(2);
    expect(Array.from(model.weight.toTypedArray())).toEqual(Array.from(snapshots[1]!.toTypedArray()));
    const log = readFileSync(out.path(TRAIN_LOG), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    expect(log.filter((r) => r.type === 'step')).toHaveLength(8);
    expect(log.filter((r) => r.type === 'eval')).toHaveLength(4);
    for (const r of log.filter((x) => x.type === 'step')) {
      expect(Object.keys(r)).toEqual(expect.arrayContaining(['step', 'epoch', 'loss', 'lr', 'gradNorm', 'tokensPerSecond']));
      expect(r.gradNorm).toBeGreaterThan(0);
    }
  });

  it('clear errors for a stream without maxSteps and a bad accumulation count', () => {
    const model = new nn.Linear(1, 1);
    const optimizer = new optim.SGD(model.parameters(), { lr: 0.1 });
    const base = { model, optimizer, loss: () => ({ loss: tensor(0), tokens: 0 }), ...quiet };
    expect(() => trainLoop({ ...base, data: { next: () => 0 } })).toThrow(/needs maxSteps/);
    expect(() => trainLoop({ ...base, data: { next: () => 0 }, maxSteps: 1, gradientAccumulationSteps: 0 })).toThrow(/gradientAccumulationSteps must be a positive integer, got 0/);
  });
});
