/**
 * The one training loop every task uses (`trainNer`, `trainClassifier`, `pretrainMlm`,
 * `trainCharGPT`): the tasks say what a batch, a loss and an evaluation are; this loop does the
 * rest, the same way for all of them.
 *
 *   - epochs over a DataLoader (shuffled per epoch) or a stream of batches, up to `maxSteps`
 *     optimiser steps;
 *   - each micro-batch's forward and backward inside `tidy()` (activations back to the buffer
 *     pool at once); gradient accumulation over `gradientAccumulationSteps` micro-batches, each
 *     loss scaled by 1/(batches in its group), so a step's gradient is the mean over the group:
 *       ∇ = (1/k)·Σⱼ ∇ℓⱼ
 *     then clipping of ‖∇‖₂ at `maxGradNorm`, the optimiser step and the LR scheduler;
 *   - an evaluation hook (each epoch or every n steps, and optionally at the start and end);
 *     early stopping on one of its metrics, keeping the best weights and restoring them at the end;
 *   - a progress bar, and a JSONL log of every step (loss, lr, grad-norm, tokens/s) and every
 *     evaluation in `train_log.jsonl` of the output folder;
 *   - checkpoints in `<out>/checkpoint/` (each epoch and every `saveEvery` steps: model,
 *     optimizer, scheduler, global RNG and the data path's own generators, the epoch's example
 *     order and position in it, early stopping, best weights, the history), written atomically
 *     (output.ts); `resume: true` continues from the last one and reproduces the uninterrupted
 *     run's losses bit for bit, mid-epoch included (test/train/loop.test.ts).
 *
 * What is bit-for-bit on resume: the model, optimizer and scheduler state are restored exactly;
 * the global generator (dropout masks, GPT's batch windows) and every generator in `generators`
 * (MLM masking) continue from their state at the checkpoint; the epoch's shuffled order is saved,
 * not redrawn. The setup before the loop (model initialisation, data preparation) is seeded and
 * runs again identically, and the hyper-parameters must equal the checkpoint's.
 */
import { existsSync, appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tidy } from '../tensor/scope.js';
import type { Tensor } from '../tensor/tensor.js';
import type { Generator, RngState } from '../tensor/random.js';
import type { Module } from '../nn/module.js';
import { clipGradNorm, EarlyStopping } from '../optim/index.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import type { EarlyStoppingStateDict } from '../optim/early-stopping.js';
import type { DataLoader } from '../data/dataloader.js';
import { loadSafetensors, safetensorsBytes } from '../data/safetensors.js';
import { ProgressBar } from '../utils/progress.js';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import type { OutputFolder } from './output.js';

/** The sub-folder of the output folder that holds the last checkpoint. */
export const CHECKPOINT_DIR = 'checkpoint';
/** The JSONL log of every step and evaluation, in the output folder. */
export const TRAIN_LOG = 'train_log.jsonl';

/** Batches from a function (e.g. random windows of a text), for loops counted in steps. */
export interface BatchStream<B> {
  next(): B;
}

/** One optimiser step, as logged. */
export interface StepRecord {
  /** Optimiser steps done, this one included (1 for the first step). */
  step: number;
  /** The epoch the step belongs to (1-based; always 1 for a batch stream). */
  epoch: number;
  /** Mean loss over the step's micro-batches. */
  loss: number;
  /** Learning rate the step used (of the first parameter group). */
  lr: number;
  /** ‖∇‖₂ over all parameters before clipping. */
  gradNorm: number;
  /** Tokens the step processed (the sum of the `loss` callback's counts over its micro-batches). */
  tokens: number;
  /** tokens / the step's wall time (forward, backward, clipping and the optimiser step). */
  tokensPerSecond: number;
}

/** One evaluation, as logged. */
export interface EvalRecord {
  /** Optimiser steps done when evaluated (0 = before training). */
  step: number;
  /** The epoch at the time of the evaluation (1-based). */
  epoch: number;
  /** What the `evaluate` hook returned, by metric name (e.g. `{ devLoss, devF1 }`). */
  metrics: Record<string, number>;
}

export interface EarlyStoppingConfig {
  /** The evaluation metric to watch, e.g. 'devF1' or 'loss'. */
  metric: string;
  mode: 'min' | 'max';
  /** Evaluations without improvement before stopping (an integer ≥ 1). */
  patience: number;
  minDelta?: number;
}

