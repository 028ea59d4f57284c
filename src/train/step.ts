/**
 * The pieces every training loop of src/tasks shares:
 *
 *   decayGroups        AdamW parameter groups: no weight decay on biases and LayerNorm weights
 *                      (as HF's Trainer and BERT's original optimizer)
 *   adamWWithWarmup    AdamW (θ ← θ − η∇L − ηλθ) with linear or cosine warmup/decay of η
 *   optimizerStep      zero the grads, backward, clip ‖∇‖ at maxGradNorm, step, advance the schedule
 */
import type { Tensor } from '../tensor/tensor.js';
import { LayerNorm } from '../nn/layers.js';
import type { Module, Parameter } from '../nn/module.js';
import { AdamW, clipGradNorm, getCosineScheduleWithWarmup, getLinearScheduleWithWarmup } from '../optim/index.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import type { ProgressBar } from '../utils/progress.js';

/**
 * Parameter groups for AdamW: decay on weight matrices and embeddings, none on biases and LayerNorm.
 * Frozen parameters (requiresGrad false: PEFT, `freeze`) are left out, so the optimizer keeps no state for them.
 */
export function decayGroups(model: Module, weightDecay: number): { params: Parameter[]; weightDecay: number }[] {
  const noDecay = new Set<Parameter>();
  for (const [, m] of model.namedModules()) if (m instanceof LayerNorm) for (const p of m.parameters()) noDecay.add(p);
  const decay: Parameter[] = [];
  const rest: Parameter[] = [];
  for (const [name, p] of model.namedParameters()) if (p.requiresGrad) (noDecay.has(p) || name.endsWith('.bias') ? rest : decay).push(p);
  return [{ params: decay, weightDecay }, { params: rest, weightDecay: 0 }];
}

export interface AdamWScheduleOptions {
  lr: number;
  weightDecay: number;
  totalSteps: number;
  /** Warmup steps as a fraction of totalSteps. */
  warmupRatio: number;
  schedule?: 'linear' | 'cosine';
  betas?: [number, number];
}

/** AdamW over decayGroups(model) and its warmup + decay schedule of the learning rate. */
export function adamWWithWarmup(model: Module, o: AdamWScheduleOptions): { optimizer: AdamW; scheduler: LRScheduler } {
  const optimizer = new AdamW(decayGroups(model, o.weightDecay), { lr: o.lr, ...(o.betas ? { betas: o.betas } : {}) });
  const warmup = Math.round(o.warmupRatio * o.totalSteps);
  const scheduler = (o.schedule ?? 'linear') === 'cosine'
    ? getCosineScheduleWithWarmup(optimizer, warmup, o.totalSteps)
    : getLinearScheduleWithWarmup(optimizer, warmup, o.totalSteps);
  return { optimizer, scheduler };
}

/** One optimisation step on `loss`; returns its value. */
export function optimizerStep(loss: Tensor, t: { model: Module; optimizer: Optimizer; scheduler?: LRScheduler; maxGradNorm?: number }): number {
  t.optimizer.zeroGrad();
  loss.backward();
  if (t.maxGradNorm !== undefined && Number.isFinite(t.maxGradNorm)) clipGradNorm(t.model.parameters(), t.maxGradNorm);
  t.optimizer.step();
  t.scheduler?.step();
  return loss.item();
}

/** Options every BERT training task takes (model size, optimisation, seed, output). */
export interface BertTrainOptions {
  hiddenSize?: number;
  numLayers?: number;
  numHeads?: number;
  intermediateSize?: number;
  /** Maximum sub-word tokens per sequence. */
  maxLength?: number;
  dropout?: number;
  epochs?: number;
  batchSize?: number;
  /** Peak learning rate of AdamW. */
  lr?: number;
  weightDecay?: number;
  /** Warmup steps as a fraction of all steps. */
  warmupRatio?: number;
  maxGradNorm?: number;
  seed?: number;
  /** Where to write the model and metrics (none when omitted). */
  outDir?: string;
  /** Progress output (default: a bar on stderr); pass null to silence. */
  progress?: ProgressBar | null;
  log?: (msg: string) => void;
}
