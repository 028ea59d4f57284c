/** A run resumed from a checkpoint gives exactly the losses of the uninterrupted run. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manualSeed, nn, optim, randint } from '../../src/index.js';
import { DataLoader } from '../../src/data/dataloader.js';
import { loadCheckpoint, saveCheckpoint } from '../../src/train/checkpoint.js';

const config = () => new nn.BertConfig({
  vocabSize: 40, hiddenSize: 16, numHiddenLayers: 1, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 8,
  numLabels: 3, hiddenDropoutProb: 0.1, attentionProbsDropoutProb: 0.1, // dropout: the RNG state matters
});

function setup() {
  const model = new nn.BertForTokenClassification(config());
  const opt = new optim.AdamW(model.parameters(), { lr: 1e-2, weightDecay: 0.01 });
  const sched = optim.getLinearScheduleWithWarmup(opt, 2, 8);
  return { model, opt, sched };
}

/** 4 epochs × 2 batches; shuffled each epoch from the global RNG. Returns the losses. */
function train(parts: ReturnType<typeof setup>, data: { ids: ReturnType<typeof randint>; labels: ReturnType<typeof randint> }[], fromEpoch: number, toEpoch: number, stopAfter?: (epoch: number) => void): number[] {
  const losses: number[] = [];
  const loader = new DataLoader(data, { batchSize: 2, shuffle: true, collate: (b) => b });
  for (let e = fromEpoch; e < toEpoch; e++) {
    for (const batch of loader) {
      for (const ex of batch) {
        const out = parts.model.forward({ inputIds: ex.ids, labels: ex.labels });
        parts.opt.zeroGrad();
        out.loss!.backward();
        optim.clipGradNorm(parts.model.parameters(), 1.0);
        parts.opt.step();
        parts.sched.step();
        losses.push(out.loss!.item());
      }
    }
    stopAfter?.(e);
  }
  return losses;
}

describe('checkpoints', () => {
  it('resume == uninterrupted (model, AdamW moments, LR schedule, RNG for dropout and shuffling)', () => {
    manualSeed(0);
    const data = Array.from({ length: 4 }, () => ({ ids: randint(0, 40, [1, 6]), labels: randint(0, 3, [1, 6]) }));

    manualSeed(1);
    const full = train(setup(), data, 0, 4);

    manualSeed(1);
    const dir = mkdtempSync(join(tmpdir(), 'tg-ckpt-'));
    const a = setup();
    const first = train(a, data, 0, 2);
    saveCheckpoint(dir, { model: a.model, optimizer: a.opt, scheduler: a.sched }, { epoch: 2 });

    manualSeed(999); // a different RNG state and fresh weights: everything must come from the checkpoint
    const b = setup();
    const extra = loadCheckpoint(dir, { model: b.model, optimizer: b.opt, scheduler: b.sched });
    expect(extra.epoch).toBe(2);
    const rest = train(b, data, 2, 4);
    expect([...first, ...rest]).toEqual(full);
  });

  it('reports a folder that is not a checkpoint', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tg-ckpt-'));
    expect(() => loadCheckpoint(dir, setup())).toThrow(/trainer_state\.json does not exist/);
  });
});