/** Options of {@link trainLoop}: the model, optimizer and scheduler, the data, the loss function, steps or epochs, accumulation, clipping, evaluation, early stopping, logging and checkpoints. */
export interface TrainLoopOptions<B> {
  /** The model to train; put in training mode for the steps and checkpointed with its state dict. */
  model: Module;
  /** The optimizer stepping the model's parameters (its state is checkpointed). */
  optimizer: Optimizer;
  /** Learning-rate scheduler stepped after every optimiser step (checkpointed); none keeps the lr fixed. */
  scheduler?: LRScheduler;
  /** A DataLoader (epochs) or a stream of batches (then `maxSteps` is required). */
  data: DataLoader<never, B> | DataLoader<any, B> | BatchStream<B>;
  /** The loss of one batch (called inside tidy and with recording on) and its token count (tokens/s). */
  loss(batch: B): { loss: Tensor; tokens: number };
  /** Passes over a DataLoader (default 1). */
  epochs?: number;
  /** Stop after this many optimiser steps (default: epochs × steps per epoch). */
  maxSteps?: number;
  /** Micro-batches per optimiser step (default 1). */
  gradientAccumulationSteps?: number;
  /** Clip ‖∇‖₂ at this value (default: no clipping; the norm is logged either way). */
  maxGradNorm?: number;
  /**
   * Metrics of the model now (called in eval mode's caller's hands: the hook switches modes itself).
   * Run each evaluation batch inside `tidy()` (as evaluateNer / evaluateClassifier do), so that
   * its activations go back to the allocator at once: the loop does not wrap the hook, which may keep tensors.
   */
  evaluate?: (at: { step: number; epoch: number }) => Record<string, number>;
  /** When to evaluate: 'epoch' (default with a DataLoader) or every n steps (default with a stream: the end only). */
  evalEvery?: 'epoch' | number;
  /** Also evaluate before the first step (step 0). */
  evalAtStart?: boolean;
  /** Also evaluate after the last step if it was not just evaluated (default true). */
  evalAtEnd?: boolean;
  /** Early stopping on an evaluation metric; the best weights are restored at the end. */
  earlyStopping?: EarlyStoppingConfig;
  /** The run's output folder: checkpoints, train_log.jsonl (none when omitted). */
  output?: OutputFolder;
  /** Also checkpoint every n optimiser steps (a DataLoader run checkpoints each epoch anyway). */
  saveEvery?: number;
  /** Continue from `<output>/checkpoint`. */
  resume?: boolean;
  /** Generators the data path draws from besides the global one (e.g. MLM masking): checkpointed. */
  generators?: Record<string, Generator>;
  /** The run's hyper-parameters: saved in checkpoints; a resume with different ones is refused. */
  hyperparameters?: Record<string, unknown>;
  /** Progress bar (default: one on stderr); null for none. */
  progress?: ProgressBar | null;
  /** Log lines (default: stderr). */
  log?: (msg: string) => void;
  /** A line describing an evaluation, for the log (default: the metrics); `steps` are all steps so far. */
  describeEval?: (e: EvalRecord, steps: readonly StepRecord[]) => string;
}

/** What {@link trainLoop} returns: every step's record, the evaluations, per-epoch losses, whether it stopped early and the timings. */
export interface TrainLoopResult {
  /** One record per optimiser step, in order (a resumed run includes the steps before the resume). */
  steps: StepRecord[];
  /** One record per evaluation, in order. */
  evals: EvalRecord[];
  /** Mean training loss of each epoch (with a DataLoader). */
  epochs: { epoch: number; trainLoss: number }[];
  /** The evaluation whose weights the model holds at the end, with early stopping. */
  best: EvalRecord | null;
  /** True when early stopping ended the run before `maxSteps` / the last epoch. */
  stoppedEarly: boolean;
  /** The step a resumed run continued from (0 for a fresh run). */
  resumedFrom: number;
  /** Wall time in seconds spent training, evaluating and checkpointing, and the median step time in milliseconds. */
  timings: { trainSeconds: number; evalSeconds: number; checkpointSeconds: number; medianStepMs: number };
}

