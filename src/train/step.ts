/**
 * AdamW as the BERT and GPT tasks configure it (the loop itself is loop.ts):
 *
 *   decayGroups        AdamW parameter groups: no weight decay on biases and LayerNorm weights
 *                      (as HF's Trainer and BERT's original optimizer)
 *   adamWWithWarmup    AdamW (θ ← θ − η∇L − ηλθ) with linear or cosine warmup/decay of η
 */
import { LayerNorm } from '../nn/layers.js';
import type { Module, Parameter } from '../nn/module.js';
import { AdamW, getCosineScheduleWithWarmup, getLinearScheduleWithWarmup } from '../optim/index.js';
import type { LRScheduler } from '../optim/lr-scheduler.js';
import type { RunOptions } from './run.js';

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

/** Options every BERT training task takes (model size, optimisation; the run's options from RunOptions). */
export interface BertTrainOptions extends RunOptions {
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
}