/** What the loop keeps in trainer_state.json besides model/optimizer/scheduler/RNG. */
interface LoopState {
  step: number;
  epoch: number;
  /** Micro-batches of `epoch` already consumed. */
  batchInEpoch: number;
  /** The example order of `epoch` (DataLoader runs). */
  order: number[] | null;
  steps: StepRecord[];
  evals: EvalRecord[];
  best: EvalRecord | null;
  stopper: EarlyStoppingStateDict | null;
  generators: Record<string, RngState>;
  hyperparameters: Record<string, unknown>;
  timings: TrainLoopResult['timings'];
}

function isLoader<B>(d: TrainLoopOptions<B>['data']): d is DataLoader<unknown, B> {
  return typeof (d as DataLoader<unknown, B>).batchAt === 'function' && typeof (d as DataLoader<unknown, B>).epochOrder === 'function';
}

function median(xs: number[]): number {
  if (xs.length === 0) return 0;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function differences(a: Record<string, unknown>, b: Record<string, unknown>): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.filter((k) => JSON.stringify(a[k]) !== JSON.stringify(b[k])).map((k) => `${k}: checkpoint ${JSON.stringify(a[k])}, now ${JSON.stringify(b[k])}`);
}

function cloneState(model: Module): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, v.clone()]));
}

/**
 * Runs the training loop; see the file header. The model is in train mode during steps and is
 * left holding the best evaluated weights when `earlyStopping` is given, else the last ones.
 *
 * @example
 * const res = trainLoop({
 *   model, optimizer, scheduler, data: loader, epochs: 3, maxGradNorm: 1,
 *   loss: (b) => ({ loss: model.forward(b).loss!, tokens: b.attentionMask.sum().item() }),
 *   evaluate: () => ({ devF1: evaluateNer(model, …).entities.microAvg.f1 }),
 *   earlyStopping: { metric: 'devF1', mode: 'max', patience: 3 },
 *   output: OutputFolder.open('out/ner'), saveEvery: 50,
 * });
 */
export function trainLoop<B>(o: TrainLoopOptions<B>): TrainLoopResult {
  const { model, optimizer, scheduler, output } = o;
  const log = o.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const loader = isLoader(o.data) ? o.data : null;
  const stream = loader ? null : (o.data as BatchStream<B>);
  const accum = o.gradientAccumulationSteps ?? 1;
  if (!Number.isInteger(accum) || accum < 1) throw new Error(`trainLoop: gradientAccumulationSteps must be a positive integer, got ${accum}`);
  const epochs = loader ? (o.epochs ?? 1) : 1;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`trainLoop: epochs must be a positive integer, got ${o.epochs}`);
  if (!loader && o.maxSteps === undefined) throw new Error('trainLoop: a batch stream needs maxSteps');
  if (loader && loader.length === 0) throw new Error('trainLoop: the DataLoader has no batches');
  const stepsPerEpoch = loader ? Math.ceil(loader.length / accum) : o.maxSteps!;
  const totalSteps = Math.min(epochs * stepsPerEpoch, o.maxSteps ?? Infinity);
  if (!(totalSteps >= 1)) throw new Error(`trainLoop: maxSteps must be ≥ 1, got ${o.maxSteps}`);
  const evalEvery = o.evalEvery ?? (loader ? 'epoch' : undefined);
  const hyperparameters = o.hyperparameters ?? {};
  const generators = o.generators ?? {};
  const stopper = o.earlyStopping
    ? new EarlyStopping({ patience: o.earlyStopping.patience, mode: o.earlyStopping.mode, ...(o.earlyStopping.minDelta !== undefined ? { minDelta: o.earlyStopping.minDelta } : {}) })
    : null;
  const progress = o.progress === undefined
    ? new ProgressBar({ totalSteps, epochs: loader ? Math.ceil(totalSteps / stepsPerEpoch) : 1, logEvery: loader ? 10 : 25 })
    : o.progress;
  const describe = o.describeEval ?? ((e: EvalRecord) => `step ${e.step}: ` + Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', '));

  const st: LoopState = {
    step: 0, epoch: 1, batchInEpoch: 0, order: null, steps: [], evals: [], best: null, stopper: null, generators: {}, hyperparameters,
    timings: { trainSeconds: 0, evalSeconds: 0, checkpointSeconds: 0, medianStepMs: 0 },
  };
  let bestWeights: Record<string, Tensor> | null = null;
  const logPath = output ? output.path(TRAIN_LOG) : null;
  const logLine = (rec: object) => {
    if (logPath) appendFileSync(logPath, JSON.stringify(rec) + '\n');
  };

  // ---- resume ----
  const ckptDir = output ? join(output.dir, CHECKPOINT_DIR) : null;
  if (o.resume) {
    if (!ckptDir) throw new Error('trainLoop: resume needs an output folder');
    if (!existsSync(join(ckptDir, 'trainer_state.json'))) throw new Error(`cannot resume: ${ckptDir} holds no checkpoint (the run saved none yet)`);
    const extra = loadCheckpoint(ckptDir, { model, optimizer, ...(scheduler ? { scheduler } : {}) }) as unknown as { loop: LoopState };
    const saved = extra.loop;
    const diff = differences(saved.hyperparameters, hyperparameters);
    if (diff.length) throw new Error(`cannot resume ${output!.dir}: the options differ from the checkpoint's (${diff.join('; ')})`);
    Object.assign(st, saved);
    for (const [name, g] of Object.entries(generators)) {
      const s = saved.generators[name];
      if (!s) throw new Error(`cannot resume: the checkpoint has no state for the generator '${name}'`);
      g.setState(s);
    }
    if (stopper && saved.stopper) stopper.loadStateDict(saved.stopper);
    if (existsSync(join(ckptDir, 'best.safetensors'))) bestWeights = loadSafetensors(join(ckptDir, 'best.safetensors'));
    // the log continues from the checkpoint: what came after it is redone
    if (logPath) writeFileSync(logPath, [...st.steps.map((s) => ({ type: 'step', ...s })), ...st.evals.map((e) => ({ type: 'eval', step: e.step, epoch: e.epoch, ...e.metrics }))]
      .sort((a, b) => a.step - b.step || (a.type === 'step' ? -1 : 1)).map((r) => JSON.stringify(r) + '\n').join(''));
    log(`resuming from ${ckptDir}: step ${st.step} of ${totalSteps} (epoch ${st.epoch}, batch ${st.batchInEpoch})`);
  } else if (logPath) {
    writeFileSync(logPath, '');
  }
  const resumedFrom = st.step;

  const evaluate = (): EvalRecord | null => {
    if (!o.evaluate) return null;
    const t = performance.now();
    const rec: EvalRecord = { step: st.step, epoch: st.epoch, metrics: o.evaluate({ step: st.step, epoch: st.epoch }) };
    st.timings.evalSeconds += (performance.now() - t) / 1000;
    st.evals.push(rec);
    logLine({ type: 'eval', step: rec.step, epoch: rec.epoch, ...rec.metrics });
    log(describe(rec, st.steps));
    return rec;
  };

  /** Early stopping bookkeeping after an evaluation; true when training should stop. */
  const judge = (rec: EvalRecord | null): boolean => {
    if (!rec || !stopper || !o.earlyStopping) return false;
    const v = rec.metrics[o.earlyStopping.metric];
    if (v === undefined) throw new Error(`trainLoop: the evaluation returned no '${o.earlyStopping.metric}' (it returned ${Object.keys(rec.metrics).join(', ')})`);
    const improved = stopper.isImprovement(v);
    const stop = stopper.step(v);
    if (improved) {
      st.best = rec;
      bestWeights = cloneState(model);
    }
    if (stop) log(`early stopping: ${o.earlyStopping.metric} has not improved for ${o.earlyStopping.patience} evaluations (best ${stopper.bestValue?.toFixed(4)} at step ${st.best?.step})`);
    return stop;
  };

  const checkpoint = () => {
    if (!ckptDir) return;
    const t = performance.now();
    st.generators = Object.fromEntries(Object.entries(generators).map(([k, g]) => [k, g.getState()]));
    st.stopper = stopper ? stopper.stateDict() : null;
    const files: Record<string, Uint8Array> = {};
    if (bestWeights) files['best.safetensors'] = safetensorsBytes(bestWeights, { format: 'pt' });
    saveCheckpoint(ckptDir, { model, optimizer, ...(scheduler ? { scheduler } : {}) }, { step: st.step, loop: st }, { runId: output!.runId, files });
    st.timings.checkpointSeconds += (performance.now() - t) / 1000;
  };

  // ---- the loop ----
  const params = model.parameters();
  const stepTimes: number[] = [];
  const t0 = performance.now() - st.timings.trainSeconds * 1000;
  let stoppedEarly = false;
  if (o.evalAtStart && st.step === 0 && st.evals.length === 0) judge(evaluate());
  model.train();
  training: while (st.step < totalSteps) {
    if (loader && st.batchInEpoch === 0 && st.order === null) st.order = loader.epochOrder();
    const batchesLeft = loader ? loader.length - st.batchInEpoch : accum;
    const group = Math.min(accum, batchesLeft);
    const ts = performance.now();
    const lr = optimizer.paramGroups[0]!.lr;
    optimizer.zeroGrad();
    let lossSum = 0;
    let tokens = 0;
    for (let j = 0; j < group; j++) {
      const batch = loader ? loader.batchAt(st.order!, st.batchInEpoch) : stream!.next();
      if (loader) st.batchInEpoch++;
      // tidy: the micro-batch's activations and temporaries go back to the buffer pool at once
      lossSum += tidy(() => {
        const r = o.loss(batch);
        tokens += r.tokens;
        (group > 1 ? r.loss.div(group) : r.loss).backward();
        return r.loss.item();
      });
    }
    const gradNorm = tidy(() => clipGradNorm(params, o.maxGradNorm !== undefined && Number.isFinite(o.maxGradNorm) ? o.maxGradNorm : Infinity));
    tidy(() => optimizer.step());
    scheduler?.step();
    st.step++;
    const seconds = (performance.now() - ts) / 1000;
    stepTimes.push(seconds * 1000);
    const rec: StepRecord = { step: st.step, epoch: st.epoch, loss: lossSum / group, lr, gradNorm, tokens, tokensPerSecond: tokens / Math.max(seconds, 1e-9) };
    st.steps.push(rec);
    logLine({ type: 'step', ...rec });
    const stepInEpoch = loader ? Math.ceil(st.batchInEpoch / accum) : st.step;
    const stepsThisEpoch = loader ? Math.min(stepsPerEpoch, totalSteps - (st.epoch - 1) * stepsPerEpoch) : totalSteps;
    progress?.update({ epoch: st.epoch, stepInEpoch, stepsInEpoch: stepsThisEpoch, loss: rec.loss, tokens });

    const epochDone = loader !== null && st.batchInEpoch >= loader.length;
    const last = st.step >= totalSteps;
    let evaluated = false;
    if (o.evaluate && ((evalEvery === 'epoch' && epochDone) || (typeof evalEvery === 'number' && st.step % evalEvery === 0))) {
      evaluated = true;
      if (judge(evaluate())) stoppedEarly = true;
    }
    if (!evaluated && last && o.evaluate && (o.evalAtEnd ?? true)) judge(evaluate());
    if (epochDone) {
      st.epoch++;
      st.batchInEpoch = 0;
      st.order = null;
    }
    st.timings.trainSeconds = (performance.now() - t0) / 1000;
    if (!last && !stoppedEarly && (epochDone || (o.saveEvery !== undefined && st.step % o.saveEvery === 0))) checkpoint();
    if (stoppedEarly) break training;
  }
  st.timings.trainSeconds = (performance.now() - t0) / 1000;
  st.timings.medianStepMs = median(stepTimes);
  if (bestWeights) model.loadStateDict(bestWeights);

  const epochsOut: TrainLoopResult['epochs'] = [];
  if (loader) {
    for (const s of st.steps) {
      let e = epochsOut[epochsOut.length - 1];
      if (!e || e.epoch !== s.epoch) epochsOut.push((e = { epoch: s.epoch, trainLoss: 0 }));
      e.trainLoss += s.loss;
    }
    for (const e of epochsOut) e.trainLoss /= st.steps.filter((s) => s.epoch === e.epoch).length;
  }
  return { steps: st.steps, evals: st.evals, epochs: epochsOut, best: st.best, stoppedEarly, resumedFrom, timings: st.timings };
}
